"""Issue 13's defects that show without a server: what requests would send, messages, names."""

from __future__ import annotations

import pytest
import requests

from ansible_collections.adobe_commerce.accs.plugins.module_utils._http import HttpClient
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import VaultOptions
from ansible_collections.adobe_commerce.accs.plugins.module_utils._vault import VaultStore, _CLIENTS


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
    store = VaultStore(VaultOptions.from_params(
        {"vault_url": "https://vault.test:8200", "vault_token": "hvs.unit-test-token"}.get))
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
    text = None
    try:
        raise KeyError("refresh %s for client sec-ret-value with at-8f2b1c9d0e3a4f5b6c7d8e9f0a1b2c3d" % token)
    except KeyError:
        text = scrubbed_traceback({"sec-ret-value"})
    assert text.startswith("Traceback (most recent call last)") and "KeyError" in text
    assert "test_scrubbed_traceback_masks_no_log_values_and_token_like_strings" in text  # names stay readable
    for secret in ("sec-ret-value", "at-8f2b1c9d0e3a4f5b6c7d8e9f0a1b2c3d", "eyJhbGciOiJSUzI1NiJ9",
                   "eyJzdWIiOiIxMjM0NTY3ODkwIn0", "c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"):
        assert secret not in text


# --------------------------------------------------------------------------- defect 10
def test_user_agent_version_is_galaxy_yml_version():
    """The User-Agent's version is kept in one constant, checked here against galaxy.yml (the release's version)."""
    import pathlib

    import yaml

    from ansible_collections.adobe_commerce.accs.plugins.module_utils import _http

    root = pathlib.Path(__file__).resolve().parents[3]
    version = yaml.safe_load((root / "galaxy.yml").read_text(encoding="utf-8"))["version"]
    assert _http.USER_AGENT == "adobe_commerce.accs/%s" % version
    # no second copy of the version anywhere in the plugins
    copies = [str(path.relative_to(root)) for path in (root / "plugins").rglob("*.py")
              if '"%s"' % version in path.read_text(encoding="utf-8") or "/%s\"" % version in path.read_text(encoding="utf-8")]
    assert copies == ["plugins/module_utils/_http.py"]


@pytest.mark.parametrize("spec_name", ["IMS_TOKEN_SPEC", "ACCS_REST_SPEC", "BOOTSTRAP_SPEC"])
def test_no_log_values_from_the_public_spec_match_what_ansible_core_hides(spec_name, monkeypatch):
    """The action plugins take the no_log values from the spec and the validated parameters (public API);
    pinned per ansible-core release against the validator's own (private) set."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    from ansible_collections.adobe_commerce.accs.plugins.module_utils import _options
    from ansible_collections.adobe_commerce.accs.plugins.plugin_utils import _bootstrap
    from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._engine_action import no_log_values

    spec = getattr(_options, spec_name, None) or getattr(_bootstrap, spec_name)
    given = {name: "given-%s-value" % name for name, option in spec.items()
             if option.get("no_log") and option.get("type", "str") == "str"}
    given.pop("vault_token", None)
    required = {name: "required-value" for name, option in spec.items() if option.get("required")}
    monkeypatch.setenv("VAULT_TOKEN", "from-the-environment-token")  # a fallback value is hidden too
    result = ArgumentSpecValidator(spec).validate(dict(given, **required))
    assert not result.error_messages
    expected = result._no_log_values
    assert "from-the-environment-token" in expected and all(v in expected for v in given.values())
    assert no_log_values(spec, result.validated_parameters) == expected


def test_no_log_values_include_no_log_suboptions_as_ansible_core_does(monkeypatch):
    """A no_log suboption (a provider's workspace configuration, in a list of dicts) is hidden too: accs_audit
    validates the declarations it is given against the modules' specs and hides what they would."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import EVENT_PROVIDER_SPEC
    from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._engine_action import no_log_values

    monkeypatch.setenv("VAULT_TOKEN", "from-the-environment-token")
    given = {"base_url": "https://accs.example", "vault_path": "accs/prod",
             "providers": [{"provider_id": "p1", "workspace_configuration": "nested-workspace-secret"},
                           {"provider_id": "p2", "label": "shown"}]}
    result = ArgumentSpecValidator(EVENT_PROVIDER_SPEC).validate(given)
    assert not result.error_messages
    hidden = no_log_values(EVENT_PROVIDER_SPEC, result.validated_parameters)
    assert "nested-workspace-secret" in hidden and "shown" not in hidden
    assert hidden == result._no_log_values
