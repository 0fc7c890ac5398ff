"""Property-based tests (hypothesis) of every parser of outside data in the engine.

Outside data: IMS token answers (any status, any body), Commerce error bodies, expiry
timestamps from the Vault document, URLs and Retry-After headers from users and servers,
the credential document, and ``query`` options.  For any input each parser either returns
its documented value or raises one of the engine's own errors (AccsError subclasses); no
message ever holds a secret that was part of the input.
"""

from __future__ import annotations

import json
import math
import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import requests
from requests.structures import CaseInsensitiveDict

from ansible_collections.adobe_commerce.accs.plugins.module_utils import _accs as accs, _credential as credential, _http as http, _ims as ims
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import (
    AccsApiError,
    AccsError,
    ConfigError,
    ImsError,
    TransportError,
)

# no example database: nothing is written into the work tree
SETTINGS = settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# Secrets are long random tokens; the alphabet keeps them from occurring by chance in fixed texts.
secret_text = st.text(alphabet=string.ascii_letters + string.digits, min_size=24, max_size=48).map(lambda s: "SECRET" + s)
json_scalars = st.none() | st.booleans() | st.integers(min_value=-10 ** 12, max_value=10 ** 12) | \
    st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) |
                           st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


def _one_sentence(message: str) -> None:
    assert isinstance(message, str) and message.strip()
    assert "\n" not in message and "Traceback" not in message
    assert message.rstrip().endswith(".")


def fake_response(status: int, content: bytes, content_type: str | None = "application/json", debug_id=None):
    """A real requests.Response carrying what a server sent (the parsers' input)."""
    response = requests.models.Response()
    response.status_code = status
    response._content = content
    response.headers = CaseInsensitiveDict()
    if content_type:
        response.headers["Content-Type"] = content_type
    if debug_id:
        response.headers["x-debug-id"] = debug_id
    response.encoding = "utf-8"
    response.url = "https://ims.example.test/ims/token/v3"
    return response


# --------------------------------------------------------------------------- IMS bodies
token_fields = st.fixed_dictionaries({}, optional={
    "access_token": secret_text | json_scalars,
    "refresh_token": secret_text | json_scalars,
    "id_token": secret_text,
    "expires_in": json_scalars | st.integers(min_value=-5, max_value=10 ** 10).map(str),
    "token_type": json_scalars,
    "error": st.sampled_from(["invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope",
                              "unsupported_grant_type", "server_error", "too_many_requests"]) | json_scalars,
    "error_description": st.text(max_size=300) | json_scalars,
})


def _secrets_in(body) -> list[str]:
    if not isinstance(body, dict):
        return []
    return [v for k, v in body.items() if k in ("access_token", "refresh_token", "id_token")
            and isinstance(v, str) and v.startswith("SECRET")]


@SETTINGS
@given(status=st.sampled_from([200, 200, 200, 400, 401, 403, 429, 500, 502, 503, 504]) | st.integers(100, 599),
       body=token_fields | json_values,
       grant=st.sampled_from(["refresh_token", "client_credentials", "authorization_code"]))
def test_parse_token_response_json_bodies(status, body, grant):
    try:
        content = json.dumps(body, allow_nan=True).encode("utf-8")
    except (TypeError, ValueError):
        return
    response = fake_response(status, content, debug_id="dbg123")
    try:
        issued = ims.parse_token_response(response, grant)
    except (ImsError, TransportError) as err:
        _one_sentence(err.message)
        for value in _secrets_in(body):
            assert value not in err.message
        return
    assert status == 200
    assert isinstance(issued.access_token, str) and issued.access_token == issued.access_token.strip() and issued.access_token
    assert isinstance(issued.expires_in, int) and 0 < issued.expires_in <= 10 ** 9
    assert issued.refresh_token is None or (isinstance(issued.refresh_token, str) and issued.refresh_token.strip())


@SETTINGS
@given(status=st.integers(100, 599), content=st.binary(max_size=400),
       content_type=st.sampled_from([None, "application/json", "text/html", "text/plain; charset=utf-8", ""]))
def test_parse_token_response_any_bytes(status, content, content_type):
    response = fake_response(status, content, content_type)
    try:
        issued = ims.parse_token_response(response, "refresh_token")
    except (ImsError, TransportError) as err:
        _one_sentence(err.message)
        return
    assert status == 200 and issued.access_token


@SETTINGS
@given(token=secret_text, description=st.text(max_size=500))
def test_ims_error_description_cleaned(token, description):
    body = {"error": "invalid_grant", "error_description": description, "refresh_token": token}
    response = fake_response(400, json.dumps(body).encode())
    with pytest.raises(ImsError) as caught:
        ims.parse_token_response(response, "refresh_token")
    _one_sentence(caught.value.message)
    assert token not in caught.value.message


# --------------------------------------------------------------------------- Commerce error bodies
commerce_bodies = st.fixed_dictionaries({}, optional={
    "message": st.text(max_size=200) | st.from_regex(r"[A-Za-z %]{0,20}(%[0-9a-z_]{1,6}[ .]?){0,4}", fullmatch=True)
    | json_scalars,
    "parameters": st.lists(json_scalars, max_size=5) | st.dictionaries(st.text(max_size=6), json_scalars, max_size=5)
    | json_scalars,
    "code": json_scalars,
    "trace": st.text(max_size=100),
}) | json_values


@SETTINGS
@given(body=commerce_bodies)
def test_commerce_message_total(body):
    text = accs.commerce_message(body)
    assert text is None or (isinstance(text, str) and len(text) <= 500 and "\n" not in text)


class _Tokens:
    """What AccsClient needs from a token source for ``_error``: whether it can renew."""

    def __init__(self, renewable):
        self.renewable = renewable


@SETTINGS
@given(status=st.integers(300, 599), body=commerce_bodies, raw=st.binary(max_size=200), use_raw=st.booleans(),
       renewable=st.booleans(), method=st.sampled_from(["GET", "POST", "DELETE"]),
       path=st.text(max_size=60))
def test_accs_error_is_one_sentence(status, body, raw, use_raw, renewable, method, path):
    client = accs.AccsClient(http=None, base_url="https://na1.api.commerce.adobe.com/tenant", tokens=_Tokens(renewable))
    if use_raw:
        content = raw
    else:
        try:
            content = json.dumps(body, allow_nan=True).encode()
        except (TypeError, ValueError):
            return
    err = client._error(method, path.replace("\n", " "), fake_response(status, content, "application/json", "dbg1"))
    assert isinstance(err, AccsApiError)
    assert err.status == status
    assert "\n" not in err.message or "\n" in path
    assert err.message.endswith(".")


# --------------------------------------------------------------------------- expiry timestamps
@SETTINGS
@given(value=json_scalars | st.text(alphabet="0123456789-:TZ+.", max_size=32)
       | st.from_regex(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})", fullmatch=True))
@example("0001-01-01T00:00:00+23:59")
@example("9999-12-31T23:59:59-23:59")
@example("2026-02-30T00:00:00Z")
def test_parse_time_total(value):
    result = credential.parse_time(value)
    assert result is None or (isinstance(result, float) and math.isfinite(result))


@SETTINGS
@given(epoch=st.integers(min_value=0, max_value=253402300799))
def test_format_time_round_trip(epoch):
    text = credential.format_time(epoch)
    assert text.endswith("Z") and len(text) == 20
    assert credential.parse_time(text) == float(epoch)


# --------------------------------------------------------------------------- credential document
DOC_KEYS = ["client_id", "client_secret", "client_secrets", "grant_type", "scopes", "refresh_token", "org_id",
            "access_token", "access_token_expires_at", "refresh_token_issued_at", "note"]


@st.composite
def documents(draw):
    doc = {}
    for key in draw(st.lists(st.sampled_from(DOC_KEYS), unique=True, max_size=len(DOC_KEYS))):
        if key in ("client_secret", "refresh_token", "access_token"):
            doc[key] = draw(secret_text | json_values)
        elif key == "client_secrets":
            doc[key] = draw(st.lists(secret_text | json_scalars, max_size=3) | json_values)
        elif key == "grant_type":
            doc[key] = draw(st.sampled_from(list(credential.GRANT_TYPES) + ["password", ""]) | json_scalars)
        elif key == "scopes":
            doc[key] = draw(st.just("openid,commerce.accs") | st.lists(st.text(max_size=10), max_size=3) | json_values)
        elif key in ("access_token_expires_at", "refresh_token_issued_at"):
            doc[key] = draw(st.just("2030-01-01T00:00:00Z") | json_scalars)
        else:
            doc[key] = draw(st.text(min_size=1, max_size=20) | json_values)
    return doc


def _doc_secrets(doc):
    found = []
    for key in ("client_secret", "refresh_token", "access_token"):
        if isinstance(doc.get(key), str) and doc[key].startswith("SECRET"):
            found.append(doc[key])
    for item in doc.get("client_secrets") or [] if isinstance(doc.get("client_secrets"), list) else []:
        if isinstance(item, str) and item.startswith("SECRET"):
            found.append(item)
    return found


@SETTINGS
@given(doc=documents() | json_values, require=st.booleans())
def test_credential_from_document(doc, require):
    where = "'secret/accs/prop' in Vault at https://vault.example.test"
    try:
        cred = credential.Credential.from_document(doc, where, require_grant=require)
    except ConfigError as err:
        _one_sentence(err.message)
        for value in _doc_secrets(doc if isinstance(doc, dict) else {}):
            assert value not in err.message
        return
    assert isinstance(doc, dict)
    assert isinstance(cred.client_id, str) and cred.client_id
    assert all(isinstance(s, str) and s for s in cred.client_secrets)
    assert cred.grant_type in credential.GRANT_TYPES + (None,)
    assert all(isinstance(s, str) and s for s in cred.scopes)
    for stamp in (cred.access_token_expires_at, cred.refresh_token_issued_at):
        assert stamp is None or isinstance(stamp, float)


# --------------------------------------------------------------------------- URLs and Retry-After
hosts = st.sampled_from(["127.0.0.1", "localhost", "[::1]", "ims-na1.adobelogin.com", "10.0.0.5", "example.test",
                         "app.localhost", "127.8.9.10"])


@SETTINGS
@given(scheme=st.sampled_from(["https", "http", "ftp", "HTTPS", ""]), host=hosts,
       port=st.none() | st.integers(1, 65535), path=st.sampled_from(["", "/", "/tenant", "/a/b/"]),
       password=st.none() | secret_text, query=st.sampled_from(["", "?x=1", "#frag"]))
def test_check_url_policy(scheme, host, port, path, password, query):
    userinfo = ("user:%s@" % password) if password else ""
    url = "%s://%s%s%s%s%s" % (scheme, userinfo, host, ":%d" % port if port else "", path, query)
    try:
        checked = http.check_url(url, "ims_url")
    except ConfigError as err:
        _one_sentence(err.message)
        assert "ims_url" in err.message
        if password:
            assert password not in err.message
        return
    assert not password and not query
    assert scheme.lower() in ("https", "http")
    if scheme.lower() == "http":
        assert http.is_loopback(host.strip("[]"))
    assert not checked.endswith("/")


@SETTINGS
@given(url=st.text(max_size=60))
@example("https://[")
@example("http://[zz]/")
def test_check_url_never_crashes(url):
    try:
        http.check_url(url, "base_url")
    except ConfigError as err:
        _one_sentence(err.message)


@SETTINGS
@given(value=json_scalars | st.text(max_size=40) | st.floats().map(str) | st.integers().map(str)
       | st.datetimes(timezones=st.timezones()).map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S %z")))
@example("Mon, 01 Jan 0001 00:00:00 +2359")
@example("Fri, 31 Dec 9999 23:59:59 -2359")
@example("1e400")
@example("nan")
def test_parse_retry_after_total(value):
    seconds = http.parse_retry_after(value)
    assert seconds is None or (isinstance(seconds, float) and math.isfinite(seconds) and seconds >= 0)


def test_retry_after_is_capped():
    policy = http.RetryPolicy(retries=1, sleep=lambda s: None)
    assert policy.delay(0, "100000") == http.RETRY_AFTER_CAP
    assert policy.delay(0, "2") == 2.0


# --------------------------------------------------------------------------- query flattening
@SETTINGS
@given(query=json_values)
def test_flatten_query_total(query):
    try:
        pairs = accs.flatten_query(query)
    except ConfigError as err:
        _one_sentence(err.message)
        assert not isinstance(query, dict)
        return
    assert isinstance(query, dict) or query is None
    for key, value in pairs:
        assert isinstance(key, str) and isinstance(value, str)


@SETTINGS
@given(items=st.lists(st.text(max_size=5), max_size=4), name=st.text(alphabet=string.ascii_letters, min_size=1, max_size=8))
def test_flatten_query_lists_use_brackets(items, name):
    pairs = accs.flatten_query({name: items})
    assert pairs == [(name + "[]", item) for item in items]


def test_flatten_query_nested_example():
    query = {"searchCriteria": {"filter_groups": [{"filters": [{"field": "sku", "value": "a", "condition_type": "eq"}]}],
                                "pageSize": 10}}
    assert accs.flatten_query(query) == [
        ("searchCriteria[filter_groups][0][filters][0][field]", "sku"),
        ("searchCriteria[filter_groups][0][filters][0][value]", "a"),
        ("searchCriteria[filter_groups][0][filters][0][condition_type]", "eq"),
        ("searchCriteria[pageSize]", "10"),
    ]
    assert isinstance(AccsError("x."), Exception)
