"""Tests of the IMS/ACCS test emulator itself (tests/emulator).

They start the emulator in a subprocess (one per test module, reset before each test) and talk to
it over HTTPS with its throw-away CA.  No OpenBao, no Ansible.
"""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from tests.emulator.control import EmulatorControl, EmulatorError, pkce_pair, running_emulator  # noqa: E402

ALL_GRANTS = ["authorization_code", "refresh_token", "client_credentials"]
USER_SCOPES = "AdobeID,openid,email,profile,additional_info.roles,offline_access,commerce.accs"
ALLOWED_SCOPES = USER_SCOPES.split(",") + ["additional_info.projectedProductContext"]
REDIRECT = "https://localhost:8443/callback"
TENANT = "tenantA1"

STORE_FIELDS = {
    "storeConfigs": {
        "id", "code", "website_id", "locale", "base_currency_code", "default_display_currency_code",
        "timezone", "weight_unit", "base_url", "base_link_url", "base_static_url", "base_media_url",
        "secure_base_url", "secure_base_link_url", "secure_base_static_url", "secure_base_media_url",
        "extension_attributes",
    },
    "storeViews": {"id", "code", "name", "website_id", "store_group_id", "is_active"},
    "websites": {"id", "code", "name", "default_group_id"},
    "storeGroups": {"id", "website_id", "root_category_id", "default_store_id", "name", "code"},
}
UNAUTHORIZED_STORE = {
    "message": "The consumer isn't authorized to access %resources.",
    "parameters": {"resources": "Magento_Backend::store"},
}


# ------------------------------------------------------------------------------------------
# fixtures and helpers


@pytest.fixture(scope="module")
def emu_module(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("emulator")
    with running_emulator(workdir) as control:
        control.workdir = workdir
        yield control


@pytest.fixture
def emu(emu_module):
    emu_module.reset()
    yield emu_module


@pytest.fixture
def http(emu):
    """A requests session trusting the emulator CA (trust_env off: REQUESTS_CA_BUNDLE)."""
    s = emu.session()
    yield s
    s.close()


def add_full_client(emu, client_id="cid-conf", secrets=("secret-one-AAAA", "secret-two-BBBB"), **kw):
    kw.setdefault("grants", ALL_GRANTS)
    kw.setdefault("scopes", ALLOWED_SCOPES)
    return emu.add_client(client_id, client_secrets=list(secrets), **kw)


def token(http, emu, data, auth=None, params=None, headers=None):
    return http.post(emu.token_url, data=data, auth=auth, params=params, headers=headers, timeout=10)


def cc_token(http, emu, client_id="cid-conf", secret="secret-one-AAAA", scope="openid,commerce.accs"):
    r = token(http, emu, {"grant_type": "client_credentials", "scope": scope}, auth=(client_id, secret))
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def code_for(emu, client_id="cid-conf", scope=USER_SCOPES, **kw):
    q = emu.authorize(client_id, redirect_uri=REDIRECT, scope=scope, state="st-1", **kw)
    assert "code" in q, q
    return q["code"]


def user_tokens(http, emu, client_id="cid-conf", secret="secret-one-AAAA", scope=USER_SCOPES):
    code = code_for(emu, client_id, scope)
    r = token(http, emu, {"grant_type": "authorization_code", "code": code}, auth=(client_id, secret))
    assert r.status_code == 200, r.text
    return r.json()


def refresh(http, emu, rt, client_id="cid-conf", secret="secret-one-AAAA"):
    return token(http, emu, {"grant_type": "refresh_token", "refresh_token": rt}, auth=(client_id, secret))


def accs_get(http, emu, endpoint, at, tenant=TENANT, headers=None, params=None):
    h = {"Authorization": "Bearer " + at} if at is not None else {}
    h.update(headers or {})
    return http.get(emu.accs_url(tenant) + "/V1/" + endpoint, headers=h, params=params, timeout=30)


def assert_ims_error(resp, error, status=400):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"] == error, body
    assert isinstance(body["error_description"], str) and body["error_description"]
    assert resp.headers.get("x-debug-id")


# ------------------------------------------------------------------------------------------
# start-up, shutdown, logs


def test_state_file_and_ca(emu_module):
    state = json.loads((emu_module.workdir / "emulator-state.json").read_text())
    assert set(state) >= {"url", "ca_path", "wrong_host_url", "unknown_ca_url", "pid"}
    assert state["url"].startswith("https://127.0.0.1:")
    assert Path(state["ca_path"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert len({state["url"], state["wrong_host_url"], state["unknown_ca_url"]}) == 3
    other = EmulatorControl.from_state_file(emu_module.workdir / "emulator-state.json")
    assert other.health() == {"ok": True}


def test_sigterm_clean_shutdown(tmp_path):
    state = tmp_path / "state.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.emulator", "--state-file", str(state), "--port", "0"],
        cwd=str(_REPO_ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while not state.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state.exists()
        assert json.loads(state.read_text())["pid"] == proc.pid
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert not state.exists()
    assert err == b"" and out == b""


def test_logs_quiet_and_secret_free(emu, http):
    add_full_client(emu)
    at = cc_token(http, emu)
    emu.set_tenant(TENANT)
    assert accs_get(http, emu, "store/websites", at).status_code == 200
    log = (emu.workdir / "emulator.log").read_text()
    assert log == ""


# ------------------------------------------------------------------------------------------
# IMS: discovery, grants, client authentication


def test_discovery(emu, http):
    r = http.get(emu.url + "/ims/.well-known/openid-configuration")
    assert r.status_code == 200 and r.headers["x-debug-id"]
    d = r.json()
    assert d["authorization_endpoint"] == emu.url + "/ims/authorize/v2"
    assert d["token_endpoint"] == emu.url + "/ims/token/v3"
    assert d["userinfo_endpoint"] == emu.url + "/ims/userinfo/v2"
    assert d["revocation_endpoint"] == emu.url + "/ims/revoke"
    assert "S256" in d["code_challenge_methods_supported"]


def test_client_credentials_basic_auth(emu, http):
    add_full_client(emu)
    r = token(http, emu, {"grant_type": "client_credentials", "scope": "openid,commerce.accs"},
              auth=("cid-conf", "secret-one-AAAA"))
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["access_token"].startswith("at-") and len(body["access_token"]) >= 35
    assert body["token_type"] == "bearer"
    assert type(body["expires_in"]) is int and body["expires_in"] == 86399  # pylint: disable=unidiomatic-typecheck  # a bool is no int here
    rec = emu.requests(key="ims.token.client_credentials")[-1]
    assert rec["client_auth"] == "basic" and rec["client_id"] == "cid-conf"
    assert rec["scope"] == "openid,commerce.accs" and rec["grant_type"] == "client_credentials"


def test_client_credentials_post_auth_and_second_secret(emu, http):
    add_full_client(emu)
    r = token(http, emu, {"grant_type": "client_credentials", "scope": "commerce.accs",
                          "client_id": "cid-conf", "client_secret": "secret-two-BBBB"})
    assert r.status_code == 200, r.text
    assert "refresh_token" not in r.json()
    rec = emu.requests(key="ims.token")[-1]
    assert rec["client_auth"] == "post"
    assert "secret-two-BBBB" not in json.dumps(emu.requests())


def test_secret_in_query_refused(emu, http):
    add_full_client(emu)
    r = token(http, emu, {"grant_type": "client_credentials", "scope": "commerce.accs", "client_id": "cid-conf"},
              params={"client_secret": "secret-one-AAAA"})
    assert_ims_error(r, "invalid_request")
    recorded = json.dumps(emu.requests())
    assert "secret-one-AAAA" not in recorded
    assert emu.requests(key="ims.token")[-1]["secret_in_query"] is True


def test_token_endpoint_is_form_only(emu, http):
    add_full_client(emu)
    r = http.post(emu.token_url, json={"grant_type": "client_credentials", "scope": "commerce.accs"},
                  auth=("cid-conf", "secret-one-AAAA"))
    assert_ims_error(r, "invalid_request")


def test_invalid_client(emu, http):
    add_full_client(emu)
    data = {"grant_type": "client_credentials", "scope": "commerce.accs"}
    assert_ims_error(token(http, emu, data, auth=("nobody", "x")), "invalid_client")
    assert_ims_error(token(http, emu, data, auth=("cid-conf", "wrong")), "invalid_client")
    assert_ims_error(token(http, emu, dict(data, client_id="cid-conf")), "invalid_client")  # no secret


def test_invalid_scope(emu, http):
    add_full_client(emu, scopes=["openid", "commerce.accs"])
    auth = ("cid-conf", "secret-one-AAAA")
    assert_ims_error(token(http, emu, {"grant_type": "client_credentials"}, auth=auth), "invalid_scope")
    assert_ims_error(token(http, emu, {"grant_type": "client_credentials", "scope": "openid,admin.all"}, auth=auth),
                     "invalid_scope")


def test_unauthorized_client(emu, http):
    add_full_client(emu, grants=["authorization_code", "refresh_token"])
    r = token(http, emu, {"grant_type": "client_credentials", "scope": "commerce.accs"},
              auth=("cid-conf", "secret-one-AAAA"))
    assert_ims_error(r, "unauthorized_client")


def test_unsupported_grant_type(emu, http):
    add_full_client(emu)
    r = token(http, emu, {"grant_type": "password", "username": "u"}, auth=("cid-conf", "secret-one-AAAA"))
    assert_ims_error(r, "unsupported_grant_type")


def test_invalid_request_missing_grant_type(emu, http):
    add_full_client(emu)
    assert_ims_error(token(http, emu, {"scope": "x"}, auth=("cid-conf", "secret-one-AAAA")), "invalid_request")


# ------------------------------------------------------------------------------------------
# IMS: authorization code, PKCE


def test_authorization_code_flow(emu, http):
    add_full_client(emu)
    state = "csrf/äé +&=?%20x" * 3
    q = emu.authorize("cid-conf", redirect_uri=REDIRECT, scope=USER_SCOPES, state=state, nonce="n1",
                      prompt="login")
    assert q["state"] == state
    assert q["code"].startswith("code-") and len(q["code"]) >= 37
    r = token(http, emu, {"grant_type": "authorization_code", "code": q["code"]},
              auth=("cid-conf", "secret-one-AAAA"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "refresh_token", "sub", "id_token", "token_type", "expires_in"}
    assert body["refresh_token"].startswith("rt-") and body["access_token"].startswith("at-")
    assert body["token_type"] == "bearer" and type(body["expires_in"]) is int  # pylint: disable=unidiomatic-typecheck  # a bool is no int here


def test_authorize_redirect_keeps_existing_query(emu, http):
    add_full_client(emu)
    r = http.get(emu.authorize_url, params={"client_id": "cid-conf", "response_type": "code",
                                            "redirect_uri": REDIRECT + "?x=1", "scope": "openid", "state": "s"},
                 allow_redirects=False)
    assert r.status_code == 302 and r.headers["x-debug-id"]
    loc = urlsplit(r.headers["Location"])
    q = parse_qs(loc.query)
    assert loc.path == "/callback" and q["x"] == ["1"] and q["state"] == ["s"] and q["code"]


def test_code_single_use(emu, http):
    add_full_client(emu)
    code = code_for(emu)
    auth = ("cid-conf", "secret-one-AAAA")
    assert token(http, emu, {"grant_type": "authorization_code", "code": code}, auth=auth).status_code == 200
    assert_ims_error(token(http, emu, {"grant_type": "authorization_code", "code": code}, auth=auth),
                     "invalid_grant")


def test_code_expires(emu, http):
    add_full_client(emu)
    emu.set_lifetimes(code=0.3)
    code = code_for(emu)
    time.sleep(0.4)
    r = token(http, emu, {"grant_type": "authorization_code", "code": code}, auth=("cid-conf", "secret-one-AAAA"))
    assert_ims_error(r, "invalid_grant")


def test_offline_access_governs_refresh_token(emu, http):
    add_full_client(emu)
    body = user_tokens(http, emu, scope="AdobeID,openid,commerce.accs")
    assert "refresh_token" not in body and body["access_token"]
    assert "refresh_token" in user_tokens(http, emu, scope="openid,offline_access")


def test_pkce_s256(emu, http):
    add_full_client(emu)
    verifier, challenge = pkce_pair()
    auth = ("cid-conf", "secret-one-AAAA")
    code = code_for(emu, code_challenge=challenge, code_challenge_method="S256")
    r = token(http, emu, {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}, auth=auth)
    assert r.status_code == 200, r.text
    assert emu.requests(key="ims.token")[-1]["code_verifier_present"] is True
    other_verifier, other_challenge = pkce_pair()
    code = code_for(emu, code_challenge=challenge, code_challenge_method="S256")
    r = token(http, emu, {"grant_type": "authorization_code", "code": code, "code_verifier": other_verifier},
              auth=auth)
    assert_ims_error(r, "invalid_grant")
    code = code_for(emu, code_challenge=challenge, code_challenge_method="S256")
    assert_ims_error(token(http, emu, {"grant_type": "authorization_code", "code": code}, auth=auth),
                     "invalid_grant")
    assert verifier in emu.secrets_by_kind()["code_verifiers"]


def test_pkce_plain(emu, http):
    add_full_client(emu)
    verifier, challenge = pkce_pair("plain")
    code = code_for(emu, code_challenge=challenge, code_challenge_method="plain")
    r = token(http, emu, {"grant_type": "authorization_code", "code": code, "code_verifier": verifier},
              auth=("cid-conf", "secret-one-AAAA"))
    assert r.status_code == 200, r.text


def test_public_client_requires_pkce(emu, http):
    emu.add_client("cid-pub", public=True, grants=["authorization_code", "refresh_token"])
    q = emu.authorize("cid-pub", redirect_uri=REDIRECT, scope=USER_SCOPES, state="s9")
    assert q["error"] == "invalid_request" and q["state"] == "s9" and "code" not in q
    verifier, challenge = pkce_pair()
    code = code_for(emu, "cid-pub", code_challenge=challenge, code_challenge_method="S256")
    r = token(http, emu, {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
                          "client_id": "cid-pub"})
    assert r.status_code == 200, r.text
    rec = emu.requests(key="ims.token")[-1]
    assert rec["client_auth"] == "none" and rec["code_verifier_present"] is True
    rt = r.json()["refresh_token"]
    r = token(http, emu, {"grant_type": "refresh_token", "refresh_token": rt, "client_id": "cid-pub"})
    assert r.status_code == 200, r.text


def test_authorize_errors(emu, http):
    add_full_client(emu, redirect_uris=[REDIRECT])
    r = http.get(emu.authorize_url, params={"client_id": "ghost", "response_type": "code"}, allow_redirects=False)
    assert_ims_error(r, "invalid_client")
    r = http.get(emu.authorize_url, params={"client_id": "cid-conf", "response_type": "code",
                                            "redirect_uri": "https://evil.example/cb"}, allow_redirects=False)
    assert_ims_error(r, "invalid_request")  # never redirects to an unregistered URI
    q = emu.authorize("cid-conf", redirect_uri=REDIRECT, scope="openid,admin.everything", state="a&b")
    assert q["error"] == "invalid_scope" and q["state"] == "a&b" and q["error_description"]
    q = emu.authorize("cid-conf", redirect_uri=REDIRECT, scope="openid", state="s", response_type="token")
    assert q["error"] == "unsupported_response_type"
    q = emu.authorize("cid-conf", scope="openid", state="s")  # registered redirect used
    assert "code" in q
    emu.add_client("cid-cc", client_secrets=["x" * 20], grants=["client_credentials"])
    q = emu.authorize("cid-cc", redirect_uri=REDIRECT, scope="openid", state="s")
    assert q["error"] == "unauthorized_client"


# ------------------------------------------------------------------------------------------
# IMS: refresh tokens


def test_refresh_rotation_strict(emu, http):
    add_full_client(emu)
    rt1 = user_tokens(http, emu)["refresh_token"]
    r = refresh(http, emu, rt1)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "refresh_token", "expires_in", "token_type"}
    rt2 = body["refresh_token"]
    assert rt2 != rt1 and rt2.startswith("rt-") and type(body["expires_in"]) is int  # pylint: disable=unidiomatic-typecheck  # a bool is no int here
    assert_ims_error(refresh(http, emu, rt1), "invalid_grant")
    assert emu.check_refresh_token(rt2) is True
    assert emu.check_refresh_token(rt1) is False
    assert emu.refresh_token_status(rt1) == "used"
    assert refresh(http, emu, rt2).status_code == 200
    tokens = emu.refresh_tokens("cid-conf")
    assert rt1 in tokens["used"] and rt2 in tokens["used"] and len(tokens["valid"]) == 1


def test_check_refresh_token_does_not_consume(emu, http):
    add_full_client(emu)
    rt = emu.mint_refresh_token("cid-conf", ["openid", "offline_access", "commerce.accs"])
    assert rt.startswith("rt-")
    for attempt in range(3):
        assert emu.check_refresh_token(rt) is True
    assert refresh(http, emu, rt).status_code == 200
    assert emu.check_refresh_token(rt) is False


def test_refresh_token_expired_revoked_and_foreign(emu, http):
    add_full_client(emu)
    add_full_client(emu, client_id="cid-other", secrets=["other-secret-CCCC"])
    emu.set_lifetimes(refresh_token=0.3)
    rt = emu.mint_refresh_token("cid-conf", ["openid"])
    time.sleep(0.4)
    assert_ims_error(refresh(http, emu, rt), "invalid_grant")
    emu.set_lifetimes(refresh_token=3600)
    rt = emu.mint_refresh_token("cid-conf", ["openid"])
    assert emu.revoke(token=rt) == 1
    assert_ims_error(refresh(http, emu, rt), "invalid_grant")
    rt = emu.mint_refresh_token("cid-conf", ["openid"])
    assert_ims_error(refresh(http, emu, rt, "cid-other", "other-secret-CCCC"), "invalid_grant")
    assert_ims_error(refresh(http, emu, "rt-" + "x" * 43), "invalid_grant")


def test_refresh_grant_not_allowed(emu, http):
    add_full_client(emu, grants=["authorization_code"])
    rt = emu.mint_refresh_token("cid-conf", ["openid"])
    assert_ims_error(refresh(http, emu, rt), "unauthorized_client")


def test_concurrent_refresh_exactly_one_wins(emu, http):
    add_full_client(emu)
    rt = emu.mint_refresh_token("cid-conf", ["openid", "offline_access", "commerce.accs"])
    n = 8
    barrier = threading.Barrier(n)
    results = []
    lock = threading.Lock()

    def worker():
        s = emu.session()
        barrier.wait()
        r = refresh(s, emu, rt)
        with lock:
            results.append((r.status_code, r.json()))

    threads = [threading.Thread(target=worker) for worker_no in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(results) == n
    wins = [b for code, b in results if code == 200]
    assert len(wins) == 1
    assert all(b["error"] == "invalid_grant" for code, b in results if code != 200)
    assert emu.counters()["ims.token.refresh_token"] == n


# ------------------------------------------------------------------------------------------
# IMS: userinfo, validate, revoke


def test_userinfo(emu, http):
    add_full_client(emu)
    at = user_tokens(http, emu)["access_token"]
    r = http.get(emu.url + "/ims/userinfo/v2", headers={"Authorization": "Bearer " + at})
    assert r.status_code == 200
    assert set(r.json()) == {"sub", "email", "name"}
    r = http.get(emu.url + "/ims/userinfo/v2", headers={"Authorization": "Bearer at-nope"})
    assert r.status_code == 401 and r.headers["x-debug-id"]
    assert http.get(emu.url + "/ims/userinfo/v2").status_code == 401


def test_validate_token(emu, http):
    add_full_client(emu)
    body = user_tokens(http, emu)
    url = emu.url + "/ims/validate_token/v1"
    for ttype, tok in (("access_token", body["access_token"]), ("refresh_token", body["refresh_token"])):
        r = http.post(url, data={"type": ttype, "client_id": "cid-conf", "token": tok})
        assert r.status_code == 200 and r.json() == {"valid": True}
        r = http.post(url, data={"type": ttype, "client_id": "someone-else", "token": tok})
        assert r.json() == {"valid": False}
    assert emu.check_refresh_token(body["refresh_token"]) is True  # validate does not consume
    emu.revoke(token=body["access_token"])
    r = http.post(url, data={"type": "access_token", "client_id": "cid-conf", "token": body["access_token"]})
    assert r.json() == {"valid": False}
    assert_ims_error(http.post(url, data={"type": "access_token"}), "invalid_request")


def test_revoke_endpoint(emu, http):
    add_full_client(emu)
    body = user_tokens(http, emu)
    url = emu.url + "/ims/revoke"
    r = http.post(url, data={"token": body["access_token"]}, auth=("cid-conf", "secret-one-AAAA"))
    assert r.status_code == 200 and r.content == b"" and r.headers["x-debug-id"]
    r = http.get(emu.url + "/ims/userinfo/v2", headers={"Authorization": "Bearer " + body["access_token"]})
    assert r.status_code == 401
    assert emu.check_refresh_token(body["refresh_token"]) is True
    # revoking the refresh token also ends the access tokens of the same grant (RFC 7009)
    r2 = refresh(http, emu, body["refresh_token"]).json()
    r = http.post(url, data={"token": r2["refresh_token"]}, auth=("cid-conf", "secret-one-AAAA"))
    assert r.status_code == 200
    assert_ims_error(refresh(http, emu, r2["refresh_token"]), "invalid_grant")
    r = http.get(emu.url + "/ims/userinfo/v2", headers={"Authorization": "Bearer " + r2["access_token"]})
    assert r.status_code == 401
    assert_ims_error(http.post(url, data={"token": "x"}, auth=("cid-conf", "bad")), "invalid_client")


def test_control_revoke_by_client(emu, http):
    add_full_client(emu)
    emu.set_tenant(TENANT)
    at = cc_token(http, emu)
    rt = emu.mint_refresh_token("cid-conf", ["openid"])
    assert emu.revoke(client_id="cid-conf") == 2
    assert accs_get(http, emu, "store/websites", at).status_code == 401
    assert emu.check_refresh_token(rt) is False


# ------------------------------------------------------------------------------------------
# headers, secrets


def test_x_debug_id_everywhere(emu, http):
    add_full_client(emu)
    emu.set_tenant(TENANT)
    at = cc_token(http, emu)
    emu.add_fault("accs.storeGroups", status=503, body="html")
    responses = [
        http.get(emu.url + "/ims/.well-known/openid-configuration"),
        http.get(emu.authorize_url, params={"client_id": "cid-conf", "response_type": "code",
                                            "redirect_uri": REDIRECT}, allow_redirects=False),
        token(http, emu, {"grant_type": "client_credentials", "scope": "openid"}, auth=("cid-conf", "bad")),
        http.get(emu.url + "/ims/userinfo/v2"),
        accs_get(http, emu, "store/websites", at),
        accs_get(http, emu, "store/websites", None),
        accs_get(http, emu, "store/websites", at, tenant="nope"),
        accs_get(http, emu, "store/storeGroups", at),
        http.get(emu.url + "/_control/counters"),
        http.get(emu.url + "/no/such/thing"),
    ]
    ids = [r.headers.get("x-debug-id") for r in responses]
    assert all(ids), [(r.url, r.status_code) for r in responses]
    assert len(set(ids)) == len(ids)


def test_secrets_listed_and_not_recorded(emu, http):
    add_full_client(emu)
    verifier, challenge = pkce_pair()
    code = code_for(emu, code_challenge=challenge, code_challenge_method="S256")
    body = token(http, emu, {"grant_type": "authorization_code", "code": code, "code_verifier": verifier},
                 auth=("cid-conf", "secret-one-AAAA")).json()
    kinds = emu.secrets_by_kind()
    assert "secret-one-AAAA" in kinds["client_secrets"] and "secret-two-BBBB" in kinds["client_secrets"]
    assert code in kinds["codes"] and verifier in kinds["code_verifiers"]
    assert body["access_token"] in kinds["access_tokens"] and body["refresh_token"] in kinds["refresh_tokens"]
    assert body["id_token"] in kinds["id_tokens"]
    everything = emu.secrets()
    assert set(everything) >= {code, verifier, body["access_token"], body["refresh_token"], body["id_token"]}
    recorded = json.dumps(emu.requests())
    for secret in everything:
        assert secret not in recorded
    assert (emu.workdir / "emulator.log").read_text() == ""


# ------------------------------------------------------------------------------------------
# ACCS


@pytest.mark.parametrize("endpoint", sorted(STORE_FIELDS))
def test_store_endpoint_with_valid_token(emu, http, endpoint):
    add_full_client(emu)
    emu.set_tenant(TENANT)
    r = accs_get(http, emu, "store/" + endpoint, cc_token(http, emu))
    assert r.status_code == 200, r.text
    items = r.json()
    assert isinstance(items, list) and items
    for item in items:
        assert set(item) == STORE_FIELDS[endpoint]
    assert emu.counters()["accs.%s" % endpoint] == 1
    assert emu.counters()["accs.%s.%s" % (TENANT, endpoint)] == 1


def test_default_tenant_data_is_consistent(emu):
    t = emu.set_tenant(TENANT)
    views = {v["code"]: v for v in t["storeViews"]}
    assert {"default", "fr"} <= set(views) and all(v["is_active"] == 1 for v in views.values())
    configs = {c["code"]: c for c in t["storeConfigs"]}
    assert configs["default"]["locale"] == "en_US" and configs["fr"]["locale"] == "fr_FR"
    assert configs["default"]["default_display_currency_code"] == "USD"
    assert configs["fr"]["default_display_currency_code"] == "EUR"
    websites = {w["id"]: w for w in t["websites"]}
    groups = {g["id"]: g for g in t["storeGroups"]}
    assert any(w["code"] == "base" for w in websites.values())
    for c in configs.values():
        assert c["timezone"] == "America/Los_Angeles" and c["weight_unit"] == "lbs"
        assert all(c[k].startswith("https://") for k in c if k.endswith("_url"))
        assert c["website_id"] in websites and views[c["code"]]["id"] == c["id"]
    for v in views.values():
        assert v["website_id"] in websites and v["store_group_id"] in groups
    for g in groups.values():
        assert g["website_id"] in websites


@pytest.mark.parametrize("endpoint", ["store/storeConfigs", "store/storeViews", "store/websites",
                                      "store/storeGroups", "products"])
def test_accs_rejects_bad_tokens(emu, http, endpoint):
    add_full_client(emu)
    emu.set_tenant(TENANT)
    resource = "Magento_Catalog::products" if endpoint == "products" else "Magento_Backend::store"
    expected = {"message": "The consumer isn't authorized to access %resources.",
                "parameters": {"resources": resource}}
    revoked = cc_token(http, emu)
    emu.revoke(token=revoked)
    cases = {
        "missing": None,
        "unknown": "at-" + "z" * 43,
        "revoked": revoked,
        "no_accs_scope": cc_token(http, emu, scope="openid"),
        "expired": emu.mint_access_token("cid-conf", ["openid", "commerce.accs"], expires_in=0),
    }
    for name, tok in cases.items():
        r = accs_get(http, emu, endpoint, tok)
        assert r.status_code == 401, (name, r.text)
        assert r.json() == expected, name
    assert accs_get(http, emu, endpoint, cc_token(http, emu)).status_code == 200


def test_access_token_lifetime_shortened(emu, http):
    add_full_client(emu)
    emu.set_tenant(TENANT)
    emu.set_lifetimes(access_token=1.0)
    r = token(http, emu, {"grant_type": "client_credentials", "scope": "commerce.accs"},
              auth=("cid-conf", "secret-one-AAAA"))
    assert r.json()["expires_in"] == 1
    at = r.json()["access_token"]
    assert accs_get(http, emu, "store/storeViews", at).status_code == 200
    time.sleep(1.1)
    r = accs_get(http, emu, "store/storeViews", at)
    assert r.status_code == 401 and r.json() == UNAUTHORIZED_STORE


def test_org_id_required(emu, http):
    add_full_client(emu)
    emu.set_tenant(TENANT, required_org_id="ORG123@AdobeOrg")
    at = cc_token(http, emu)
    r = accs_get(http, emu, "store/websites", at)
    assert r.status_code == 403
    body = r.json()
    assert "%1" in body["message"] and isinstance(body["parameters"], list)
    r = accs_get(http, emu, "store/websites", at, headers={"x-gw-ims-org-id": "OTHER@AdobeOrg"})
    assert r.status_code == 403 and "OTHER@AdobeOrg" in r.json()["parameters"]
    r = accs_get(http, emu, "store/websites", at, headers={"x-gw-ims-org-id": "ORG123@AdobeOrg"})
    assert r.status_code == 200


def test_unknown_tenant(emu, http):
    add_full_client(emu)
    r = accs_get(http, emu, "store/storeConfigs", cc_token(http, emu), tenant="ghost-tenant")
    assert r.status_code == 404
    assert r.json() == {"message": "Tenant %1 not found.", "parameters": ["ghost-tenant"]}


def test_store_configs_filter(emu, http):
    add_full_client(emu)
    emu.set_tenant(TENANT)
    at = cc_token(http, emu)
    r = accs_get(http, emu, "store/storeConfigs", at, params=[("storeCodes[]", "fr")])
    assert [c["code"] for c in r.json()] == ["fr"]
    r = accs_get(http, emu, "store/storeConfigs", at, params=[("storeCodes[]", "fr"), ("storeCodes[]", "default")])
    assert sorted(c["code"] for c in r.json()) == ["default", "fr"]
    rec = emu.requests(key="accs.storeConfigs")[-1]
    assert rec["params"]["storeCodes[]"] == ["fr", "default"]


def _page(http, emu, at, page, size=None):
    params = {"searchCriteria[currentPage]": page}
    if size is not None:
        params["searchCriteria[pageSize]"] = size
    r = accs_get(http, emu, "products", at, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_products_pagination(emu, http):
    add_full_client(emu)
    emu.set_tenant(TENANT, products_count=45)
    at = cc_token(http, emu)
    first = _page(http, emu, at, 1)
    assert first["total_count"] == 45 and len(first["items"]) == 20  # default page size
    assert set(first["items"][0]) == {"id", "sku", "name", "price", "status", "type_id"}
    seen = []
    for page in (1, 2, 3):
        seen += [p["sku"] for p in _page(http, emu, at, page, 20)["items"]]
    assert len(seen) == 45 == len(set(seen))
    past = _page(http, emu, at, 4, 20)
    assert past["items"] == [] and past["total_count"] == 45
    assert past["search_criteria"]["current_page"] == 4 and past["search_criteria"]["page_size"] == 20


def test_products_repeat_last_page(emu, http):
    add_full_client(emu)
    emu.set_tenant(TENANT, products_count=45, repeat_last_page=True)
    at = cc_token(http, emu)
    last = _page(http, emu, at, 3, 20)
    assert len(last["items"]) == 5
    assert _page(http, emu, at, 4, 20)["items"] == last["items"]
    assert _page(http, emu, at, 9, 20)["items"] == last["items"]
    emu.set_tenant(TENANT, products_count=0, repeat_last_page=True)
    assert _page(http, emu, at, 2, 20) == {"items": [], "search_criteria": {
        "filter_groups": [], "page_size": 20, "current_page": 2}, "total_count": 0}


def test_products_write_methods(emu, http):
    add_full_client(emu)
    emu.set_tenant(TENANT, products_count=2)
    at = cc_token(http, emu)
    h = {"Authorization": "Bearer " + at, "Content-Type": "application/json"}
    base = emu.accs_url(TENANT) + "/V1/products"
    product = {"sku": "NEW-1", "name": "New one", "price": 9.5, "status": 1, "type_id": "simple"}
    r = http.post(base, headers=h, data=json.dumps({"product": product}))
    assert r.status_code == 200
    created = r.json()
    assert {k: created[k] for k in product} == product and created["id"] == 3
    assert _page(http, emu, at, 1)["total_count"] == 3
    r = http.put(base + "/NEW-1", headers=h, data=json.dumps({"product": dict(product, price=11.0)}))
    assert r.status_code == 200 and r.json()["price"] == 11.0
    assert http.put(base, headers=h, data=json.dumps({"product": product})).status_code == 200
    assert http.delete(base + "/NEW-1", headers=h).status_code == 200
    assert http.delete(base, headers=h).status_code == 200
    r = http.post(base, headers=h, data=json.dumps({"nothing": 1}))
    assert r.status_code == 400 and r.json()["parameters"] == {"fieldName": "product"}
    methods = [rec["method"] for rec in emu.requests(key="accs.products")]
    assert {"POST", "PUT", "DELETE", "GET"} <= set(methods)
    assert http.post(base, data="{}", headers={"Content-Type": "application/json"}).status_code == 401


def test_recorded_request_headers(emu, http):
    add_full_client(emu)
    emu.set_tenant(TENANT)
    at = cc_token(http, emu)
    headers = {"x-api-key": "cid-conf", "Store": "fr", "x-gw-ims-org-id": "ORG9@AdobeOrg",
               "Content-Type": "application/json"}
    accs_get(http, emu, "store/storeViews", at, headers=headers)
    rec = emu.requests(key="accs.storeViews")[-1]
    assert rec["headers"] == headers
    assert rec["authorization_present"] is True and rec["authorization_scheme"] == "Bearer"
    assert rec["tenant"] == TENANT and rec["method"] == "GET" and rec["status"] == 200
    assert rec["path"] == "/%s/V1/store/storeViews" % TENANT and rec["key"] == "accs.storeViews"
    assert isinstance(rec["time"], float)
    accs_get(http, emu, "store/storeViews", None)
    rec = emu.requests(tenant=TENANT)[-1]
    assert rec["authorization_present"] is False and rec["status"] == 401
    assert at not in json.dumps(emu.requests())


def test_counters(emu, http):
    add_full_client(emu)
    emu.set_tenant(TENANT)
    emu.set_tenant("tenantB")
    at = cc_token(http, emu)
    accs_get(http, emu, "store/websites", at)
    accs_get(http, emu, "store/websites", at, tenant="tenantB")
    accs_get(http, emu, "products", at)
    http.get(emu.url + "/ims/.well-known/openid-configuration")
    c = emu.counters()
    assert c["accs.websites"] == 2 and c["accs.%s.websites" % TENANT] == 1 and c["accs.tenantB.websites"] == 1
    assert c["accs.products"] == 1 and c["ims.token"] == 1 and c["ims.token.client_credentials"] == 1
    assert c["ims.discovery"] == 1
    emu.reset_counters()
    assert emu.counters() == {}


def test_seeding_replaces_lists(emu, http):
    add_full_client(emu)
    websites = [{"id": 1, "code": "main", "name": "Main", "default_group_id": 1},
                {"id": 2, "code": "b2b", "name": "B2B", "default_group_id": 2}]
    views = [{"id": 5, "code": "b2b_en", "name": "B2B EN", "website_id": 2, "store_group_id": 2, "is_active": 0}]
    emu.set_tenant(TENANT, websites=websites, storeViews=views, products_count=3)
    got = emu.get_tenant(TENANT)
    assert got["websites"] == websites and got["products_count"] == 3
    at = cc_token(http, emu)
    assert accs_get(http, emu, "store/websites", at).json() == websites
    assert accs_get(http, emu, "store/storeViews", at).json() == views
    assert len(accs_get(http, emu, "store/storeGroups", at).json()) == 2  # default kept
    with pytest.raises(EmulatorError):
        emu.set_tenant(TENANT, bogus=1)


def test_reset_forgets_everything(emu, http):
    add_full_client(emu)
    emu.set_tenant(TENANT)
    at = cc_token(http, emu)
    emu.add_fault("accs.websites", status=500)
    emu.set_lifetimes(access_token=5)
    emu.reset()
    assert emu.counters() == {} and emu.requests() == [] and emu.faults() == []
    assert emu.lifetimes() == {"access_token": 86399, "refresh_token": 1209600, "code": 300}
    assert emu.secrets() == []
    assert accs_get(http, emu, "store/websites", at).status_code == 401
    with pytest.raises(EmulatorError):
        emu.get_tenant(TENANT)
    r = token(http, emu, {"grant_type": "client_credentials", "scope": "openid"}, auth=("cid-conf", "secret-one-AAAA"))
    assert_ims_error(r, "invalid_client")


# ------------------------------------------------------------------------------------------
# faults


@pytest.fixture
def accs_ready(emu, http):
    add_full_client(emu)
    emu.set_tenant(TENANT)
    return cc_token(http, emu)


def test_fault_429_retry_after(emu, http, accs_ready):
    emu.add_fault("accs.storeConfigs", status=429, retry_after="3", times=2)
    for attempt in range(2):
        r = accs_get(http, emu, "store/storeConfigs", accs_ready)
        assert r.status_code == 429 and r.headers["Retry-After"] == "3" and r.headers["x-debug-id"]
        assert r.json()["message"]
    assert accs_get(http, emu, "store/storeConfigs", accs_ready).status_code == 200
    assert emu.counters()["accs.storeConfigs"] == 3
    recs = emu.requests(key="accs.storeConfigs")
    assert [x["fault"] for x in recs] == [True, True, False] and [x["status"] for x in recs] == [429, 429, 200]


def test_fault_ims_429_and_503(emu, http, accs_ready):
    emu.add_fault("ims.token", status=429, retry_after="7")
    emu.add_fault("ims.token.client_credentials", status=503, retry_after="1")
    r = token(http, emu, {"grant_type": "client_credentials", "scope": "openid"}, auth=("cid-conf", "secret-one-AAAA"))
    assert r.status_code == 429 and r.headers["Retry-After"] == "7" and r.json()["error"]
    r = token(http, emu, {"grant_type": "client_credentials", "scope": "openid"}, auth=("cid-conf", "secret-one-AAAA"))
    assert r.status_code == 503 and r.json()["error"] == "temporarily_unavailable"
    assert cc_token(http, emu)


def test_fault_5xx_and_bodies(emu, http, accs_ready):
    emu.add_fault("accs.websites", status=500)
    emu.add_fault("accs.websites", status=502, body="html")
    emu.add_fault("accs.websites", status=200, body="not_json")
    emu.add_fault("accs.websites", status=504, body="empty")
    emu.add_fault("accs.websites", status=418, body="json", json={"message": "teapot %1", "parameters": ["x"]})
    r = accs_get(http, emu, "store/websites", accs_ready)
    assert r.status_code == 500 and "message" in r.json()
    r = accs_get(http, emu, "store/websites", accs_ready)
    assert r.status_code == 502 and r.headers["Content-Type"].startswith("text/html") and "<html>" in r.text
    r = accs_get(http, emu, "store/websites", accs_ready)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    r = accs_get(http, emu, "store/websites", accs_ready)
    assert r.status_code == 504 and r.content == b""
    r = accs_get(http, emu, "store/websites", accs_ready)
    assert r.status_code == 418 and r.json() == {"message": "teapot %1", "parameters": ["x"]}
    assert accs_get(http, emu, "store/websites", accs_ready).status_code == 200


def test_fault_huge(emu, http, accs_ready):
    emu.add_fault("accs.storeViews", status=200, body="huge")
    r = accs_get(http, emu, "store/storeViews", accs_ready)
    assert r.status_code == 200 and len(r.content) > 3 * 1024 * 1024
    assert isinstance(r.json(), list)


def test_fault_delay_only_then_normal(emu, http, accs_ready):
    emu.add_fault("accs.storeGroups", delay=0.5)
    start = time.monotonic()
    r = accs_get(http, emu, "store/storeGroups", accs_ready)
    assert time.monotonic() - start >= 0.5
    assert r.status_code == 200 and isinstance(r.json(), list)
    emu.add_fault("accs.storeGroups", delay=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(emu.accs_url(TENANT) + "/V1/store/storeGroups", headers={"Authorization": "Bearer " + accs_ready},
                 timeout=0.3)


def test_fault_drop(emu, http, accs_ready):
    emu.add_fault("accs.products", drop=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        accs_get(http, emu, "products", accs_ready)
    assert accs_get(http, emu, "products", accs_ready).status_code == 200
    rec = emu.requests(key="accs.products")[0]
    assert rec["dropped"] is True and rec["status"] is None
    assert emu.counters()["accs.products"] == 2


def test_fault_tenant_key_and_regex(emu, http, accs_ready):
    emu.set_tenant("tenantB")
    emu.add_fault("accs.tenantB.storeConfigs", status=500)
    assert accs_get(http, emu, "store/storeConfigs", accs_ready).status_code == 200
    assert accs_get(http, emu, "store/storeConfigs", accs_ready, tenant="tenantB").status_code == 500
    emu.add_fault(r"/V1/store/web", status=503)
    assert accs_get(http, emu, "store/storeConfigs", accs_ready).status_code == 200
    assert accs_get(http, emu, "store/websites", accs_ready).status_code == 503
    emu.add_fault("accs.websites", status=500, times=5)
    assert len(emu.faults()) == 1
    emu.clear_faults()
    assert emu.faults() == []
    assert accs_get(http, emu, "store/websites", accs_ready).status_code == 200


def test_fault_replaces_handler_unless_process(emu, http, accs_ready):
    rt = emu.mint_refresh_token("cid-conf", ["openid", "offline_access"])
    emu.add_fault("ims.token.refresh_token", status=502, body="html")
    assert refresh(http, emu, rt).status_code == 502
    assert emu.check_refresh_token(rt) is True  # the real handler did not run
    emu.add_fault("ims.token.refresh_token", drop=True, process=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        refresh(http, emu, rt)
    assert emu.refresh_token_status(rt) == "used"  # processed, answer lost


def test_fault_validation(emu):
    with pytest.raises(EmulatorError):
        emu.add_fault("accs.websites", body="xml")
    with pytest.raises(EmulatorError):
        emu.add_fault("accs.websites", times=0)
    with pytest.raises(EmulatorError):
        emu.add_fault("([unclosed", status=500)


# ------------------------------------------------------------------------------------------
# system configuration (/V1/system/config)

SC_MSG_PATH = 'Configuration path "{}" was not found, is not visible for this scope, or is not allowed.'
SC_MSG_WEBSITE = 'The website with code "{}" that was requested wasn\'t found. Verify the website and try again.'
SC_MSG_STORE = "The store that was requested wasn't found. Verify the store and try again."
SC_FILTER = "searchCriteria[filterGroups][0][filters][0][%s]"


def sc_params(paths=None, cond=None, scope=None, code=None, page_size=None, page=None, snake=False):
    params = {}
    if paths is not None:
        if snake:
            base = "searchCriteria[filter_groups][0][filters][0][%s]"
            params.update({base % "field": "path", base % "value": paths})
            if cond:
                params[base % "condition_type"] = cond
        else:
            params.update({SC_FILTER % "field": "path", SC_FILTER % "value": paths})
            if cond:
                params[SC_FILTER % "conditionType"] = cond
    if scope is not None:
        params["scope"] = scope
    if code is not None:
        params["scopeCode"] = code
    if page_size is not None:
        params["searchCriteria[pageSize]"] = page_size
    if page is not None:
        params["searchCriteria[currentPage]"] = page
    return params


def sc_get(http, emu, at, tenant=TENANT, expect=200, **kw):
    r = accs_get(http, emu, "system/config", at, tenant=tenant, params=sc_params(**kw))
    assert r.status_code == expect, r.text
    return r.json()


def sc_values(body):
    return {i["path"]: i["value"] for i in body["items"]}


def sc_put(http, emu, at, items=None, tenant=TENANT, raw=None, expect=200):
    h = {"Authorization": "Bearer " + at} if at else {}
    h["Content-Type"] = "application/json"
    data = raw if raw is not None else json.dumps({"items": items})
    r = http.put(emu.accs_url(tenant) + "/V1/system/config", headers=h, data=data, timeout=30)
    assert r.status_code == expect, r.text
    return r.json()


@pytest.fixture
def sc(emu, http):
    """A tenant with a second website (b2b, store view b2b_en) and a token of cid-conf."""
    add_full_client(emu)
    add_full_client(emu, client_id="cid-other", secrets=("secret-other-CCCC",))
    t = emu.set_tenant(TENANT)
    websites = t["websites"] + [{"id": 2, "code": "b2b", "name": "B2B", "default_group_id": 2}]
    views = t["storeViews"] + [{"id": 3, "code": "b2b_en", "name": "B2B EN", "website_id": 2,
                                "store_group_id": 2, "is_active": 1}]
    emu.set_tenant(TENANT, websites=websites, storeViews=views)
    return cc_token(http, emu)


def test_sysconfig_catalog(emu):
    import fnmatch

    catalog = emu.system_config_catalog()
    by_path = {c["path"]: c for c in catalog}
    assert 300 <= len(catalog) == len(by_path) and [c["path"] for c in catalog] == sorted(by_path)
    for c in catalog:
        assert set(c) == {"path", "scopes", "default", "sensitive"}
        assert c["path"].count("/") == 2 and c["scopes"] and "default" in c["scopes"]
        assert c["scopes"] == [s for s in ("default", "website", "store") if s in c["scopes"]]
        assert c["default"] is None or isinstance(c["default"], str)
    facts = {
        "general/locale/code": "dws", "general/locale/timezone": "dw", "general/country/default": "dws",
        "general/country/allow": "dws", "general/store_information/name": "dws",
        "general/store_information/phone": "dws", "general/store_information/country_id": "dws",
        "currency/options/base": "dw", "currency/options/default": "dws", "currency/options/allow": "dws",
        "web/unsecure/base_url": "dws", "web/secure/base_url": "dws", "web/secure/base_link_url": "dws",
        "web/unsecure/base_static_url": "dws", "web/secure/base_media_url": "dws",
        "web/secure/use_in_frontend": "dws", "web/secure/use_in_adminhtml": "d",
        "web/cookie/cookie_domain": "dws", "web/cookie/cookie_path": "dws", "carriers/flatrate/active": "dw",
        "carriers/flatrate/price": "dw", "payment/checkmo/active": "dw", "tax/calculation/based_on": "dw",
        "tax/defaults/country": "dw", "sales/totals_sort/tax": "d", "catalog/search/engine": "d",
        "customer/create_account/default_group": "dw",
    }
    letters = {"d": "default", "w": "website", "s": "store"}
    for path, scopes in facts.items():
        assert by_path[path]["scopes"] == [letters[c] for c in scopes], path
    for prefix in ("carriers/tablerate/", "carriers/freeshipping/", "payment/banktransfer/", "tax/display/",
                   "catalog/seo/", "customer/password/", "checkout/options/", "sales_email/", "contact/",
                   "btob/website_configuration/"):
        assert any(p.startswith(prefix) for p in by_path), prefix
    assert by_path["general/locale/code"]["default"] == "en_US"
    assert by_path["general/store_information/name"]["default"] is None
    credentials = [p for p in by_path if any(fnmatch.fnmatchcase(p, g) for g in (
        "payment/*/api_key", "payment/*/merchant_key", "*/password", "*/secret*", "*/private_key"))]
    assert len(credentials) >= 15 and all(by_path[p]["sensitive"] for p in credentials)
    assert not by_path["general/locale/code"]["sensitive"]


def test_sysconfig_get_eq_and_in(emu, http, sc):
    body = sc_get(http, emu, sc, paths="general/locale/code")
    assert body == {"items": [{"path": "general/locale/code", "value": "en_US", "scope": "default"}],
                    "search_criteria": {"filter_groups": [{"filters": [
                        {"field": "path", "value": "general/locale/code", "condition_type": "eq"}]}],
                        "page_size": 1, "current_page": 1},
                    "total_count": 1}
    body = sc_get(http, emu, sc, paths="general/locale/code,currency/options/base", cond="in")
    assert body == {  # the facts file's example, exactly
        "items": [{"path": "general/locale/code", "value": "en_US", "scope": "default"},
                  {"path": "currency/options/base", "value": "USD", "scope": "default"}],
        "search_criteria": {
            "filter_groups": [{"filters": [{"field": "path", "value": "general/locale/code,currency/options/base",
                                            "condition_type": "in"}]}],
            "page_size": 2, "current_page": 1},
        "total_count": 2}
    # order as asked, unset -> null, values strings, page parameters ignored with a filter
    body = sc_get(http, emu, sc, paths="general/store_information/name,carriers/flatrate/price,general/country/allow",
                  cond="in", page_size=1, page=3)
    assert [i["path"] for i in body["items"]] == [
        "general/store_information/name", "carriers/flatrate/price", "general/country/allow"]
    assert body["items"][0]["value"] is None and body["items"][1]["value"] == "5.00"
    assert "," in body["items"][2]["value"] and body["total_count"] == 3
    # eq with a comma is one (unknown) path; the same path twice is answered once
    assert sc_get(http, emu, sc, paths="general/locale/code,currency/options/base")["items"] == []
    assert len(sc_get(http, emu, sc, paths="general/locale/code,general/locale/code", cond="in")["items"]) == 1


def test_sysconfig_snake_case_and_groups(emu, http, sc):
    body = sc_get(http, emu, sc, paths="general/locale/code,currency/options/base", cond="in", snake=True)
    assert sc_values(body) == {"general/locale/code": "en_US", "currency/options/base": "USD"}
    # two filters in one group: OR; two groups: AND
    params = {
        SC_FILTER % "field": "path", SC_FILTER % "value": "general/locale/code",
        "searchCriteria[filterGroups][0][filters][1][field]": "path",
        "searchCriteria[filterGroups][0][filters][1][value]": "currency/options/base",
        "searchCriteria[filterGroups][1][filters][0][field]": "path",
        "searchCriteria[filterGroups][1][filters][0][value]": "currency/options/base,tax/defaults/country",
        "searchCriteria[filterGroups][1][filters][0][conditionType]": "in",
    }
    r = accs_get(http, emu, "system/config", sc, params=params)
    assert [i["path"] for i in r.json()["items"]] == ["currency/options/base"]
    assert len(r.json()["search_criteria"]["filter_groups"]) == 2


def test_sysconfig_bad_queries(emu, http, sc):
    for params, status, message in [
        ({SC_FILTER % "field": "value", SC_FILTER % "value": "x"}, 400, 'The "%1" field'),
        ({SC_FILTER % "field": "path", SC_FILTER % "value": "x", SC_FILTER % "conditionType": "like"}, 400,
         'The "%1" condition type'),
        ({SC_FILTER % "value": "x"}, 400, '"%fieldName" is required'),
        ({"searchCriteria[pageSize]": "ten"}, 400, 'Invalid value of "%1"'),
    ]:
        r = accs_get(http, emu, "system/config", sc, params=params)
        assert r.status_code == status and r.json()["message"].startswith(message), r.text


def test_sysconfig_unfiltered_paging(emu, http, sc):
    catalog = emu.system_config_catalog()
    at_default = [c["path"] for c in catalog]
    at_store = [c["path"] for c in catalog if "store" in c["scopes"]]
    assert len(at_default) > 500
    first = sc_get(http, emu, sc)
    assert first["total_count"] == len(at_default) and len(first["items"]) == 500
    assert first["search_criteria"] == {"filter_groups": [], "page_size": 500, "current_page": 1}
    assert [i["path"] for i in first["items"]] == at_default[:500]
    assert sc_get(http, emu, sc, page_size=0)["items"] == first["items"]
    second = sc_get(http, emu, sc, page_size=0, page=2)
    assert [i["path"] for i in second["items"]] == at_default[500:]
    assert sc_get(http, emu, sc, page_size=2000)["search_criteria"]["page_size"] == 500
    seen = []
    page = 1
    while True:
        body = sc_get(http, emu, sc, page_size=100, page=page)
        if not body["items"]:
            break
        assert body["total_count"] == len(at_default) and body["search_criteria"]["current_page"] == page
        seen += [i["path"] for i in body["items"]]
        page += 1
    assert seen == at_default and page == -(-len(at_default) // 100) + 1
    store = sc_get(http, emu, sc, scope="store", code="fr")
    assert store["total_count"] == len(at_store) and [i["path"] for i in store["items"]] == at_store
    values = sc_values(store)
    assert values["general/locale/code"] == "fr_FR" and values["general/store_information/name"] is None
    assert all(isinstance(v, str) or v is None for v in values.values())


def test_sysconfig_scope_codes(emu, http, sc):
    path = "general/locale/code"
    assert sc_get(http, emu, sc, paths=path, scope="website", code="b2b")["items"][0]["scope_code"] == "b2b"
    assert sc_get(http, emu, sc, paths=path, scope="store", code="b2b_en")["total_count"] == 1
    body = sc_get(http, emu, sc, paths=path, scope="website", code="nowhere", expect=404)
    assert body == {"message": SC_MSG_WEBSITE.format("%1"), "parameters": ["nowhere"]}
    assert sc_get(http, emu, sc, paths=path, scope="store", code="nowhere", expect=404) == {"message": SC_MSG_STORE}
    # the admin rows (id 0) are not scopes; a website code is no store code and the reverse
    assert sc_get(http, emu, sc, scope="website", code="admin", expect=404)["parameters"] == ["admin"]
    sc_get(http, emu, sc, scope="store", code="admin", expect=404)
    sc_get(http, emu, sc, scope="store", code="base", expect=404)
    sc_get(http, emu, sc, scope="website", code="fr", expect=404)
    body = sc_get(http, emu, sc, scope="website", expect=400)
    assert body == {"message": "A scope code is missing. Enter a code and try again."}
    body = sc_get(http, emu, sc, scope="default", code="base", expect=400)
    assert body["parameters"] == ["default"] and "can't include a scope code" in body["message"]
    body = sc_get(http, emu, sc, scope="websites", code="base", expect=400)
    assert body == {"message": 'The "%1" value doesn\'t exist. Enter another value.', "parameters": ["websites"]}


@pytest.mark.parametrize("inherit", [False, True])
def test_sysconfig_inherit_switch(emu, http, sc, inherit):
    emu.set_system_config(TENANT, [
        {"path": "general/store_information/name", "value": "Default Shop", "scope": "default"},
        {"path": "general/store_information/name", "value": "Base Shop", "scope": "website", "scope_code": "base"},
        {"path": "general/store_information/phone", "value": "555-0100", "scope": "default"},
        {"path": "carriers/flatrate/price", "value": "6.00", "scope": "website", "scope_code": "b2b"},
        {"path": "general/locale/code", "value": "fr_FR", "scope": "store", "scope_code": "fr"},
    ])
    assert emu.set_system_config_mode(TENANT, inherit=inherit)["inherit"] is inherit
    paths = "general/store_information/name,general/store_information/phone,general/locale/code,general/locale/weekend"
    fr = sc_values(sc_get(http, emu, sc, paths=paths, cond="in", scope="store", code="fr"))
    base = sc_values(sc_get(http, emu, sc, paths=paths + ",carriers/flatrate/price", cond="in",
                            scope="website", code="base"))
    b2b = sc_values(sc_get(http, emu, sc, paths="carriers/flatrate/price", scope="website", code="b2b"))
    default = sc_values(sc_get(http, emu, sc, paths=paths + ",carriers/flatrate/price", cond="in"))
    assert fr["general/locale/code"] == "fr_FR" and b2b["carriers/flatrate/price"] == "6.00"
    # default scope: stored value, else the catalog default, whatever the switch
    assert default == {"general/store_information/name": "Default Shop", "general/store_information/phone": "555-0100",
                       "general/locale/code": "en_US", "general/locale/weekend": "0,6",
                       "carriers/flatrate/price": "5.00"}
    if inherit:  # store -> its website -> default -> catalog default
        assert fr["general/store_information/name"] == "Base Shop"
        assert fr["general/store_information/phone"] == "555-0100" and fr["general/locale/weekend"] == "0,6"
        assert base["general/store_information/name"] == "Base Shop" and base["general/locale/code"] == "en_US"
        assert base["carriers/flatrate/price"] == "5.00"
    else:  # only what is stored at that very scope and code
        assert fr["general/store_information/name"] is None and fr["general/store_information/phone"] is None
        assert fr["general/locale/weekend"] is None
        assert base == {"general/store_information/name": "Base Shop", "general/store_information/phone": None,
                        "general/locale/code": None, "general/locale/weekend": None,
                        "carriers/flatrate/price": None}


@pytest.mark.parametrize("unknown", ["omit", "null"])
def test_sysconfig_unknown_paths_switch(emu, http, sc, unknown):
    emu.set_system_config_mode(TENANT, unknown_paths=unknown)
    emu.restrict_system_config("cid-conf", ["payment/checkmo/*"])
    asked = ["general/locale/code", "fictional/path", "currency/options/base", "payment/checkmo/active"]
    body = sc_get(http, emu, sc, paths=",".join(asked), cond="in", scope="store", code="fr")
    # currency/options/base is not visible at store scope; payment/checkmo/* is denied to cid-conf
    if unknown == "omit":
        assert body["items"] == [{"path": "general/locale/code", "value": "fr_FR", "scope": "store",
                                  "scope_code": "fr"}]
        assert body["total_count"] == 1
    else:
        assert [i["path"] for i in body["items"]] == asked and body["total_count"] == 4
        assert [i["value"] for i in body["items"]] == ["fr_FR", None, None, None]
        assert all(i["scope"] == "store" and i["scope_code"] == "fr" for i in body["items"])
    # never in an unfiltered read
    everything = [i["path"] for i in sc_get(http, emu, sc, page_size=0, page=1)["items"]]
    everything += [i["path"] for i in sc_get(http, emu, sc, page_size=0, page=2)["items"]]
    assert "fictional/path" not in everything and not any(p.startswith("payment/checkmo/") for p in everything)


@pytest.mark.parametrize("echo", [True, False])
def test_sysconfig_echo_scope_code_switch(emu, http, sc, echo):
    emu.set_system_config_mode(TENANT, echo_scope_code=echo)
    for scope, code in (("website", "base"), ("store", "fr")):
        item = sc_get(http, emu, sc, paths="general/locale/code", scope=scope, code=code)["items"][0]
        assert item["scope"] == scope
        assert (item.get("scope_code") == code) if echo else ("scope_code" not in item)
        item = sc_get(http, emu, sc, scope=scope, code=code, page_size=1)["items"][0]
        assert ("scope_code" in item) is echo
    assert "scope_code" not in sc_get(http, emu, sc, paths="general/locale/code")["items"][0]
    # a PUT's echo always names the code (as in Adobe's example)
    saved = sc_put(http, emu, sc, [{"path": "carriers/flatrate/price", "value": "6.00", "scope": "website",
                                    "scope_code": "base"}])
    assert saved == {"items": [{"path": "carriers/flatrate/price", "value": "6.00", "scope": "website",
                                "scope_code": "base"}], "errors": []}


@pytest.mark.parametrize("obscured", ["mask", "plain", "null"])
def test_sysconfig_obscured_switch(emu, http, sc, obscured):
    secret_default, secret_site = "sk_live_DEFAULT_0123456789", "sk_live_WEBSITE_9876543210"
    emu.set_system_config(TENANT, [
        {"path": "payment/stripe_payments/api_key", "value": secret_default},
        {"path": "payment/stripe_payments/secret", "value": ""},
    ], replace=False)
    emu.set_system_config_mode(TENANT, obscured=obscured, inherit=True)
    paths = "payment/stripe_payments/api_key,payment/stripe_payments/secret,payment/stripe_payments/password," \
            "payment/stripe_payments/title"
    expected = {"mask": "******", "plain": secret_default, "null": None}[obscured]
    values = sc_values(sc_get(http, emu, sc, paths=paths, cond="in"))
    assert values == {"payment/stripe_payments/api_key": expected,
                      "payment/stripe_payments/secret": None if obscured == "null" else "",
                      "payment/stripe_payments/password": None, "payment/stripe_payments/title": None}
    # inherited too
    inherited = sc_values(sc_get(http, emu, sc, paths="payment/stripe_payments/api_key", scope="website",
                                 code="base"))
    assert inherited["payment/stripe_payments/api_key"] == expected
    # a PUT: saved, echoed as a read shows it; "******" keeps the value
    saved = sc_put(http, emu, sc, [
        {"path": "payment/stripe_payments/api_key", "value": secret_site, "scope": "website", "scope_code": "base"},
        {"path": "payment/stripe_payments/api_key", "value": "******"},
    ])
    assert [i["value"] for i in saved["items"]] == {
        "mask": ["******", "******"], "plain": [secret_site, secret_default], "null": [None, None]}[obscured]
    stored = {(i["scope"], i["path"]): i["value"] for i in emu.system_config(TENANT)}
    assert stored[("default", "payment/stripe_payments/api_key")] == secret_default
    assert stored[("website", "payment/stripe_payments/api_key")] == secret_site
    secrets = emu.secrets_by_kind()
    assert {secret_default, secret_site} <= set(secrets["config_secrets"]) <= set(secrets["all"])
    assert "" not in secrets["config_secrets"] and "******" not in secrets["config_secrets"]
    recorded = json.dumps(emu.requests())
    assert secret_default not in recorded and secret_site not in recorded


def test_sysconfig_put_partial_errors(emu, http, sc):
    items = [
        {"path": "general/store_information/name", "value": "Acme Default", "scope": "default"},
        {"path": "carriers/flatrate/price", "value": "6.00", "scope": "website", "scope_code": "base"},
        {"path": "fictional/path", "value": "VALUE-NEVER-ECHOED-1", "scope": "default"},
        {"path": "general/locale/timezone", "value": "VALUE-NEVER-ECHOED-2", "scope": "store", "scope_code": "fr"},
        {"path": "general/locale/code", "value": "VALUE-NEVER-ECHOED-3", "scope": "website", "scope_code": "nowhere"},
        {"path": "general/locale/code", "value": "VALUE-NEVER-ECHOED-4", "scope": "store", "scope_code": "gone"},
        {"path": "general/locale/code", "value": "VALUE-NEVER-ECHOED-5", "scope": "website"},
        {"path": "general/locale/code", "value": "VALUE-NEVER-ECHOED-6", "scope": "global"},
        {"path": "tax/defaults/country", "value": "DE", "scope_code": ""},  # scope left out: default
        {"path": "general/locale/code", "value": "de_DE", "scope": "store", "scope_code": "b2b_en"},
        {"path": "carriers/flatrate/active", "value": True, "scope": "website", "scope_code": "b2b"},
        {"path": "carriers/flatrate/sort_order", "value": 3, "scope": "website", "scope_code": "b2b"},
        {"path": "carriers/flatrate/handling_fee", "value": 2.0, "scope": "website", "scope_code": "b2b"},
        {"path": "general/locale/code", "value": "nl_NL", "scope": "store", "scope_code": "b2b_en"},  # last wins
    ]
    r = http.put(emu.accs_url(TENANT) + "/V1/system/config", headers={"Authorization": "Bearer " + sc},
                 json={"items": items}, timeout=30)
    assert r.status_code == 200
    body = r.json()
    assert body["items"] == [
        {"path": "general/store_information/name", "value": "Acme Default", "scope": "default"},
        {"path": "carriers/flatrate/price", "value": "6.00", "scope": "website", "scope_code": "base"},
        {"path": "tax/defaults/country", "value": "DE", "scope": "default"},
        {"path": "general/locale/code", "value": "de_DE", "scope": "store", "scope_code": "b2b_en"},
        {"path": "carriers/flatrate/active", "value": "1", "scope": "website", "scope_code": "b2b"},
        {"path": "carriers/flatrate/sort_order", "value": "3", "scope": "website", "scope_code": "b2b"},
        {"path": "carriers/flatrate/handling_fee", "value": "2", "scope": "website", "scope_code": "b2b"},
        {"path": "general/locale/code", "value": "nl_NL", "scope": "store", "scope_code": "b2b_en"},
    ]
    assert body["errors"] == [
        {"path": "fictional/path", "scope": "default", "message": SC_MSG_PATH.format("fictional/path")},
        {"path": "general/locale/timezone", "scope": "store", "scope_code": "fr",
         "message": SC_MSG_PATH.format("general/locale/timezone")},
        {"path": "general/locale/code", "scope": "website", "scope_code": "nowhere",
         "message": SC_MSG_WEBSITE.format("nowhere")},
        {"path": "general/locale/code", "scope": "store", "scope_code": "gone", "message": SC_MSG_STORE},
        {"path": "general/locale/code", "scope": "website",
         "message": "A scope code is missing. Enter a code and try again."},
        {"path": "general/locale/code", "scope": "global",
         "message": 'The "global" value doesn\'t exist. Enter another value.'},
    ]
    assert "VALUE-NEVER-ECHOED" not in r.text
    stored = emu.system_config(TENANT)
    assert {"path": "general/locale/code", "value": "nl_NL", "scope": "store", "scope_code": "b2b_en"} in stored
    assert {"path": "carriers/flatrate/active", "value": "1", "scope": "website", "scope_code": "b2b"} in stored
    assert not any("VALUE-NEVER-ECHOED" in str(i["value"]) for i in stored)
    assert sc_values(sc_get(http, emu, sc, paths="carriers/flatrate/price", scope="website", code="base")) == {
        "carriers/flatrate/price": "6.00"}
    assert sc_put(http, emu, sc, []) == {"items": [], "errors": []}


def test_sysconfig_restricted_client(emu, http, sc):
    other = cc_token(http, emu, client_id="cid-other", secret="secret-other-CCCC")
    assert emu.restrict_system_config("cid-conf", ["payment/*", "*/password"]) == {
        "cid-conf": ["payment/*", "*/password"]}
    total = len(emu.system_config_catalog())
    denied = [c["path"] for c in emu.system_config_catalog()
              if c["path"].startswith("payment/") or c["path"].endswith("/password")]
    assert sc_get(http, emu, sc)["total_count"] == total - len(denied)
    assert sc_get(http, emu, other)["total_count"] == total
    assert sc_get(http, emu, sc, paths="payment/checkmo/active")["items"] == []
    assert sc_get(http, emu, other, paths="payment/checkmo/active")["items"][0]["value"] == "1"
    body = sc_put(http, emu, sc, [{"path": "payment/checkmo/active", "value": "0", "scope": "website",
                                   "scope_code": "base"},
                                  {"path": "system/smtp/password", "value": "hunter2-smtp"},
                                  {"path": "payment/checkmo/title", "value": "Cheque", "scope": "store",
                                   "scope_code": "fr"}])
    assert body["items"] == []
    assert [e["message"] for e in body["errors"]] == [
        SC_MSG_PATH.format("payment/checkmo/active"), SC_MSG_PATH.format("system/smtp/password"),
        SC_MSG_PATH.format("payment/checkmo/title")]
    assert not any(i["path"].startswith("payment/") for i in emu.system_config(TENANT))
    assert sc_put(http, emu, other, [{"path": "payment/checkmo/active", "value": "0"}])["errors"] == []
    assert emu.restrict_system_config("cid-conf", []) == {}
    assert sc_get(http, emu, sc, paths="payment/checkmo/active")["items"][0]["value"] == "0"
    assert emu.system_config_restrictions() == {}


def test_sysconfig_put_malformed_bodies(emu, http, sc):
    before = emu.system_config(TENANT)
    cases = [
        ("not json at all", "Decoding error: %1"),
        (json.dumps([{"path": "general/locale/code", "value": "x"}]), '"%fieldName" is required. Enter and try again.'),
        (json.dumps({"items": {"path": "general/locale/code"}}), '"%fieldName" is required. Enter and try again.'),
        (json.dumps({"item": []}), '"%fieldName" is required. Enter and try again.'),
        (json.dumps({"items": ["general/locale/code"]}), "type is invalid"),
        (json.dumps({"items": [{"value": "x"}]}), '"%fieldName" is required'),
        (json.dumps({"items": [{"path": "", "value": "x"}]}), '"%fieldName" is required'),
        (json.dumps({"items": [{"path": 5, "value": "x"}]}), "type is invalid"),
        (json.dumps({"items": [{"path": "general/locale/code"}]}), '"%fieldName" is required'),
        (json.dumps({"items": [{"path": "general/locale/code", "value": {"a": "SECRET-DICT"}}]}), "type is invalid"),
        (json.dumps({"items": [{"path": "general/locale/code", "value": ["SECRET-LIST"]}]}), "type is invalid"),
        (json.dumps({"items": [{"path": "general/locale/code", "value": None}]}), "type is invalid"),
        (json.dumps({"items": [{"path": "general/locale/code", "value": "x", "scope": 1}]}), "type is invalid"),
        (json.dumps({"items": [{"path": "tax/defaults/country", "value": "FR"},
                               {"path": "general/locale/code", "value": {}}]}), "type is invalid"),
    ]
    for raw, message in cases:
        body = sc_put(http, emu, sc, raw=raw, expect=400)
        assert message in body["message"], (raw, body)
        assert "SECRET" not in json.dumps(body)
    assert sc_put(http, emu, sc, raw=cases[-1][0].replace(', {"path": "general/locale/code", "value": {}}', ""),
                  expect=200)["items"][0]["value"] == "FR"
    assert emu.system_config(TENANT) != before
    body = sc_put(http, emu, sc, raw=json.dumps({"items": [{"path": "general/locale/code", "value": None}]}),
                  expect=400)
    assert body["parameters"] == {"fieldName": "items[0].value", "type": "string"}


def test_sysconfig_auth(emu, http, sc):
    expected = {"message": "The consumer isn't authorized to access %resources.",
                "parameters": {"resources": "Magento_Config::config"}}
    expired = emu.mint_access_token("cid-conf", ["openid", "commerce.accs"], expires_in=0)
    for tok in (None, "at-" + "z" * 43, expired, cc_token(http, emu, scope="openid")):
        r = accs_get(http, emu, "system/config", tok)
        assert r.status_code == 401 and r.json() == expected
        assert sc_put(http, emu, tok, [{"path": "tax/defaults/country", "value": "FR"}], expect=401) == expected
    assert not any(i["path"] == "tax/defaults/country" for i in emu.system_config(TENANT))
    emu.set_tenant(TENANT, required_org_id="ORG123@AdobeOrg")
    assert accs_get(http, emu, "system/config", sc).status_code == 403
    r = accs_get(http, emu, "system/config", sc, headers={"x-gw-ims-org-id": "ORG123@AdobeOrg"})
    assert r.status_code == 200
    assert accs_get(http, emu, "system/config", sc, tenant="ghost").status_code == 404
    r = http.post(emu.accs_url(TENANT) + "/V1/system/config", headers={"Authorization": "Bearer " + sc,
                  "x-gw-ims-org-id": "ORG123@AdobeOrg"}, json={"items": []})
    assert r.status_code == 404 and r.json() == {"message": "Request does not match any route."}


def test_sysconfig_faults(emu, http, sc):
    item = [{"path": "tax/defaults/country", "value": "FR"}]
    emu.add_fault("accs.systemConfig", status=429, retry_after="2")
    r = accs_get(http, emu, "system/config", sc)
    assert r.status_code == 429 and r.headers["Retry-After"] == "2" and r.json()["message"]
    emu.add_fault("accs.%s.systemConfig" % TENANT, status=503)
    assert sc_put(http, emu, sc, item, expect=503)["message"]
    assert not any(i["path"] == "tax/defaults/country" for i in emu.system_config(TENANT))  # not applied
    emu.add_fault("accs.systemConfig", status=502, body="html")
    r = accs_get(http, emu, "system/config", sc)
    assert r.status_code == 502 and "<html>" in r.text
    emu.add_fault("accs.systemConfig", delay=0.4)
    start = time.monotonic()
    assert accs_get(http, emu, "system/config", sc).status_code == 200
    assert time.monotonic() - start >= 0.4
    emu.add_fault("accs.systemConfig", drop=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        sc_put(http, emu, sc, item)
    assert not any(i["path"] == "tax/defaults/country" for i in emu.system_config(TENANT))
    # applied, then the answer lost (dropped) or replaced by a 500
    emu.add_fault("accs.systemConfig", drop=True, process=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        sc_put(http, emu, sc, item)
    assert {"path": "tax/defaults/country", "value": "FR", "scope": "default"} in emu.system_config(TENANT)
    emu.add_fault("accs.systemConfig", status=500, process=True)
    sc_put(http, emu, sc, [{"path": "tax/defaults/country", "value": "DE"}], expect=500)
    assert {"path": "tax/defaults/country", "value": "DE", "scope": "default"} in emu.system_config(TENANT)
    emu.set_tenant("tenantB")
    emu.add_fault("accs.tenantB.systemConfig", status=500)
    assert accs_get(http, emu, "system/config", sc).status_code == 200
    assert accs_get(http, emu, "system/config", sc, tenant="tenantB").status_code == 500
    recs = emu.requests(key="accs.systemConfig")
    assert [r["status"] for r in recs] == [429, 503, 502, 200, None, None, 500, 200, 500]
    assert [r["fault"] for r in recs] == [True, True, True, False, True, True, True, False, True]


def test_sysconfig_request_log_and_counters(emu, http, sc):
    emu.clear_requests()
    emu.reset_counters()
    sc_get(http, emu, sc, paths="general/locale/code,currency/options/base", cond="in", scope="website", code="base")
    sc_put(http, emu, sc, [{"path": "payment/stripe_payments/api_key", "value": "sk_live_LOGGED_NEVER"},
                           {"path": "fictional/path", "value": "x"},
                           {"path": "carriers/flatrate/price", "value": "6.00", "scope": "website",
                            "scope_code": "base"}])
    get, put = emu.requests(key="accs.%s.systemConfig" % TENANT)
    assert get["method"] == "GET" and put["method"] == "PUT"
    assert get["key"] == "accs.systemConfig" and get["keys"] == ["accs.systemConfig", "accs.%s.systemConfig" % TENANT]
    assert get["endpoint"] == "systemConfig" and get["tenant"] == TENANT and get["status"] == 200
    assert get["path"] == "/%s/V1/system/config" % TENANT and get["client_id"] == "cid-conf"
    assert get["params"][SC_FILTER % "value"] == ["general/locale/code,currency/options/base"]
    assert get["params"]["scope"] == ["website"] and get["params"]["scopeCode"] == ["base"]
    assert "scopeCode=base" in get["query"] and "conditionType" in get["query"]
    assert put["config_items"] == [
        {"path": "payment/stripe_payments/api_key", "scope": "default", "scope_code": None},
        {"path": "fictional/path", "scope": "default", "scope_code": None},
        {"path": "carriers/flatrate/price", "scope": "website", "scope_code": "base"}]
    assert put["config_saved"] == 2 and put["config_rejected"] == 1 and put["query"] == ""
    assert "sk_live_LOGGED_NEVER" not in json.dumps(emu.requests())
    c = emu.counters()
    assert c["accs.systemConfig"] == 2 and c["accs.%s.systemConfig" % TENANT] == 2
    assert [r["method"] for r in emu.requests(key="accs.systemConfig")] == ["GET", "PUT"]


def test_sysconfig_url_length_limit(emu, http, sc):
    """ACCS URLs over 8 KiB (path + query) get the gateway's 414 HTML page: long in-lists must be batched."""
    paths = [c["path"] for c in emu.system_config_catalog()]
    r = accs_get(http, emu, "system/config", sc, params=sc_params(paths=",".join(paths), cond="in"))
    assert r.status_code == 414 and r.headers["Content-Type"].startswith("text/html") and "414" in r.text
    rec = emu.requests(key="accs.systemConfig")[-1]
    assert rec["status"] == 414 and rec["fault"] is False
    batch, fitting = [], None
    for p in paths:  # the largest prefix of the catalog that fits
        batch.append(p)
        url = http.prepare_request(requests.Request("GET", emu.accs_url(TENANT) + "/V1/system/config",
                                                    params=sc_params(paths=",".join(batch), cond="in"))).url
        if len(urlsplit(url).path) + 1 + len(urlsplit(url).query) > 8192:
            break
        fitting = list(batch)
    body = sc_get(http, emu, sc, paths=",".join(fitting), cond="in")
    assert body["total_count"] == len(fitting) > 100


def test_sysconfig_control(emu, http, sc):
    # a fresh tenant stores what a fresh installation does, consistent with storeConfigs
    fresh = emu.system_config(TENANT)
    assert {"path": "general/locale/code", "value": "en_US", "scope": "default"} in fresh
    assert {"path": "general/locale/code", "value": "fr_FR", "scope": "store", "scope_code": "fr"} in fresh
    configs = {c["code"]: c for c in emu.get_tenant(TENANT)["storeConfigs"]}
    fr = sc_values(sc_get(http, emu, sc, paths="web/unsecure/base_url,currency/options/default", cond="in",
                          scope="store", code="fr"))
    assert fr == {"web/unsecure/base_url": configs["fr"]["base_url"],
                  "currency/options/default": configs["fr"]["default_display_currency_code"]}
    order = {"default": 0, "website": 1, "store": 2}
    keys = [(order[i["scope"]], i.get("scope_code", ""), i["path"]) for i in fresh]
    assert keys == sorted(keys)
    assert emu.system_config_mode(TENANT) == {"inherit": False, "unknown_paths": "omit", "echo_scope_code": True,
                                              "obscured": "mask"}
    # replace, merge, None removes
    got = emu.set_system_config(TENANT, [{"path": "tax/defaults/country", "value": "FR"},
                                         {"path": "carriers/flatrate/price", "value": 7, "scope": "website",
                                          "scope_code": "b2b"}])
    assert got == [{"path": "tax/defaults/country", "value": "FR", "scope": "default"},
                   {"path": "carriers/flatrate/price", "value": "7", "scope": "website", "scope_code": "b2b"}]
    got = emu.set_system_config(TENANT, [{"path": "tax/defaults/country", "value": None},
                                         {"path": "general/locale/code", "value": "de_DE", "scope": "store",
                                          "scope_code": "b2b_en"}], replace=False)
    assert got == emu.system_config(TENANT) == [
        {"path": "carriers/flatrate/price", "value": "7", "scope": "website", "scope_code": "b2b"},
        {"path": "general/locale/code", "value": "de_DE", "scope": "store", "scope_code": "b2b_en"}]
    assert emu.get_tenant(TENANT)["system_config"] == got
    for bad in ([{"path": "fictional/path", "value": "x"}],
                [{"path": "general/locale/timezone", "value": "x", "scope": "store", "scope_code": "fr"}],
                [{"path": "general/locale/code", "value": "x", "scope": "website", "scope_code": "nowhere"}],
                [{"path": "general/locale/code", "value": "x", "scope": "websites", "scope_code": "base"}],
                [{"path": "general/locale/code", "value": {"x": 1}}],
                [{"path": "general/locale/code", "value": "x", "colour": "red"}]):
        with pytest.raises(EmulatorError):
            emu.set_system_config(TENANT, bad)
    for bad in ({"inherit": "yes"}, {"unknown_paths": "drop"}, {"obscured": "hidden"}, {"echo_scope_code": 1}):
        with pytest.raises(EmulatorError):
            emu.set_system_config_mode(TENANT, **bad)
    with pytest.raises(EmulatorError):
        emu.set_system_config("ghost", [])
    with pytest.raises(EmulatorError):
        emu.restrict_system_config("cid-conf", "payment/*")  # a string, not a list of globs
    # set_tenant: the two keys; the seed keeps only entries whose scope codes exist
    t = emu.set_tenant(TENANT, system_config=[{"path": "payment/klarna_kp/secret", "value": "klarna-SEED-secret"}],
                       system_config_mode={"inherit": True, "obscured": "plain"})
    assert t["system_config"] == [{"path": "payment/klarna_kp/secret", "value": "klarna-SEED-secret",
                                   "scope": "default"}]
    assert t["system_config_mode"] == {"inherit": True, "unknown_paths": "omit", "echo_scope_code": True,
                                       "obscured": "plain"}
    assert "klarna-SEED-secret" in emu.secrets_by_kind()["config_secrets"]
    with pytest.raises(EmulatorError):
        emu.set_tenant(TENANT, system_config_mode={"bogus": True})
    views = [v for v in emu.get_tenant(TENANT)["storeViews"] if v["code"] != "fr"]
    assert not any(i.get("scope_code") == "fr" for i in emu.set_tenant(TENANT, storeViews=views)["system_config"])
    # reset forgets values, switches, restrictions and configuration secrets
    emu.restrict_system_config("cid-conf", ["payment/*"])
    emu.reset()
    assert emu.system_config_restrictions() == {} and emu.secrets() == []
    emu.set_tenant(TENANT)
    assert emu.system_config(TENANT) == fresh and len(fresh) == 13
    assert emu.system_config_mode(TENANT)["inherit"] is False


# ------------------------------------------------------------------------------------------
# TLS


def test_tls_verification(emu):
    s = requests.Session()
    s.trust_env = False
    assert s.get(emu.url + "/_control/health", verify=emu.ca_path, timeout=5).status_code == 200
    with pytest.raises(requests.exceptions.SSLError) as info:
        s.get(emu.wrong_host_url + "/_control/health", verify=emu.ca_path, timeout=5)
    assert "hostname" in str(info.value).lower() or "match" in str(info.value).lower()
    with pytest.raises(requests.exceptions.SSLError) as info:
        s.get(emu.unknown_ca_url + "/_control/health", verify=emu.ca_path, timeout=5)
    assert "certificate verify failed" in str(info.value)
    # the wrong-host certificate is from the right CA: only the name is wrong
    ctx = ssl.create_default_context(cafile=emu.ca_path)
    ctx.check_hostname = False
    host, port = urlsplit(emu.wrong_host_url).hostname, urlsplit(emu.wrong_host_url).port
    with socket.create_connection((host, port), timeout=5) as raw:
        with ctx.wrap_socket(raw) as tls:
            cert = tls.getpeercert()
    assert ("DNS", "wrong-host.invalid") in cert["subjectAltName"]
    # the default (localhost) name verifies on the main listener too
    port = urlsplit(emu.url).port
    assert s.get("https://localhost:%d/_control/health" % port, verify=emu.ca_path, timeout=5).ok


# ------------------------------------------------------------------------------------------
# schema


def _load_schema():
    import yaml

    candidates = [
        _REPO_ROOT / "tests" / "emulator" / "accs-openapi.yaml",
        _REPO_ROOT.parent / "shared" / "reference" / "accs-openapi.yaml",
    ]
    path = next(p for p in candidates if p.exists())
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)


@pytest.fixture(scope="module")
def openapi():
    return _load_schema()


def _validator(openapi, schema, commerce_parameters=False):
    import jsonschema

    definitions = dict(openapi["definitions"])
    if commerce_parameters:
        # Known difference: real Commerce answers named placeholders with an object of strings
        # and positional ones (%1) with an array of strings.
        definitions["error-parameters"] = {
            "anyOf": [
                definitions["error-parameters"],
                {"type": "object", "additionalProperties": {"type": ["string", "number"]}},
                {"type": "array", "items": {"type": ["string", "number"]}},
            ]
        }
    root = dict(schema)
    root["definitions"] = definitions
    return jsonschema.Draft4Validator(root)


def _response_schema(openapi, path, method="get", status="200"):
    return openapi["paths"][path][method]["responses"][status]["schema"]


def test_answers_validate_against_openapi(emu, http, openapi):
    add_full_client(emu)
    emu.set_tenant(TENANT, products_count=7)
    at = cc_token(http, emu)
    expected_items = {
        "/V1/store/storeConfigs": "store-data-store-config-interface",
        "/V1/store/storeViews": "store-data-store-interface",
        "/V1/store/websites": "store-data-website-interface",
        "/V1/store/storeGroups": "store-data-group-interface",
    }
    for path, definition in expected_items.items():
        schema = _response_schema(openapi, path)
        assert schema == {"items": {"$ref": "#/definitions/" + definition}, "type": "array"}
        answer = accs_get(http, emu, path[len("/V1/"):], at).json()
        _validator(openapi, schema).validate(answer)
        for item in answer:  # and every required field is there, none unknown
            d = openapi["definitions"][definition]
            assert set(d["required"]) <= set(item) <= set(d["properties"])
    schema = _response_schema(openapi, "/V1/products")
    assert schema == {"$ref": "#/definitions/catalog-data-product-search-results-interface"}
    for params in ({}, {"searchCriteria[pageSize]": 3, "searchCriteria[currentPage]": 2}):
        _validator(openapi, schema).validate(accs_get(http, emu, "products", at, params=params).json())
    # errors: the schema types "parameters" as an array of objects, while real Commerce fills
    # %1 placeholders from an array of strings and %name ones from an object.  That is the one
    # known difference: the bodies validate as published without "parameters", and with it once
    # "parameters" may take Commerce's real shapes.
    import jsonschema

    err_schema = _response_schema(openapi, "/V1/store/websites", status="401")
    assert err_schema == {"$ref": "#/definitions/error-response"}
    errors = [
        accs_get(http, emu, "store/websites", at, tenant="none").json(),
        accs_get(http, emu, "store/websites", None).json(),
    ]
    for body in errors:
        _validator(openapi, err_schema).validate({k: v for k, v in body.items() if k != "parameters"})
        _validator(openapi, err_schema, commerce_parameters=True).validate(body)
        with pytest.raises(jsonschema.ValidationError):
            _validator(openapi, err_schema).validate(body)
    # a broken answer is caught, so the check above has teeth
    bad = accs_get(http, emu, "store/websites", at).json()
    bad[0]["id"] = "1"
    with pytest.raises(jsonschema.ValidationError):
        _validator(openapi, _response_schema(openapi, "/V1/store/websites")).validate(bad)


def test_schema_copy_matches_shared_reference():
    shared = _REPO_ROOT.parent / "shared" / "reference" / "accs-openapi.yaml"
    if not shared.exists():
        pytest.skip("shared/reference not beside the clone")
    assert (_REPO_ROOT / "tests" / "emulator" / "accs-openapi.yaml").read_bytes() == shared.read_bytes()


# ------------------------------------------------------------------------------------------
# extensibility: webhooks, event subscriptions, event providers, eventing configuration

EXT_KEYS = ("webhooks", "eventSubscriptions", "eventProviders", "eventingConfig", "ioEventsCheck")
WH_EXISTS_PAAS = "The webhook already exists in the app/etc/env.php configuration file."
WH_MISSING_PAAS = ("The webhook could not be deleted. The webhook does not exist in the app/etc/env.php "
                   "configuration file.")
WS_CONFIG = '{"project": {"id": "4566206088344794932", "org": {"id": "A1B2C3@AdobeOrg"}, "secret": "ws-EXT-secret"}}'
PROVIDER_1 = "1902bc50-1234-41e8-955b-af4a9667823f"
PROVIDER_DEFAULT = "ad667bc6-8fd4-4bc4-a1c0-4f0a5d8ee2c1"


def hook(**kw):
    out = {"webhook_method": "observer.checkout_cart_product_add_before", "webhook_type": "after",
           "batch_name": "app1_cart", "hook_name": "app1_validate", "url": "https://app.example.com/validate"}
    out.update(kw)
    return out


def event(name="app1.observer.catalog_product_save_after", parent="observer.catalog_product_save_after", **kw):
    out = {"name": name}
    if parent is not None:
        out["parent"] = parent
    out.update(kw)
    return out


def render(body):
    text = body["message"]
    params = body.get("parameters")
    if isinstance(params, list):
        for i, p in enumerate(params, 1):
            text = text.replace("%%%d" % i, str(p))
    elif isinstance(params, dict):
        for k, v in params.items():
            text = text.replace("%" + k, str(v))
    return text


def xcall(http, emu, at, method, endpoint, body=None, tenant=TENANT, raw=None, expect=None, headers=None):
    h = {"Authorization": "Bearer " + at} if at else {}
    h.update(headers or {})
    kw = {}
    if raw is not None:
        h["Content-Type"] = "application/json"
        kw["data"] = raw
    elif body is not None:
        kw["json"] = body
    r = http.request(method, emu.accs_url(tenant) + "/V1/" + endpoint, headers=h, timeout=30, **kw)
    if expect is not None:
        assert r.status_code == expect, (r.status_code, r.text)
    return r


def subscribe_hook(http, emu, at, w, expect=200):
    return xcall(http, emu, at, "POST", "webhooks/subscribe", {"webhook": w}, expect=expect).json()


def subscribe_event(http, emu, at, e, force=None, expect=200):
    body = {"event": e}
    if force is not None:
        body["force"] = force
    return xcall(http, emu, at, "POST", "eventing/eventSubscribe", body, expect=expect).json()


def hooks_listed(http, emu, at):
    return xcall(http, emu, at, "GET", "webhooks/list", expect=200).json()


def subs_listed(http, emu, at):
    return xcall(http, emu, at, "GET", "eventing/getEventSubscriptions", expect=200).json()


def providers_listed(http, emu, at):
    return xcall(http, emu, at, "GET", "eventing/eventProvider", expect=200).json()


@pytest.fixture
def xt(emu, http):
    """A tenant and a token of cid-conf."""
    add_full_client(emu)
    emu.set_tenant(TENANT)
    return cc_token(http, emu)


@pytest.fixture
def xtp(emu, http, xt):
    """xt with a default provider (with a workspace configuration) and one more provider."""
    emu.set_extensibility(TENANT, default_provider={"provider_id": PROVIDER_DEFAULT, "instance_id": "acme_prod",
                                                    "workspace_configuration": WS_CONFIG},
                          providers=[{"provider_id": PROVIDER_1, "instance_id": "acme_app1", "label": "App 1",
                                      "description": "App one", "workspace_configuration": WS_CONFIG}])
    return xt


def test_ext_auth_tenant_and_org(emu, http, xt):
    paths = [("GET", "webhooks/list", "Magento_AdobeCommerceWebhooks::webhooks"),
             ("POST", "webhooks/subscribe", "Magento_AdobeCommerceWebhooks::webhooks"),
             ("GET", "eventing/getEventSubscriptions", "Magento_AdobeCommerceEventsClient::event_list"),
             ("POST", "eventing/eventUnsubscribe/x.y", "Magento_AdobeCommerceEventsClient::event_list"),
             ("GET", "eventing/eventProvider", "Magento_AdobeCommerceEventsClient::event_provider"),
             ("DELETE", "eventing/eventProvider/p1", "Magento_AdobeCommerceEventsClient::event_provider"),
             ("PUT", "eventing/updateConfiguration", "Magento_AdobeIoEventsClient::configuration_update"),
             ("GET", "adobe_io_events/check_configuration", "Magento_AdobeIoEventsClient::configuration_check")]
    no_accs = cc_token(http, emu, scope="openid")
    for method, path, resource in paths:
        for bad in (None, no_accs, "at-unknown"):
            r = xcall(http, emu, bad, method, path, {"webhook": hook()}, expect=401)
            assert r.json() == {"message": "The consumer isn't authorized to access %resources.",
                                "parameters": {"resources": resource}}
        r = xcall(http, emu, xt, method, path, {}, tenant="nope", expect=404)
        assert r.json() == {"message": "Tenant %1 not found.", "parameters": ["nope"]}
    emu.set_tenant(TENANT, required_org_id="ORG1@AdobeOrg")
    assert xcall(http, emu, xt, "GET", "webhooks/list").status_code == 403
    assert xcall(http, emu, xt, "GET", "webhooks/list", headers={"x-gw-ims-org-id": "ORG1@AdobeOrg"}).json() == []
    assert emu.extensibility(TENANT)["webhooks"] == []  # nothing was written by the refused calls
    for method, path in (("DELETE", "webhooks/list"), ("GET", "webhooks/subscribe"), ("GET", "webhooks/other"),
                         ("PATCH", "eventing/eventProvider"), ("GET", "eventing/eventSubscribe"),
                         ("GET", "eventing/updateConfiguration"), ("POST", "adobe_io_events/check_configuration")):
        r = xcall(http, emu, xt, method, path, {}, headers={"x-gw-ims-org-id": "ORG1@AdobeOrg"}, expect=404)
        assert r.json() == {"message": "Request does not match any route."}


def test_ext_webhook_subscribe_list_unsubscribe(emu, http, xt):
    full = hook(url="  https://app.example.com/validate  ", batch_order=100, method="POST", priority=100,
                required=True, soft_timeout=1000, timeout=2000, ttl=6000,
                fallback_error_message="Unable to validate product",
                fields=[{"name": "price", "source": "data.product.price", "converter": "X"},
                        {"name": "sku"}, {"name": "price", "source": "data.product.final_price"}],
                rules=[{"field": "data.product.sku", "operator": "regex", "value": "/.*car.*/"},
                       {"field": "data.product.sku", "operator": "regex", "value": "/.*bike.*/"},
                       {"field": "data.product.price", "operator": "greaterThan", "value": "10"}],
                headers=[{"name": "x-app-key", "value": "hdr-value-EXT-0001"},
                         {"name": "x-app-key", "value": "hdr-value-EXT-0002"}],
                developer_console_oauth={"client_id": "oauth-client", "client_secret": "oauth-secret-EXT-0001",
                                         "org_id": "A1B2C3@AdobeOrg"})
    assert subscribe_hook(http, emu, xt, full) == []
    [listed] = hooks_listed(http, emu, xt)
    assert listed == {
        "webhook_method": "observer.checkout_cart_product_add_before", "webhook_type": "after",
        "batch_name": "app1_cart", "hook_name": "app1_validate", "url": "https://app.example.com/validate",
        "batch_order": 100, "method": "POST", "priority": 100, "required": True, "soft_timeout": 1000,
        "timeout": 2000, "ttl": 6000, "fallback_error_message": "Unable to validate product",
        "fields": [{"name": "price", "source": "data.product.final_price"}, {"name": "sku"}],
        "rules": [{"field": "data.product.sku", "operator": "regex", "value": "/.*bike.*/"},
                  {"field": "data.product.price", "operator": "greaterThan", "value": "10"}],
        "headers": [{"name": "x-app-key", "value": "hdr-value-EXT-0002"}],
        "developer_console_oauth": {"client_id": "oauth-client", "client_secret": "******",
                                    "org_id": "A1B2C3@AdobeOrg", "environment": "production"}}
    stored = emu.extensibility(TENANT)["webhooks"][0]
    assert stored["developer_console_oauth"]["client_secret"] == "oauth-secret-EXT-0001"
    # not an upsert: the same identity again (any other values) is refused, nothing changes
    r = xcall(http, emu, xt, "POST", "webhooks/subscribe", {"webhook": hook(url="https://other")}, expect=400)
    assert r.json() == {"message": WH_EXISTS_PAAS}
    assert hooks_listed(http, emu, xt) == [listed]
    # plugin.magento.X is stored as plugin.X: one identity
    plugin = "plugin.sales.api.order_management.place"
    subscribe_hook(http, emu, xt, hook(webhook_method="plugin.magento.sales.api.order_management.place",
                                       webhook_type="before"))
    assert hooks_listed(http, emu, xt)[1]["webhook_method"] == plugin
    subscribe_hook(http, emu, xt, hook(webhook_method=plugin, webhook_type="before"), expect=400)
    # the same hook name in another batch or type is another identity
    subscribe_hook(http, emu, xt, hook(batch_name="app1_other"))
    subscribe_hook(http, emu, xt, hook(webhook_type="before"))
    assert len(hooks_listed(http, emu, xt)) == 4
    # unsubscribe uses the identity fields only; plugin.magento. matches too
    assert xcall(http, emu, xt, "POST", "webhooks/unsubscribe",
                 {"webhook": hook(webhook_method="plugin.magento.sales.api.order_management.place",
                                  webhook_type="before", url="ignored")}, expect=200).json() == []
    xcall(http, emu, xt, "POST", "webhooks/unsubscribe", {"webhook": hook(batch_name="app1_other")}, expect=200)
    xcall(http, emu, xt, "POST", "webhooks/unsubscribe", {"webhook": hook(webhook_type="before")}, expect=200)
    assert hooks_listed(http, emu, xt) == [listed]
    r = xcall(http, emu, xt, "POST", "webhooks/unsubscribe", {"webhook": hook(hook_name="absent")}, expect=400)
    assert r.json() == {"message": WH_MISSING_PAAS}
    xcall(http, emu, xt, "POST", "webhooks/unsubscribe", {"webhook": hook()}, expect=200)
    assert hooks_listed(http, emu, xt) == []
    # oauth environment staging kept; a hook without oauth has no developer_console_oauth
    subscribe_hook(http, emu, xt, hook(developer_console_oauth={"client_id": "c", "client_secret": "oauth-secret-EXT-2",
                                                                "org_id": "o@AdobeOrg", "environment": "staging"}))
    subscribe_hook(http, emu, xt, hook(hook_name="app1_plain"))
    first, plain = hooks_listed(http, emu, xt)
    assert first["developer_console_oauth"]["environment"] == "staging"
    assert "developer_console_oauth" not in plain


def test_ext_webhook_batch_order_applies_to_batch(emu, http, xt):
    subscribe_hook(http, emu, xt, hook(hook_name="one", batch_order=10))
    subscribe_hook(http, emu, xt, hook(hook_name="two"))  # takes the batch's order
    subscribe_hook(http, emu, xt, hook(hook_name="other", batch_name="app1_b2", batch_order=5))
    assert [h.get("batch_order") for h in hooks_listed(http, emu, xt)] == [10, 10, 5]
    subscribe_hook(http, emu, xt, hook(hook_name="three", batch_order=300))
    assert [(h["hook_name"], h["batch_order"]) for h in hooks_listed(http, emu, xt)] == [
        ("one", 300), ("two", 300), ("other", 5), ("three", 300)]


@pytest.mark.parametrize("w, status, message", [
    (hook(hook_name="app1-validate"), 400, "The hook name can contain only alphanumeric characters and underscores."),
    (hook(hook_name="a b"), 400, "The hook name can contain only alphanumeric characters and underscores."),
    (hook(hook_name="h" * 129), 400, "The hook name can not be longer than 128 characters."),
    (hook(batch_name="app1-cart"), 400, "The batch name can contain only alphanumeric characters and underscores."),
    (hook(webhook_type="around"), 400, "The webhook type can be one of [before, after]"),
    (hook(webhook_method="observer.no_such_event"), 400,
     'The webhook method "observer.no_such_event" is not supported. The list of supported webhooks: '
     "GET /V1/webhooks/supportedList"),
    (hook(timeout=-1), 400, 'The "timeout" value must be a non-negative integer.'),
    (hook(ttl="many"), 400,
     'The "webhook.ttl" value\'s type is invalid. The "int" type was expected. Verify and try again.'),
    (hook(rules=[{"field": "f", "operator": "like", "value": "x"}]), 400,
     'The rule operator "like" is not supported. Supported operators: greaterThan, lessThan, equal, notEqual, '
     "regex, in, isEmpty, notEmpty"),
    (hook(developer_console_oauth={"client_id": "c"}), 400,
     "Values for the following fields must be provided for Developer Console OAuth: client_secret, org_id"),
    (hook(developer_console_oauth={"client_id": "c", "client_secret": "oauth-secret-EXT-3", "org_id": "o",
                                   "environment": "dev"}), 400,
     'The Developer Console OAuth environment "dev" is not valid. Valid environments: production, staging'),
    (hook(url="   "), 400, '"webhook.url" is required. Enter and try again.'),
    ({k: v for k, v in hook().items() if k != "hook_name"}, 400,
     '"webhook.hook_name" is required. Enter and try again.'),
    (None, 400, '"webhook" is required. Enter and try again.'),
])
def test_ext_webhook_validation(emu, http, xt, w, status, message):
    body = {"webhook": w} if w is not None else {"hook": hook()}
    r = xcall(http, emu, xt, "POST", "webhooks/subscribe", body, expect=status)
    assert render(r.json()) == message
    assert "%" not in r.json()["message"] or r.json().get("parameters")
    assert emu.extensibility(TENANT)["webhooks"] == []
    r = xcall(http, emu, xt, "POST", "webhooks/subscribe", raw="{not json", expect=400)
    assert r.json()["message"] == "Decoding error: %1"


@pytest.mark.parametrize("defaults", ["omit", "xml_defaults", "xml_defaults_empty_method"])
def test_ext_webhook_defaults_switch(emu, http, xt, defaults):
    assert emu.extensibility_mode(TENANT)["webhook_defaults"] == "omit"
    emu.set_extensibility_mode(TENANT, webhook_defaults=defaults)
    subscribe_hook(http, emu, xt, hook(fields=[{"name": "sku"}], priority=7))
    [listed] = hooks_listed(http, emu, xt)
    if defaults == "omit":
        assert listed == dict(hook(), priority=7, fields=[{"name": "sku"}], rules=[], headers=[])
    else:
        assert listed == dict(hook(), priority=7, fields=[{"name": "sku", "source": ""}], rules=[], headers=[],
                              batch_order=0, method="POST" if defaults == "xml_defaults" else "", required=True,
                              soft_timeout=0, timeout=0, ttl=0, fallback_error_message="")


@pytest.mark.parametrize("texts", ["paas", "generic"])
def test_ext_exists_message_switch(emu, http, xtp, texts):
    assert emu.extensibility_mode(TENANT)["exists_message"] == "paas"
    emu.set_extensibility_mode(TENANT, exists_message=texts)
    subscribe_hook(http, emu, xtp, hook())
    exists = subscribe_hook(http, emu, xtp, hook(), expect=400)
    missing = xcall(http, emu, xtp, "POST", "webhooks/unsubscribe", {"webhook": hook(hook_name="x")}, expect=400).json()
    subscribe_event(http, emu, xtp, event())
    ev = subscribe_event(http, emu, xtp, event(), expect=400)
    if texts == "paas":
        assert exists == {"message": WH_EXISTS_PAAS} and missing == {"message": WH_MISSING_PAAS}
        assert ev == {"message": 'Event is already subscribed "%1"', "parameters": [event()["name"]]}
    else:
        assert exists == {"message": "The webhook already exists."}
        assert missing == {"message": "The webhook could not be deleted. The webhook does not exist."}
        assert render(ev) == 'An event subscription with the name "%s" already exists.' % event()["name"]
    for body in (exists, ev):
        assert "already" in render(body)


@pytest.mark.parametrize("answer", ["empty_list", "true"])
def test_ext_webhook_write_answer_switch(emu, http, xt, answer):
    emu.set_extensibility_mode(TENANT, webhook_write_answer=answer)
    expected = [] if answer == "empty_list" else True
    assert subscribe_hook(http, emu, xt, hook()) == expected
    assert xcall(http, emu, xt, "POST", "webhooks/unsubscribe", {"webhook": hook()}, expect=200).json() == expected


def test_ext_supported_lists(emu, http, xt):
    wh = xcall(http, emu, xt, "GET", "webhooks/supportedList", expect=200).json()
    ev = xcall(http, emu, xt, "GET", "eventing/supportedList", expect=200).json()
    assert {"name": "observer.checkout_cart_product_add_before"} in wh
    assert {"name": "observer.sales_quote_add_item"} in wh
    assert {"name": "plugin.sales.api.order_management.place"} in wh
    assert {"name": "observer.catalog_product_save_after"} in ev and {"name": "observer.customer_login"} in ev
    assert all(set(i) == {"name"} for i in wh + ev)
    assert emu.supported(TENANT) == {"webhooks": [i["name"] for i in wh], "events": [i["name"] for i in ev]}
    assert emu.set_supported(TENANT, webhooks=["observer.only_this"]) == {
        "webhooks": ["observer.only_this"], "events": [i["name"] for i in ev]}
    emu.set_supported(TENANT, events=["observer.only_that"])
    assert xcall(http, emu, xt, "GET", "webhooks/supportedList").json() == [{"name": "observer.only_this"}]
    assert xcall(http, emu, xt, "GET", "eventing/supportedList").json() == [{"name": "observer.only_that"}]
    subscribe_hook(http, emu, xt, hook(), expect=400)
    subscribe_hook(http, emu, xt, hook(webhook_method="observer.only_this"))
    subscribe_event(http, emu, xt, event(), expect=400)
    subscribe_event(http, emu, xt, event(name="app1.observer.only_that", parent="observer.only_that"))
    # a supported name given in the PaaS form matches the stored (plugin.) form
    emu.set_supported(TENANT, webhooks=["plugin.magento.sales.api.order_management.place"])
    subscribe_hook(http, emu, xt, hook(webhook_method="plugin.sales.api.order_management.place"))
    subscribe_hook(http, emu, xt, hook(webhook_method="plugin.magento.sales.api.order_management.place",
                                       hook_name="app1_second"))
    with pytest.raises(EmulatorError):
        emu.set_supported(TENANT, webhooks="observer.x")
    with pytest.raises(EmulatorError):
        emu.set_supported(TENANT, events=[""])
    emu.set_tenant("tenantB")
    assert {"name": "observer.customer_login"} in xcall(http, emu, xt, "GET", "eventing/supportedList",
                                                        tenant="tenantB").json()


@pytest.mark.parametrize("e, message", [
    (event(name="app1-x.observer.catalog_product_save_after"),
     'Event name "app1-x.observer.catalog_product_save_after" can contain only alphanumeric characters, '
     "underscores and dots."),
    (event(name="catalog_product_save_after", parent=None),
     'Event code "catalog_product_save_after" must consist of a type label and an event code separated by a dot: '
     '"<type>.<event_code>". Valid types: plugin, observer'),
    (event(name="app1.catalog_product_save_after", parent="listener.catalog_product_save_after"),
     'Invalid event type "listener" in the provided event code "listener.catalog_product_save_after". '
     "Valid types: plugin, observer"),
    (event(name="observer.customer_login", parent="observer.catalog_product_save_after"),
     '"observer.customer_login" cannot be used as the event code for an alias or a rule-based event. This event '
     "code is already reserved for supported events."),
    (event(parent="observer.no_such_event"),
     'The event "observer.no_such_event" is not supported. The list of supported events: GET '
     "/V1/eventing/supportedList"),
    (event(provider_id="unknown-provider"),
     'The event provider id "unknown-provider" is not configured. The list of configured event provider ids are: '
     "[%s, %s]" % (PROVIDER_DEFAULT, PROVIDER_1)),
    (event(rules=[{"field": "price", "operator": "notEqual", "value": "1"}]),
     'The rule operator "notEqual" is not supported. Supported operators: greaterThan, lessThan, equal, regex, in, '
     "onChange"),
    (event(rules=[{"field": "price", "operator": "equal"}]),
     '"event.rules[0].value" is required. Enter and try again.'),
    (event(fields=[{"name": "bad name"}]), 'The field name "bad name" is not valid.'),
    (event(name=""), '"event.name" is required. Enter and try again.'),
])
def test_ext_subscribe_validation(emu, http, xtp, e, message):
    r = xcall(http, emu, xtp, "POST", "eventing/eventSubscribe", {"event": e}, expect=400)
    assert render(r.json()) == message
    assert emu.extensibility(TENANT)["subscriptions"] == []


def test_ext_subscribe_list_and_exists(emu, http, xtp):
    full = event(fields=[{"name": "sku"}, {"name": "price", "converter": ""},
                         {"name": "context.store_id", "source": "context_store.get_store.get_id"},
                         {"name": "name", "converter": "Vendor\\Module\\Converter"}, {"name": "items[].sku"},
                         {"name": "sku"}],
                 rules=[{"field": "price", "operator": "lessThan", "value": "300.00"},
                        {"field": "price", "operator": "lessThan", "value": "200.00"},
                        {"field": "status", "operator": "onChange"}],
                 priority=True, hipaa_audit_required=False, provider_id=PROVIDER_1, destination="default")
    assert subscribe_event(http, emu, xtp, full, force=False) == []
    [listed] = subs_listed(http, emu, xtp)
    assert listed == {
        "name": "app1.observer.catalog_product_save_after", "parent": "observer.catalog_product_save_after",
        "fields": [{"name": "sku"}, {"name": "price"},
                   {"name": "context.store_id", "source": "context_store.get_store.get_id"},
                   {"name": "name", "converter": "Vendor\\Module\\Converter"}, {"name": "items[].sku"}],
        "rules": [{"field": "price", "operator": "lessThan", "value": "200.00"},
                  {"field": "status", "operator": "onChange", "value": ""}],
        "destination": "default", "priority": True, "hipaa_audit_required": False, "provider_id": PROVIDER_1}
    # the name itself when it is an event code; an alias with another prefix; "*"; provider "default" or ""
    subscribe_event(http, emu, xtp, event(name="observer.customer_login", parent=None, fields=[{"name": "*"}]))
    subscribe_event(http, emu, xtp, event(name="acme.customer_login", parent="observer.customer_login",
                                          provider_id="default"))
    subscribe_event(http, emu, xtp, event(name="plugin.sales.api.order_management.place", parent=None,
                                          provider_id=""))
    assert [s["name"] for s in subs_listed(http, emu, xtp)] == [
        "app1.observer.catalog_product_save_after", "observer.customer_login", "acme.customer_login",
        "plugin.sales.api.order_management.place"]
    # an enabled name again (any case, with or without force) is refused and changes nothing
    for name, force in ((full["name"], None), (full["name"].upper(), False), (full["name"], True)):
        r = xcall(http, emu, xtp, "POST", "eventing/eventSubscribe", {"event": event(name=name), "force": force},
                  expect=400)
        assert render(r.json()) == 'Event is already subscribed "%s"' % full["name"]
    assert subs_listed(http, emu, xtp)[0] == listed
    # a disabled one is overwritten
    xcall(http, emu, xtp, "POST", "eventing/eventUnsubscribe/" + full["name"], expect=200)
    subscribe_event(http, emu, xtp, event(fields=[{"name": "qty"}]))
    new = [s for s in subs_listed(http, emu, xtp) if s["name"] == full["name"]][0]
    assert new["fields"] == [{"name": "qty"}] and new["rules"] == [] and new["priority"] is False
    assert [s for s in emu.extensibility(TENANT)["subscriptions"] if s["name"] == full["name"]][0]["enabled"] is True


@pytest.mark.parametrize("overwrites", [False, True])
def test_ext_force_overwrites_switch(emu, http, xtp, overwrites):
    emu.set_extensibility_mode(TENANT, force_overwrites=overwrites)
    subscribe_event(http, emu, xtp, event(fields=[{"name": "sku"}]))
    subscribe_event(http, emu, xtp, event(fields=[{"name": "qty"}]), force=False, expect=400)
    subscribe_event(http, emu, xtp, event(fields=[{"name": "qty"}]), force=True, expect=200 if overwrites else 400)
    assert subs_listed(http, emu, xtp)[0]["fields"] == [{"name": "qty" if overwrites else "sku"}]


def test_ext_subscription_put_merges(emu, http, xtp):
    name = "app1.observer.catalog_product_save_after"
    subscribe_event(http, emu, xtp, event(fields=[{"name": "sku"}, {"name": "price"}],
                                          rules=[{"field": "price", "operator": "lessThan", "value": "300"}],
                                          priority=True, hipaa_audit_required=True, provider_id=PROVIDER_1))
    before = subs_listed(http, emu, xtp)[0]
    # fields by name, rules by field:operator: replaced or appended, never removed; flags kept when omitted
    r = xcall(http, emu, xtp, "PUT", "eventing/eventSubscribe/" + name,
              {"event": {"name": name, "fields": [{"name": "price", "source": "data.price"}, {"name": "qty"}],
                         "rules": [{"field": "price", "operator": "lessThan", "value": "100"},
                                   {"field": "price", "operator": "greaterThan", "value": "1"}],
                         "provider_id": "", "destination": "", "parent": ""}}, expect=200)
    assert r.json() == []
    after = subs_listed(http, emu, xtp)[0]
    assert after["fields"] == [{"name": "sku"}, {"name": "price", "source": "data.price"}, {"name": "qty"}]
    assert after["rules"] == [{"field": "price", "operator": "lessThan", "value": "100"},
                              {"field": "price", "operator": "greaterThan", "value": "1"}]
    assert after["priority"] is True and after["hipaa_audit_required"] is True
    assert {k: after[k] for k in ("name", "parent", "destination", "provider_id")} == {
        k: before[k] for k in ("name", "parent", "destination", "provider_id")}
    xcall(http, emu, xtp, "PUT", "eventing/eventSubscribe/" + name.upper(),
          {"event": {"name": name, "fields": [], "priority": False, "provider_id": PROVIDER_DEFAULT}}, expect=200)
    again = subs_listed(http, emu, xtp)[0]
    assert again["priority"] is False and again["hipaa_audit_required"] is True
    assert again["fields"] == after["fields"] and again["provider_id"] == PROVIDER_DEFAULT
    # errors
    r = xcall(http, emu, xtp, "PUT", "eventing/eventSubscribe/app1.observer.absent",
              {"event": {"name": "app1.observer.absent"}}, expect=400)
    assert render(r.json()) == ("Unable to update the event subscription. A subscription for app1.observer.absent "
                                "does not exist")
    r = xcall(http, emu, xtp, "PUT", "eventing/eventSubscribe/" + name,
              {"event": {"name": name, "provider_id": "nope"}}, expect=400)
    assert render(r.json()).startswith('The event provider id "nope" is not configured.')
    r = xcall(http, emu, xtp, "PUT", "eventing/eventSubscribe/" + name,
              {"event": {"name": name, "rules": [{"field": "a", "operator": "like", "value": "1"}]}}, expect=400)
    assert subs_listed(http, emu, xtp)[0] == again  # a refused PUT changes nothing
    xcall(http, emu, xtp, "POST", "eventing/eventUnsubscribe/" + name, expect=200)
    r = xcall(http, emu, xtp, "PUT", "eventing/eventSubscribe/" + name, {"event": {"name": name}}, expect=400)
    assert r.json() == {"message": "Unable to update the event subscription. The subscription for %1 is not enabled",
                        "parameters": [name]}
    xcall(http, emu, xtp, "PUT", "eventing/eventSubscribe/" + name, raw="[", expect=400)


@pytest.mark.parametrize("missing", [400, 404])
def test_ext_unsubscribe_disables(emu, http, xtp, missing):
    assert emu.extensibility_mode(TENANT)["unsubscribe_missing"] == 400
    emu.set_extensibility_mode(TENANT, unsubscribe_missing=missing)
    name = "app1.observer.catalog_product_save_after"
    subscribe_event(http, emu, xtp, event(provider_id=PROVIDER_1))
    assert xcall(http, emu, xtp, "POST", "eventing/eventUnsubscribe/" + name.upper(), expect=200).json() == []
    assert subs_listed(http, emu, xtp) == []
    [stored] = emu.extensibility(TENANT)["subscriptions"]
    assert stored["name"] == name and stored["enabled"] is False
    again = xcall(http, emu, xtp, "POST", "eventing/eventUnsubscribe/" + name, expect=missing).json()
    absent = xcall(http, emu, xtp, "POST", "eventing/eventUnsubscribe/app1.observer.absent", expect=missing).json()
    if missing == 400:
        assert render(again) == 'The "%s" event has already been unsubscribed.' % name
        assert render(absent) == 'The "app1.observer.absent" event is not registered. You cannot unsubscribe from it.'
    else:
        assert render(absent) == 'The event subscription "app1.observer.absent" does not exist.'
        assert render(again) == 'The event subscription "%s" does not exist.' % name
    # subscribing again works (the SDK's recreate)
    subscribe_event(http, emu, xtp, event())
    assert [s["name"] for s in subs_listed(http, emu, xtp)] == [name]


@pytest.mark.parametrize("echo", ["absent", "empty", "name"])
def test_ext_parent_echo_switch(emu, http, xtp, echo):
    assert emu.extensibility_mode(TENANT)["parent_echo"] == "absent"
    emu.set_extensibility_mode(TENANT, parent_echo=echo)
    subscribe_event(http, emu, xtp, event(name="observer.customer_login", parent=None))
    subscribe_event(http, emu, xtp, event())
    plain, alias = subs_listed(http, emu, xtp)
    assert alias["parent"] == "observer.catalog_product_save_after"
    if echo == "absent":
        assert "parent" not in plain
    else:
        assert plain["parent"] == ("" if echo == "empty" else "observer.customer_login")


@pytest.mark.parametrize("echo", ["real", "default"])
def test_ext_provider_id_echo_switch(emu, http, xtp, echo):
    assert emu.extensibility_mode(TENANT)["provider_id_echo"] == "real"
    emu.set_extensibility_mode(TENANT, provider_id_echo=echo)
    for i, pid in enumerate((None, "", "default", PROVIDER_DEFAULT, PROVIDER_1)):
        e = event(name="app%d.observer.customer_login" % i, parent="observer.customer_login")
        if pid is not None:
            e["provider_id"] = pid
        subscribe_event(http, emu, xtp, e)
    shown = [s["provider_id"] for s in subs_listed(http, emu, xtp)]
    default = PROVIDER_DEFAULT if echo == "real" else "default"
    assert shown == [default] * 4 + [PROVIDER_1]
    # no default provider: "default" either way (a stored id as it is)
    emu.set_extensibility(TENANT, default_provider={})
    assert [s["provider_id"] for s in subs_listed(http, emu, xtp)] == ["default"] * 3 + [PROVIDER_DEFAULT, PROVIDER_1]


@pytest.mark.parametrize("how", ["switch", "times", "fault"])
def test_ext_half_subscribe(emu, http, xtp, how):
    assert emu.extensibility_mode(TENANT)["half_subscribe"] is False
    if how == "switch":
        emu.set_extensibility_mode(TENANT, half_subscribe=True)
    elif how == "times":
        emu.set_extensibility_mode(TENANT, half_subscribe=1)
    else:
        emu.add_fault("accs.eventSubscriptions", status=500, process=True)
    r = xcall(http, emu, xtp, "POST", "eventing/eventSubscribe", {"event": event()}, expect=500)
    assert r.json()["message"].startswith("Internal Error.") and r.json()["parameters"]
    assert [s["name"] for s in subs_listed(http, emu, xtp)] == [event()["name"]]  # it took effect
    subscribe_event(http, emu, xtp, event(), expect=400)  # a retry finds it there
    r = xcall(http, emu, xtp, "POST", "eventing/eventSubscribe",
              {"event": event(name="app2.observer.customer_login", parent="observer.customer_login")})
    assert r.status_code == (500 if how == "switch" else 200)
    assert len(subs_listed(http, emu, xtp)) == 2
    # a refused subscribe is not half-done
    subscribe_event(http, emu, xtp, event(name="bad-name"), expect=400)
    rec = emu.requests(key="accs.eventSubscriptions")
    assert [(r["status"], r["ext_applied"]) for r in rec if r["method"] == "POST"] == [
        (500, True), (400, False), (500 if how == "switch" else 200, True), (400, False)]
    assert rec[0]["fault"] is (how == "fault")
    if how == "times":
        assert emu.extensibility_mode(TENANT)["half_subscribe"] == 0


def test_ext_providers(emu, http, xt):
    assert providers_listed(http, emu, xt) == []  # no default provider configured yet
    created = xcall(http, emu, xt, "POST", "eventing/eventProvider",
                    {"eventProvider": {"provider_id": PROVIDER_1, "instance_id": "acme_app1", "label": "App 1",
                                       "description": "First", "workspace_configuration": WS_CONFIG}},
                    expect=200).json()
    assert created == {"id": "1", "provider_id": PROVIDER_1, "instance_id": "acme_app1", "label": "App 1",
                       "description": "First", "workspace_configuration": "******"}
    r = xcall(http, emu, xt, "POST", "eventing/eventProvider",
              {"eventProvider": {"provider_id": PROVIDER_1, "instance_id": "other"}}, expect=400)
    assert r.json() == {"message": 'The event provider with ID "%1" already exists.', "parameters": [PROVIDER_1]}
    r = xcall(http, emu, xt, "POST", "eventing/eventProvider",
              {"eventProvider": {"provider_id": "p-2", "instance_id": ""}}, expect=400)
    assert r.json() == {"message": "The event provider instance ID is required and can not be empty."}
    xcall(http, emu, xt, "POST", "eventing/eventProvider", {"eventProvider": {"instance_id": "x"}}, expect=400)
    two = xcall(http, emu, xt, "PUT", "eventing/eventProvider",
                {"eventProvider": {"provider_id": "p-2", "instance_id": "acme_app2"}}, expect=200).json()
    assert two["id"] == "2" and two["workspace_configuration"] == "" and two["label"] == ""
    # default provider through updateConfiguration: first, without id
    assert xcall(http, emu, xt, "PUT", "eventing/updateConfiguration",
                 {"config": {"provider_id": PROVIDER_DEFAULT, "instance_id": "acme_prod"}}, expect=200).json() is True
    listed = providers_listed(http, emu, xt)
    assert listed[0] == {"provider_id": PROVIDER_DEFAULT, "instance_id": "acme_prod", "workspace_configuration": ""}
    assert [p.get("id") for p in listed] == [None, "1", "2"]
    assert xcall(http, emu, xt, "GET", "eventing/getEventProviders", expect=200).json() == listed
    assert xcall(http, emu, xt, "GET", "eventing/eventProvider/" + PROVIDER_1, expect=200).json() == created
    assert xcall(http, emu, xt, "GET", "eventing/eventProvider/" + PROVIDER_DEFAULT, expect=200).json() == listed[0]
    r = xcall(http, emu, xt, "GET", "eventing/eventProvider/nope", expect=404)
    assert r.json() == {"message": 'The event provider with ID "%1" not found.', "parameters": ["nope"]}

    # update with id: masked (only "*") workspace configuration keeps the stored one; another replaces it
    def stored(pid):
        return [p for p in emu.extensibility(TENANT)["providers"] if p["provider_id"] == pid][0]

    upd = xcall(http, emu, xt, "PUT", "eventing/eventProvider",
                {"eventProvider": {"id": 1, "provider_id": PROVIDER_1, "instance_id": "acme_app1b", "label": "App One",
                                   "description": "First", "workspace_configuration": "******"}}, expect=200).json()
    assert upd == dict(created, instance_id="acme_app1b", label="App One")
    assert stored(PROVIDER_1)["workspace_configuration"] == WS_CONFIG
    xcall(http, emu, xt, "PUT", "eventing/eventProvider",
          {"eventProvider": {"id": "1", "workspace_configuration": WS_CONFIG.replace("ws-EXT", "ws-EXT-new")}},
          expect=200)
    assert stored(PROVIDER_1)["workspace_configuration"] == WS_CONFIG.replace("ws-EXT", "ws-EXT-new")
    assert stored(PROVIDER_1)["instance_id"] == "acme_app1b"
    assert WS_CONFIG.replace("ws-EXT", "ws-EXT-new") in emu.secrets_by_kind()["workspace_configurations"]
    xcall(http, emu, xt, "PUT", "eventing/eventProvider", {"eventProvider": {"id": 9, "instance_id": "x"}}, expect=404)
    xcall(http, emu, xt, "PUT", "eventing/eventProvider", {"eventProvider": {"id": 1, "instance_id": ""}}, expect=400)
    xcall(http, emu, xt, "PUT", "eventing/eventProvider", {"eventProvider": {"id": 1, "provider_id": "p-2"}},
          expect=400)
    # delete: blocked by enabled subscriptions (named), not by disabled ones
    subscribe_event(http, emu, xt, event(provider_id=PROVIDER_1))
    subscribe_event(http, emu, xt, event(name="app1.observer.customer_login", parent="observer.customer_login",
                                         provider_id=PROVIDER_1))
    r = xcall(http, emu, xt, "DELETE", "eventing/eventProvider/" + PROVIDER_1, expect=400)
    assert render(r.json()) == (
        'The event provider "%s" cannot be removed. The event provider has linked event subscriptions: '
        "[app1.observer.catalog_product_save_after, app1.observer.customer_login]. Remove the linked event "
        "subscriptions or change their provider IDs before removing the event provider." % PROVIDER_1)
    for name in ("app1.observer.catalog_product_save_after", "app1.observer.customer_login"):
        xcall(http, emu, xt, "POST", "eventing/eventUnsubscribe/" + name, expect=200)
    assert xcall(http, emu, xt, "DELETE", "eventing/eventProvider/" + PROVIDER_1, expect=200).json() is True
    assert [p.get("id") for p in providers_listed(http, emu, xt)] == [None, "2"]
    r = xcall(http, emu, xt, "DELETE", "eventing/eventProvider/" + PROVIDER_1, expect=404)
    assert render(r.json()) == 'The event provider with ID "%s" not found.' % PROVIDER_1
    # a new one gets a new record id
    assert xcall(http, emu, xt, "POST", "eventing/eventProvider",
                 {"eventProvider": {"provider_id": PROVIDER_1, "instance_id": "i"}}, expect=200).json()["id"] == "3"


@pytest.mark.parametrize("mode", ["not_found", "refused"])
def test_ext_delete_default_provider_switch(emu, http, xtp, mode):
    assert emu.extensibility_mode(TENANT)["delete_default_provider"] == "not_found"
    emu.set_extensibility_mode(TENANT, delete_default_provider=mode)
    r = xcall(http, emu, xtp, "DELETE", "eventing/eventProvider/" + PROVIDER_DEFAULT,
              expect=404 if mode == "not_found" else 400)
    if mode == "refused":
        assert render(r.json()).startswith('The default event provider "%s" cannot be removed.' % PROVIDER_DEFAULT)
    assert len(providers_listed(http, emu, xtp)) == 2


@pytest.mark.parametrize("mask, label, rid", [("******", "without", "string"), ("****", "with", "integer")])
def test_ext_provider_switches(emu, http, xtp, mask, label, rid):
    defaults = emu.extensibility_mode(TENANT)
    assert (defaults["workspace_mask"], defaults["default_provider_label"], defaults["provider_record_id"]) == (
        "******", "without", "string")
    emu.set_extensibility_mode(TENANT, workspace_mask=mask, default_provider_label=label, provider_record_id=rid)
    emu.set_extensibility(TENANT, default_provider={"provider_id": PROVIDER_DEFAULT, "instance_id": "acme_prod",
                                                    "workspace_configuration": WS_CONFIG, "label": "Default"})
    default, other = providers_listed(http, emu, xtp)
    assert default["workspace_configuration"] == mask == other["workspace_configuration"]
    assert "id" not in default
    if label == "with":
        assert default["label"] == "Default" and default["description"] == ""
    else:
        assert "label" not in default and "description" not in default
    assert other["id"] == ("1" if rid == "string" else 1)
    # the masked value sent back keeps the stored one, whichever mask
    xcall(http, emu, xtp, "PUT", "eventing/eventProvider",
          {"eventProvider": {"id": 1, "workspace_configuration": mask}}, expect=200)
    assert emu.extensibility(TENANT)["providers"][1]["workspace_configuration"] == WS_CONFIG


def test_ext_update_configuration(emu, http, xt):
    def check():
        return xcall(http, emu, xt, "GET", "adobe_io_events/check_configuration", expect=200).json()

    assert check() == {"status": "error", "technical_service_account_configured": False,
                       "technical_service_account_can_connect_to_io_events": False, "provider_id_configured": "",
                       "provider_id_valid": False}
    for key, value in (("merchant_id", "acme-1"), ("environment_id", "stage 1"), ("instance_id", "a.b"),
                       ("provider_id", "p/1")):
        r = xcall(http, emu, xt, "PUT", "eventing/updateConfiguration", {"config": {key: value}}, expect=400)
        assert render(r.json()).startswith('The %s value "%s" is not valid.' % (key, value))
    xcall(http, emu, xt, "PUT", "eventing/updateConfiguration", {"config": {"enabled": "yes"}}, expect=400)
    xcall(http, emu, xt, "PUT", "eventing/updateConfiguration", {"cfg": {}}, expect=400)
    assert emu.extensibility(TENANT)["eventing_config"] == {} and emu.extensibility(TENANT)["providers"] == []
    assert xcall(http, emu, xt, "PUT", "eventing/updateConfiguration", {"config": {}}, expect=200).json() is True
    body = {"config": {"enabled": True, "merchant_id": "acme", "environment_id": "stage_1",
                       "provider_id": PROVIDER_DEFAULT, "instance_id": "acme-prod",
                       "workspace_configuration": WS_CONFIG}}
    assert xcall(http, emu, xt, "PUT", "eventing/updateConfiguration", body, expect=200).json() is True
    assert emu.extensibility(TENANT)["eventing_config"] == body["config"]
    assert providers_listed(http, emu, xt) == [
        {"provider_id": PROVIDER_DEFAULT, "instance_id": "acme-prod", "workspace_configuration": "******"}]
    assert check() == {"status": "ok", "technical_service_account_configured": True,
                       "technical_service_account_can_connect_to_io_events": True,
                       "provider_id_configured": PROVIDER_DEFAULT, "provider_id_valid": True}
    assert WS_CONFIG in emu.secrets_by_kind()["workspace_configurations"]
    # keys are optional; "*" keeps the workspace configuration
    xcall(http, emu, xt, "PUT", "eventing/updateConfiguration",
          {"config": {"instance_id": "acme_p2", "workspace_configuration": "******"}}, expect=200)
    assert emu.extensibility(TENANT)["providers"][0] == {
        "provider_id": PROVIDER_DEFAULT, "instance_id": "acme_p2", "workspace_configuration": WS_CONFIG,
        "default": True}
    assert emu.extensibility(TENANT)["eventing_config"]["merchant_id"] == "acme"
    for failing, flags in (("service_account_missing", (False, False, False)),
                           ("cannot_connect", (True, False, False)), ("provider_invalid", (True, True, False))):
        emu.set_extensibility_mode(TENANT, io_events_check=failing)
        got = check()
        assert got["status"] == "error" and got["provider_id_configured"] == PROVIDER_DEFAULT
        assert (got["technical_service_account_configured"], got["technical_service_account_can_connect_to_io_events"],
                got["provider_id_valid"]) == flags
    emu.set_extensibility_mode(TENANT, io_events_check="real")
    assert check()["status"] == "ok"


def test_ext_faults_request_log_counters(emu, http, xtp):
    emu.clear_requests()
    emu.reset_counters()
    calls = {
        "webhooks": ("GET", "webhooks/list"),
        "eventSubscriptions": ("GET", "eventing/getEventSubscriptions"),
        "eventProviders": ("GET", "eventing/eventProvider"),
        "eventingConfig": ("PUT", "eventing/updateConfiguration"),
        "ioEventsCheck": ("GET", "adobe_io_events/check_configuration"),
    }
    for key, (method, path) in calls.items():
        emu.add_fault("accs." + key, status=429, retry_after="3")
        r = xcall(http, emu, xtp, method, path, {"config": {}})
        assert r.status_code == 429 and r.headers["Retry-After"] == "3", key
        emu.add_fault("accs.%s.%s" % (TENANT, key), status=503, body="html")
        assert xcall(http, emu, xtp, method, path, {"config": {}}).status_code == 503
        emu.add_fault("accs." + key, drop=True)
        with pytest.raises(requests.exceptions.ConnectionError):
            xcall(http, emu, xtp, method, path, {"config": {}})
        assert xcall(http, emu, xtp, method, path, {"config": {}}).status_code == 200
        c = emu.counters()
        assert c["accs." + key] == 4 and c["accs.%s.%s" % (TENANT, key)] == 4
    # a faulted write (without process) changes nothing; with process it takes effect
    emu.add_fault("accs.webhooks", status=500)
    subscribe_hook(http, emu, xtp, hook(), expect=500)
    assert hooks_listed(http, emu, xtp) == []
    emu.add_fault("accs.webhooks", status=502, process=True)
    subscribe_hook(http, emu, xtp, hook(headers=[{"name": "x-key", "value": "hdr-value-EXT-LOG1"}],
                                        developer_console_oauth={"client_id": "c", "client_secret": "oauth-sec-EXT-LOG",
                                                                 "org_id": "o@AdobeOrg"}), expect=502)
    assert len(hooks_listed(http, emu, xtp)) == 1
    emu.add_fault("accs.eventProviders", drop=True, process=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        xcall(http, emu, xtp, "POST", "eventing/eventProvider",
              {"eventProvider": {"provider_id": "p-3", "instance_id": "i3",
                                 "workspace_configuration": WS_CONFIG + " "}})
    assert [p["provider_id"] for p in providers_listed(http, emu, xtp)][-1] == "p-3"
    emu.set_tenant("tenantB")
    emu.add_fault("accs.tenantB.webhooks", status=500)
    assert xcall(http, emu, xtp, "GET", "webhooks/list").status_code == 200
    assert xcall(http, emu, xtp, "GET", "webhooks/list", tenant="tenantB").status_code == 500
    # request log: identity of writes, never secret values
    emu.clear_requests()
    xcall(http, emu, xtp, "POST", "webhooks/unsubscribe", {"webhook": hook(
        webhook_method="plugin.magento.sales.api.order_management.place")}, expect=400)
    subscribe_event(http, emu, xtp, event())
    xcall(http, emu, xtp, "PUT", "eventing/eventSubscribe/" + event()["name"], {"event": {"name": "x"}}, expect=200)
    xcall(http, emu, xtp, "POST", "eventing/eventUnsubscribe/" + event()["name"], expect=200)
    xcall(http, emu, xtp, "PUT", "eventing/eventProvider", {"eventProvider": {"id": 1, "label": "L2"}}, expect=200)
    xcall(http, emu, xtp, "DELETE", "eventing/eventProvider/p-3", expect=200)
    xcall(http, emu, xtp, "PUT", "eventing/updateConfiguration",
          {"config": {"enabled": True, "workspace_configuration": WS_CONFIG}}, expect=200)
    recs = emu.requests(tenant=TENANT)
    got = [(r["endpoint"], r["method"], r["status"], r["ext_action"], r["ext_identity"], r["ext_applied"],
            r["client_id"]) for r in recs]
    assert got == [
        ("webhooks", "POST", 400, "unsubscribe", {"webhook_method": "plugin.sales.api.order_management.place",
                                                  "webhook_type": "after", "batch_name": "app1_cart",
                                                  "hook_name": "app1_validate"}, False, "cid-conf"),
        ("eventSubscriptions", "POST", 200, "subscribe", {"name": event()["name"]}, True, "cid-conf"),
        ("eventSubscriptions", "PUT", 200, "update", {"name": event()["name"]}, True, "cid-conf"),
        ("eventSubscriptions", "POST", 200, "unsubscribe", {"name": event()["name"]}, True, "cid-conf"),
        ("eventProviders", "PUT", 200, "update", {"provider_id": PROVIDER_1, "id": 1}, True, "cid-conf"),
        ("eventProviders", "DELETE", 200, "delete", {"provider_id": "p-3", "id": 2}, True, "cid-conf"),
        ("eventingConfig", "PUT", 200, "configure", {"keys": ["enabled", "workspace_configuration"]}, True, "cid-conf"),
    ]
    everything = json.dumps(emu.requests())
    for secret in ("hdr-value-EXT-LOG1", "oauth-sec-EXT-LOG", "ws-EXT-secret"):
        assert secret not in everything
    kinds = emu.secrets_by_kind()
    assert "hdr-value-EXT-LOG1" in kinds["webhook_header_values"] and "hdr-value-EXT-LOG1" in kinds["all"]
    assert "oauth-sec-EXT-LOG" in kinds["webhook_client_secrets"]
    assert WS_CONFIG + " " in kinds["workspace_configurations"] and WS_CONFIG in kinds["all"]


def test_ext_control(emu, http, xt):
    view = emu.set_extensibility(
        TENANT,
        webhooks=[hook(webhook_method="plugin.magento.sales.api.order_management.place",
                       developer_console_oauth={"client_id": "c", "client_secret": "oauth-secret-EXT-SEED",
                                                "org_id": "o@AdobeOrg"}),
                  hook(webhook_method="observer.not_in_supported_list")],
        subscriptions=[event(), event(name="app1.observer.customer_login", parent="observer.customer_login",
                                      enabled=False, provider_id="p-seeded")],
        providers=[{"provider_id": PROVIDER_1, "instance_id": "i1", "workspace_configuration": WS_CONFIG},
                   {"id": 7, "provider_id": "p-seeded", "instance_id": "i7"}],
        default_provider={"provider_id": PROVIDER_DEFAULT, "instance_id": "prod"})
    assert [h["webhook_method"] for h in view["webhooks"]] == ["plugin.sales.api.order_management.place",
                                                               "observer.not_in_supported_list"]
    assert view["webhooks"][0]["developer_console_oauth"]["client_secret"] == "oauth-secret-EXT-SEED"
    assert [(s["name"], s["enabled"]) for s in view["subscriptions"]] == [
        ("app1.observer.catalog_product_save_after", True), ("app1.observer.customer_login", False)]
    assert view["providers"] == [
        {"provider_id": PROVIDER_DEFAULT, "instance_id": "prod", "default": True},
        {"id": 1, "provider_id": PROVIDER_1, "instance_id": "i1", "label": "", "description": "",
         "workspace_configuration": WS_CONFIG, "default": False},
        {"id": 7, "provider_id": "p-seeded", "instance_id": "i7", "label": "", "description": "",
         "workspace_configuration": "", "default": False}]
    assert view["eventing_config"] == {} and emu.extensibility(TENANT) == view
    assert len(hooks_listed(http, emu, xt)) == 2 and len(subs_listed(http, emu, xt)) == 1
    assert [p.get("id") for p in providers_listed(http, emu, xt)] == [None, "1", "7"]
    assert xcall(http, emu, xt, "POST", "eventing/eventProvider", {"eventProvider": {"provider_id": "p9",
                 "instance_id": "i"}}, expect=200).json()["id"] == "8"
    assert "oauth-secret-EXT-SEED" in emu.secrets_by_kind()["webhook_client_secrets"]
    # only the parts given are replaced
    emu.set_extensibility(TENANT, webhooks=[])
    after = emu.extensibility(TENANT)
    assert after["webhooks"] == [] and len(after["subscriptions"]) == 2 and len(after["providers"]) == 4
    emu.set_extensibility(TENANT, default_provider={})
    assert len(emu.extensibility(TENANT)["providers"]) == 3
    for bad in ({"webhooks": [hook(hook_name="bad-name")]}, {"webhooks": [hook(), hook()]},
                {"webhooks": {}}, {"subscriptions": [event(name="a-b")]}, {"subscriptions": [event(enabled="no")]},
                {"subscriptions": [event(), event()]}, {"providers": [{"instance_id": "x"}]},
                {"providers": [{"provider_id": "a", "oops": 1}]}, {"default_provider": {"x": "y"}}):
        with pytest.raises(EmulatorError):
            emu.set_extensibility(TENANT, **bad)
    with pytest.raises(EmulatorError):
        emu._call("POST", "/tenants/%s/extensibility" % TENANT, {"hooks": []})
    with pytest.raises(EmulatorError):
        emu.extensibility("nope")
    # switches: defaults, validation, set_tenant, reset
    assert emu.extensibility_mode(TENANT) == {
        "webhook_defaults": "omit", "exists_message": "paas", "webhook_write_answer": "empty_list",
        "unsubscribe_missing": 400, "parent_echo": "absent", "provider_id_echo": "real",
        "default_provider_label": "without", "workspace_mask": "******", "provider_record_id": "string",
        "delete_default_provider": "not_found", "force_overwrites": False, "half_subscribe": False,
        "io_events_check": "real"}
    for bad in ({"parent_echo": "x"}, {"unsubscribe_missing": "404"}, {"no_such": 1}, {"force_overwrites": 1},
                {"half_subscribe": -1}, {"unsubscribe_missing": True}):
        with pytest.raises(EmulatorError):
            emu.set_extensibility_mode(TENANT, **bad)
    assert emu.set_extensibility_mode(TENANT, parent_echo="name", exists_message=None)["parent_echo"] == "name"
    t = emu.set_tenant("tenantB", extensibility_mode={"workspace_mask": "****"})
    assert t["extensibility_mode"]["workspace_mask"] == "****"
    assert emu.extensibility_mode("tenantB")["parent_echo"] == "absent"
    with pytest.raises(EmulatorError):
        emu.set_tenant("tenantC", extensibility_mode={"workspace_mask": "*"})
    emu.set_tenant(TENANT)  # a re-created tenant starts empty
    assert emu.extensibility(TENANT) == {"webhooks": [], "subscriptions": [], "providers": [],
                                         "eventing_config": {}}
    emu.reset()
    with pytest.raises(EmulatorError):
        emu.extensibility(TENANT)
    assert emu.secrets_by_kind()["webhook_client_secrets"] == []


def test_ext_answers_validate_against_openapi(emu, http, xtp, openapi):
    """Answers validate against the OAS types.  Known differences: OAS marks every property
    required (a Magento convention) while Commerce echoes only what is set, so "required" is
    dropped before validating (then checked apart: never a property the OAS does not know);
    the OAS types a provider's id as integer, the docs and the SDK as a string
    (provider_record_id switch); error parameters as in test_answers_validate_against_openapi."""
    import copy as _copy

    relaxed = _copy.deepcopy(openapi)
    for d in relaxed["definitions"].values():
        d.pop("required", None)
    emu.set_extensibility_mode(TENANT, webhook_defaults="xml_defaults", parent_echo="empty",
                               provider_record_id="integer", default_provider_label="with")
    subscribe_hook(http, emu, xtp, hook(fields=[{"name": "sku"}],
                                        rules=[{"field": "a", "operator": "in", "value": "1"}],
                                        headers=[{"name": "h", "value": "hdr-value-EXT-OAS1"}],
                                        developer_console_oauth={"client_id": "c", "client_secret": "oauth-sec-OAS-1",
                                                                 "org_id": "o"}))
    subscribe_event(http, emu, xtp, event(fields=[{"name": "sku"}, {"name": "a", "source": "b"}],
                                          rules=[{"field": "a", "operator": "onChange"}]))
    subscribe_event(http, emu, xtp, event(name="observer.customer_login", parent=None))
    answers = {
        ("/V1/webhooks/list", "get"): hooks_listed(http, emu, xtp),
        ("/V1/webhooks/supportedList", "get"): xcall(http, emu, xtp, "GET", "webhooks/supportedList").json(),
        ("/V1/eventing/getEventSubscriptions", "get"): subs_listed(http, emu, xtp),
        ("/V1/eventing/supportedList", "get"): xcall(http, emu, xtp, "GET", "eventing/supportedList").json(),
        ("/V1/eventing/eventProvider", "get"): providers_listed(http, emu, xtp),
        ("/V1/eventing/getEventProviders", "get"): xcall(http, emu, xtp, "GET", "eventing/getEventProviders").json(),
        ("/V1/eventing/eventProvider/{providerId}", "get"):
            xcall(http, emu, xtp, "GET", "eventing/eventProvider/" + PROVIDER_1).json(),
        ("/V1/eventing/eventProvider", "post"): xcall(http, emu, xtp, "POST", "eventing/eventProvider", {
            "eventProvider": {"provider_id": "p-oas", "instance_id": "i"}}, expect=200).json(),
        ("/V1/eventing/eventProvider", "put"): xcall(http, emu, xtp, "PUT", "eventing/eventProvider", {
            "eventProvider": {"id": 1, "label": "x"}}, expect=200).json(),
        ("/V1/eventing/eventProvider/{providerId}", "delete"):
            xcall(http, emu, xtp, "DELETE", "eventing/eventProvider/p-oas", expect=200).json(),
        ("/V1/eventing/updateConfiguration", "put"):
            xcall(http, emu, xtp, "PUT", "eventing/updateConfiguration", {"config": {}}, expect=200).json(),
        ("/V1/adobe_io_events/check_configuration", "get"):
            xcall(http, emu, xtp, "GET", "adobe_io_events/check_configuration").json(),
    }
    for (path, method), answer in answers.items():
        schema = _response_schema(openapi, path, method)
        _validator(relaxed, schema).validate(answer)
        items = answer if isinstance(answer, list) else [answer]
        if "$ref" in json.dumps(schema):
            ref = json.dumps(schema).split("#/definitions/")[1].split('"')[0]
            known = set(openapi["definitions"][ref]["properties"])
            for item in items:
                assert set(item) <= known, (path, set(item) - known)
    check = answers[("/V1/adobe_io_events/check_configuration", "get")]
    _validator(openapi, _response_schema(openapi, "/V1/adobe_io_events/check_configuration")).validate(check)
    # with every scalar filled (xml_defaults), a webhook validates even with OAS's "required"
    wh = answers[("/V1/webhooks/list", "get")]
    _validator(openapi, _response_schema(openapi, "/V1/webhooks/list")).validate(
        [dict(h, fields=[dict(f, source=f.get("source", "")) for f in h["fields"]]) for h in wh])
    # the void writes have no 200 schema in the OAS; errors validate as the other endpoints' do
    for path in ("/V1/webhooks/subscribe", "/V1/eventing/eventSubscribe"):
        assert "200" not in openapi["paths"][path]["post"]["responses"]
    err = subscribe_hook(http, emu, xtp, hook(), expect=400)
    err_schema = _response_schema(openapi, "/V1/webhooks/subscribe", "post", "400")
    _validator(openapi, err_schema, commerce_parameters=True).validate(err)
    _validator(openapi, err_schema, commerce_parameters=True).validate(subscribe_event(http, emu, xtp, event(),
                                                                                       expect=400))
    # string ids (the default) are the known difference from the OAS integer
    import jsonschema

    emu.set_extensibility_mode(TENANT, provider_record_id="string")
    with pytest.raises(jsonschema.ValidationError):
        _validator(relaxed, _response_schema(openapi, "/V1/eventing/eventProvider")).validate(
            providers_listed(http, emu, xtp))


# ------------------------------------------------------------------------------------------
# Kubernetes TokenReview (what Vault's kubernetes auth method calls)

TOKENREVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"


def token_review(http, emu, token, reviewer=None, audiences=None):
    spec = {"token": token}
    if audiences is not None:
        spec["audiences"] = audiences
    headers = {"Authorization": "Bearer " + reviewer} if reviewer else {}
    return http.post(emu.url + TOKENREVIEWS, json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                                                   "spec": spec}, headers=headers)


def jwt_claims(token):
    import base64

    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_tokenreview_answers_who_a_service_account_token_belongs_to(emu, http):
    reviewer = emu.add_service_account("openbao", "openbao-auth", reviewer=True)
    pod = emu.add_service_account("awx", "awx-ee", audiences=["https://kubernetes.default.svc.cluster.local", "vault"])
    claims = jwt_claims(pod["token"])
    assert claims["sub"] == "system:serviceaccount:awx:awx-ee" == pod["username"]
    assert claims["kubernetes.io"]["serviceaccount"] == {"name": "awx-ee", "uid": pod["uid"]}
    assert claims["kubernetes.io"]["namespace"] == "awx"
    resp = token_review(http, emu, pod["token"], reviewer=reviewer["token"], audiences=["vault", "other"])
    assert resp.status_code == 201
    body = resp.json()
    assert (body["kind"], body["apiVersion"]) == ("TokenReview", "authentication.k8s.io/v1")
    assert body["status"] == {
        "authenticated": True,
        "user": {"username": "system:serviceaccount:awx:awx-ee", "uid": pod["uid"],
                 "groups": ["system:serviceaccounts", "system:serviceaccounts:awx", "system:authenticated"]},
        "audiences": ["vault"],
    }
    # no audiences asked: the API server's own
    assert token_review(http, emu, pod["token"], reviewer=reviewer["token"]).json()["status"]["audiences"] == [
        "https://kubernetes.default.svc.cluster.local"]
    [record] = emu.token_reviews()[:1]
    assert record["reviewer"] == "system:serviceaccount:openbao:openbao-auth"
    assert record["reviewed"] == {"namespace": "awx", "name": "awx-ee", "uid": pod["uid"]}
    assert record["authenticated"] is True and record["status"] == 201
    recorded = json.dumps(emu.requests())
    assert pod["token"] not in recorded and reviewer["token"] not in recorded
    assert {pod["token"], reviewer["token"]} <= set(emu.secrets_by_kind()["service_account_tokens"])


def test_tokenreview_refuses_a_caller_without_a_valid_reviewer_token(emu, http):
    pod = emu.add_service_account("awx", "awx-ee")
    for reviewer in (None, "not-a-token"):
        resp = token_review(http, emu, pod["token"], reviewer=reviewer)
        assert resp.status_code == 401
        assert resp.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                               "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
    # a valid service account that is not bound to system:auth-delegator
    resp = token_review(http, emu, pod["token"], reviewer=pod["token"])
    assert resp.status_code == 403
    assert resp.json()["reason"] == "Forbidden"
    assert 'User "system:serviceaccount:awx:awx-ee" cannot create resource "tokenreviews"' in resp.json()["message"]
    assert [r["status"] for r in emu.token_reviews()] == [401, 401, 403]


def test_tokenreview_reports_unknown_deleted_and_wrong_audience_tokens_unauthenticated(emu, http):
    reviewer = emu.add_service_account("openbao", "openbao-auth", reviewer=True)["token"]
    pod = emu.add_service_account("awx", "awx-ee")
    wrong_audience = token_review(http, emu, pod["token"], reviewer=reviewer, audiences=["vault"])
    assert wrong_audience.status_code == 201
    assert "authenticated" not in wrong_audience.json()["status"]
    assert "invalid for the target audiences" in wrong_audience.json()["status"]["error"]
    assert emu.delete_service_account("awx", "awx-ee") == 1
    for token in (pod["token"], "eyJ.unknown.token"):
        status = token_review(http, emu, token, reviewer=reviewer).json()["status"]
        assert status == {"user": {}, "error": "[invalid bearer token, service account token is not valid]"}
    assert token_review(http, emu, pod["token"], reviewer=reviewer).status_code == 201
    bad = http.post(emu.url + TOKENREVIEWS, data="{}", headers={"Authorization": "Bearer " + reviewer,
                                                                "Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["reason"] == "BadRequest"
    assert [r["authenticated"] for r in emu.token_reviews()] == [False, False, False, False, None]
    # a registered (not minted) token works the same
    given = emu.add_service_account("ops", "runner", token="given-sa-token-0123456789", uid="uid-1")
    assert given["token"] == "given-sa-token-0123456789"
    status = token_review(http, emu, given["token"], reviewer=reviewer).json()["status"]
    assert status["user"]["username"] == "system:serviceaccount:ops:runner" and status["user"]["uid"] == "uid-1"
