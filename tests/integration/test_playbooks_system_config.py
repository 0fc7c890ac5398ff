"""Playbooks audit_fleet.yml, export_system_config.yml and promote_system_config.yml against OpenBao and the
emulator, run as installed from the built collection.

Two environments per test, each its own tenant and credential: ``sandbox`` (system configuration changed on
purpose, with a base URL of its own and a payment credential) and ``production`` (a fresh tenant). The tests check
what the runs printed and returned, the files they wrote, what the emulator holds afterwards and the requests it
saw (PUTs of ``/V1/system/config`` per tenant).
"""

from __future__ import annotations

import html.parser
import json

import pytest
import yaml

from tests.emulator import data as tenant_data
from tests.integration.helpers import accs_requests, assert_no_secrets, role_host, seed_credential
from tests.support.ansible_runner import installed_playbook

SANDBOX_BASE_URL = "https://sandbox.example.com/"
SANDBOX_CONFIG = [
    {"path": "general/locale/code", "value": "en_GB"},
    {"path": "general/store_information/name", "value": "Example Store"},
    {"path": "carriers/flatrate/price", "value": "9.00", "scope": "website", "scope_code": "base"},
    {"path": "web/unsecure/base_url", "value": SANDBOX_BASE_URL},
    {"path": "web/secure/base_url", "value": SANDBOX_BASE_URL},
    {"path": "web/cookie/cookie_domain", "value": "sandbox.example.com"},
    {"path": "general/store_information/phone", "value": "+44 20 0000 0000", "scope": "store", "scope_code": "uk"},
]


def sandbox_tenant() -> dict:
    views = tenant_data.default_store_views()
    views.append({"id": 3, "code": "uk", "name": "UK Store View", "website_id": 1, "store_group_id": 1,
                  "is_active": 1})
    configs = tenant_data.default_store_configs()
    uk = dict(next(c for c in configs if c["code"] == "default"), id=3, code="uk", locale="en_GB")
    return {"storeViews": views, "storeConfigs": configs + [uk]}


class Envs:
    def __init__(self, emulator, openbao, secret_registry):
        self.emulator = emulator
        self.sandbox = seed_credential(emulator, openbao, cache="valid", cache_expires_in=20 * 3600,
                                       tenant_data=sandbox_tenant())
        self.production = seed_credential(emulator, openbao, cache="valid", cache_expires_in=20 * 3600)
        self.api_key = "sk_sandbox_" + self.sandbox.client_id[-12:] + "_payments"
        secret_registry.add("test payment credential", self.api_key)
        emulator.set_system_config(self.sandbox.tenant, SANDBOX_CONFIG + [
            {"path": "payment/stripe_payments/api_key", "value": self.api_key}], replace=False)
        self.production_before = self.held("production")

    def cred(self, name):
        return getattr(self, name)

    def held(self, name) -> dict:
        return {(i["path"], i["scope"], i.get("scope_code")): i["value"]
                for i in self.emulator.system_config(self.cred(name).tenant)}

    def puts(self, name) -> list:
        return [r for r in accs_requests(self.emulator, self.cred(name).tenant, "systemConfig") if r["method"] == "PUT"]

    def inventory(self, group_vars=None, **per_host) -> dict:
        hosts = {name: role_host(self.emulator, self.cred(name), **per_host.get(name, {}))
                 for name in ("sandbox", "production")}
        return {"all": {"children": {"accs": {"hosts": hosts, "vars": dict(group_vars or {})}}}}

    def secrets(self):
        return [self.api_key] + [getattr(self.cred(n), k) for n in ("sandbox", "production")
                                 for k in ("client_secret", "refresh_token", "access_token")]


@pytest.fixture
def envs(emulator, openbao, secret_registry):
    return Envs(emulator, openbao, secret_registry)


def playbook(collection_path, name):
    return installed_playbook(collection_path, name)


# --------------------------------------------------------------------------- promote
def test_promote_check_then_apply(envs, run_playbook, collection_path, test_output_dir):
    reports = test_output_dir / "promotion"
    extra = {"accs_promote_from": "sandbox", "accs_promote_to": "production", "accs_promote_report_dir": str(reports)}
    review = run_playbook(playbook(collection_path, "promote_system_config.yml"), inventory=envs.inventory(),
                          extra_vars=extra, check=True, diff=True, json=True)
    review.assert_rc(0)
    assert envs.puts("production") == [] and envs.puts("sandbox") == []
    assert envs.held("production") == envs.production_before
    document = json.loads((reports / "sandbox-to-production-promotion.json").read_text())
    assert document["source"] == "sandbox" and document["check_mode"] is True
    [target] = document["targets"]
    assert target["host"] == "production" and target["passed"] is True and target["check_mode"] is True
    changed = {(c["path"], c["scope"], c["scope_code"]): (c["before"], c["after"]) for c in target["changed"]}
    assert changed == {
        ("general/locale/code", "default", None): ("en_US", "en_GB"),
        ("general/store_information/name", "default", None): (None, "Example Store"),
        ("carriers/flatrate/price", "website", "base"): (None, "9.00"),
    }
    excluded = {(e["path"], e["scope"], e["scope_code"]): e["rule"] for e in target["excluded"]}
    assert excluded[("web/unsecure/base_url", "default", None)] == "exclude web/*/base_url"
    assert excluded[("web/secure/base_url", "default", None)] == "exclude web/*/base_url"
    assert excluded[("web/cookie/cookie_domain", "default", None)] == "exclude web/cookie/cookie_domain"
    assert excluded[("payment/stripe_payments/api_key", "default", None)] == "sensitive path"
    assert excluded[("general/store_information/phone", "store", "uk")] == "scope code not in the target"
    assert len(target["unchanged"]) > 100  # every other visible path already equal
    assert target["rejected"] == []
    markdown = (reports / "sandbox-to-production-promotion.md").read_text()
    assert "### To change" in markdown and "| general/locale/code | default | - | `\"en_US\"` | `\"en_GB\"` |" in markdown
    assert "| payment/stripe_payments/api_key | default | - | sensitive path |" in markdown
    assert "-en_US\n+en_GB\n" in review.stdout
    summary = review.task_results("Show the promotion summary")["localhost"]["msg"]
    assert summary[0].startswith("production: Would write 3 of ")

    applied = run_playbook(playbook(collection_path, "promote_system_config.yml"), inventory=envs.inventory(),
                           extra_vars=extra, json=True)
    applied.assert_rc(0)
    assert len(envs.puts("production")) == 1 and envs.puts("sandbox") == []
    now = envs.held("production")
    assert now[("general/locale/code", "default", None)] == "en_GB"
    assert now[("general/store_information/name", "default", None)] == "Example Store"
    assert now[("carriers/flatrate/price", "website", "base")] == "9.00"
    for key in (("web/unsecure/base_url", "default", None), ("web/secure/base_url", "default", None)):
        assert now[key] == envs.production_before[key] == "https://www.example.com/"
    assert ("payment/stripe_payments/api_key", "default", None) not in now
    assert ("web/cookie/cookie_domain", "default", None) not in now
    document = json.loads((reports / "sandbox-to-production-promotion.json").read_text())
    assert document["check_mode"] is False and len(document["targets"][0]["changed"]) == 3

    again = run_playbook(playbook(collection_path, "promote_system_config.yml"), inventory=envs.inventory(),
                         extra_vars=extra, json=True)
    again.assert_rc(0)
    assert len(envs.puts("production")) == 1, "a second promotion wrote again"
    assert again.task_results("Write the promoted settings that differ")["production"]["changed"] is False
    for run in (review, applied, again):
        assert_no_secrets(run.stdout + run.stderr + run.log, envs.secrets())
    for path in reports.iterdir():
        assert_no_secrets(path.read_text(), envs.secrets(), str(path))


def test_promote_names_rejected_items_and_keeps_the_others(envs, run_playbook, collection_path, test_output_dir):
    envs.emulator.restrict_system_config(envs.production.client_id, ["carriers/*"])
    reports = test_output_dir / "promotion"
    try:
        result = run_playbook(playbook(collection_path, "promote_system_config.yml"), inventory=envs.inventory(),
                              extra_vars={"accs_promote_from": "sandbox", "accs_promote_to": "accs",
                                          "accs_promote_include": [
                                              "general/locale/*", "general/store_information/*",
                                              "carriers/flatrate/price"],
                                          "accs_promote_report_dir": str(reports)}, json=True)
    finally:
        envs.emulator.restrict_system_config(envs.production.client_id, [])
    assert result.rc == 2
    assert result.stats["production"]["failed"] == 1 and result.stats["sandbox"]["failed"] == 0
    assert envs.held("production")[("general/locale/code", "default", None)] == "en_GB"
    message = result.task_results("Fail the target with its promotion failure")["production"]["msg"]
    assert "rejected 2 settings (" in message
    for label in ("carriers/flatrate/price at default scope: ", "carriers/flatrate/price at website 'base': "):
        assert label in message
    assert "the other 2 were saved" in message
    document = json.loads((reports / "sandbox-to-accs-promotion.json").read_text())
    [target] = document["targets"]
    assert [(r["path"], r["scope"]) for r in target["rejected"]] == [
        ("carriers/flatrate/price", "default"), ("carriers/flatrate/price", "website")]
    assert target["passed"] is False
    # include narrowed what was read
    assert all(c["path"].startswith(("general/locale/", "general/store_information/", "carriers/flatrate/price"))
               for c in target["changed"] + target["unchanged"] + target["excluded"])


def test_promote_refuses_missing_variables(envs, run_playbook, collection_path):
    result = run_playbook(playbook(collection_path, "promote_system_config.yml"), inventory=envs.inventory(),
                          extra_vars={"accs_promote_to": "production"}, json=True)
    assert result.rc == 2
    message = result.task_results("Check the source and the targets")["localhost"]["msg"]
    assert message.startswith("Set accs_promote_from to one inventory host")
    assert envs.puts("production") == []


# --------------------------------------------------------------------------- export
def test_export_writes_variable_files_that_reapply_with_no_change(envs, run_playbook, collection_path,
                                                                  test_output_dir):
    out = test_output_dir / "export"
    result = run_playbook(playbook(collection_path, "export_system_config.yml"), inventory=envs.inventory(),
                          extra_vars={"accs_export_dir": str(out), "accs_export_common": True}, json=True)
    result.assert_rc(0)
    files = {p.relative_to(out).as_posix() for p in out.rglob("*.yml")}
    assert files == {"group_vars/accs/system_config.yml", "host_vars/sandbox/system_config.yml",
                     "host_vars/production/system_config.yml"}
    common_text = (out / "group_vars/accs/system_config.yml").read_text()
    sandbox_text = (out / "host_vars/sandbox/system_config.yml").read_text()
    production_text = (out / "host_vars/production/system_config.yml").read_text()
    common = yaml.safe_load(common_text.replace("!unsafe ", ""))["accs_system_config_common"]
    sandbox = yaml.safe_load(sandbox_text.replace("!unsafe ", ""))["accs_system_config"]
    production = yaml.safe_load(production_text.replace("!unsafe ", ""))["accs_system_config"]
    by_key = {(s["path"], s["scope"], s.get("scope_code")): s["value"] for s in sandbox}
    assert by_key[("general/locale/code", "default", None)] == "en_GB"
    assert by_key[("web/unsecure/base_url", "default", None)] == SANDBOX_BASE_URL
    assert by_key[("general/store_information/phone", "store", "uk")] == "+44 20 0000 0000"
    assert {(s["path"], s["scope"], s.get("scope_code")): s["value"] for s in production}[
        ("general/locale/code", "default", None)] == "en_US"
    common_keys = {(s["path"], s["scope"], s.get("scope_code")) for s in common}
    assert ("currency/options/base", "default", None) in common_keys
    assert ("general/locale/code", "default", None) not in common_keys
    assert "!unsafe \"{{unsecure_base_url}}\"" in common_text  # Commerce's templated default, kept as written
    assert "Each environment's own settings" in common_text
    # sensitive paths: left out, named in a comment, value nowhere
    assert "#   payment/stripe_payments/api_key default" in sandbox_text
    assert "payment/stripe_payments/api_key" not in "\n".join(
        line for line in sandbox_text.splitlines() if not line.startswith("#"))
    assert_no_secrets(sandbox_text + common_text + production_text + result.stdout + result.log, envs.secrets())

    # the files, as an inventory's group_vars and host_vars, hold what the environments hold: enforce writes nothing
    inventory_dir = test_output_dir / "inventory"
    (inventory_dir / "group_vars" / "accs").mkdir(parents=True)
    (inventory_dir / "group_vars" / "accs" / "system_config.yml").write_text(common_text)
    for name, text in (("sandbox", sandbox_text), ("production", production_text)):
        (inventory_dir / "host_vars" / name).mkdir(parents=True)
        (inventory_dir / "host_vars" / name / "system_config.yml").write_text(text)
    (inventory_dir / "hosts.yml").write_text(yaml.safe_dump(envs.inventory(
        group_vars={"accs_system_config_mode": "enforce", "accs_audit_report_dir": str(test_output_dir / "r")})))
    reapply = run_playbook([{"name": "hold the export", "hosts": "accs", "gather_facts": False, "tasks": [
        {"name": "Run the role", "ansible.builtin.import_role": {"name": "adobe_commerce.accs.system_config"}}]}],
        inventory=inventory_dir / "hosts.yml", json=True)
    reapply.assert_rc(0)
    results = reapply.task_results("Hold the declared system configuration (check mode in audit mode)")
    for name in ("sandbox", "production"):
        assert results[name]["changed"] is False and results[name]["unchanged"] > 100, results[name]
    assert envs.puts("sandbox") == [] and envs.puts("production") == []


# --------------------------------------------------------------------------- audit_fleet
class _Cells(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.headers, self._row = {}, [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-env" in attrs:
            self._row = attrs["data-env"]
            self.rows[self._row] = {"status": attrs["data-status"]}
        if tag == "td" and self._row and "data-sysconfig" in attrs:
            self.rows[self._row]["sysconfig"] = attrs
        if tag == "th" and attrs.get("id"):
            self.headers.append(attrs["id"])


def test_audit_fleet_one_report_with_both_audits(envs, run_playbook, collection_path, test_output_dir):
    reports = test_output_dir / "reports"
    declared = [{"path": "general/locale/code", "value": "en_GB"},
                {"path": "carriers/flatrate/price", "value": 9, "scope": "website", "scope_code": "base"}]
    inventory = envs.inventory(
        group_vars={"accs_system_config_common": declared,
                    # audit_fleet audits whatever the inventory says: nothing is written
                    "accs_system_config_mode": "enforce"},
        production={"accs_expected_store_configs": {"default": {"locale": "en_US"}}})
    result = run_playbook(playbook(collection_path, "audit_fleet.yml"), inventory=inventory,
                          extra_vars={"accs_audit_report_dir": str(reports)}, json=True)
    assert result.rc == 2, result.stdout[-3000:]
    assert envs.puts("production") == [] and envs.puts("sandbox") == []
    assert result.stats["sandbox"]["failed"] == 0 and result.stats["production"]["failed"] == 1
    failure = result.task_results("Fail the environment with its audit failures")["production"]["msg"]
    assert failure.startswith("production (%s): 2 of 2 declared settings differ" % envs.production.base_url)
    names = sorted(p.name for p in reports.iterdir())
    assert names == sorted(["fleet-audit.html"] + ["%s-%s.%s" % (h, kind, ext) for h in ("sandbox", "production")
                                                   for kind in ("store-config", "system-config")
                                                   for ext in ("json", "junit.xml", "md")])
    page = _Cells()
    page.feed((reports / "fleet-audit.html").read_text())
    assert "system-config" in page.headers
    assert page.rows["sandbox"]["status"] == "pass" and page.rows["production"]["status"] == "pass"
    assert page.rows["sandbox"]["sysconfig"]["data-sysconfig"] == "in sync"
    production = page.rows["production"]["sysconfig"]
    assert (production["data-sysconfig-mode"], production["data-sysconfig-drift"],
            production["data-sysconfig-changes"], production["data-sysconfig-rejected"]) == ("audit", "2", "0", "0")
    lines = result.task_results("Show the summary")["localhost"]["msg"]
    assert lines[0] == "2 of 2 environments passed the store configuration audit."
    assert "1 of 2 environments checked hold the declared system configuration." in lines
    assert "System configuration drifted: production (2 settings)." in lines
    page_text = (reports / "fleet-audit.html").read_text()
    assert_no_secrets(page_text + result.stdout + result.log, envs.secrets())


def test_promote_and_export_with_inherited_reads(envs, run_playbook, collection_path, test_output_dir):
    """The other readings Adobe leaves open (inherited values at website and store scope, unknown paths read
    as null, no scope_code in items): inherited values are not carried, the same three settings are promoted,
    and an export re-applies with nothing to write."""
    for name in ("sandbox", "production"):
        envs.emulator.set_system_config_mode(envs.cred(name).tenant, inherit=True, unknown_paths="null",
                                             echo_scope_code=False)
    reports = test_output_dir / "promotion"
    review = run_playbook(playbook(collection_path, "promote_system_config.yml"), inventory=envs.inventory(),
                          extra_vars={"accs_promote_from": "sandbox", "accs_promote_to": "production",
                                      "accs_promote_report_dir": str(reports)}, check=True, json=True)
    review.assert_rc(0)
    [target] = json.loads((reports / "sandbox-to-production-promotion.json").read_text())["targets"]
    assert {(c["path"], c["scope"], c["scope_code"]): c["after"] for c in target["changed"]} == {
        ("general/locale/code", "default", None): "en_GB",
        ("general/store_information/name", "default", None): "Example Store",
        ("carriers/flatrate/price", "website", "base"): "9.00",
    }
    rules = {}
    for entry in target["excluded"]:
        rules.setdefault(entry["rule"], []).append(entry)
    assert len(rules["same as the parent scope"]) > 100  # every inherited website and store view value
    assert envs.puts("production") == []

    out = test_output_dir / "export"
    export = run_playbook(playbook(collection_path, "export_system_config.yml"), inventory=envs.inventory(),
                          extra_vars={"accs_export_dir": str(out), "accs_export_hosts": "sandbox"}, json=True)
    export.assert_rc(0)
    text = (out / "host_vars" / "sandbox" / "system_config.yml").read_text()
    assert "# Left out, the same value as the parent scope (inherited): " in text
    exported = yaml.safe_load(text.replace("!unsafe ", ""))["accs_system_config"]
    scoped = {(s["path"], s["scope"], s.get("scope_code")): s["value"] for s in exported if s["scope"] != "default"}
    assert scoped == {("carriers/flatrate/price", "website", "base"): "9.00",
                      ("general/locale/code", "store", "fr"): "fr_FR",
                      ("currency/options/default", "store", "fr"): "EUR",
                      ("general/store_information/phone", "store", "uk"): "+44 20 0000 0000",
                      # the fr store view's own base URLs (a fresh tenant's): exported, as the environment's
                      ("web/unsecure/base_url", "store", "fr"): "https://www.example.com/fr/",
                      ("web/secure/base_url", "store", "fr"): "https://www.example.com/fr/"}
    (test_output_dir / "inv" / "host_vars" / "sandbox").mkdir(parents=True)
    (test_output_dir / "inv" / "host_vars" / "sandbox" / "system_config.yml").write_text(text)
    (test_output_dir / "inv" / "hosts.yml").write_text(yaml.safe_dump(envs.inventory(
        group_vars={"accs_system_config_mode": "enforce", "accs_audit_report_dir": str(test_output_dir / "r")})))
    reapply = run_playbook([{"name": "hold the export", "hosts": "sandbox", "gather_facts": False, "tasks": [
        {"name": "Run the role", "ansible.builtin.import_role": {"name": "adobe_commerce.accs.system_config"}}]}],
        inventory=test_output_dir / "inv" / "hosts.yml", json=True)
    reapply.assert_rc(0)
    assert envs.puts("sandbox") == []
