"""Role store_config_audit and playbook audit_store_config.yml against OpenBao and the emulator.

One fleet of environments is audited in one run (module fixture ``fleet``), the way ops run it:

* ``clean``    default tenant data, values as expected, cached token valid;
* ``expired``  clean data, cached token expired: refreshed once at IMS and written back to Vault;
* ``drifted``  an http secure URL, a store view without config, a config on an unknown website,
               an expected value that differs and an expected store that does not exist;
* ``lenient``  the same drift with ``accs_audit_fail_on_drift: false``: reported, not failed;
* ``nocred``   no credential at its Vault path: not audited, and said so.

The tests then check what the run printed and returned (facts, failures, summary, diff),
the files it left (JSON, JUnit, Markdown, the fleet HTML) and what the emulator saw.
"""

from __future__ import annotations

import copy
import json
import re

import pytest

from tests.emulator import data as tenant_data
from tests.integration.helpers import (
    accs_requests,
    ims_token_requests,
    read_doc,
    role_fact,
    role_host as host,
    seed_credential,
    unique,
)
from tests.support.ansible_runner import installed_playbook

junitparser = pytest.importorskip("junitparser")

AUDIT_TASK = "Audit the store configuration"
FINAL_FAIL_TASK = "Fail the environment with its audit failures"
EXPECTED = {
    "default": {"locale": "en_US", "base_currency_code": "USD", "website_id": 1,
                "secure_base_url": "https://www.example.com/"},
    "fr": {"locale": "fr_FR", "default_display_currency_code": "EUR"},
}
DRIFTED_EXPECTED = {
    "default": {"locale": "en_GB", "base_currency_code": "USD"},
    "es": {"locale": "es_ES"},
}
# What the drifted tenant must give, in the documented order (store, rule order, field).
DRIFT = [
    {"store": "de", "field": "store_config", "expected": "present", "actual": "missing",
     "rule": "store_view_has_config"},
    {"store": "default", "field": "secure_base_url", "expected": "https://www.example.com/",
     "actual": "http://www.example.com/", "rule": "secure_urls_https"},
    {"store": "default", "field": "locale", "expected": "en_GB", "actual": "en_US",
     "rule": "expected_store_configs"},
    {"store": "es", "field": "store_config", "expected": "present", "actual": "missing",
     "rule": "expected_store_configs"},
    {"store": "fr", "field": "website_id", "expected": [0, 1], "actual": 7, "rule": "config_website_known"},
]


def drifted_tenant() -> dict:
    configs = tenant_data.default_store_configs()
    for config in configs:
        if config["code"] == "default":
            config["secure_base_url"] = "http://www.example.com/"
        if config["code"] == "fr":
            config["website_id"] = 7
    views = tenant_data.default_store_views()
    views.append({"id": 3, "code": "de", "name": "German Store View", "website_id": 1, "store_group_id": 1,
                  "is_active": 1})
    return {"storeConfigs": configs, "storeViews": views}


class Fleet:
    def __init__(self, emulator, openbao, collection_path, role_playbook):
        self.emulator = emulator
        self.openbao = openbao
        self.collection_path = collection_path
        self.role_playbook = role_playbook
        self.creds = {
            "clean": seed_credential(emulator, openbao, cache="valid", cache_expires_in=20 * 3600),
            "expired": seed_credential(emulator, openbao, cache="expired"),
            "drifted": seed_credential(emulator, openbao, cache="valid", cache_expires_in=20 * 3600,
                                       tenant_data=drifted_tenant()),
            "lenient": seed_credential(emulator, openbao, cache="valid", cache_expires_in=20 * 3600,
                                       tenant_data=drifted_tenant()),
        }
        nocred = seed_credential(emulator, openbao, write=False)
        nocred.vault_path = "accs/" + unique("absent")
        self.creds["nocred"] = nocred
        self.hosts = {
            "clean": host(emulator, self.creds["clean"], accs_expected_store_configs=EXPECTED),
            "expired": host(emulator, self.creds["expired"]),
            "drifted": host(emulator, self.creds["drifted"], accs_expected_store_configs=DRIFTED_EXPECTED),
            "lenient": host(emulator, self.creds["lenient"], accs_expected_store_configs=DRIFTED_EXPECTED,
                            accs_audit_fail_on_drift=False),
            "nocred": host(emulator, self.creds["nocred"]),
        }

    def hosts_of(self, names=None) -> dict:
        return {n: copy.deepcopy(self.hosts[n]) for n in names or list(self.hosts)}

    def run(self, label, playbook=None, names=None, report_dir=None, json=False, **kwargs):
        report_dir = report_dir or (self.role_playbook.output_root / label / "reports")
        return report_dir, self.role_playbook(
            label, playbook or installed_playbook(self.collection_path, "audit_store_config.yml"),
            self.hosts_of(names), extra_vars={"accs_audit_report_dir": str(report_dir)}, json=json, **kwargs)


@pytest.fixture(scope="module")
def fleet(emulator, openbao, collection_path, role_playbook):
    return Fleet(emulator, openbao, collection_path, role_playbook)


@pytest.fixture(scope="module")
def audit_run(fleet):
    """The shipped playbook, called by its collection name, with --diff over the whole fleet."""
    report_dir, result = fleet.run(
        "fleet", playbook=[{"ansible.builtin.import_playbook": "adobe_commerce.accs.audit_store_config"}],
        diff=True, json=True)
    return report_dir, result


def fact_of(result, name):
    """The store configuration audit of ``name`` as accs_audit returned it (the role's accs_store_config_audit)."""
    return result.task_results(AUDIT_TASK)[name]["store_config"]


def failure_of(result, name):
    """The sentence the last play failed ``name`` with (None: it did not fail)."""
    final = result.task_results(FINAL_FAIL_TASK).get(name)
    assert final is None or final["failed"] is True
    return final and final["msg"]


# --------------------------------------------------------------------------- the run
def test_drifted_and_unreadable_environments_fail_the_run_but_not_the_others(audit_run):
    report_dir, result = audit_run
    assert result.rc == 2, result.stdout[-3000:]
    stats = result.stats
    assert stats["clean"]["failed"] == 0 and stats["expired"]["failed"] == 0 and stats["lenient"]["failed"] == 0
    assert stats["drifted"]["failed"] == 1 and stats["nocred"]["failed"] == 1
    # the summary play ran although environments failed
    assert stats["localhost"]["failed"] == 0 and stats["localhost"]["ok"] >= 2


def test_drifted_fact_and_failure_name_every_store_field_expected_and_actual(audit_run, fleet):
    report_dir, result = audit_run
    fact = fact_of(result, "drifted")
    assert fact["passed"] is False
    assert fact["stores"] == 2
    assert fact["drift"] == DRIFT
    assert fact["rules"]["secure_urls_https"] == {"enabled": True, "checks": 8, "drift": 1}
    assert fact["rules"]["expected_store_configs"]["drift"] == 2
    message = failure_of(result, "drifted")
    assert result.task_results(AUDIT_TASK)["drifted"]["failures"] == [message]
    assert message.startswith("drifted (%s): 5 store configuration drifts: " % fleet.creds["drifted"].base_url)
    for clause in (
        "store view 'de' has no store config (store_view_has_config)",
        "store 'default' field secure_base_url: expected \"https://www.example.com/\", actual "
        "\"http://www.example.com/\" (secure_urls_https)",
        "store 'default' field locale: expected \"en_GB\", actual \"en_US\" (expected_store_configs)",
        "store 'es' is expected but has no store config (expected_store_configs)",
        "store 'fr' field website_id: expected one of 0, 1, actual 7 (config_website_known)",
    ):
        assert clause in message, message
    assert message.endswith(".") and "\n" not in message


def test_clean_and_refreshed_environments_pass(audit_run, fleet):
    report_dir, result = audit_run
    for name in ("clean", "expired"):
        fact = fact_of(result, name)
        assert fact["passed"] is True and fact["drift"] == [], fact
        assert fact["stores"] == 2
        assert fact["message"] == "No drift in 2 store configurations."
    assert fact_of(result, "clean")["rules"]["expected_store_configs"] == {"enabled": True, "checks": 8, "drift": 0}
    assert fact_of(result, "expired")["rules"]["expected_store_configs"]["enabled"] is False
    assert failure_of(result, "clean") is None and failure_of(result, "expired") is None


def test_fail_on_drift_false_reports_without_failing(audit_run):
    report_dir, result = audit_run
    fact = fact_of(result, "lenient")
    assert fact["passed"] is False and fact["drift"] == DRIFT
    assert failure_of(result, "lenient") is None and result.task_results(AUDIT_TASK)["lenient"]["failures"] == []


def test_unreadable_environment_is_recorded_not_audited(audit_run, fleet):
    report_dir, result = audit_run
    fact = fact_of(result, "nocred")
    assert fact["passed"] is False and fact["stores"] == 0 and fact["drift"] == []
    assert re.match(r"No credential at 'secret/%s' in Vault at http://127\.0\.0\.1:\d+: " % re.escape(
        fleet.creds["nocred"].vault_path), fact["error"]), fact["error"]
    assert failure_of(result, "nocred") == fact["error"]
    junit = junitparser.JUnitXml.fromfile(str(report_dir / "nocred-store-config.junit.xml"))
    suite = next(iter(junit))
    assert (suite.tests, suite.failures, suite.errors) == (1, 0, 1)


def test_requests_at_the_minimum(audit_run, fleet):
    """Valid cached token: 4 ACCS GETs and no IMS call; expired: plus exactly one refresh, written back."""
    report_dir, result = audit_run
    for name in ("clean", "drifted", "lenient"):
        cred = fleet.creds[name]
        records = accs_requests(fleet.emulator, cred.tenant)
        assert sorted(r["endpoint"] for r in records) == ["storeConfigs", "storeGroups", "storeViews", "websites"]
        assert all(r["method"] == "GET" and r["status"] == 200 for r in records)
        assert ims_token_requests(fleet.emulator, cred.client_id) == []
    cred = fleet.creds["expired"]
    assert len(accs_requests(fleet.emulator, cred.tenant)) == 4
    refreshes = ims_token_requests(fleet.emulator, cred.client_id)
    assert [r["grant_type"] for r in refreshes] == ["refresh_token"]
    document, version = read_doc(fleet.openbao, cred.vault_path)
    assert version == cred.version + 1
    assert document["access_token"] != cred.document["access_token"]
    assert document["refresh_token"] != cred.document["refresh_token"]


# --------------------------------------------------------------------------- report files
def test_three_reports_per_environment(audit_run):
    report_dir, result = audit_run
    names = sorted(p.name for p in report_dir.iterdir())
    expected = sorted(["fleet-store-config.html"] + [
        "%s-store-config.%s" % (n, ext) for n in ("clean", "expired", "drifted", "lenient", "nocred")
        for ext in ("json", "junit.xml", "md")])
    assert names == expected
    fact = fact_of(result, "drifted")
    assert fact["reports"] == {"json": str(report_dir / "drifted-store-config.json"),
                               "junit": str(report_dir / "drifted-store-config.junit.xml"),
                               "markdown": str(report_dir / "drifted-store-config.md")}
    assert fact["reports_written"] is True


def test_json_report_holds_the_exact_drift(audit_run, fleet):
    report_dir, result = audit_run
    document = json.loads((report_dir / "drifted-store-config.json").read_text())
    assert document["host"] == "drifted"
    assert document["base_url"] == fleet.creds["drifted"].base_url
    assert document["passed"] is False and document["stores"] == 2
    assert document["drift"] == DRIFT
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["generated_at"])
    clean = json.loads((report_dir / "clean-store-config.json").read_text())
    assert clean["passed"] is True and clean["drift"] == []


def test_junit_report_is_accepted_with_one_failure_per_drift(audit_run):
    report_dir, result = audit_run
    xml = junitparser.JUnitXml.fromfile(str(report_dir / "drifted-store-config.junit.xml"))
    suites = list(xml)
    assert len(suites) == 1
    suite = suites[0]
    fact = fact_of(result, "drifted")
    assert suite.tests == len(fact["checks"]) > len(DRIFT)
    assert suite.failures == len(DRIFT) and suite.errors == 0
    cases = list(suite)
    failed = [case for case in cases if case.result and isinstance(case.result[0], junitparser.Failure)]
    assert len(failed) == len(DRIFT)
    assert {(case.classname, case.name) for case in failed} == {
        ("drifted.store_view_has_config", "de: store_config"),
        ("drifted.secure_urls_https", "default: secure_base_url"),
        ("drifted.expected_store_configs", "default: locale"),
        ("drifted.expected_store_configs", "es: store_config"),
        ("drifted.config_website_known", "fr: website_id"),
    }
    locale = next(case for case in failed if case.name == "default: locale")
    assert 'expected "en_GB", actual "en_US"' in locale.result[0].message
    clean = next(iter(junitparser.JUnitXml.fromfile(str(report_dir / "clean-store-config.junit.xml"))))
    assert clean.failures == 0 and clean.errors == 0 and clean.tests == len(fact_of(result, "clean")["checks"])


def test_markdown_report_is_a_table(audit_run):
    report_dir, result = audit_run
    text = (report_dir / "drifted-store-config.md").read_text()
    assert text.startswith("# Store configuration audit: drifted\n")
    assert "- Result: **FAILED**: 5 drifts in 2 store configurations" in text
    assert "| Store | Field | Expected | Actual | Rule |" in text
    assert ('| default | secure_base_url | `"https://www.example.com/"` | `"http://www.example.com/"` | '
            'secure_urls_https |') in text
    assert "| fr | website_id | `one of 0, 1` | `7` | config_website_known |" in text
    assert "**PASSED**: no drift in 2 store configurations" in (report_dir / "clean-store-config.md").read_text()


def test_diff_shows_expected_against_actual(audit_run):
    report_dir, result = audit_run
    out = result.stdout
    assert "--- before: drifted store default (expected)\n+++ after: drifted store default (actual)\n" in out
    assert ('@@ -1,2 +1,2 @@\n'
            '-locale: "en_GB"  # expected_store_configs\n'
            '-secure_base_url: "https://www.example.com/"  # secure_urls_https\n'
            '+locale: "en_US"  # expected_store_configs\n'
            '+secure_base_url: "http://www.example.com/"  # secure_urls_https\n') in out
    assert '-website_id: one of 0, 1  # config_website_known\n+website_id: 7  # config_website_known\n' in out
    assert "--- before: drifted store es (expected)" in out
    assert "clean store" not in out


def test_summary_counts_and_links_the_reports(audit_run):
    report_dir, result = audit_run
    lines = result.task_results("Show the summary")["localhost"]["msg"]
    assert lines[0] == "2 of 5 environments passed the store configuration audit."
    assert lines[1] == "Drifted: drifted (5 drifts), lenient (5 drifts)."
    assert lines[2] == "Not audited: nocred."
    assert lines[3] == "Per-environment reports (json, junit.xml, md): %s" % report_dir
    assert lines[4] == "Fleet report: %s" % (report_dir / "fleet-store-config.html")


# --------------------------------------------------------------------------- check mode
def test_check_mode_audits_without_writing(fleet):
    report_dir, result = fleet.run("check", names=["clean", "drifted"], check=True, json=True)
    assert result.rc == 2, result.stdout[-3000:]
    assert not report_dir.exists(), "check mode wrote %s" % list(report_dir.iterdir())
    assert fact_of(result, "drifted")["drift"] == DRIFT
    assert fact_of(result, "drifted")["reports_written"] is False
    assert fact_of(result, "clean")["passed"] is True
    assert result.stats["clean"]["failed"] == 0 and result.stats["drifted"]["failed"] == 1
    lines = result.task_results("Show the summary")["localhost"]["msg"]
    assert lines[0] == "1 of 2 environments passed the store configuration audit."
    assert lines[-1].startswith("Check mode: no fleet report was written")


def test_bad_variables_and_unwritable_reports_fail_and_are_reported(fleet, tmp_path):
    """Argument-spec failures and report-writing failures fail the host, and the summary says so."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the report directory should be\n")
    hosts = fleet.hosts_of(["clean", "expired"])
    hosts["clean"]["accs_audit_rules"] = {"secure_urls_https": "maybe"}
    hosts["clean"]["accs_audit_report_dir"] = str(tmp_path / "reports")
    hosts["expired"]["accs_audit_report_dir"] = str(blocker / "reports")
    result = fleet.role_playbook("badvars", installed_playbook(fleet.collection_path, "audit_store_config.yml"),
                                 hosts, work_dir=tmp_path / "w", forks=None)
    assert result.rc == 2
    assert result.stats["clean"]["failed"] == 1 and result.stats["expired"]["failed"] == 1
    final = result.task_results(FINAL_FAIL_TASK)
    assert "secure_urls_https" in final["clean"]["msg"] and "bool" in final["clean"]["msg"]
    assert final["expired"]["msg"].startswith("expired: Cannot write the reports to %s (" % (blocker / "reports"))
    assert final["expired"]["msg"].endswith(": point report_dir (accs_audit_report_dir) at a writable directory.")
    lines = result.task_results("Show the summary")["localhost"]["msg"]
    assert lines[:2] == ["0 of 2 environments passed the store configuration audit.", "Not audited: clean, expired."]
    # the fleet report goes to the default directory, relative to where ansible-playbook ran
    assert lines[-1] == "Fleet report: %s" % (tmp_path / "w" / "accs-reports" / "fleet-store-config.html")


# --------------------------------------------------------------------------- the role alone
def test_the_role_sets_its_fact_writes_the_reports_and_fails_on_drift(fleet):
    """The role (four tasks; the playbook runs accs_audit instead) gives the same result as accs_audit."""
    playbook = [{"name": "The role alone", "hosts": "accs", "gather_facts": False, "tasks": [
        {"name": "Run the store configuration audit",
         "ansible.builtin.import_role": {"name": "adobe_commerce.accs.store_config_audit"}}]}]
    report_dir, result = fleet.run("role", playbook=playbook, names=["clean", "drifted"], json=True)
    assert result.rc == 2, result.stdout[-3000:]
    tasks = ("Compare with the expected values and the rules", "Record why the store configuration could not be audited")
    drifted = role_fact(result, "drifted", "accs_store_config_audit", tasks)
    assert drifted["drift"] == DRIFT and drifted["reports_written"] is True
    assert role_fact(result, "clean", "accs_store_config_audit", tasks)["passed"] is True
    verdict = result.task_results("Fail when the store configuration drifted or could not be read")
    assert verdict["clean"]["skipped"] is True
    assert verdict["drifted"]["msg"].startswith("drifted (%s): 5 store configuration drifts: "
                                                % fleet.creds["drifted"].base_url)
    assert sorted(p.name for p in report_dir.iterdir()) == sorted(
        "%s-store-config.%s" % (n, ext) for n in ("clean", "drifted") for ext in ("json", "junit.xml", "md"))
