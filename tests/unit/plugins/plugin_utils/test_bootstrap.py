"""Unit tests of plugins/plugin_utils/_bootstrap.py: authorize URL, redirect parsing, loopback listener, sessions."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import stat
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._bootstrap import (
    STATE_MISMATCH,
    Authorization,
    AuthorizationDeniedError,
    BootstrapError,
    CallbackListener,
    NotARedirectError,
    SessionStore,
    StateMismatchError,
    bootstrap_scopes,
    parse_callback,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import ConfigError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import BOOTSTRAP_SPEC

IMS = "https://ims.example.test"
REDIRECT = "http://127.0.0.1:8765/callback"


def _query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode("ascii").rstrip("=")


# ---------------------------------------------------------------------------------------- scopes / URL

def test_scopes_default_and_offline_access_added():
    assert bootstrap_scopes(None) == ["AdobeID", "openid", "offline_access", "additional_info.roles", "commerce.accs"]
    assert bootstrap_scopes("openid, commerce.accs") == ["openid", "commerce.accs", "offline_access"]
    assert bootstrap_scopes(["openid", "offline_access"]) == ["openid", "offline_access"]


def test_authorize_url_has_state_pkce_s256_and_offline_access():
    auth = Authorization(IMS, "my-client", "openid,commerce.accs", REDIRECT)
    url = auth.url
    assert url.startswith(IMS + "/ims/authorize/v2?")
    query = _query(url)
    assert query["client_id"] == "my-client"
    assert query["redirect_uri"] == REDIRECT
    assert query["response_type"] == "code"
    assert "offline_access" in query["scope"].split(",")
    assert query["state"] == auth.state and len(auth.state) >= 40
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == _s256(auth.code_verifier)
    assert 43 <= len(auth.code_verifier) <= 128
    assert auth.code_verifier not in url
    other = Authorization(IMS, "my-client", None, REDIRECT)
    assert other.state != auth.state and other.code_verifier != auth.code_verifier


def test_authorize_refuses_plain_http_ims_and_empty_client():
    with pytest.raises(ConfigError, match="plain http"):
        Authorization("http://ims.example.test", "c", None, REDIRECT)
    with pytest.raises(ConfigError, match="client_id"):
        Authorization(IMS, " ", None, REDIRECT)


# ---------------------------------------------------------------------------------------- parse_callback

@pytest.mark.parametrize("text", [
    REDIRECT + "?code=the-code&state=S1",
    "  " + REDIRECT + "?state=S1&code=the-code\n",
    "'" + REDIRECT + "?code=the-code&state=S1'",
    "?code=the-code&state=S1",
    "code=the-code&state=S1",
])
def test_parse_callback_reads_code(text):
    assert parse_callback(text, "S1") == "the-code"


@pytest.mark.parametrize("text", [
    REDIRECT + "?code=the-code&state=S2",
    REDIRECT + "?code=the-code",
    REDIRECT + "?code=the-code&state=",
    REDIRECT + "?error=access_denied&state=forged",
])
def test_parse_callback_refuses_wrong_or_missing_state(text):
    with pytest.raises(StateMismatchError) as caught:
        parse_callback(text, "S1")
    assert caught.value.message == STATE_MISMATCH
    assert "did not match" in caught.value.message and "forgery" in caught.value.message
    assert "the-code" not in caught.value.message


def test_parse_callback_reports_ims_error():
    text = REDIRECT + "?" + urlencode({"error": "access_denied", "error_description": "The user  denied\nconsent",
                                       "state": "S1"})
    with pytest.raises(AuthorizationDeniedError) as caught:
        parse_callback(text, "S1")
    assert "access_denied: The user denied consent" in caught.value.message
    assert caught.value.message.endswith("start the bootstrap again.")
    assert caught.value.details["error"] == "access_denied"


@pytest.mark.parametrize("text", ["", "hello", REDIRECT, REDIRECT + "?state=S1", "https://example.test/?foo=bar"])
def test_parse_callback_not_a_redirect(text):
    with pytest.raises(NotARedirectError, match="whole address"):
        parse_callback(text, "S1")


def test_parse_callback_refuses_repeated_parameters():
    with pytest.raises(NotARedirectError, match="more than once"):
        parse_callback("code=a&code=b&state=S1", "S1")


# ---------------------------------------------------------------------------------------- listener

def _get(listener, path):
    return requests.get("http://127.0.0.1:%d%s" % (listener.port, path), timeout=5)


def test_listener_returns_code_and_answers_the_browser(capfd):
    with CallbackListener("S1", port=0) as listener:
        assert listener.redirect_uri == "http://127.0.0.1:%d/callback" % listener.port
        assert _get(listener, "/favicon.ico").status_code == 404
        probe = _get(listener, "/callback")
        assert probe.status_code == 400 and "Not an authorization response" in probe.text
        assert requests.post(listener.redirect_uri + "?code=c&state=S1", timeout=5).status_code == 405
        page = _get(listener, "/callback?code=secret-code-123&state=S1")
        assert page.status_code == 200
        assert "You can close this tab" in page.text
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert "secret-code-123" not in page.text and "S1" not in page.text
        assert listener.wait(5) == "secret-code-123"
        late = _get(listener, "/callback?code=other&state=S1")
        assert late.status_code == 410
        assert listener.wait(1) == "secret-code-123"
    out, err = capfd.readouterr()
    assert "secret-code-123" not in out + err  # http.server logs request lines: ours must not


def test_listener_refuses_forged_state():
    with CallbackListener("S1", port=0) as listener:
        page = _get(listener, "/callback?code=attacker-code&state=forged")
        assert page.status_code == 400
        assert "state did not match" in page.text
        with pytest.raises(StateMismatchError) as caught:
            listener.wait(5)
    assert caught.value.message == STATE_MISMATCH


def test_listener_reports_ims_error():
    with CallbackListener("S1", port=0) as listener:
        page = _get(listener, "/callback?error=invalid_scope&error_description=bad+scope&state=S1")
        assert page.status_code == 400 and "invalid_scope" in page.text
        with pytest.raises(AuthorizationDeniedError, match=r"invalid_scope: bad scope"):
            listener.wait(5)


def test_listener_times_out_with_advice():
    with CallbackListener("S1", port=0) as listener:
        started = time.monotonic()
        with pytest.raises(BootstrapError) as caught:
            listener.wait(1)
        assert time.monotonic() - started < 3
    message = caught.value.message
    assert message.startswith("No browser redirect reached %s within 1 s" % listener.redirect_uri)
    assert "accs_bootstrap_mode paste" in message


def test_listener_port_in_use():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(BootstrapError) as caught:
            CallbackListener("S1", port=port)
    assert "127.0.0.1:%d (the port is in use)" % port in caught.value.message
    assert "accs_redirect_port" in caught.value.message


def test_listener_serves_a_stalled_connection_and_the_browser():
    """A browser pre-connect that sends nothing must not block the real redirect."""
    with CallbackListener("S1", port=0) as listener:
        stalled = socket.create_connection(("127.0.0.1", listener.port))
        try:
            page = _get(listener, "/callback?code=c0de&state=S1")
            assert page.status_code == 200
            assert listener.wait(2) == "c0de"
        finally:
            stalled.close()


def test_listener_refuses_bad_port():
    with pytest.raises(ConfigError, match="redirect_port"):
        CallbackListener("S1", port=70000)


# ---------------------------------------------------------------------------------------- sessions

def _auth():
    return Authorization(IMS, "my-client", None, REDIRECT)


def test_session_roundtrip_is_private_and_single_use(tmp_path):
    store = SessionStore(str(tmp_path / "sessions"))
    auth = _auth()
    session = store.save(auth, 300, "accs/prod", "secret")
    path = store.file_for(session)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.directory).st_mode) == 0o700
    assert auth.state not in session and auth.code_verifier not in session
    record = store.take(session)
    assert record["state"] == auth.state and record["code_verifier"] == auth.code_verifier
    assert record["client_id"] == "my-client" and record["redirect_uri"] == REDIRECT
    assert record["vault_path"] == "accs/prod"
    assert not os.path.exists(path)
    with pytest.raises(ConfigError, match="No pending bootstrap session"):
        store.take(session)


def test_session_expired_is_refused_and_removed(tmp_path):
    now = [1000.0]
    store = SessionStore(str(tmp_path), clock=lambda: now[0])
    session = store.save(_auth(), 60, "accs/prod", "secret")
    now[0] += 61
    with pytest.raises(BootstrapError, match="expired"):
        store.take(session)
    assert not os.path.exists(store.file_for(session))


def test_session_purge_keeps_live_sessions(tmp_path):
    now = [1000.0]
    store = SessionStore(str(tmp_path), clock=lambda: now[0])
    old = store.save(_auth(), 10, "a", "secret")
    now[0] += 20
    live = store.save(_auth(), 300, "b", "secret")  # saving purges the expired one
    assert not os.path.exists(store.file_for(old))
    assert os.path.exists(store.file_for(live))
    with open(os.path.join(store.directory, "unrelated.txt"), "w") as handle:
        handle.write("x")
    assert store.purge_expired() == 0
    assert os.path.exists(os.path.join(store.directory, "unrelated.txt"))


@pytest.mark.parametrize("handle", ["../../etc/passwd", "short", "a" * 23 + "/", None])
def test_session_handle_is_validated(tmp_path, handle):
    with pytest.raises(ConfigError, match="malformed"):
        SessionStore(str(tmp_path)).take(handle)


def test_session_unreadable_file(tmp_path):
    store = SessionStore(str(tmp_path))
    session = store.save(_auth(), 300, "a", "secret")
    with open(store.file_for(session), "w") as handle:
        handle.write("{not json")
    with pytest.raises(ConfigError, match="unreadable"):
        store.take(session)
    assert not os.path.exists(store.file_for(session))


def test_spec_marks_secrets_no_log():
    assert BOOTSTRAP_SPEC["redirect_url"]["no_log"] is True
    assert BOOTSTRAP_SPEC["client_secret"]["no_log"] is True
    assert BOOTSTRAP_SPEC["vault_token"]["no_log"] is True


# ---------------------------------------------------------------------------------------- engine gap


class _FakeStore:
    """The VaultStore interface the token manager uses, in memory."""

    def __init__(self, document):
        from types import SimpleNamespace

        self.document, self.version, self.refuse_writes = dict(document), 1, False
        self.mount = "secret"
        self.settings = SimpleNamespace(url="http://vault.test:8200")

    def identity(self):
        return ("fake-store", id(self))

    def describe(self, path):
        return "'secret/%s' in Vault at http://vault.test:8200" % path

    def read(self, path):
        return dict(self.document), self.version

    def write(self, path, document, cas):
        from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import VaultAccessError

        if self.refuse_writes:
            raise VaultAccessError("Vault denied the write of %s (permission denied)." % self.describe(path))
        assert cas == self.version
        self.document, self.version = dict(document), self.version + 1
        return self.version


class _FakeIms:
    """Single-use refresh tokens, like IMS."""

    def __init__(self):
        self.valid, self.refreshed_with, self.issued = set(), [], 0

    def _issue(self):
        from ansible_collections.adobe_commerce.accs.plugins.module_utils._ims import TokenResponse

        self.issued += 1
        token = "rt-issued-%d-%s" % (self.issued, "x" * 12)
        self.valid.add(token)
        return TokenResponse("at-%d-%s" % (self.issued, "y" * 12), "bearer", 86399, token)

    def authorization_code(self, client_id, client_secrets, code, code_verifier=None, redirect_uri=None):
        return self._issue()

    def refresh(self, client_id, client_secrets, refresh_token):
        from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import InvalidGrantError

        self.refreshed_with.append(refresh_token)
        if refresh_token not in self.valid:
            raise InvalidGrantError("IMS refused the refresh token.", error="invalid_grant", status=400)
        self.valid.discard(refresh_token)
        return self._issue()


def test_refresh_token_of_a_failed_bootstrap_write_is_recovered_by_the_next_run(tmp_path):
    from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import VaultError
    from ansible_collections.adobe_commerce.accs.plugins.module_utils import _token_manager as tm
    from ansible_collections.adobe_commerce.accs.plugins.module_utils._token_manager import (
        TokenManager,
        TokenRequest,
    )

    tm._DOCUMENTS.clear()
    store = _FakeStore({"client_id": "cid", "client_secret": "sec-0123456789", "refresh_token": "rt-expired-old-one"})
    ims = _FakeIms()
    manager = TokenManager(ims, store, recovery_dir=str(tmp_path), sleep=lambda _s: None, rotation_wait=0)
    store.refuse_writes = True
    with pytest.raises(VaultError, match="saved in"):
        manager.token(TokenRequest(grant_type="authorization_code", code="code-123", code_verifier="v" * 43,
                                   vault_path="accs/prod"))
    bootstrapped = next(iter(ims.valid))

    # Vault accepts writes again: the next scheduled run must store the recovered refresh token.
    tm._DOCUMENTS.clear()
    store.refuse_writes = False
    TokenManager(ims, store, recovery_dir=str(tmp_path), sleep=lambda _s: None, rotation_wait=0).token(
        TokenRequest(vault_path="accs/prod", force_refresh=True))
    assert ims.refreshed_with[-1] == bootstrapped
    assert store.document["refresh_token"] in ims.valid
