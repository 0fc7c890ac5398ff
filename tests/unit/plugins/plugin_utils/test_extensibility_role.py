"""plugin_utils/_extensibility_role.py through the filters of plugins/filter/extensibility.py (extensibility_merge,
extensibility_result), and the extensibility report renderers of plugin_utils/_reports.py."""

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ET

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.adobe_commerce.accs.plugins.filter.extensibility import FilterModule
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils import _reports

FILTERS = FilterModule().filters()
merge = FILTERS["extensibility_merge"]
result_of = FILTERS["extensibility_result"]
MOMENT = datetime.datetime(2026, 11, 30, 9, 0, 0, tzinfo=datetime.timezone.utc)

HOOK = {"webhook_method": "plugin.magento.sales.api.order_management.place", "webhook_type": "after",
        "batch_name": "app_orders", "hook_name": "app_notify", "url": "https://common.example/notify"}
SUB = {"name": "app.observer.customer_login", "parent": "observer.customer_login", "fields": [{"name": "email"}]}
PROVIDER = {"provider_id": "p-1", "instance_id": "inst", "label": "App"}


# --------------------------------------------------------------------------- merge
def test_host_item_replaces_the_common_item_of_the_same_identity_whole():
    host_hook = dict(HOOK, webhook_method="plugin.sales.api.order_management.place", url="https://prod.example/n")
    gone = {"name": "APP.observer.customer_login", "state": "absent"}
    merged = merge({"webhooks": [HOOK], "subscriptions": [SUB], "providers": [PROVIDER]},
                   {"webhooks": [host_hook], "subscriptions": [gone]})
    assert merged["webhooks"] == [dict(host_hook, state="present")]  # plugin.magento. normalised for the match
    assert merged["subscriptions"] == [{"name": "APP.observer.customer_login", "state": "absent"}]
    assert merged["providers"] == [dict(PROVIDER, state="present")]


def test_items_of_other_identities_are_kept_in_order_common_first():
    other = dict(HOOK, hook_name="app_other")
    second = {"provider_id": "p-2", "instance_id": "i2", "state": "absent"}
    merged = merge({"webhooks": [HOOK]}, {"webhooks": [other], "providers": [second]})
    assert [h["hook_name"] for h in merged["webhooks"]] == ["app_notify", "app_other"]
    assert merged["providers"] == [second]
    assert merged["subscriptions"] == []


def test_empty_and_missing_parts_merge_to_empty_lists():
    assert merge(None, None) == {"webhooks": [], "subscriptions": [], "providers": []}
    assert merge({}, {"webhooks": None}) == {"webhooks": [], "subscriptions": [], "providers": []}


def test_duplicates_inside_one_source_are_left_for_the_module_to_refuse():
    merged = merge({"subscriptions": [SUB, dict(SUB, fields=[])]}, {})
    assert len(merged["subscriptions"]) == 2


@pytest.mark.parametrize(("common", "host", "words"), [
    ({"webhook": []}, {}, "accs_extensibility_common has unknown key webhook: use webhooks"),
    ([], {}, "accs_extensibility_common must be a dictionary"),
    ({}, {"webhooks": {"a": 1}}, "accs_extensibility.webhooks must be a list"),
    ({}, {"subscriptions": ["x"]}, "Item 1 of accs_extensibility.subscriptions must be a dictionary"),
    ({"webhooks": [{"webhook_method": "observer.x", "webhook_type": "after", "batch_name": "b"}]}, {},
     "Item 1 of accs_extensibility_common.webhooks has no hook_name"),
])
def test_bad_declarations_are_refused_in_one_sentence(common, host, words):
    with pytest.raises(AnsibleFilterError) as caught:
        merge(common, host)
    message = str(caught.value)
    assert words in message and message.endswith(".") and "\n" not in message


# --------------------------------------------------------------------------- result
def answer(changes=(), rejected=(), unchanged=0, requests=None, **extra):
    found = {"changed": bool(changes), "changes": list(changes), "unchanged": unchanged, "rejected": list(rejected),
             "requests": requests or {"GET": 1}}
    found.update(extra)
    return found


def created_hook():
    return dict({k: HOOK[k] for k in ("webhook_type", "batch_name", "hook_name")},
                webhook_method="plugin.sales.api.order_management.place", action="created", before=None,
                after={"url": HOOK["url"], "developer_console_oauth": {"client_secret": "(sensitive)"}})


def test_audit_drift_fails_with_each_item_named():
    declared = merge({"webhooks": [HOOK], "subscriptions": [SUB]}, {})
    answers = {"webhooks": answer([created_hook()]), "subscriptions": answer(unchanged=1),
               "eventing": {"skipped": True}, "check": {"check": {"status": "ok"}, "requests": {"GET": 1}}}
    result = result_of(answers, mode="audit", declared=declared, name="prod", base_url="https://x/t")
    assert result["passed"] is False and result["changes"] == []
    assert [(d["kind"], d["name"], d["action"]) for d in result["drift"]] == [
        ("webhook", "plugin.sales.api.order_management.place after app_orders/app_notify", "created")]
    assert result["message"] == ("The App Builder wiring differs from its declaration in 1 item: webhook "
                                 "plugin.sales.api.order_management.place after app_orders/app_notify would be "
                                 "created.")
    assert result["failure"] == ("prod (https://x/t): " + result["message"][:-1]
                                 + "; set accs_extensibility_mode: enforce to apply them, or change the declaration.")
    assert result["requests"] == {"GET": 3}
    statuses = {(i["kind"], i["status"]) for i in result["items"]}
    assert statuses == {("webhook", "drift"), ("event subscription", "in sync")}
    assert result["io_events_check"] == {"status": "ok", "failed": []}
    assert result_of(answers, mode="audit", declared=declared, fail_on_drift=False)["failure"] is None


def test_enforce_rejected_item_is_named_and_the_rest_counted():
    rejected = {"name": "app.observer.customer_login", "message": 'The event provider id "zz" is not configured.'}
    answers = {"subscriptions": answer([{"name": "app.other", "action": "created", "before": None, "after": {}}],
                                       rejected=[rejected], failed=False, error_kind="rejected", msg="ACCS rejected")}
    result = result_of(answers, mode="enforce", declared=merge({"subscriptions": [SUB]}, {}), name="prod")
    assert result["passed"] is False
    assert result["message"] == ("ACCS rejected 1 item of the App Builder wiring (event subscription "
                                 "app.observer.customer_login: \"The event provider id 'zz' is not configured.\"); "
                                 "the other 1 change was applied. Fix or remove the rejected item and run again.")
    assert result["failure"] == "prod: " + result["message"]
    statuses = {i["name"]: i["status"] for i in result["items"]}
    assert statuses == {"app.observer.customer_login": "rejected", "app.other": "changed"}


def test_enforce_in_sync_passes_and_a_failed_step_is_an_error():
    declared = merge({"providers": [PROVIDER], "webhooks": [HOOK]}, {})
    clean = result_of({"providers": answer(unchanged=1), "webhooks": answer(unchanged=1)}, mode="enforce",
                      declared=declared)
    assert clean["passed"] is True and clean["failure"] is None
    assert clean["message"] == ("The App Builder wiring holds its declared state (1 webhook, 0 event subscriptions, "
                                "1 event provider).")
    broken = result_of({"providers": {"failed": True, "msg": "No credential at 'secret/x' in Vault."}},
                       mode="enforce", declared=declared, name="prod")
    assert broken["error"] == "No credential at 'secret/x' in Vault." and broken["failure"].endswith(broken["error"])
    assert {i["name"]: i["status"] for i in broken["items"]}[
        "plugin.sales.api.order_management.place after app_orders/app_notify"] == "not checked"


def test_required_io_events_check_failing_is_an_error_naming_the_checks():
    check = {"status": "error", "technical_service_account_configured": True,
             "technical_service_account_can_connect_to_io_events": False, "provider_id_configured": "p",
             "provider_id_valid": False}
    answers = {"check": {"failed": True, "failed_when_result": True, "check": check, "requests": {"GET": 1}}}
    required = result_of(answers, mode="enforce", require_io_ok=True)
    assert required["error"].startswith("The Adobe I/O Events check failed: the technical service account cannot "
                                        "connect to Adobe I/O Events; the configured provider id is not valid")
    relaxed = result_of({"check": {"check": check}}, mode="enforce")
    assert "error" not in relaxed and relaxed["passed"] is True
    assert len(relaxed["io_events_check"]["failed"]) == 2


def test_eventing_configuration_sent_is_a_change_naming_only_keys():
    result = result_of({"eventing": {"changed": True, "sent": ["enabled", "workspace_configuration"]}},
                       mode="enforce", check_mode=True)
    assert result["message"] == ("Would make 1 change to the App Builder wiring: the eventing configuration would be "
                                 "configured (enabled, workspace_configuration).")


def test_result_refuses_a_bad_mode_and_report_dir_without_name():
    with pytest.raises(AnsibleFilterError):
        result_of({}, mode="apply")
    with pytest.raises(AnsibleFilterError):
        result_of({}, report_dir="/tmp/r")
    paths = result_of({}, report_dir="/tmp/r", name="prod one")["reports"]
    assert paths == {"json": "/tmp/r/prod_one-extensibility.json", "junit": "/tmp/r/prod_one-extensibility.junit.xml",
                     "markdown": "/tmp/r/prod_one-extensibility.md"}


# --------------------------------------------------------------------------- reports
def test_reports_render_drift_rejections_and_errors():
    declared = merge({"webhooks": [HOOK], "subscriptions": [SUB]}, {})
    rejected = {"name": "app.observer.customer_login", "message": "No <way> & \"never\""}
    result = result_of({"webhooks": answer([created_hook()]),
                        "subscriptions": answer(rejected=[rejected], error_kind="rejected"),
                        "check": {"check": {"status": "error", "provider_id_valid": False}}},
                       mode="audit", declared=declared)
    texts = _reports.render_extensibility_reports("prod", result, "https://x/t", MOMENT)
    document = json.loads(texts["json"])
    assert document["host"] == "prod" and document["passed"] is False and len(document["drift"]) == 1
    assert document["drift"][0]["after"]["developer_console_oauth"]["client_secret"] == "(sensitive)"
    suite = ET.fromstring(texts["junit"]).find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("3", "2", "0", "1")
    assert "| webhook | `plugin.sales.api.order_management.place after app_orders/app_notify` | created |" in \
        texts["markdown"]
    assert "## Rejected" in texts["markdown"] and "Adobe I/O Events check: error" in texts["markdown"]
    error = result_of({"webhooks": {"failed": True, "msg": "ACCS at x answered 401."}}, mode="enforce")
    junit = ET.fromstring(_reports.render_junit_extensibility("prod", error, None, MOMENT)).find("testsuite")
    assert junit.get("errors") == "1" and "## Error" in _reports.render_extensibility_markdown("prod", error)


def test_fleet_page_shows_the_wiring_column_only_when_the_role_ran():
    audit = {"passed": True, "stores": 1, "drift": [], "rules": {}}
    drifted = result_of({"webhooks": answer([created_hook()])}, mode="audit", declared=merge({"webhooks": [HOOK]}, {}))
    rows = [_reports.fleet_row("prod", audit, extensibility=drifted), _reports.fleet_row("stage", audit)]
    page = _reports.render_fleet_html(rows, generated_at=MOMENT)
    assert '<th id="extensibility"' in page
    assert 'data-extensibility="1 drift"' in page and 'data-extensibility="not-run"' in page
    assert "App Builder wiring: 1 drift" in page
    without = _reports.render_fleet_html([_reports.fleet_row("stage", audit)], generated_at=MOMENT)
    assert "extensibility" not in without
