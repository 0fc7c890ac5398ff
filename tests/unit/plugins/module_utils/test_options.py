"""Options defined once: every typed option group covers its spec exactly, and defaults come from the spec."""

from __future__ import annotations

import dataclasses

import pytest

from ansible_collections.adobe_commerce.accs.plugins.module_utils import _options
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import (
    ACCS_REST_SPEC,
    BOOTSTRAP_SPEC,
    IMS_TOKEN_SPEC,
    AccsRestOptions,
    HttpOptions,
    ImsOptions,
    ImsTokenOptions,
    RestOptions,
    TokenOptions,
    VaultOptions,
)

GROUPS = [VaultOptions, ImsOptions, HttpOptions, TokenOptions, RestOptions]


@pytest.mark.parametrize("group", GROUPS, ids=lambda group: group.__name__)
def test_a_group_has_one_field_per_option_of_its_spec(group):
    names = sorted(group.option_name(field.name) for field in dataclasses.fields(group))
    assert names == sorted(group.SPEC)


@pytest.mark.parametrize("operation,spec", [(ImsTokenOptions, IMS_TOKEN_SPEC), (AccsRestOptions, ACCS_REST_SPEC)])
def test_an_operation_covers_its_module_spec(operation, spec):
    covered = {name for group in operation.GROUPS.values() for name in group.SPEC}
    assert set(spec) == covered  # every option a module takes reaches its engine, and nothing else


@pytest.mark.parametrize("group", GROUPS, ids=lambda group: group.__name__)
def test_defaults_are_the_specs(group):
    defaults = group.defaults()
    for name, value in defaults.items():
        assert value == group.SPEC[name].get("default"), name


def test_options_are_frozen_and_read_by_name():
    http = HttpOptions.from_params({"timeout": 5}.get)
    assert (http.timeout, http.retries, http.validate_certs, http.ca_path) == (5, 3, True, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        http.timeout = 1


def test_zero_and_false_are_values_empty_is_not_given():
    http = HttpOptions.from_params({"retries": 0, "validate_certs": False}.get)
    assert (http.retries, http.validate_certs) == (0, False)
    rest = RestOptions.from_params({"status_code": [], "headers": {}, "body": ""}.get)
    assert (rest.status_code, rest.headers, rest.body) == ([200], {}, "")  # body has no default: "" is a body


def test_a_default_list_is_not_shared():
    first = RestOptions.defaults()
    first.status_code.append(500)
    assert RestOptions.defaults().status_code == [200] and ACCS_REST_SPEC["status_code"]["default"] == [200]


def test_secret_options_are_the_no_log_ones():
    assert set(_options.SECRET_OPTIONS) == {"vault_token", "vault_secret_id", "vault_jwt", "vault_password", "client_secret",
                                            "refresh_token", "code", "code_verifier", "access_token"}


def test_the_bootstrap_shares_the_ims_and_vault_options():
    for name in ("client_id", "client_secret", "ims_url", "ims_client_auth", "recovery_dir"):
        assert BOOTSTRAP_SPEC[name] is _options.IMS_SPEC[name]
    assert set(_options.VAULT_SPEC) <= set(BOOTSTRAP_SPEC) and set(_options.HTTP_SPEC) <= set(BOOTSTRAP_SPEC)


def test_the_bootstrap_action_passes_on_what_ims_token_takes():
    pytest.importorskip("ansible.plugins.action")
    from ansible_collections.adobe_commerce.accs.plugins.action import ims_bootstrap

    assert set(ims_bootstrap._PASSED_ON) == set(BOOTSTRAP_SPEC) & set(IMS_TOKEN_SPEC)
    assert {"timeout", "vault_url", "ims_url", "client_secret"} <= set(ims_bootstrap._PASSED_ON)
