"""ImsClient over the real HttpClient, IMS answered by ``responses``: grants, client secret fallback, errors."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import (
    ConfigError,
    ImsError,
    InvalidClientError,
    InvalidGrantError,
    TransportError,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._http import HttpClient, RetryPolicy
from ansible_collections.adobe_commerce.accs.plugins.module_utils._ims import ImsClient, pkce_pair

IMS = "https://ims.test"
TOKEN_URL = IMS + "/ims/token/v3"
GOOD = {"access_token": "at-1", "token_type": "bearer", "expires_in": 86399, "refresh_token": "rt-1"}


class Recorder:
    """IMS answering from a script; records (form, Authorization) of each request."""

    def __init__(self, mock):
        self.answers = []
        self.calls = []
        mock.add_callback(responses.POST, TOKEN_URL, callback=self._answer)

    def _answer(self, request):
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        self.calls.append((form, request.headers.get("Authorization")))
        status, body, headers = self.answers.pop(0)
        headers = dict({"x-debug-id": "dbg%d" % len(self.calls)}, **headers)
        if isinstance(body, (dict, list)):
            headers.setdefault("Content-Type", "application/json")
            body = json.dumps(body)
        return status, headers, body

    def answer(self, status, body, **headers):
        self.answers.append((status, body, headers))

    def secrets_tried(self):
        out = []
        for form, auth in self.calls:
            if auth:
                out.append(base64.b64decode(auth.split(" ", 1)[1]).decode().split(":", 1)[1])
            else:
                out.append(form.get("client_secret"))
        return out


@pytest.fixture
def ims():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield Recorder(mock)


def make(client_auth="basic", retries=0):
    return ImsClient(HttpClient(timeout=5, policy=RetryPolicy(retries=retries, sleep=lambda s: None)), IMS, client_auth)


# --------------------------------------------------------------------------- grants and client authentication
def test_refresh_with_basic_auth(ims):
    ims.answer(200, GOOD)
    issued = make().refresh("cid", ["cs-1"], "rt-0")
    assert (issued.access_token, issued.refresh_token, issued.expires_in, issued.token_type, issued.debug_id) == (
        "at-1", "rt-1", 86399, "bearer", "dbg1")
    form, auth = ims.calls[0]
    assert form == {"grant_type": "refresh_token", "refresh_token": "rt-0"}
    assert auth == "Basic " + base64.b64encode(b"cid:cs-1").decode()


def test_client_credentials_with_post_auth(ims):
    ims.answer(200, {"access_token": "at-s2s", "token_type": "bearer", "expires_in": "3600"})
    issued = make("post").client_credentials("cid", ["cs-1"], ["openid", "commerce.accs"])
    assert issued.refresh_token is None and issued.expires_in == 3600
    form, auth = ims.calls[0]
    assert auth is None
    assert form == {"grant_type": "client_credentials", "scope": "openid,commerce.accs", "client_id": "cid",
                    "client_secret": "cs-1"}


def test_public_client_sends_only_its_id(ims):
    ims.answer(200, GOOD)
    make().authorization_code("cid", [], "code-1", code_verifier="v" * 50, redirect_uri="https://cb.test/")
    form, auth = ims.calls[0]
    assert auth is None
    assert form == {"grant_type": "authorization_code", "code": "code-1", "code_verifier": "v" * 50,
                    "redirect_uri": "https://cb.test/", "client_id": "cid"}


def test_client_auth_option_is_checked():
    with pytest.raises(ConfigError):
        make("jwt")


def test_plain_http_ims_refused():
    with pytest.raises(ConfigError) as info:
        ImsClient(HttpClient(), "http://ims.example.com")
    assert "plain http://" in info.value.message


# --------------------------------------------------------------------------- client secret fallback
def test_secrets_tried_in_order_until_one_is_accepted(ims):
    ims.answer(400, {"error": "invalid_client", "error_description": "invalid client_secret parameter"})
    ims.answer(400, {"error": "invalid_client", "error_description": "invalid client_secret parameter"})
    ims.answer(200, GOOD)
    assert make().refresh("cid", ["cs-old", "cs-mid", "cs-new"], "rt-0").access_token == "at-1"
    assert ims.secrets_tried() == ["cs-old", "cs-mid", "cs-new"]
    assert all(form["refresh_token"] == "rt-0" for form, auth in ims.calls)


def test_first_accepted_secret_ends_the_fallback(ims):
    ims.answer(200, GOOD)
    make("post").client_credentials("cid", ["cs-1", "cs-2"], ["openid"])
    assert ims.secrets_tried() == ["cs-1"]


def test_other_errors_do_not_try_the_next_secret(ims):
    ims.answer(400, {"error": "invalid_grant", "error_description": "refresh token is used"})
    with pytest.raises(InvalidGrantError):
        make().refresh("cid", ["cs-1", "cs-2"], "rt-0")
    assert ims.secrets_tried() == ["cs-1"]


def test_every_secret_refused(ims):
    for attempt in range(2):
        ims.answer(400, {"error": "invalid_client", "error_description": "invalid client_secret parameter"})
    with pytest.raises(InvalidClientError) as info:
        make().refresh("cid", ["cs-secret-one", "cs-secret-two"], "rt-0")
    assert info.value.message == (
        "IMS refused the client id or secret (invalid_client: invalid client_secret parameter; HTTP 400, x-debug-id "
        "dbg2): check client_id and client_secret in the credential against the Adobe Developer Console.")
    assert "cs-secret" not in info.value.message


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("grant,call,expected", [
    ("refresh_token", lambda c: c.refresh("cid", ["s"], "rt-0"),
     "IMS refused the refresh token (invalid_grant: refresh token is expired; HTTP 400, x-debug-id dbg1): it expired "
     "(refresh tokens last about 14 days), was already used or was revoked; run playbooks/bootstrap_refresh_token.yml "
     "to store a new one."),
    ("authorization_code", lambda c: c.authorization_code("cid", ["s"], "code-0", "v" * 43),
     "IMS refused the authorization code (invalid_grant: refresh token is expired; HTTP 400, x-debug-id dbg1): codes "
     "are single-use and expire within minutes, and the code_verifier must match; start the bootstrap again."),
])
def test_invalid_grant_messages(ims, grant, call, expected):
    ims.answer(400, {"error": "invalid_grant", "error_description": "refresh token is expired"})
    with pytest.raises(InvalidGrantError) as info:
        call(make())
    assert info.value.message == expected
    assert (info.value.error, info.value.status, info.value.debug_id) == ("invalid_grant", 400, "dbg1")


@pytest.mark.parametrize("error,expected", [
    ("unauthorized_client", "IMS does not allow this client the client_credentials grant (unauthorized_client: "
                            "nope; HTTP 400, x-debug-id dbg1): enable it for the credential in the Adobe Developer "
                            "Console, or use the grant the credential supports."),
    ("invalid_scope", "IMS refused the requested scopes (invalid_scope: nope; HTTP 400, x-debug-id dbg1): request "
                      "only scopes the credential has in the Adobe Developer Console (ACCS needs commerce.accs)."),
    ("unsupported_grant_type", "IMS does not support the client_credentials grant here (unsupported_grant_type: nope; "
                               "HTTP 400, x-debug-id dbg1): check grant_type and ims_url."),
    ("server_hiccup", "IMS refused the client_credentials token request (server_hiccup: nope; HTTP 400, x-debug-id "
                      "dbg1): fix what IMS names, then run again."),
])
def test_ims_error_codes(ims, error, expected):
    ims.answer(400, {"error": error, "error_description": "nope"})
    with pytest.raises(ImsError) as info:
        make().client_credentials("cid", ["s"], ["openid"])
    assert info.value.message == expected


def test_error_description_is_flattened_and_truncated(ims):
    ims.answer(400, {"error": "invalid_scope", "error_description": "line one\n\n   line two " + "x" * 400})
    with pytest.raises(ImsError) as info:
        make().client_credentials("cid", ["s"], ["openid"])
    assert "\n" not in info.value.message
    assert "line one line two " in info.value.message
    assert len(info.value.message) < 500


def test_html_error_page(ims):
    ims.answer(502, "<!DOCTYPE html><html><body>Bad gateway</body></html>", **{"Content-Type": "text/html"})
    with pytest.raises(ImsError) as info:
        make().refresh("cid", ["s"], "rt-0")
    assert info.value.message == (
        "IMS answered HTTP 502 with an HTML error page from a gateway or proxy, x-debug-id dbg1: IMS or a gateway in "
        "front of it is failing; retry later and give the x-debug-id to Adobe support if it persists.")


def test_persistent_429(ims):
    for attempt in range(2):
        ims.answer(429, "", **{"Retry-After": "0"})
    with pytest.raises(ImsError) as info:
        make(retries=1).refresh("cid", ["s"], "rt-0")
    assert info.value.message.startswith("IMS kept answering HTTP 429 (rate limited, x-debug-id dbg2) after the retries")
    assert len(ims.calls) == 2


@pytest.mark.parametrize("body,content_type,expected", [
    ("not json at all", "text/plain",
     "IMS answered HTTP 200 with a body that is not JSON, of type text/plain instead of a token, x-debug-id dbg1: check "
     "ims_url points at IMS itself, not a proxy page."),
    ("<html><body>login</body></html>", "text/html",
     "IMS answered HTTP 200 with an HTML error page from a gateway or proxy instead of a token, x-debug-id dbg1: "
     "check ims_url points at IMS itself, not a proxy page."),
    ("[1, 2]", "application/json",
     "IMS answered HTTP 200 with JSON that is not an object instead of a token, x-debug-id dbg1: check ims_url points "
     "at IMS itself, not a proxy page."),
    (json.dumps({"token_type": "bearer", "expires_in": 10}), "application/json",
     "IMS answered HTTP 200 without an access_token, x-debug-id dbg1: check ims_url and the grant, and give the "
     "x-debug-id to Adobe support if it persists."),
])
def test_unusable_200_answers(ims, body, content_type, expected):
    ims.answer(200, body, **{"Content-Type": content_type})
    with pytest.raises(TransportError) as info:
        make().refresh("cid", ["s"], "rt-0")
    assert info.value.message == expected


@pytest.mark.parametrize("expires_in", [None, 0, -5, "soon", True, 10 ** 10, 1.5e12])
def test_unusable_expires_in(ims, expires_in):
    body = {"access_token": "at-secret-value", "token_type": "bearer"}
    if expires_in is not None:
        body["expires_in"] = expires_in
    ims.answer(200, body)
    with pytest.raises(TransportError) as info:
        make().refresh("cid", ["s"], "rt-0")
    assert "usable expires_in (seconds)" in info.value.message
    assert "at-secret-value" not in info.value.message


# --------------------------------------------------------------------------- PKCE and authorize
def test_pkce_pair():
    verifier, challenge = pkce_pair()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,128}", verifier)
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    assert challenge == expected and "=" not in challenge
    assert pkce_pair()[0] != verifier


def test_authorize_url():
    url = make().authorize_url("cid", "https://cb.test/back", ["openid", "offline_access"], "state-1",
                               code_challenge="c" * 43)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "ims.test", "/ims/authorize/v2")
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "client_id": "cid", "redirect_uri": "https://cb.test/back", "scope": "openid,offline_access",
        "response_type": "code", "state": "state-1", "code_challenge": "c" * 43, "code_challenge_method": "S256"}
