"""The Vault authenticator registry, each method's checks of its inputs, the token file, and
VAULT_SKIP_VERIFY as the negation of vault_validate_certs (through ansible-core's own argument
spec validation, as modules and action plugins run it)."""

from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.adobe_commerce.accs.plugins.module_utils import _vault, _vault_auth
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import ConfigError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import VAULT_SPEC, VaultOptions

VAULT = "https://vault.test:8200"


def options(**given):
    values = dict(vault_url=VAULT, vault_path="accs/prod")
    values.update(given)
    return VaultOptions.from_params(values.get)


def refusal(message):
    with pytest.raises(ConfigError) as caught:
        _vault.validated(options(**message))
    return caught.value.message


def test_every_choice_of_vault_auth_method_has_one_registered_authenticator():
    assert _vault_auth.registered() and sorted(_vault_auth.registered()) == sorted(VAULT_SPEC["vault_auth_method"]["choices"])
    assert len(_vault.AUTH_METHOD_MODULES) == len(_vault_auth.registered())
    assert {m.__name__.rsplit("_", 1)[-1] for m in _vault.AUTH_METHOD_MODULES} == set(_vault_auth.registered())
    for name in _vault_auth.registered():
        method = _vault_auth.authenticator(options(vault_auth_method=name))
        assert method.NAME == name
        # the auth mount defaults to the method's name, vault_auth_mount overrides it
        assert method.mount == ("" if name == "token" else name)
        assert _vault_auth.authenticator(options(vault_auth_method=name, vault_auth_mount="/ops/%s/" % name)).mount \
            == "ops/%s" % name


def test_an_unknown_method_and_a_second_registration_are_refused():
    with pytest.raises(ConfigError, match="^Option vault_auth_method must be one of approle, cert, jwt, kubernetes, token, userpass.$"):
        _vault_auth.authenticator(options(vault_auth_method="ldap"))
    with pytest.raises(ValueError):
        _vault_auth.register(type("Again", (_vault_auth.VaultAuthenticator,), {"NAME": "token"}))


@pytest.mark.parametrize("given,expected", [
    (dict(vault_auth_method="approle", vault_role_id="r"),
     "vault_auth_method approle needs vault_role_id and vault_secret_id: set both (or VAULT_ROLE_ID and VAULT_SECRET_ID)."),
    (dict(vault_auth_method="jwt", vault_jwt="j"),
     "vault_auth_method jwt needs vault_role and vault_jwt (the pipeline's OIDC token): set both."),
    (dict(vault_auth_method="userpass", vault_username="ops"),
     "The userpass login to Vault needs vault_username and vault_password: set both (or VAULT_USERNAME and "
     "VAULT_PASSWORD)."),
    (dict(vault_auth_method="kubernetes"),
     "The kubernetes login to Vault needs vault_kubernetes_role (or VAULT_KUBERNETES_ROLE): set the Vault role bound "
     "to the pod's service account."),
    (dict(vault_auth_method="kubernetes", vault_kubernetes_role="accs", vault_kubernetes_token_path="/nonexistent/token"),
     "The kubernetes login to Vault reads the service account token from /nonexistent/token "
     "(vault_kubernetes_token_path), which is not a file: fix vault_kubernetes_token_path or create the file."),
    (dict(vault_auth_method="cert"),
     "The cert login to Vault needs vault_client_cert (or VAULT_CLIENT_CERT), the PEM client certificate, and "
     "vault_client_key (or VAULT_CLIENT_KEY) unless its key is in that file."),
    (dict(vault_auth_method="cert", vault_client_cert="/nonexistent/client.pem"),
     "The cert login to Vault reads the client certificate from /nonexistent/client.pem (vault_client_cert), which is "
     "not a file: fix vault_client_cert or create the file."),
    (dict(vault_auth_method="cert", vault_url="http://127.0.0.1:8200", vault_client_cert="/etc/hostname"),
     "The cert login to Vault needs an https vault_url: the client certificate is only presented in a TLS handshake."),
])
def test_each_method_refuses_its_missing_inputs_in_one_sentence(given, expected):
    assert refusal(given) == expected


def test_the_default_kubernetes_token_path_is_the_pods():
    assert options().kubernetes_token_path == "/var/run/secrets/kubernetes.io/serviceaccount/token"
    assert options().token_file == "~/.vault-token"


class _Client:
    token = None


def test_the_token_method_reads_vault_token_file(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    given = tmp_path / "ops-token"
    given.write_text("hvs.from-the-file\n", encoding="utf-8")
    client = _Client()
    _vault_auth.authenticator(options(vault_token_file=str(given))).login(client)
    assert client.token == "hvs.from-the-file"
    # vault_token wins over the file
    client = _Client()
    _vault_auth.authenticator(options(vault_token="hvs.given", vault_token_file=str(given))).login(client)
    assert client.token == "hvs.given"
    # the default file, as `vault login` writes it
    (tmp_path / ".vault-token").write_text("hvs.default-file", encoding="utf-8")
    client = _Client()
    _vault_auth.authenticator(options()).login(client)
    assert client.token == "hvs.default-file"


def test_a_missing_token_file_is_named_unless_it_is_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.vault-token
    with pytest.raises(ConfigError) as caught:
        _vault_auth.authenticator(options()).login(_Client())
    assert caught.value.message == "No Vault token: set vault_token or VAULT_TOKEN, or use vault_auth_method approle or jwt."
    with pytest.raises(ConfigError) as caught:
        _vault_auth.authenticator(options(vault_token_file=str(tmp_path / "gone"))).login(_Client())
    assert caught.value.message == (
        "The token login to Vault reads the Vault token from %s (vault_token_file), which is not a file: fix "
        "vault_token_file or create the file." % (tmp_path / "gone"))
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="found the Vault token in .* empty"):
        _vault_auth.authenticator(options(vault_token_file=str(empty))).login(_Client())


def test_logins_with_other_inputs_are_other_clients():
    one = _vault.identity(options(vault_auth_method="userpass", vault_username="ops", vault_password="first-password"))
    two = _vault.identity(options(vault_auth_method="userpass", vault_username="ops", vault_password="other-password"))
    assert one != two
    assert "first-password" not in repr(one)


# ------------------------------------------------------------------ VAULT_SKIP_VERIFY
def validate_certs(params=None):
    result = ArgumentSpecValidator({"vault_validate_certs": VAULT_SPEC["vault_validate_certs"]}).validate(
        dict(params or {}))
    return result.validated_parameters.get("vault_validate_certs"), [str(e) for e in result.errors]


@pytest.mark.parametrize("env,expected", [
    (None, True), ("true", False), ("1", False), ("True", False), ("yes", False),
    ("false", True), ("0", True), ("no", True), ("", True),
])
def test_vault_skip_verify_is_the_negation_of_vault_validate_certs(monkeypatch, env, expected):
    if env is None:
        monkeypatch.delenv("VAULT_SKIP_VERIFY", raising=False)
    else:
        monkeypatch.setenv("VAULT_SKIP_VERIFY", env)
    assert validate_certs() == (expected, [])


def test_the_task_option_wins_over_vault_skip_verify(monkeypatch):
    monkeypatch.setenv("VAULT_SKIP_VERIFY", "true")
    assert validate_certs({"vault_validate_certs": True}) == (True, [])
    monkeypatch.setenv("VAULT_SKIP_VERIFY", "false")
    assert validate_certs({"vault_validate_certs": False}) == (False, [])


def test_a_vault_skip_verify_that_is_no_boolean_is_refused(monkeypatch):
    monkeypatch.setenv("VAULT_SKIP_VERIFY", "maybe")
    _value, errors = validate_certs()
    assert len(errors) == 1 and "vault_validate_certs" in errors[0] and "maybe" in errors[0]


def test_vault_skip_verify_still_warns(monkeypatch):
    from ansible_collections.adobe_commerce.accs.plugins.module_utils import _operations

    monkeypatch.setenv("VAULT_SKIP_VERIFY", "true")
    value, _errors = validate_certs()
    warnings = []
    _operations._vault_warnings(type("O", (), {"vault": options(vault_validate_certs=value)})(), warnings)
    assert warnings == [_vault.UNVERIFIED_TLS_WARNING]


def test_a_missing_input_at_login_keeps_its_own_sentence(tmp_path, monkeypatch):
    # before the authenticators, the store wrapped this ConfigError into "The log in to of Vault ... failed"
    monkeypatch.setenv("HOME", str(tmp_path))
    _vault._CLIENTS.clear()
    with pytest.raises(ConfigError) as caught:
        _vault.VaultStore(options()).read("accs/prod")
    assert caught.value.message == "No Vault token: set vault_token or VAULT_TOKEN, or use vault_auth_method approle or jwt."
