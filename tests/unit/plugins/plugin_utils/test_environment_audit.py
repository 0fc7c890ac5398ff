"""plugin_utils/_environment_audit.py: the options accs_audit takes from the roles' variables, the plain copy of
tagged values, and the checks of the declarations before any request (the reads run in the integration tests)."""

from __future__ import annotations

import pytest

from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._environment_audit import (
    EnvironmentAudit,
    options_from_variables,
    plain,
)

HOST = {
    "accs_base_url": "https://na1.api.commerce.adobe.com/t1",
    "accs_vault_path": "accs/prod",
    "accs_audit_report_dir": "/srv/reports",
    "accs_expected_store_configs": {"default": {"locale": "en_US"}},
    "accs_system_config_common": [{"path": "general/locale/code", "value": "en_US"},
                                  {"path": "currency/options/base", "value": "USD"}],
    "accs_system_config": [{"path": "general/locale/code", "value": "en_GB"}],
    "accs_system_config_fail_on_drift": False,
    "accs_extensibility_common": {"webhooks": [{"webhook_method": "observer.a", "webhook_type": "after",
                                                "batch_name": "b", "hook_name": "h", "url": "https://x"}]},
    "accs_health_warn_age": 100,
}


def test_options_come_from_the_roles_variables_and_the_task_wins():
    options = options_from_variables({"vault_path": "accs/other", "credential_health": {"warn_age": 7}},
                                     HOST.get, ["store", "system_config", "extensibility", "credential_health"])
    assert options["base_url"] == HOST["accs_base_url"] and options["report_dir"] == "/srv/reports"
    assert options["vault_path"] == "accs/other"  # given by the task
    assert options["credential_health"] == {"warn_age": 7}
    assert options["store"] == {"expected": {"default": {"locale": "en_US"}}}
    # the host's setting replaces the group's of the same path, scope and code
    assert options["system_config"] == {
        "fail_on_drift": False,
        "settings": [{"path": "currency/options/base", "value": "USD"}, {"path": "general/locale/code", "value": "en_GB"}]}
    assert [w["hook_name"] for w in options["extensibility"]["webhooks"]] == ["h"]
    assert options["extensibility"]["subscriptions"] == [] and options["extensibility"]["providers"] == []


def test_parts_with_nothing_declared_or_not_asked_for_are_left_out():
    host = {"accs_base_url": "https://x", "accs_vault_path": "accs/p"}
    options = options_from_variables({}, host.get, ["store", "system_config", "extensibility", "credential_health"])
    assert set(options) == {"base_url", "vault_path", "store", "credential_health"}
    assert "credential_health" not in options_from_variables({}, HOST.get, ["store"])
    pruning = options_from_variables({}, dict(host, accs_extensibility_prune=True).get, ["extensibility"])
    assert pruning["extensibility"]["prune"] is True  # pruning alone is something to audit


def test_a_declaration_of_the_wrong_shape_says_which_variable():
    with pytest.raises(ValueError, match="accs_system_config must be a list of settings"):
        options_from_variables({}, dict(HOST, accs_system_config={"path": "x"}).get, ["system_config"])


def test_plain_keeps_values_and_drops_subclasses():
    class Tagged(str):
        pass

    value = plain({Tagged("k"): [Tagged("v"), 1, 2.5, True, None, ("t",)]})
    assert value == {"k": ["v", 1, 2.5, True, None, ["t"]]}
    assert not isinstance(next(iter(value)), Tagged) and not isinstance(value["k"][0], Tagged) and value["k"][3] is True


def _audit(**parts):
    params = dict({"base_url": "https://x", "report_dir": "r", "store": None, "system_config": None,
                   "extensibility": None, "credential_health": None}, **parts)
    audit = EnvironmentAudit(params, "prod", check_mode=False, warnings=[])
    audit.prepare()
    return audit


def test_a_wrong_declaration_fails_its_part_alone_before_any_request():
    audit = _audit(system_config={"settings": [{"path": "a/b/c"}], "obscured_values": "skip", "sensitive_paths": None,
                                  "extra_sensitive_paths": None, "fail_on_drift": True},
                   store={"expected": {"default": "not a dict"}, "rules": {}, "store_code": None, "fail_on_drift": True})
    assert "value" in audit.problems["system_config"] and "fix the declaration" in audit.problems["system_config"]
    assert "default" in audit.problems["store"]
    assert "system_config" not in audit.holders


def test_pruning_without_a_prefix_is_refused_before_any_request():
    audit = _audit(extensibility={"webhooks": [{"webhook_method": "observer.a", "webhook_type": "after",
                                                "batch_name": "b", "hook_name": "h", "url": "https://x"}],
                                  "subscriptions": [], "providers": [], "sensitive_headers": None,
                                  "owner_prefix": None, "prune": True, "fail_on_drift": True})
    assert audit.problems["extensibility"].startswith("Pruning needs owner_prefix")
