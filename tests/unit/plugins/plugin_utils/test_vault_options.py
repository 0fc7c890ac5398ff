"""The Vault options of controller plugins: what the doc fragment's ``env`` gives, plus the spec's
fallbacks that ``env`` cannot say (VAULT_SKIP_VERIFY, the negation of vault_validate_certs)."""

from __future__ import annotations

import pytest

pytest.importorskip("ansible.plugins")

from ansible.errors import AnsibleOptionsError  # noqa: E402

from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._vault_options import (  # noqa: E402
    plugin_option,
    vault_options,
)


class Options:
    """What AnsiblePlugin.get_option_and_origin answers for options set from the given ones (else defaults)."""

    def __init__(self, **given):
        self.given = given

    def get_option_and_origin(self, name):
        if name in self.given:
            return self.given[name], "keyword"
        defaults = {"vault_validate_certs": True, "vault_mount": "secret", "vault_auth_method": "token"}
        if name not in defaults and not name.startswith("vault_"):
            raise KeyError(name)
        return defaults.get(name), "default"


@pytest.mark.parametrize("env,expected", [(None, True), ("true", False), ("1", False), ("false", True)])
def test_vault_skip_verify_applies_when_the_option_is_not_given(monkeypatch, env, expected):
    if env is None:
        monkeypatch.delenv("VAULT_SKIP_VERIFY", raising=False)
    else:
        monkeypatch.setenv("VAULT_SKIP_VERIFY", env)
    assert plugin_option(Options(), "vault_validate_certs") is expected
    assert vault_options(Options(vault_url="https://vault.test")).validate_certs is expected


def test_a_given_option_wins_over_vault_skip_verify(monkeypatch):
    monkeypatch.setenv("VAULT_SKIP_VERIFY", "true")
    assert plugin_option(Options(vault_validate_certs=True), "vault_validate_certs") is True


def test_a_vault_skip_verify_that_is_no_boolean_is_refused(monkeypatch):
    monkeypatch.setenv("VAULT_SKIP_VERIFY", "maybe")
    with pytest.raises(AnsibleOptionsError, match="^Option vault_validate_certs got 'maybe' from the environment "
                                                  r"\(VAULT_SKIP_VERIFY\), which is not a boolean: use true or false.$"):
        plugin_option(Options(), "vault_validate_certs")


def test_an_option_the_plugin_does_not_have_is_none():
    assert plugin_option(Options(), "not_an_option") is None
