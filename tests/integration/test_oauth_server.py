"""The collection against a real OAuth 2 server: django-oauth-toolkit configured like IMS (issue 13).

The server (``tests/oauth_server``, the ``oauth_server`` fixture) mounts DOT's own views at IMS's
paths, requires PKCE, rotates refresh tokens with reuse protection and no grace period, and
accepts Basic and post client authentication.  Nobody here wrote its OAuth logic, so these
tests check the collection's IMS client against a second reading of the same RFCs than the
emulator's.  Where the two servers disagree, tests/emulator/README.md ("Where
django-oauth-toolkit differs") says what IMS does and what was decided.

Every test makes its own clients (unique ids), so counts are taken per client from the
server's request records.
"""

from __future__ import annotations

import re
import time
import uuid

import requests

from tests.emulator.control import pkce_pair
from tests.integration.helpers import (
    GROUP,
    S2S_SCOPES,
    USER_SCOPES,
    assert_no_secrets,
    assert_one_sentence,
    failed_msg,
    ims_token_task,
    iso_in,
    play,
    read_doc,
    sha256,
    summary,
    token_summary_task,
    unique,
    vault_secrets,
    write_doc,
)
from tests.integration.test_bootstrap import Bootstrap

# Registered loopback redirect URI: DOT lets a loopback IP redirect URI use any port (RFC 8252 7.3).
REGISTERED_REDIRECT = "http://127.0.0.1/callback"
REDIRECT_URI = "http://127.0.0.1:8765/callback"
TOKEN_PATH = "/ims/token/v3"


# --------------------------------------------------------------------------- helpers
def _defaults(server, **options):
    values = {"ims_url": server.url, "ca_path": server.ca_path}
    values.update(options)
    return {GROUP: values}


def _web_client(server, secret_registry):
    """A confidential authorization-code client (an IMS OAuth Web App credential)."""
    client_id, secret = unique("dot-web"), "dot-cs-" + uuid.uuid4().hex
    server.add_client(client_id, secret, "authorization_code", [REGISTERED_REDIRECT])
    secret_registry.add("oauth server client secret", secret)
    return client_id, secret


def _s2s_client(server, secret_registry):
    """A confidential client_credentials client (an IMS OAuth Server-to-Server credential)."""
    client_id, secret = unique("dot-s2s"), "dot-s2s-" + uuid.uuid4().hex
    server.add_client(client_id, secret, "client_credentials")
    secret_registry.add("oauth server client secret", secret)
    return client_id, secret


def _sign_in(server, client_id, scopes=USER_SCOPES):
    """A person signs in and consents (Django's login form, DOT's consent form): ``(code, verifier)``."""
    verifier, challenge = pkce_pair()
    state = uuid.uuid4().hex
    query = server.authorize(client_id, REDIRECT_URI, ",".join(scopes), state, challenge)
    assert query.get("state") == state and query.get("code"), query
    return query["code"], verifier


def _refresh_token(server, client_id, secret):
    """A fresh refresh token of ``client_id``, by a sign-in and a code exchange made here."""
    code, verifier = _sign_in(server, client_id)
    with server.session() as session:
        answer = session.post(server.token_url, auth=(client_id, secret), timeout=30, data={
            "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "redirect_uri": REDIRECT_URI})
    assert answer.status_code == 200, answer.text
    return answer.json()["refresh_token"]


def _seed(openbao, server, client_id, secret, **extra):
    """A Vault document of a web credential whose refresh token is real and unused; no cached token."""
    path = "dot/" + unique("env")
    document = {"client_id": client_id, "client_secret": secret, "scopes": ",".join(USER_SCOPES),
                "refresh_token": _refresh_token(server, client_id, secret)}
    document.update(extra)
    write_doc(openbao, path, document, cas=0)
    return path, document


def _token_calls(server, client_id, grant_type=None):
    return [(r["grant_type"], r["client_auth"], r["status"]) for r in server.token_requests(client_id, grant_type)]


def _tok(name, register, no_log=True, ignore_errors=False, **options):
    """An ims_token task (``no_log`` by default: its result holds the token)."""
    task = ims_token_task(name, register, no_log=no_log, **options)
    if ignore_errors:
        task["ignore_errors"] = True
    return task


def _all_secrets(server, openbao, *extra):
    return server.secrets() + vault_secrets(openbao, *extra)


# --------------------------------------------------------------------------- the three grants
def test_authorization_code_grant_stores_a_working_refresh_token(run_playbook, oauth_server, openbao,
                                                                 secret_registry):
    server = oauth_server
    client_id, secret = _web_client(server, secret_registry)
    code, verifier = _sign_in(server, client_id)
    path = "dot/" + unique("code")
    tasks = [
        _tok("exchange", "tok", grant_type="authorization_code", vault_path=path, client_id=client_id,
             client_secret="{{ secret }}", code="{{ code }}", code_verifier="{{ verifier }}",
             redirect_uri=REDIRECT_URI, scopes=USER_SCOPES),
        token_summary_task("summary", "tok"),
    ]
    result = run_playbook(play(tasks, defaults=_defaults(server)), json=True,
                          extra_vars={"secret": secret, "code": code, "verifier": verifier}).assert_rc(0)

    got = summary(result, "summary")
    document, version = read_doc(openbao, path)
    assert got["changed"] is True and got["refreshed"] is True, got
    assert got["token_sha256"] == sha256(document["access_token"])
    assert 86000 < got["expires_in"] <= 86399
    assert version == 1 and document["client_id"] == client_id and document["grant_type"] == "refresh_token"
    assert server.token_status(document["access_token"]) == "valid"
    assert server.refresh_tokens(client_id)["valid"] == [document["refresh_token"]]
    exchange = server.token_requests(client_id)
    assert [(r["grant_type"], r["client_auth"], r["code_verifier_present"], r["status"]) for r in exchange] \
        == [("authorization_code", "basic", True, 200)]
    # the code is single-use at DOT too: a second exchange of it is refused
    again = run_playbook(play([_tok("again", "tok", grant_type="authorization_code", vault_path=path,
                                    client_id=client_id, client_secret="{{ secret }}", code="{{ code }}",
                                    code_verifier="{{ verifier }}", redirect_uri=REDIRECT_URI,
                                    no_log=False, ignore_errors=True)],
                              defaults=_defaults(server)), json=True,
                         extra_vars={"secret": secret, "code": code, "verifier": verifier}).assert_rc(0)
    msg = failed_msg(again, "again")
    assert_one_sentence(msg)
    assert msg.startswith("IMS refused the authorization code (invalid_grant"), msg
    assert "HTTP 400" in msg
    assert_no_secrets(result.stdout + again.stdout, _all_secrets(server, openbao), "stdout")


def test_refresh_grant_rotates_then_the_cache_answers(run_playbook, oauth_server, openbao, secret_registry):
    server = oauth_server
    client_id, secret = _web_client(server, secret_registry)
    path, document = _seed(openbao, server, client_id, secret)
    before = len(server.token_requests(client_id))
    tasks = [
        _tok("refresh", "first", vault_path=path, ims_client_auth="post"),
        token_summary_task("first summary", "first"),
        _tok("cached", "second", vault_path=path),
        token_summary_task("second summary", "second"),
    ]
    result = run_playbook(play(tasks, defaults=_defaults(server)), json=True).assert_rc(0)

    first, second = summary(result, "first summary"), summary(result, "second summary")
    stored, version = read_doc(openbao, path)
    assert first["changed"] is True and first["refreshed"] is True, first
    assert second["changed"] is False and second["refreshed"] is False, second
    assert first["token_sha256"] == second["token_sha256"] == sha256(stored["access_token"])
    assert version == 2
    # rotated: Vault holds the new refresh token, the only valid one; the used one is dead
    assert stored["refresh_token"] != document["refresh_token"]
    tokens = server.refresh_tokens(client_id)
    assert tokens["valid"] == [stored["refresh_token"]] and document["refresh_token"] in tokens["revoked"]
    # one refresh, with client_secret_post; the cached task made no IMS call at all
    assert _token_calls(server, client_id)[before:] == [("refresh_token", "post", 200)]
    assert server.token_status(stored["access_token"]) == "valid"

    # a second run: the cached token again, no IMS call, no Vault write
    rerun = run_playbook(play([_tok("later run", "third", vault_path=path), token_summary_task("third summary", "third")],
                              defaults=_defaults(server)), json=True).assert_rc(0)
    third = summary(rerun, "third summary")
    assert third["refreshed"] is False and third["token_sha256"] == first["token_sha256"], third
    assert _token_calls(server, client_id)[before:] == [("refresh_token", "post", 200)]
    assert read_doc(openbao, path)[1] == 2


def test_client_credentials_basic_and_post_then_cached(run_playbook, oauth_server, openbao, secret_registry):
    server = oauth_server
    client_id, secret = _s2s_client(server, secret_registry)
    path = "dot/" + unique("s2s")
    write_doc(openbao, path, {"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials",
                              "scopes": ",".join(S2S_SCOPES)}, cas=0)
    tasks = [
        _tok("vault basic", "a", vault_path=path),
        token_summary_task("a summary", "a"),
        _tok("vault cached", "b", vault_path=path),
        token_summary_task("b summary", "b"),
        _tok("options post", "c", grant_type="client_credentials", client_id=client_id,
             client_secret="{{ secret }}", scopes=S2S_SCOPES, ims_client_auth="post"),
        token_summary_task("c summary", "c"),
    ]
    result = run_playbook(play(tasks, defaults=_defaults(server)), json=True,
                          extra_vars={"secret": secret}).assert_rc(0)
    a, b, c = (summary(result, name) for name in ("a summary", "b summary", "c summary"))
    stored, version = read_doc(openbao, path)
    assert a["refreshed"] is True and a["token_sha256"] == sha256(stored["access_token"]) and version == 2
    assert b["refreshed"] is False and b["token_sha256"] == a["token_sha256"]
    assert c["refreshed"] is True and c["has_token"] is True and c["token_sha256"] != a["token_sha256"]
    # client_credentials issues no refresh token: none returned, none stored
    assert c["has_refresh_token"] is False and "refresh_token" not in stored
    assert _token_calls(server, client_id) == [("client_credentials", "basic", 200), ("client_credentials", "post", 200)]
    assert server.token_status(stored["access_token"]) == "valid"


# --------------------------------------------------------------------------- refusals
def test_revoked_refresh_token_is_an_invalid_grant_sentence(run_playbook, oauth_server, openbao, secret_registry):
    server = oauth_server
    client_id, secret = _web_client(server, secret_registry)
    path, document = _seed(openbao, server, client_id, secret)
    with server.session() as session:  # the client revokes its own token at IMS's revoke endpoint
        answer = session.post(server.revoke_url, data={"token": document["refresh_token"]},
                              auth=(client_id, secret), timeout=30)
    assert answer.status_code == 200, answer.text
    tasks = [_tok("revoked", "tok", vault_path=path, no_log=False, ignore_errors=True)]
    result = run_playbook(play(tasks, defaults=_defaults(server)), json=True).assert_rc(0)
    msg = failed_msg(result, "revoked")
    assert_one_sentence(msg)
    assert re.match(r"IMS refused the refresh token stored at .*%s.* \(invalid_grant\b.*HTTP 400" % re.escape(path),
                    msg), msg
    assert "bootstrap_refresh_token.yml" in msg
    assert read_doc(openbao, path) == (document, 1)  # nothing written
    assert _token_calls(server, client_id, "refresh_token") == [("refresh_token", "basic", 400)]
    assert_no_secrets(result.stdout, _all_secrets(server, openbao), "stdout")


def test_wrong_client_secret_is_an_invalid_client_sentence(run_playbook, oauth_server, openbao, secret_registry):
    server = oauth_server
    client_id, secret = _web_client(server, secret_registry)
    wrong = "dot-wrong-" + uuid.uuid4().hex
    secret_registry.add("made-up client secret", wrong)
    path, document = _seed(openbao, server, client_id, secret)
    write_doc(openbao, path, dict(document, client_secret=wrong), cas=1)
    s2s_id, _s2s_secret = _s2s_client(server, secret_registry)
    tasks = [
        _tok("wrong web secret", "a", vault_path=path, no_log=False, ignore_errors=True),
        _tok("wrong s2s secret", "b", grant_type="client_credentials", client_id=s2s_id,
             client_secret="{{ wrong }}", scopes=S2S_SCOPES, ims_client_auth="post", no_log=False,
             ignore_errors=True),
    ]
    result = run_playbook(play(tasks, defaults=_defaults(server)), json=True, extra_vars={"wrong": wrong}).assert_rc(0)
    for name in ("wrong web secret", "wrong s2s secret"):
        msg = failed_msg(result, name)
        assert_one_sentence(msg)
        assert msg.startswith("IMS refused the client id or secret (invalid_client"), msg
        assert "HTTP 401" in msg  # DOT answers 401 as RFC 6749 5.2 allows; IMS answers 400
    # the refresh token was never consumed: a refused client cannot spend it
    assert server.refresh_tokens(client_id)["valid"] == [document["refresh_token"]]
    assert_no_secrets(result.stdout, _all_secrets(server, openbao, wrong), "stdout")


# --------------------------------------------------------------------------- bootstrap, end to end
def test_bootstrap_playbook_with_login_and_consent(collection_path, oauth_server, openbao, secret_registry, tmp_path,
                                                   test_output_dir):
    server = oauth_server
    client_id, secret = _web_client(server, secret_registry)
    path = "dot/" + unique("bootstrap")
    run = Bootstrap("listen", {"accs_vault_path": path, "accs_client_id": client_id, "accs_client_secret": secret,
                               "accs_ims_url": server.url, "accs_ca_path": server.ca_path, "accs_redirect_port": 0},
                    collection_path=collection_path, openbao=openbao, emulator=server, work_dir=tmp_path,
                    output_dir=test_output_dir)
    try:
        url = run.authorize_url()
        # the person: Django's login form, then DOT's consent form; the browser then goes to the listener
        location = server.sign_in_and_consent(url)
        assert re.match(r"http://127\.0\.0\.1:\d+/callback\?", location), location
        page = requests.get(location, timeout=30)
        assert page.status_code == 200, page.text
        assert run.finish() == 0, run.text[-3000:]
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
    assert "Stored a new refresh token in Vault at %s" % path in run.text
    document, _version = read_doc(openbao, path)
    assert document["client_id"] == client_id and document["grant_type"] == "refresh_token"
    assert server.refresh_tokens(client_id)["valid"] == [document["refresh_token"]]
    authorize = [r for r in server.requests("/ims/authorize/v2", client_id) if r["method"] == "GET"]
    assert authorize and all(r["code_challenge_present"] for r in authorize)
    assert [(r["grant_type"], r["code_verifier_present"], r["status"]) for r in server.token_requests(client_id)] \
        == [("authorization_code", True, 200)]
    assert_no_secrets(run.text, _all_secrets(server, openbao), "the bootstrap's output")


# --------------------------------------------------------------------------- rotation under concurrency
def test_ten_concurrent_refreshes_make_one_ims_refresh(run_playbook, oauth_server, openbao, secret_registry):
    """Reuse protection is on: a second use of a rotated-out refresh token revokes the whole family,
    the winner's new token included.  So "losers retry with the same token and adopt the winner's"
    is not enough against such a server: only one refresh may reach it."""
    server = oauth_server
    client_id, secret = _web_client(server, secret_registry)
    path, document = _seed(openbao, server, client_id, secret, access_token="expired-" + uuid.uuid4().hex,
                           access_token_expires_at=iso_in(-60))
    hosts = {"dot-host-%02d" % i: {} for i in range(10)}
    inventory = {"all": {"hosts": hosts, "vars": {"ansible_connection": "local",
                                                  "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}
    tasks = [_tok("token", "tok", vault_path=path), token_summary_task("summary", "tok")]
    # a slow link to IMS: forks that start up to 2 s apart overlap
    server.add_latency(TOKEN_PATH, 2, times=10)
    started = time.monotonic()
    try:
        result = run_playbook(play(tasks, defaults=_defaults(server)), inventory=inventory, forks=10,
                              json=True).assert_rc(0)
    finally:
        server.add_latency(TOKEN_PATH, 0, times=0)
    elapsed = time.monotonic() - started

    summaries = result.task_results("summary")
    stored, version = read_doc(openbao, path)
    assert sorted(summaries) == sorted(hosts)
    for host, res in summaries.items():
        got = res["msg"]
        assert got["failed"] is False and got["has_token"] is True, (host, got)
        assert got["token_sha256"] == sha256(stored["access_token"]), (host, got)
    assert sum(1 for r in summaries.values() if r["msg"]["refreshed"]) == 1
    assert _token_calls(server, client_id, "refresh_token") == [("refresh_token", "basic", 200)]
    assert version == 2
    tokens = server.refresh_tokens(client_id)
    assert tokens["valid"] == [stored["refresh_token"]], "Vault's refresh token is not the one valid token"
    assert server.token_status(stored["access_token"]) == "valid"
    assert elapsed < 90


# --------------------------------------------------------------------------- the server itself
def test_the_server_is_configured_like_ims(oauth_server, secret_registry):
    """What the tests above rely on: IMS's paths and comma-separated scopes, PKCE required, rotation
    with no grace period, and reuse protection (a second use of a rotated-out refresh token revokes
    the new one too)."""
    server = oauth_server
    client_id, secret = _web_client(server, secret_registry)
    with server.session() as session:
        # PKCE required: an authorize request without a challenge is refused
        location = server.sign_in_and_consent(server.authorize_url + "?client_id=%s&redirect_uri=%s&scope=openid,"
                                              "AdobeID&response_type=code&state=s1" % (client_id, REDIRECT_URI))
        assert "error=invalid_request" in location and "code=" not in location, location
        first = _refresh_token(server, client_id, secret)
        answer = session.post(server.token_url, auth=(client_id, secret), timeout=30,
                              data={"grant_type": "refresh_token", "refresh_token": first})
        assert answer.status_code == 200 and answer.json()["expires_in"] == 86399, answer.text
        assert set(answer.json()["scope"].split()) == set(USER_SCOPES)  # the commas were read as separators
        second = answer.json()["refresh_token"]
        assert server.refresh_tokens(client_id) == {"valid": [second], "revoked": [first]}
        # no grace period: the used token is refused at once; reuse protection then revokes the family
        reuse = session.post(server.token_url, auth=(client_id, secret), timeout=30,
                             data={"grant_type": "refresh_token", "refresh_token": first})
        assert (reuse.status_code, reuse.json()) == (400, {"error": "invalid_grant"})
        assert server.refresh_tokens(client_id)["valid"] == []
        assert server.token_status(second) == "revoked"
