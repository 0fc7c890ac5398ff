"""accs_webhook, accs_event_subscription, accs_event_provider, accs_eventing_config and
accs_extensibility_info against the emulator's extensibility endpoints (issue 15).

The emulator implements each undocumented behaviour of the facts file behind a switch; the
idempotence tests run the same declaration under every reading. What the emulator holds and its
request log (one list per kind, writes by action) are the evidence.
"""

from __future__ import annotations

import pytest

from tests.integration.helpers import (
    COLLECTION,
    assert_one_sentence,
    failed_msg,
    host_result,
    play,
    seed_credential,
)

WEBHOOK = COLLECTION + ".accs_webhook"
SUBSCRIPTION = COLLECTION + ".accs_event_subscription"
PROVIDER = COLLECTION + ".accs_event_provider"
EVENTING = COLLECTION + ".accs_eventing_config"
INFO = COLLECTION + ".accs_extensibility_info"

OAUTH_SECRET = "p8e-webhook-oauth-secret-0001"
BEARER = "Bearer webhook-shared-secret-0002"
WORKSPACE = '{"project": {"id": "4566206088344794932", "secret": "workspace-secret-0003"}}'
PROVIDER_ID = "1902bc50-2d7e-41e8-955b-af4a9667823f"

HOOKS = [
    {"webhook_method": "observer.checkout_cart_product_add_before", "webhook_type": "before",
     "batch_name": "app_cart", "hook_name": "app_validate", "url": "https://app.example/validate",
     "timeout": 2000, "required": True,
     "fields": [{"name": "sku", "source": "data.product.sku"}, {"name": "qty", "source": "data.qty"}],
     "headers": [{"name": "Authorization", "value": BEARER}, {"name": "X-App", "value": "cart"}],
     "developer_console_oauth": {"client_id": "app-client", "client_secret": OAUTH_SECRET,
                                 "org_id": "ORG1@AdobeOrg"}},
    {"webhook_method": "plugin.magento.sales.api.order_management.place", "webhook_type": "after",
     "batch_name": "app_orders", "hook_name": "app_notify", "url": "https://app.example/notify"},
]
SUBSCRIPTIONS = [
    {"name": "app.observer.catalog_product_save_after", "parent": "observer.catalog_product_save_after",
     "fields": [{"name": "sku"}, {"name": "price"}],
     "rules": [{"field": "price", "operator": "lessThan", "value": "300"}]},
    {"name": "observer.customer_login", "fields": [{"name": "email"}]},
]


def task(module, name, cred, register=None, ignore_errors=False, check_mode=None, **options):
    body = {"base_url": cred.base_url, "vault_path": cred.vault_path}
    body.update(options)
    entry = {"name": name, module: body, "register": register or name.replace(" ", "_")}
    if ignore_errors:
        entry["ignore_errors"] = True
    if check_mode is not None:
        entry["check_mode"] = check_mode
    return entry


def ext_log(emulator, tenant, key):
    return [r for r in emulator.requests(tenant=tenant) if r.get("endpoint") == key]


def writes(records):
    return [(r["method"], r.get("ext_action")) for r in records if r["method"] != "GET"]


def env(emulator, openbao, **mode):
    cred = seed_credential(emulator, openbao, cache="valid", cache_expires_in=7200)
    if mode:
        emulator.set_extensibility_mode(cred.tenant, **mode)
    return cred


@pytest.mark.parametrize("mode", [
    {}, {"webhook_defaults": "xml_defaults"}, {"webhook_defaults": "xml_defaults_empty_method",
                                               "exists_message": "generic", "webhook_write_answer": "true"},
], ids=["omit", "xml_defaults", "xml_defaults_empty_method"])
def test_webhooks_converge_and_hold(run_playbook, emulator, openbao, mode):
    cred = env(emulator, openbao, **mode)
    tasks = [task(WEBHOOK, "dry run", cred, webhooks=HOOKS, check_mode=True),
             task(WEBHOOK, "apply", cred, webhooks=HOOKS),
             task(WEBHOOK, "again", cred, webhooks=HOOKS)]
    result = run_playbook(play(tasks, emulator), json=True, diff=True, verbosity=4).assert_rc(0)
    dry, applied, again = (host_result(result, n) for n in ("dry run", "apply", "again"))
    assert dry["changed"] is True and [c["action"] for c in dry["changes"]] == ["created", "created"]
    assert applied["changed"] is True and applied["requests"] == {"GET": 2, "POST": 2}  # list + supportedList
    assert again["changed"] is False and again["unchanged"] == 2 and again["requests"] == {"GET": 1}
    log = ext_log(emulator, cred.tenant, "webhooks")
    assert writes(log) == [("POST", "subscribe"), ("POST", "subscribe")]
    held = emulator.extensibility(cred.tenant)["webhooks"]
    assert {h["hook_name"] for h in held} == {"app_validate", "app_notify"}
    assert next(h for h in held if h["hook_name"] == "app_notify")["webhook_method"] == \
        "plugin.sales.api.order_management.place"
    assert next(h for h in held if h["hook_name"] == "app_validate")["developer_console_oauth"]["client_secret"] == \
        OAUTH_SECRET
    for secret in (OAUTH_SECRET, BEARER):
        assert secret not in result.stdout and secret not in result.stderr
    assert "(sensitive)" in result.stdout  # the diff shows the masked header and secret


def test_a_changed_webhook_is_recreated_and_prune_keeps_other_apps(run_playbook, emulator, openbao):
    cred = env(emulator, openbao)
    other = {"webhook_method": "observer.sales_quote_add_item", "webhook_type": "after", "batch_name": "other_b",
             "hook_name": "other_h", "url": "https://other.example/h"}
    stale = {"webhook_method": "observer.sales_order_place_before", "webhook_type": "before",
             "batch_name": "app_old", "hook_name": "app_stale", "url": "https://app.example/old"}
    emulator.set_extensibility(cred.tenant, webhooks=[HOOKS[1], other, stale])
    changed = [dict(HOOKS[1], url="https://app.example/notify-v2")]
    tasks = [task(WEBHOOK, "apply", cred, webhooks=changed, prune=True, owner_prefix="app_")]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    applied = host_result(result, "apply")
    assert sorted((c["hook_name"], c["action"]) for c in applied["changes"]) == [
        ("app_notify", "recreated"), ("app_stale", "removed")]
    assert writes(ext_log(emulator, cred.tenant, "webhooks")) == [
        ("POST", "unsubscribe"), ("POST", "subscribe"), ("POST", "unsubscribe")]
    held = {h["hook_name"]: h for h in emulator.extensibility(cred.tenant)["webhooks"]}
    assert set(held) == {"app_notify", "other_h"} and held["app_notify"]["url"] == "https://app.example/notify-v2"


def test_webhook_bad_input_is_refused_before_any_write(run_playbook, emulator, openbao):
    cred = env(emulator, openbao)
    typo = dict(HOOKS[1], webhook_method="observer.checkout_cart_product_add_befor", hook_name="app_typo")
    tasks = [task(WEBHOOK, "unknown method", cred, webhooks=[typo], ignore_errors=True),
             task(WEBHOOK, "prune without prefix", cred, webhooks=[], prune=True, ignore_errors=True),
             task(WEBHOOK, "bad hook name", cred, webhooks=[dict(HOOKS[1], hook_name="app-notify")],
                  ignore_errors=True),
             task(WEBHOOK, "declared twice", cred, ignore_errors=True,
                  webhooks=[HOOKS[1], dict(HOOKS[1], url="https://app.example/other")])]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    msg = failed_msg(result, "unknown method")
    assert_one_sentence(msg)
    assert "names webhook_method observer.checkout_cart_product_add_befor, which ACCS at %s does not support " \
           "(did you mean observer.checkout_cart_product_add_before" % cred.base_url in msg
    assert failed_msg(result, "prune without prefix").startswith("prune needs owner_prefix")
    assert "hook_name 'app-notify' has characters ACCS refuses" in failed_msg(result, "bad hook name")
    assert failed_msg(result, "declared twice") == (
        "Webhook plugin.sales.api.order_management.place after app_orders/app_notify is declared twice with "
        "different values: keep one of them.")
    assert writes(ext_log(emulator, cred.tenant, "webhooks")) == []


READINGS = [{}, {"parent_echo": "empty", "provider_id_echo": "default"},
            {"parent_echo": "name", "provider_id_echo": "real", "exists_message": "generic"}]


@pytest.mark.parametrize("mode", READINGS, ids=["absent-real", "empty-default", "name-real"])
def test_subscriptions_converge_under_every_reading(run_playbook, emulator, openbao, mode):
    cred = env(emulator, openbao, **mode)
    emulator.set_extensibility(cred.tenant, default_provider={"provider_id": PROVIDER_ID, "instance_id": "inst"})
    declared = [dict(s, provider_id="default") for s in SUBSCRIPTIONS]
    tasks = [task(SUBSCRIPTION, "dry run", cred, subscriptions=declared, check_mode=True),
             task(SUBSCRIPTION, "apply", cred, subscriptions=declared),
             task(SUBSCRIPTION, "again", cred, subscriptions=declared)]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    assert host_result(result, "dry run")["changed"] is True
    assert host_result(result, "apply")["changed"] is True
    again = host_result(result, "again")
    assert again["changed"] is False and again["unchanged"] == 2, again["changes"]
    assert writes(ext_log(emulator, cred.tenant, "eventSubscriptions")) == [("POST", "subscribe")] * 2


def test_subscription_changes_use_put_or_recreate(run_playbook, emulator, openbao):
    cred = env(emulator, openbao)
    emulator.set_extensibility(cred.tenant, subscriptions=SUBSCRIPTIONS)
    added = [dict(SUBSCRIPTIONS[0], fields=[{"name": "sku"}, {"name": "price"}, {"name": "name"}])]
    removed = [dict(SUBSCRIPTIONS[0], fields=[{"name": "sku"}])]
    gone = [{"name": "observer.customer_login", "state": "absent"}]
    tasks = [task(SUBSCRIPTION, "add a field", cred, subscriptions=added),
             task(SUBSCRIPTION, "remove fields", cred, subscriptions=removed),
             task(SUBSCRIPTION, "unsubscribe", cred, subscriptions=gone),
             task(SUBSCRIPTION, "again", cred, subscriptions=removed + gone)]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    assert [c["action"] for c in host_result(result, "add a field")["changes"]] == ["updated"]
    assert [c["action"] for c in host_result(result, "remove fields")["changes"]] == ["recreated"]
    assert [c["action"] for c in host_result(result, "unsubscribe")["changes"]] == ["removed"]
    assert host_result(result, "again")["changed"] is False
    assert writes(ext_log(emulator, cred.tenant, "eventSubscriptions")) == [
        ("PUT", "update"), ("POST", "unsubscribe"), ("POST", "subscribe"), ("POST", "unsubscribe")]
    held = {s["name"]: s for s in emulator.extensibility(cred.tenant)["subscriptions"]}
    assert [f["name"] for f in held["app.observer.catalog_product_save_after"]["fields"]] == ["sku"]
    assert held["observer.customer_login"]["enabled"] is False


def test_half_successful_subscribe_is_listed_again_not_sent_twice(run_playbook, emulator, openbao):
    cred = env(emulator, openbao, half_subscribe=1)
    tasks = [task(SUBSCRIPTION, "apply", cred, subscriptions=SUBSCRIPTIONS[:1])]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    assert host_result(result, "apply")["changed"] is True
    log = ext_log(emulator, cred.tenant, "eventSubscriptions")
    assert writes(log) == [("POST", "subscribe")]
    assert [r["method"] for r in log].count("GET") >= 2  # listed again after the 500
    assert [s["name"] for s in emulator.extensibility(cred.tenant)["subscriptions"]] == [SUBSCRIPTIONS[0]["name"]]


def test_providers_workspace_is_write_only_and_removal_names_linked_subscriptions(run_playbook, emulator, openbao):
    cred = env(emulator, openbao)
    declared = [{"provider_id": PROVIDER_ID, "instance_id": "app-inst", "label": "App events",
                 "workspace_configuration": WORKSPACE}]
    linked = [dict(SUBSCRIPTIONS[0], provider_id=PROVIDER_ID)]
    tasks = [task(PROVIDER, "create", cred, providers=declared),
             task(PROVIDER, "again", cred, providers=declared),
             task(PROVIDER, "relabel", cred, providers=[dict(declared[0], label="App events v2")]),
             task(SUBSCRIPTION, "link", cred, subscriptions=linked),
             task(PROVIDER, "remove in use", cred, providers=[{"provider_id": PROVIDER_ID, "state": "absent"}],
                  ignore_errors=True)]
    result = run_playbook(play(tasks, emulator), json=True, diff=True, verbosity=4).assert_rc(0)
    assert WORKSPACE not in result.stdout and "workspace-secret-0003" not in result.stdout + result.stderr
    assert host_result(result, "again")["changed"] is False
    assert [c["action"] for c in host_result(result, "relabel")["changes"]] == ["updated"]
    msg = failed_msg(result, "remove in use")
    assert_one_sentence(msg)
    assert "The event provider '%s' cannot be removed" % PROVIDER_ID in msg  # Commerce's words, quotes made single
    assert SUBSCRIPTIONS[0]["name"] in msg
    stored = [p for p in emulator.extensibility(cred.tenant)["providers"] if p["provider_id"] == PROVIDER_ID]
    assert stored[0]["label"] == "App events v2" and stored[0]["workspace_configuration"] == WORKSPACE


def test_eventing_config_applies_once_and_reports_failed_checks(run_playbook, emulator, openbao):
    cred = env(emulator, openbao)
    bad = env(emulator, openbao, io_events_check="cannot_connect")
    options = dict(merchant_id="acme", environment_id="prod", provider_id=PROVIDER_ID, instance_id="acme-prod",
                   workspace_configuration=WORKSPACE)
    tasks = [task(EVENTING, "first", cred, **options), task(EVENTING, "again", cred, **options),
             task(EVENTING, "failing check", bad, require_ok=True, ignore_errors=True, **options)]
    result = run_playbook(play(tasks, emulator), json=True, verbosity=4).assert_rc(0)
    assert host_result(result, "first")["changed"] is True
    assert host_result(result, "again")["changed"] is False
    assert host_result(result, "first")["sent"] == ["enabled", "environment_id", "instance_id", "merchant_id",
                                                    "provider_id", "workspace_configuration"]
    assert [r["method"] for r in ext_log(emulator, cred.tenant, "eventingConfig")] == ["PUT"]
    msg = failed_msg(result, "failing check")
    assert_one_sentence(msg)
    assert "Adobe I/O Events check failed: the technical service account cannot connect to Adobe I/O Events" in msg
    assert WORKSPACE not in result.stdout


def test_an_export_applies_elsewhere(run_playbook, emulator, openbao):
    source = env(emulator, openbao)
    target = env(emulator, openbao)
    emulator.set_extensibility(source.tenant, webhooks=[HOOKS[1]], subscriptions=SUBSCRIPTIONS)
    tasks = [task(INFO, "export", source, gather=["webhooks", "subscriptions"]),
             task(WEBHOOK, "hooks", target, webhooks="{{ export.webhooks }}"),
             task(SUBSCRIPTION, "subs", target, subscriptions="{{ export.subscriptions }}"),
             task(WEBHOOK, "hooks again", target, webhooks="{{ export.webhooks }}"),
             task(SUBSCRIPTION, "subs again", target, subscriptions="{{ export.subscriptions }}")]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    assert host_result(result, "hooks")["changed"] is True and host_result(result, "subs")["changed"] is True
    assert host_result(result, "hooks again")["changed"] is False
    assert host_result(result, "subs again")["changed"] is False


def test_write_faults_never_duplicate(run_playbook, emulator, openbao):
    applied = env(emulator, openbao)
    throttled = env(emulator, openbao)
    expiring = env(emulator, openbao)
    # subscribe saved, then answered 502: the next list shows it, so nothing is sent again
    emulator.add_fault("accs.%s.webhooks" % applied.tenant, times=2, delay=0)      # list, supportedList
    emulator.add_fault("accs.%s.webhooks" % applied.tenant, times=1, status=502, process=True)
    # 429 with Retry-After: not processed, so the transport sends it again
    emulator.add_fault("accs.%s.webhooks" % throttled.tenant, times=2, delay=0)
    emulator.add_fault("accs.%s.webhooks" % throttled.tenant, times=1, status=429, retry_after=1)
    # the token expires mid-run: one refresh, the write once more
    emulator.add_fault("accs.%s.webhooks" % expiring.tenant, times=2, delay=0)
    emulator.add_fault("accs.%s.webhooks" % expiring.tenant, times=1, status=401)
    tasks = [task(WEBHOOK, name, cred, webhooks=[HOOKS[1]])
             for name, cred in (("applied", applied), ("throttled", throttled), ("expiring", expiring))]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    statuses = {name: [(r["method"], r["status"]) for r in ext_log(emulator, cred.tenant, "webhooks")]
                for name, cred in (("applied", applied), ("throttled", throttled), ("expiring", expiring))}
    assert statuses["applied"] == [("GET", 200), ("GET", 200), ("POST", 502), ("GET", 200)]
    assert statuses["throttled"] == [("GET", 200), ("GET", 200), ("POST", 429), ("POST", 200)]
    assert statuses["expiring"] == [("GET", 200), ("GET", 200), ("POST", 401), ("POST", 200)]
    assert host_result(result, "expiring")["token_refreshed"] is True
    for name, cred in (("applied", applied), ("throttled", throttled), ("expiring", expiring)):
        assert host_result(result, name)["changed"] is True, name
        assert len(emulator.extensibility(cred.tenant)["webhooks"]) == 1, name
