"""plugins/filter/system_config.py and plugin_utils/_system_config_role.py: merging declarations, the role's result,
export and promotion selection, and the system configuration reports (pure functions)."""

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ET

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.adobe_commerce.accs.plugins.filter.system_config import FilterModule
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils import _reports

F = FilterModule().filters()
MOMENT = datetime.datetime(2026, 11, 30, 9, 0, 0, tzinfo=datetime.timezone.utc)
SECRET = "sk_live_0123456789abcdef"


# --------------------------------------------------------------------------- merge
def test_merge_host_wins_on_same_path_scope_and_code():
    common = [{"path": "general/locale/code", "value": "en_US"},
              {"path": "carriers/flatrate/price", "value": 5, "scope": "website", "scope_code": "base"},
              {"path": "currency/options/base", "value": "USD"}]
    host = [{"path": "general/locale/code", "value": "en_GB", "scope": "default"},
            {"path": "carriers/flatrate/price", "value": 7, "scope": "website", "scope_code": "b2b"}]
    merged = F["system_config_merge"](common, host)
    assert merged == [
        {"path": "carriers/flatrate/price", "value": 5, "scope": "website", "scope_code": "base"},
        {"path": "currency/options/base", "value": "USD"},
        {"path": "general/locale/code", "value": "en_GB", "scope": "default"},
        {"path": "carriers/flatrate/price", "value": 7, "scope": "website", "scope_code": "b2b"},
    ]


def test_merge_takes_none_and_empty():
    assert F["system_config_merge"](None, None) == []
    assert F["system_config_merge"]([], [{"path": "a/b/c", "value": "1"}]) == [{"path": "a/b/c", "value": "1"}]


@pytest.mark.parametrize(("common", "host", "words"), [
    ({"path": "a/b/c"}, [], "accs_system_config_common must be a list"),
    ([], ["general/locale/code"], "accs_system_config[0] must be a setting with a path"),
    ([], [{"path": "general/locale/code"}], "accs_system_config[0] (general/locale/code) has no value"),
])
def test_merge_refuses_what_is_not_a_settings_list(common, host, words):
    with pytest.raises(AnsibleFilterError) as err:
        F["system_config_merge"](common, host)
    assert words in str(err.value)
    assert str(err.value).endswith(".")


# --------------------------------------------------------------------------- result
DECLARED = [{"path": "general/locale/code", "value": "en_GB"},
            {"path": "payment/stripe_payments/api_key", "value": SECRET},
            {"path": "carriers/flatrate/price", "value": 5, "scope": "website", "scope_code": "base"}]


def answer(changes=(), unchanged=0, rejected=(), **extra):
    base = {"changed": bool(changes), "changes": list(changes), "unchanged": unchanged, "rejected": list(rejected),
            "requests": {"GET": 2}, "diff": []}
    base.update(extra)
    return base


LOCALE = {"path": "general/locale/code", "scope": "default", "scope_code": None, "action": "update",
          "before": "en_US", "after": "en_GB"}
KEY = {"path": "payment/stripe_payments/api_key", "scope": "default", "scope_code": None, "action": "update",
       "before": None, "after": "(sensitive)"}


def test_audit_result_lists_drift_with_declared_and_actual():
    result = F["system_config_result"](answer([LOCALE, KEY], unchanged=1), mode="audit", settings=DECLARED)
    assert result["passed"] is False and result["mode"] == "audit" and result["check_mode"] is True
    assert result["settings"] == 3 and result["unchanged"] == 1 and result["changes"] == []
    assert result["drift"] == [
        {"path": "general/locale/code", "scope": "default", "scope_code": None, "expected": "en_GB", "actual": "en_US"},
        {"path": "payment/stripe_payments/api_key", "scope": "default", "scope_code": None, "expected": "(sensitive)",
         "actual": None}]
    assert [c["status"] for c in result["checks"]] == ["drift", "drift", "ok"]
    assert result["message"] == (
        '2 of 3 declared settings differ from the declaration: general/locale/code at default scope: declared '
        '"en_GB", actual "en_US"; payment/stripe_payments/api_key at default scope: declared "(sensitive)", '
        'actual unset.')
    assert SECRET not in json.dumps(result)


def test_audit_without_drift_passes():
    result = F["system_config_result"](answer(unchanged=3), mode="audit", settings=DECLARED)
    assert result["passed"] is True and result["drift"] == []
    assert result["message"] == "All 3 declared settings hold their declared values."


def test_enforce_result_lists_changes_and_passes():
    result = F["system_config_result"](answer([LOCALE], unchanged=2), mode="enforce", settings=DECLARED)
    assert result["passed"] is True and result["check_mode"] is False
    assert result["changes"] == [{"path": "general/locale/code", "scope": "default", "scope_code": None,
                                  "before": "en_US", "after": "en_GB"}]
    assert result["message"] == ('Wrote 1 of 3 declared settings (general/locale/code at default scope: "en_US" -> '
                                 '"en_GB"); 2 already held their values.')
    again = F["system_config_result"](answer(unchanged=3), mode="enforce", settings=DECLARED)
    assert again["message"] == "All 3 declared settings already held their values; nothing was written."
    checked = F["system_config_result"](answer([LOCALE], unchanged=2), mode="enforce", settings=DECLARED,
                                        check_mode=True)
    assert checked["check_mode"] is True and checked["message"].startswith("Would write 1 of 3")


def test_rejected_items_fail_with_the_module_sentence():
    rejected = [{"path": "carriers/flatrate/price", "scope": "website", "scope_code": "base",
                 "message": "Configuration path \"carriers/flatrate/price\" was not found, is not visible for this "
                            "scope, or is not allowed."}]
    failed = answer([LOCALE], unchanged=0, rejected=rejected, failed=True, error_kind="rejected",
                    msg="ACCS at https://x rejected 1 setting (...); the other 1 was saved. Fix or remove the "
                        "rejected setting and run again.")
    result = F["system_config_result"](failed, mode="enforce", settings=DECLARED)
    assert result["passed"] is False and "error" not in result
    assert result["rejected"] == [dict(rejected[0])]
    assert result["message"] == failed["msg"]
    assert [c["status"] for c in result["checks"]] == ["changed", "ok", "rejected"]


def test_other_failures_are_error_results():
    failed = {"failed": True, "msg": "ACCS at https://x does not know the website code 'b2b'.",
              "error_kind": "unknown_scope"}
    result = F["system_config_result"](failed, mode="audit", settings=DECLARED, report_dir="/tmp/r", name="prod")
    assert result["error"] == failed["msg"] and result["error_kind"] == "unknown_scope"
    assert result["passed"] is False and result["drift"] == []
    assert result["reports"]["json"] == "/tmp/r/prod-system-config.json"
    replaced = F["system_config_result"]({}, error="Bad variables.")
    assert replaced["error"] == "Bad variables."


def test_result_refuses_unknown_mode():
    with pytest.raises(AnsibleFilterError):
        F["system_config_result"](answer(), mode="apply")


# --------------------------------------------------------------------------- scopes and selection
WEBSITES = [{"id": 0, "code": "admin"}, {"id": 1, "code": "base"}]
VIEWS = [{"id": 0, "code": "admin", "website_id": 0}, {"id": 1, "code": "default", "website_id": 1},
         {"id": 2, "code": "fr", "website_id": 1}]


def test_scopes_leave_the_admin_rows_out():
    assert F["system_config_scopes"]({"json": WEBSITES}, {"json": VIEWS}) == [
        {"scope": "default"}, {"scope": "website", "scope_code": "base"},
        {"scope": "store", "scope_code": "default"}, {"scope": "store", "scope_code": "fr"}]


def test_select_applies_exclude_inherited_and_target_codes_in_order():
    read = [
        {"path": "general/locale/code", "value": "en_US", "scope": "default"},
        {"path": "web/unsecure/base_url", "value": "https://sandbox/", "scope": "default"},
        {"path": "general/locale/code", "value": "en_US", "scope": "website", "scope_code": "base"},
        {"path": "general/locale/code", "value": "en_US", "scope": "store", "scope_code": "default"},
        {"path": "general/locale/code", "value": "fr_FR", "scope": "store", "scope_code": "fr"},
        {"path": "carriers/flatrate/price", "value": "6", "scope": "website", "scope_code": "base"},
    ]
    sensitive = [{"path": "payment/stripe_payments/api_key", "scope": "default", "scope_code": None}]
    out = F["system_config_select"](read, exclude=["web/*/base_url"], websites=WEBSITES, store_views=VIEWS,
                                    target_websites={"json": WEBSITES}, target_store_views=["default"],
                                    sensitive_left_out=sensitive)
    assert out["settings"] == [
        {"path": "general/locale/code", "value": "en_US", "scope": "default"},
        {"path": "carriers/flatrate/price", "value": "6", "scope": "website", "scope_code": "base"},
    ]
    assert out["excluded"] == [
        {"path": "payment/stripe_payments/api_key", "scope": "default", "scope_code": None, "rule": "sensitive path"},
        {"path": "web/unsecure/base_url", "scope": "default", "scope_code": None, "rule": "exclude web/*/base_url"},
        {"path": "general/locale/code", "scope": "website", "scope_code": "base", "rule": "same as the parent scope"},
        {"path": "general/locale/code", "scope": "store", "scope_code": "default",
         "rule": "same as the parent scope"},
        {"path": "general/locale/code", "scope": "store", "scope_code": "fr", "rule": "scope code not in the target"},
    ]


def test_common_keeps_only_values_equal_everywhere():
    prod = [{"path": "a/b/c", "value": "1", "scope": "default"}, {"path": "a/b/d", "value": "x", "scope": "default"}]
    stage = [{"path": "a/b/c", "value": "1", "scope": "default"}, {"path": "a/b/d", "value": "y", "scope": "default"}]
    out = F["system_config_common"]({"prod": prod, "stage": stage})
    assert out["common"] == [prod[0]]
    assert out["hosts"] == {"prod": [prod[1]], "stage": [stage[1]]}
    assert F["system_config_common"]({"prod": prod}) == {"common": [], "hosts": {"prod": prod}}


# --------------------------------------------------------------------------- reports
def audit_result():
    return F["system_config_result"](answer([LOCALE, KEY], unchanged=1), mode="audit", settings=DECLARED)


def test_reports_name_drift_and_hide_sensitive_values():
    result = audit_result()
    text = _reports.render_system_config_markdown("prod", result, "https://accs/t", MOMENT)
    assert text.startswith("# System configuration audit: prod\n")
    assert "| general/locale/code | default | - | `\"en_GB\"` | `\"en_US\"` |" in text
    assert "| payment/stripe_payments/api_key | default | - | `\"(sensitive)\"` | unset |" in text
    document = json.loads(_reports.render_system_config_json("prod", result, "https://accs/t", MOMENT))
    assert document["passed"] is False and len(document["drift"]) == 2
    xml = _reports.render_junit_system_config("prod", result, "https://accs/t", MOMENT)
    suite = ET.fromstring(xml).find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "2", "0")
    for rendered in (text, json.dumps(document), xml):
        assert SECRET not in rendered


def test_fleet_column_shows_drift_changes_and_rejected():
    rows = [
        _reports.fleet_row("prod", {"passed": True, "stores": 2, "drift": [], "rules": {}},
                           system_config=audit_result()),
        _reports.fleet_row("stage", {"passed": True, "stores": 2, "drift": [], "rules": {}}),
    ]
    page = _reports.render_fleet_html(rows, generated_at=MOMENT)
    assert '<th id="system-config"' in page
    assert 'data-sysconfig-drift="2" data-sysconfig-changes="0" data-sysconfig-rejected="0"' in page
    assert 'data-sysconfig="not-run"' in page
    assert SECRET not in page
    summary = _reports.fleet_summary(rows)
    assert summary["system_config"]["drifted"] == ["prod"] and summary["system_config"]["not_run"] == ["stage"]
    empty = F["system_config_result"](answer(), mode="audit", settings=[])
    assert empty["passed"] is True and empty["message"] == (
        "No settings are declared (accs_system_config_common and accs_system_config are empty).")
    page = _reports.render_fleet_html([_reports.fleet_row("dev", rows[1]["result"], system_config=empty)],
                                      generated_at=MOMENT)
    assert 'class="cell off" data-sysconfig="nothing declared"' in page
    without = _reports.render_fleet_html(rows[1:], generated_at=MOMENT)
    assert "system-config" not in without


def test_promotion_report_lists_changed_unchanged_excluded_rejected():
    target = F["system_config_result"](answer([LOCALE], unchanged=1), mode="enforce", check_mode=True,
                                       settings=DECLARED[:1] + DECLARED[2:])
    target.update(host="prod", base_url="https://accs/p",
                  excluded=[{"path": "web/unsecure/base_url", "scope": "default", "scope_code": None,
                             "rule": "exclude web/*/base_url"}])
    result = {"source": "sandbox", "check_mode": True, "targets": [target]}
    document = json.loads(_reports.render_promotion_json("sandbox-to-prod", result, MOMENT))
    assert document["targets"][0]["changed"][0]["path"] == "general/locale/code"
    assert document["targets"][0]["unchanged"] == [{"path": "carriers/flatrate/price", "scope": "website",
                                                    "scope_code": "base"}]
    assert document["targets"][0]["excluded"][0]["rule"] == "exclude web/*/base_url"
    text = _reports.render_promotion_markdown("sandbox-to-prod", result, MOMENT)
    assert "| web/unsecure/base_url | default | - | exclude web/\\*/base_url |" in text or \
        "| web/unsecure/base_url | default | - | exclude web/*/base_url |" in text
    assert "### To change" in text


# --------------------------------------------------------------------------- variable files
class Tagged(str):
    """Like the str subclasses Ansible's templating returns."""


def test_yaml_file_round_trips_and_keeps_templates_unsafe():
    import yaml

    settings = [{"path": Tagged("general/locale/code"), "value": Tagged("en_US"), "scope": "default"},
                {"path": "web/unsecure/base_link_url", "value": "{{unsecure_base_url}}"},
                {"path": "general/country/allow", "value": ["US", "CA"], "scope": "website", "scope_code": "base"},
                {"path": "carriers/flatrate/active", "value": True, "scope": "website", "scope_code": "base"},
                {"path": "carriers/flatrate/price", "value": "5.00"}]
    text = F["system_config_yaml"](settings, comments=["Exported", "Left out:\n  a/b/c"])
    assert text.startswith("---\n# Exported\n# Left out:\n#   a/b/c\naccs_system_config:\n  - path: general/locale/code\n")
    assert '    value: !unsafe "{{unsecure_base_url}}"\n' in text
    loaded = yaml.safe_load(text.replace("!unsafe ", ""))["accs_system_config"]
    assert loaded[1]["value"] == "{{unsecure_base_url}}"
    assert loaded[2] == {"path": "general/country/allow", "value": ["US", "CA"], "scope": "website",
                         "scope_code": "base"}
    assert loaded[3]["value"] is True and loaded[4]["value"] == "5.00"
    assert F["system_config_yaml"]([], variable="accs_system_config_common") == "---\naccs_system_config_common: []\n"
    with pytest.raises(AnsibleFilterError):
        F["system_config_yaml"]([], variable="not a name")
