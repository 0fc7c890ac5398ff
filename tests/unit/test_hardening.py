"""Issue 13's defects that show without a server: what requests would send, messages, names."""

from __future__ import annotations

import pytest
import requests

from ansible_collections.adobe_commerce.accs.plugins.module_utils._http import HttpClient
from ansible_collections.adobe_commerce.accs.plugins.module_utils._vault import VaultSettings, VaultStore, _CLIENTS


# --------------------------------------------------------------------------- defect 1: .netrc
@pytest.fixture
def netrc_everywhere(tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine vault.test login netrc-user password netrc-password\n"
                     "default login netrc-default password netrc-password\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    monkeypatch.setenv("NO_PROXY", "noproxy.test")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "bundle.pem"))
    return netrc


def _sent(session, url, headers):
    """The request ``session`` would send, and the environment settings it would send it with."""
    prepared = session.prepare_request(requests.Request("GET", url, headers=headers))
    settings = session.merge_environment_settings(url, {}, None, True, None)
    return prepared, settings


def test_http_session_ignores_netrc_but_keeps_proxy_and_ca_bundle(netrc_everywhere, tmp_path):
    session = HttpClient().session
    prepared, settings = _sent(session, "https://ims.test/ims/token/v3", {"Authorization": "Basic b3VyczpvdXJz"})
    assert prepared.headers["Authorization"] == "Basic b3VyczpvdXJz"
    prepared, _settings = _sent(session, "https://vault.test/x", {})
    assert "Authorization" not in prepared.headers
    assert settings["proxies"].get("https") == "http://proxy.test:3128"
    assert settings["verify"] == str(tmp_path / "bundle.pem")


def test_vault_session_ignores_netrc_but_keeps_proxy_and_ca_bundle(netrc_everywhere, tmp_path):
    _CLIENTS.clear()
    store = VaultStore(VaultSettings(vault_url="https://vault.test:8200", vault_token="hvs.unit-test-token"))
    session = store._client().adapter.session
    _CLIENTS.clear()
    prepared, settings = _sent(session, "https://vault.test:8200/v1/secret/data/x", {"X-Vault-Token": "t"})
    assert "Authorization" not in prepared.headers
    assert settings["proxies"].get("https") == "http://proxy.test:3128"
    assert settings["verify"] == str(tmp_path / "bundle.pem")


# --------------------------------------------------------------------------- defect 7: scrubbed tracebacks
def test_scrubbed_traceback_masks_no_log_values_and_token_like_strings():
    from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import scrubbed_traceback

    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
    try:
        raise KeyError("refresh %s for client sec-ret-value with at-8f2b1c9d0e3a4f5b6c7d8e9f0a1b2c3d" % token)
    except KeyError:
        text = scrubbed_traceback({"sec-ret-value"})
    assert text.startswith("Traceback (most recent call last)") and "KeyError" in text
    assert "test_scrubbed_traceback_masks_no_log_values_and_token_like_strings" in text  # names stay readable
    for secret in ("sec-ret-value", "at-8f2b1c9d0e3a4f5b6c7d8e9f0a1b2c3d", "eyJhbGciOiJSUzI1NiJ9",
                   "eyJzdWIiOiIxMjM0NTY3ODkwIn0", "c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"):
        assert secret not in text
