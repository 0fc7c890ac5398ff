"""Role extensibility and playbook deploy_extensibility.yml against OpenBao and the emulator (issue 15).

Each test seeds its own tenants, runs the role (or the shipped playbook) over an inventory the way
ops run it (group ``accs``, the wiring in group and host variables), then checks what the emulator
holds, its request log (writes carry ``ext_action``), the fact ``accs_extensibility_result``, the
failure sentences and the reports. Secrets are 12 characters or longer so that the session's secret
scan looks for them; header values that are not secret stay shorter (the emulator reports every
header value as a secret).
"""

from __future__ import annotations

import json

import pytest

from tests.integration.helpers import assert_no_secrets, assert_one_sentence, role_host, seed_credential
from tests.support.ansible_runner import installed_playbook

junitparser = pytest.importorskip("junitparser")

ROLE = "adobe_commerce.accs.extensibility"
FACT_TASKS = ("Record the App Builder wiring result", "Record why the App Builder wiring was not held")
FAIL_TASK = "Fail when the App Builder wiring drifted, was rejected or could not be held"
EXT_ENDPOINTS = ("webhooks", "eventSubscriptions", "eventProviders", "eventingConfig", "ioEventsCheck")

OAUTH_SECRET = "p8e-role-oauth-client-secret-0101"
BEARER = "Bearer role-shared-webhook-secret-0102"
WORKSPACE = '{"project": {"id": "4566206088344794932", "secret": "role-workspace-secret-0103"}}'
DEFAULT_WORKSPACE = '{"project": {"id": "4566206088344794999", "secret": "role-default-workspace-0104"}}'
SECRETS = (OAUTH_SECRET, BEARER, "role-shared-webhook-secret-0102", WORKSPACE, "role-workspace-secret-0103",
           DEFAULT_WORKSPACE, "role-default-workspace-0104")
PROVIDER_ID = "1902bc50-2d7e-41e8-955b-af4a9667823f"
DEFAULT_PROVIDER_ID = "ad667bc6-2d7e-41e8-955b-af4a96678200"

CART_HOOK = {
    "webhook_method": "observer.checkout_cart_product_add_before", "webhook_type": "before",
    "batch_name": "app_cart", "hook_name": "app_validate", "url": "https://stage.app.example/validate",
    "timeout": 2000, "fields": [{"name": "sku", "source": "data.product.sku"}],
    "headers": [{"name": "Authorization", "value": BEARER}, {"name": "X-App", "value": "cart"}],
    "developer_console_oauth": {"client_id": "app-client", "client_secret": OAUTH_SECRET, "org_id": "ORG1@AdobeOrg"},
}
ORDER_HOOK = {"webhook_method": "plugin.magento.sales.api.order_management.place", "webhook_type": "after",
              "batch_name": "app_orders", "hook_name": "app_notify", "url": "https://app.example/notify"}
PRODUCT_SUB = {"name": "app.observer.catalog_product_save_after", "parent": "observer.catalog_product_save_after",
               "fields": [{"name": "sku"}, {"name": "price"}], "provider_id": PROVIDER_ID}
LOGIN_SUB = {"name": "app.observer.customer_login", "parent": "observer.customer_login", "fields": [{"name": "email"}]}
PROVIDER = {"provider_id": PROVIDER_ID, "instance_id": "app-inst", "label": "App events",
            "workspace_configuration": WORKSPACE}
COMMON = {"webhooks": [CART_HOOK, ORDER_HOOK], "subscriptions": [PRODUCT_SUB], "providers": [PROVIDER]}
# production: the cart hook at its own URL (same identity, plugin.magento. spelling left alone), one more subscription
PRODUCTION = {"webhooks": [dict(CART_HOOK, url="https://prod.app.example/validate")], "subscriptions": [LOGIN_SUB]}
# what an audit of COMMON with PRODUCTION finds in an empty tenant: (kind, name, action), sorted
DRIFT_OF_COMMON_AND_PRODUCTION = [
    ("event provider", PROVIDER_ID, "created"),
    ("event subscription", "app.observer.catalog_product_save_after", "created"),
    ("event subscription", "app.observer.customer_login", "created"),
    ("webhook", "observer.checkout_cart_product_add_before before app_cart/app_validate", "created"),
    ("webhook", "plugin.sales.api.order_management.place after app_orders/app_notify", "created"),
]


@pytest.fixture(autouse=True)
def _scan_for_the_declared_secrets(secret_registry):
    """The session's secret scan looks for them in every kept file, whether the emulator saw them or not."""
    for value in SECRETS:
        secret_registry.add("extensibility role test secret", value)


def role_play(name="wiring"):
    return [{"name": name, "hosts": "accs", "gather_facts": False,
             "tasks": [{"name": "Run the extensibility role", "ansible.builtin.import_role": {"name": ROLE}}]}]


def inventory(hosts: dict, group_vars: dict | None = None) -> dict:
    group = {"hosts": hosts}
    if group_vars:
        group["vars"] = group_vars
    return {"all": {"children": {"accs": group}}}


def environment(emulator, openbao, **host_vars):
    cred = seed_credential(emulator, openbao, cache="valid", cache_expires_in=7200)
    return cred, role_host(emulator, cred, **host_vars)


def ext_records(emulator, tenant):
    return [r for r in emulator.requests(tenant=tenant) if r.get("endpoint") in EXT_ENDPOINTS]


def ext_writes(emulator, tenant):
    return [(r["endpoint"], r["method"], r.get("ext_action")) for r in ext_records(emulator, tenant)
            if r["method"] != "GET"]


def fact(result, host):
    for task in FACT_TASKS:
        try:
            found = result.task_results(task).get(host)
        except KeyError:
            continue
        if found and "ansible_facts" in found:
            return found["ansible_facts"]["accs_extensibility_result"]
    raise AssertionError("no accs_extensibility_result printed for %s" % host)


def assert_host_sentence(message, host, cred):
    """The role's failures: the environment and its URL, then one sentence (as the store configuration audit)."""
    prefix = "%s (%s): " % (host, cred.base_url)
    assert message.startswith(prefix), message
    assert_one_sentence(message[len(prefix):])


def no_secrets(result, *paths):
    assert_no_secrets(result.stdout + result.stderr + result.log, SECRETS)
    for path in paths:
        assert_no_secrets(path.read_text(encoding="utf-8"), SECRETS, where=path.name)


def held(emulator, tenant):
    state = emulator.extensibility(tenant)
    hooks = {h["hook_name"]: h for h in state["webhooks"]}
    subs = {s["name"]: s for s in state["subscriptions"] if s.get("enabled", True)}
    providers = {p["provider_id"]: p for p in state["providers"] if not p.get("default")}
    return hooks, subs, providers


# --------------------------------------------------------------------------- audit
def test_audit_reports_drift_with_zero_writes_and_fails_the_host(run_playbook, emulator, openbao, test_output_dir):
    reports = test_output_dir / "reports"
    cred, host = environment(emulator, openbao, accs_extensibility=PRODUCTION)
    group_vars = {"accs_extensibility_common": COMMON, "accs_audit_report_dir": str(reports)}
    result = run_playbook(role_play(), inventory=inventory({"prod": host}, group_vars), json=True, diff=True,
                          verbosity=4)
    assert result.rc == 2, result.stdout[-3000:]
    assert ext_writes(emulator, cred.tenant) == []
    gets = sorted(r["endpoint"] for r in ext_records(emulator, cred.tenant))
    # one list per kind (and the supported lists the modules check names against), the I/O Events check
    assert gets.count("webhooks") == 2 and gets.count("ioEventsCheck") == 1
    wiring = fact(result, "prod")
    assert wiring["mode"] == "audit" and wiring["passed"] is False and wiring["changes"] == []
    assert sorted((d["kind"], d["name"], d["action"]) for d in wiring["drift"]) == DRIFT_OF_COMMON_AND_PRODUCTION
    cart = next(d for d in wiring["drift"] if d["name"].endswith("app_cart/app_validate"))
    assert cart["after"]["url"] == "https://prod.app.example/validate"  # the host's item won
    assert cart["after"]["developer_console_oauth"]["client_secret"] == "(sensitive)"
    assert wiring["io_events_check"]["status"] == "error"  # reported; not required by default
    message = result.task_results(FAIL_TASK)["prod"]["msg"]
    assert_host_sentence(message, "prod", cred)
    assert message.startswith("prod (%s): The App Builder wiring differs from its declaration in 5 items: " % cred.base_url)
    assert "webhook plugin.sales.api.order_management.place after app_orders/app_notify would be created" in message
    assert message.endswith("; set accs_extensibility_mode: enforce to apply them, or change the declaration.")
    assert "(sensitive)" in result.stdout  # --diff shows the items, secrets masked
    files = sorted(p.name for p in reports.iterdir())
    assert files == ["prod-extensibility.json", "prod-extensibility.junit.xml", "prod-extensibility.md"]
    document = json.loads((reports / "prod-extensibility.json").read_text())
    assert document["passed"] is False and len(document["drift"]) == 5 and document["base_url"] == cred.base_url
    suite = next(iter(junitparser.JUnitXml.fromfile(str(reports / "prod-extensibility.junit.xml"))))
    assert (suite.tests, suite.failures, suite.errors) == (6, 5, 0)  # five items and the I/O Events check (skipped)
    markdown = (reports / "prod-extensibility.md").read_text()
    assert markdown.startswith("# App Builder wiring audit: prod\n") and "## Drift" in markdown
    no_secrets(result, *reports.iterdir())


# --------------------------------------------------------------------------- enforce
def test_enforce_applies_the_merged_wiring_then_holds_it_with_zero_writes(run_playbook, emulator, openbao,
                                                                          test_output_dir):
    reports = test_output_dir / "reports"
    eventing = {"merchant_id": "acme", "environment_id": "prod", "provider_id": DEFAULT_PROVIDER_ID,
                "instance_id": "acme-prod", "workspace_configuration": DEFAULT_WORKSPACE}
    cred, host = environment(emulator, openbao, accs_extensibility=PRODUCTION, accs_eventing_config=eventing,
                             accs_extensibility_require_io_events_ok=True)
    inv = inventory({"prod": host}, {"accs_extensibility_common": COMMON, "accs_extensibility_mode": "enforce",
                                     "accs_audit_report_dir": str(reports)})
    first = run_playbook(role_play(), inventory=inv, json=True, diff=True).assert_rc(0)
    writes = ext_writes(emulator, cred.tenant)
    assert writes == [("eventingConfig", "PUT", "configure"), ("eventProviders", "POST", "create"),
                      ("eventSubscriptions", "POST", "subscribe"), ("eventSubscriptions", "POST", "subscribe"),
                      ("webhooks", "POST", "subscribe"), ("webhooks", "POST", "subscribe")]
    hooks, subs, providers = held(emulator, cred.tenant)
    assert hooks["app_validate"]["url"] == "https://prod.app.example/validate"
    assert hooks["app_validate"]["developer_console_oauth"]["client_secret"] == OAUTH_SECRET
    assert hooks["app_notify"]["webhook_method"] == "plugin.sales.api.order_management.place"
    assert set(subs) == {"app.observer.catalog_product_save_after", "app.observer.customer_login"}
    assert subs["app.observer.catalog_product_save_after"]["provider_id"] == PROVIDER_ID
    assert providers[PROVIDER_ID]["workspace_configuration"] == WORKSPACE
    wiring = fact(first, "prod")
    assert wiring["passed"] is True and wiring["drift"] == [] and len(wiring["changes"]) == 6
    assert wiring["io_events_check"] == {"status": "ok", "failed": []}
    assert wiring["message"].startswith("Made 6 changes to the App Builder wiring: the eventing configuration "
                                        "configured (enabled, environment_id, instance_id, merchant_id, provider_id, "
                                        "workspace_configuration); event provider %s created" % PROVIDER_ID)

    second = run_playbook(role_play(), inventory=inv, json=True).assert_rc(0)
    assert ext_writes(emulator, cred.tenant) == writes, "the second run wrote"
    again = fact(second, "prod")
    assert again["changes"] == [] and again["passed"] is True and again["unchanged"] == 5
    assert again["message"] == ("The App Builder wiring holds its declared state (2 webhooks, 2 event subscriptions, "
                                "1 event provider).")
    assert second.stats["prod"]["changed"] == 0, second.stats
    document = json.loads((reports / "prod-extensibility.json").read_text())
    assert document["passed"] is True and document["changes"] == []
    no_secrets(first, *reports.iterdir())
    no_secrets(second)


# --------------------------------------------------------------------------- pruning
def test_prune_stays_under_the_owner_prefix_and_removes_subscriptions_before_providers(run_playbook, emulator,
                                                                                       openbao):
    cred, host = environment(emulator, openbao)
    other_hook = {"webhook_method": "observer.sales_quote_add_item", "webhook_type": "after", "batch_name": "other_b",
                  "hook_name": "other_h", "url": "https://other.example/h"}
    stale_hook = {"webhook_method": "observer.sales_order_place_before", "webhook_type": "before",
                  "batch_name": "app_old", "hook_name": "app_stale", "url": "https://app.example/old"}
    stale_sub = {"name": "app.observer.sales_order_save_commit_after",
                 "parent": "observer.sales_order_save_commit_after", "fields": [{"name": "entity_id"}],
                 "provider_id": PROVIDER_ID}
    other_sub = {"name": "other.observer.customer_login", "parent": "observer.customer_login",
                 "fields": [{"name": "email"}]}
    emulator.set_extensibility(cred.tenant, webhooks=[ORDER_HOOK, other_hook, stale_hook],
                               subscriptions=[stale_sub, other_sub],
                               providers=[{"provider_id": PROVIDER_ID, "instance_id": "app-inst", "label": "Old"}])
    wiring = {"webhooks": [ORDER_HOOK], "subscriptions": [LOGIN_SUB],
              "providers": [{"provider_id": PROVIDER_ID, "state": "absent"}]}
    host.update(accs_extensibility=wiring, accs_extensibility_mode="enforce", accs_extensibility_prune=True,
                accs_extensibility_owner_prefix={"webhooks": "app_", "subscriptions": "app."},
                accs_extensibility_io_events_check=False)
    result = run_playbook(role_play(), inventory=inventory({"prod": host}), json=True).assert_rc(0)
    writes = ext_writes(emulator, cred.tenant)
    assert writes == [("eventSubscriptions", "POST", "subscribe"), ("eventSubscriptions", "POST", "unsubscribe"),
                      ("webhooks", "POST", "unsubscribe"), ("eventProviders", "DELETE", "delete")]
    hooks, subs, providers = held(emulator, cred.tenant)
    assert set(hooks) == {"app_notify", "other_h"}
    assert set(subs) == {"app.observer.customer_login", "other.observer.customer_login"}
    assert providers == {}
    removed = sorted((c["kind"], c["name"]) for c in fact(result, "prod")["changes"] if c["action"] == "removed")
    assert removed == [("event provider", PROVIDER_ID),
                       ("event subscription", "app.observer.sales_order_save_commit_after"),
                       ("webhook", "observer.sales_order_place_before before app_old/app_stale")]


def test_prune_without_an_owner_prefix_is_refused_before_any_request(run_playbook, emulator, openbao):
    cred, host = environment(emulator, openbao, accs_extensibility={"webhooks": [ORDER_HOOK]},
                             accs_extensibility_mode="enforce", accs_extensibility_prune=True)
    result = run_playbook(role_play(), inventory=inventory({"prod": host}), json=True)
    assert result.rc == 2
    message = result.task_results(FAIL_TASK)["prod"]["msg"]
    assert_host_sentence(message, "prod", cred)
    assert "Pruning (accs_extensibility_prune) needs accs_extensibility_owner_prefix" in message
    assert ext_records(emulator, cred.tenant) == []


# --------------------------------------------------------------------------- rejected items and failures
def test_a_rejected_item_fails_the_host_naming_it_while_the_rest_is_applied(
        run_playbook, emulator, openbao, test_output_dir):
    reports = test_output_dir / "reports"
    unknown = dict(LOGIN_SUB, name="app.observer.customer_login", provider_id="no-such-provider-0001")
    cred, host = environment(emulator, openbao, accs_extensibility_mode="enforce", accs_audit_report_dir=str(reports),
                             accs_extensibility={"webhooks": [ORDER_HOOK],
                                                 "subscriptions": [unknown, dict(PRODUCT_SUB, provider_id=None)]})
    result = run_playbook(role_play(), inventory=inventory({"prod": host}), json=True)
    assert result.rc == 2
    message = result.task_results(FAIL_TASK)["prod"]["msg"]
    assert_host_sentence(message, "prod", cred)
    assert message.startswith("prod (%s): ACCS rejected 1 item of the App Builder wiring (event subscription "
                              "app.observer.customer_login: " % cred.base_url)
    assert "The event provider id 'no-such-provider-0001' is not configured" in message
    assert message.endswith("the other 2 changes were applied. Fix or remove the rejected item and run again.")
    hooks, subs, _providers = held(emulator, cred.tenant)
    assert set(hooks) == {"app_notify"} and set(subs) == {"app.observer.catalog_product_save_after"}
    wiring = fact(result, "prod")
    assert [(r["kind"], r["name"]) for r in wiring["rejected"]] == [("event subscription",
                                                                    "app.observer.customer_login")]
    suite = next(iter(junitparser.JUnitXml.fromfile(str(reports / "prod-extensibility.junit.xml"))))
    assert suite.failures == 1
    assert "## Rejected" in (reports / "prod-extensibility.md").read_text()


def test_a_required_io_events_check_that_fails_stops_before_any_write(run_playbook, emulator, openbao):
    cred, host = environment(emulator, openbao, accs_extensibility={"webhooks": [ORDER_HOOK]},
                             accs_extensibility_mode="enforce", accs_extensibility_require_io_events_ok=True)
    result = run_playbook(role_play(), inventory=inventory({"prod": host}), json=True)
    assert result.rc == 2
    message = result.task_results(FAIL_TASK)["prod"]["msg"]
    assert_host_sentence(message, "prod", cred)
    assert "The Adobe I/O Events check failed: no technical service account is configured" in message
    assert ext_writes(emulator, cred.tenant) == []
    assert fact(result, "prod")["steps"]["webhooks"] == "not run"


# --------------------------------------------------------------------------- the pipeline playbook
def test_deploy_playbook_dry_run_writes_nothing_then_applies_and_fails_on_rejected(run_playbook, emulator, openbao,
                                                                                   collection_path, test_output_dir):
    reports = test_output_dir / "reports"
    sandbox, sandbox_vars = environment(emulator, openbao)
    production, production_vars = environment(emulator, openbao, accs_extensibility={
        "subscriptions": [dict(LOGIN_SUB, provider_id="no-such-provider-0002")]})
    common = {"webhooks": [ORDER_HOOK, CART_HOOK], "subscriptions": [dict(PRODUCT_SUB, provider_id=None)]}
    inv = inventory({"sandbox": sandbox_vars, "production": production_vars},
                    {"accs_extensibility_common": common, "accs_audit_report_dir": str(reports)})
    playbook = installed_playbook(collection_path, "deploy_extensibility.yml")

    dry = run_playbook(playbook, inventory=inv, check=True, diff=True, json=True)
    assert dry.rc == 0, dry.stdout[-3000:]
    for cred in (sandbox, production):
        assert ext_writes(emulator, cred.tenant) == []
    assert not reports.exists()
    assert "(sensitive)" in dry.stdout and '"url": "https://app.example/notify"' in dry.stdout
    lines = dry.task_results("Show the summary")["localhost"]["msg"]
    assert lines[0] == ("2 environments: 2 to change (sandbox, production), 0 failed; check mode: nothing was "
                        "written.")
    assert lines[1].startswith("sandbox: Would make 3 changes to the App Builder wiring: event subscription "
                               "app.observer.catalog_product_save_after would be created")

    apply = run_playbook(playbook, inventory=inv, diff=True, json=True)
    assert apply.rc == 2, apply.stdout[-3000:]
    assert [w[2] for w in ext_writes(emulator, sandbox.tenant)] == ["subscribe"] * 3
    hooks, subs, _providers = held(emulator, production.tenant)
    assert set(hooks) == {"app_notify", "app_validate"} and set(subs) == {"app.observer.catalog_product_save_after"}
    lines = apply.task_results("Show the summary")["localhost"]["msg"]
    assert lines[0] == "2 environments: 2 changed (sandbox, production), 1 failed (production)."
    assert lines[2].startswith("production: FAILED: production (%s): ACCS rejected 1 item" % production.base_url)
    final = apply.task_results("Fail the environment with its failure")
    assert set(final) == {"production"} and "app.observer.customer_login" in final["production"]["msg"]
    assert apply.stats["sandbox"]["failed"] == 0 and apply.stats["production"]["failed"] == 1

    again = run_playbook(playbook, inventory=inv, json=True)
    assert ext_writes(emulator, sandbox.tenant) == [("eventSubscriptions", "POST", "subscribe"),
                                                    ("webhooks", "POST", "subscribe"),
                                                    ("webhooks", "POST", "subscribe")]
    assert again.task_results("Show the summary")["localhost"]["msg"][1] == (
        "sandbox: The App Builder wiring holds its declared state (2 webhooks, 1 event subscription, 0 event "
        "providers).")
    no_secrets(dry)
    no_secrets(apply, *reports.iterdir())


# --------------------------------------------------------------------------- the fleet report
def test_fleet_report_shows_the_wiring_column_for_the_hosts_the_role_ran_on(run_playbook, emulator, openbao,
                                                                            test_output_dir):
    reports = test_output_dir / "reports"
    held_cred, held_vars = environment(emulator, openbao, accs_extensibility={"webhooks": [ORDER_HOOK]})
    emulator.set_extensibility(held_cred.tenant, webhooks=[ORDER_HOOK])
    _drift_cred, drift_vars = environment(emulator, openbao, accs_extensibility={"webhooks": [ORDER_HOOK]})
    _other, other_vars = environment(emulator, openbao)
    hosts = {"held": dict(held_vars, accs_extensibility_fail_on_drift=False),
             "drifted": dict(drift_vars, accs_extensibility_fail_on_drift=False), "untouched": other_vars}
    playbook = [{"name": "wiring", "hosts": "accs:!untouched", "gather_facts": False,
                 "tasks": [{"name": "Run the extensibility role", "ansible.builtin.import_role": {"name": ROLE}}]},
                {"name": "fleet", "hosts": "localhost", "connection": "local", "gather_facts": False,
                 "tasks": [{"name": "Write the fleet report", "adobe_commerce.accs.accs_fleet_report": {
                     "hosts": "{{ groups['accs'] }}", "dest": str(reports / "fleet.html")}}]}]
    run_playbook(playbook, inventory=inventory(hosts, {"accs_audit_report_dir": str(reports)}), json=True).assert_rc(0)
    page = (reports / "fleet.html").read_text(encoding="utf-8")
    assert '<th id="extensibility"' in page
    assert 'data-extensibility="in sync"' in page and 'data-extensibility="1 drift"' in page
    assert 'data-extensibility="not-run"' in page  # the host the role did not run on
    assert "App Builder wiring: 1 drift" in page and 'href="drifted-extensibility.md"' in page


def test_two_apps_in_one_play_each_hold_their_own_wiring(run_playbook, emulator, openbao):
    """The role run twice (two apps, two owner prefixes): pruning one app's items never touches the other's,
    and a failure of the second run is not mixed with the first run's answers."""
    cred, host = environment(emulator, openbao, accs_extensibility_mode="enforce", accs_extensibility_prune=True,
                             accs_extensibility_io_events_check=False)
    other = {"webhook_method": "observer.sales_quote_add_item", "webhook_type": "after", "batch_name": "other_b",
             "hook_name": "other_h", "url": "https://other.example/h"}
    apps = [("app_", {"webhooks": [ORDER_HOOK]}), ("other_", {"webhooks": [other]}),
            ("third_", {"subscriptions": [{"name": "third.observer.nope", "parent": "observer.nope"}]})]
    tasks = [{"name": "Wire %s" % prefix, "ansible.builtin.include_role": {"name": ROLE},
              "vars": {"accs_extensibility_owner_prefix": {"webhooks": prefix, "subscriptions": prefix[:-1] + "."},
                       "accs_extensibility": wiring}}
             for prefix, wiring in apps]
    playbook = [{"name": "apps", "hosts": "accs", "gather_facts": False, "tasks": tasks}]
    result = run_playbook(playbook, inventory=inventory({"prod": host}), json=True)
    assert result.rc == 2 and result.stats["prod"]["failed"] == 1, result.stdout[-3000:]
    hooks, _subs, _providers = held(emulator, cred.tenant)
    assert set(hooks) == {"app_notify", "other_h"}  # the second app's pruning left the first app's hook alone
    third = result.task_results("Record why the App Builder wiring was not held")["prod"]["ansible_facts"][
        "accs_extensibility_result"]
    assert third["error"].startswith("Event subscription third.observer.nope is for event observer.nope, which ACCS")
    assert third["changes"] == [] and third["steps"]["webhooks"] == "not run"  # not the other apps' answers


def test_the_wiring_column_next_to_audit_fleet(run_playbook, emulator, openbao, test_output_dir):
    """audit_fleet audits the declared wiring itself (one list GET for the one declared kind, nothing written) and
    its fleet page shows the App Builder wiring column next to the store audit; no system configuration is declared,
    so that part is not audited and its column is left out."""
    reports = test_output_dir / "reports"
    cred, host = environment(emulator, openbao, accs_extensibility={"webhooks": [ORDER_HOOK]},
                             accs_extensibility_fail_on_drift=False)
    result = run_playbook([{"ansible.builtin.import_playbook": "adobe_commerce.accs.audit_fleet"}],
                          inventory=inventory({"prod": host}), extra_vars={"accs_audit_report_dir": str(reports)},
                          json=True)
    result.assert_rc(0)
    audited = result.task_results("Audit the store and system configuration, the App Builder wiring and the "
                                  "credential")["prod"]
    assert audited["extensibility"]["drift"][0]["action"] == "created" and "system_config" not in audited
    # the list, then (a webhook would be created) the supported list its name is checked against, as the role does
    assert [(r["method"], r["path"].rsplit("/V1/", 1)[1]) for r in ext_records(emulator, cred.tenant)] == [
        ("GET", "webhooks/list"), ("GET", "webhooks/supportedList")]
    page = (reports / "fleet-audit.html").read_text(encoding="utf-8")
    assert '<th id="system-config"' not in page and '<th id="extensibility"' in page
    assert 'data-extensibility="1 drift"' in page


def test_audit_fleet_audits_the_wiring_as_the_role_does_with_one_list_per_kind(run_playbook, emulator, openbao,
                                                                               test_output_dir):
    """audit_fleet (one accs_audit task) finds the drift the role finds, writes nothing, reads each kind's list once
    (the providers once although a subscription names one), and shows no secret at -vvvv with --diff; once the role
    has enforced the wiring, audit_fleet passes with the same single reads."""
    reports = test_output_dir / "reports"
    cred, host = environment(emulator, openbao, accs_extensibility=PRODUCTION)
    inv = inventory({"prod": host}, {"accs_extensibility_common": COMMON, "accs_audit_report_dir": str(reports)})
    fleet = [{"ansible.builtin.import_playbook": "adobe_commerce.accs.audit_fleet"}]
    audit_task = "Audit the store and system configuration, the App Builder wiring and the credential"

    result = run_playbook(fleet, inventory=inv, json=True, diff=True, verbosity=4)
    assert result.rc == 2, result.stdout[-3000:]
    assert ext_writes(emulator, cred.tenant) == []
    wiring = result.task_results(audit_task)["prod"]["extensibility"]
    assert sorted((d["kind"], d["name"], d["action"]) for d in wiring["drift"]) == DRIFT_OF_COMMON_AND_PRODUCTION
    message = result.task_results("Fail the environment with its audit failures")["prod"]["msg"]
    assert message.startswith("prod (%s): The App Builder wiring differs from its declaration in 5 items: "
                              % cred.base_url)
    assert "(sensitive)" in result.stdout  # --diff shows the items, secrets masked
    no_secrets(result, *reports.iterdir())

    run_playbook(role_play(), inventory=inventory({"prod": dict(host, accs_extensibility_mode="enforce")},
                                                  {"accs_extensibility_common": COMMON}), json=True).assert_rc(0)
    writes = ext_writes(emulator, cred.tenant)
    emulator.clear_requests()
    again = run_playbook(fleet, inventory=inv, json=True, verbosity=4)
    again.assert_rc(0)
    assert again.task_results(audit_task)["prod"]["extensibility"]["passed"] is True
    assert sorted((r["method"], r["path"].rsplit("/V1/", 1)[1]) for r in ext_records(emulator, cred.tenant)) == [
        ("GET", "eventing/eventProvider"), ("GET", "eventing/getEventSubscriptions"), ("GET", "webhooks/list")]
    assert ext_writes(emulator, cred.tenant) == [] and writes
    no_secrets(again, *reports.iterdir())
