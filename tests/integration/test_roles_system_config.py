"""Role system_config against OpenBao and the emulator: audit and enforce one environment's system configuration.

Each test seeds its own tenant and credential (``seed_credential``), runs the role on one inventory host the way
the inventory convention sets it up (``role_host``), and checks what the run printed and returned, what the
emulator holds afterwards (``system_config``) and what it was asked (the request log: GETs and PUTs of
``/V1/system/config`` for that tenant), and the report files (under ``test_output_dir``, so the session's secret
scan reads them).
"""

from __future__ import annotations

import json

import pytest

from tests.integration.helpers import (
    accs_requests,
    assert_no_secrets,
    role_host,
    seed_credential,
)

junitparser = pytest.importorskip("junitparser")

ROLE = "adobe_commerce.accs.system_config"
HOST = "shop"
MODULE_TASK = "Hold the declared system configuration (check mode in audit mode)"
FACT_TASKS = ("Record the system configuration result", "Record why the system configuration was not held")
FAIL_TASK = "Fail when the system configuration drifted, was rejected or could not be read"

# The emulator's fresh tenant holds general/locale/code en_US and currency/options/base USD at default scope,
# and nothing at website scope (carriers/flatrate/price reads null there: the stored-only reading).
DECLARED = [
    {"path": "general/locale/code", "value": "en_GB"},
    {"path": "currency/options/base", "value": "USD"},
    {"path": "carriers/flatrate/price", "value": 7.5, "scope": "website", "scope_code": "base"},
    {"path": "carriers/flatrate/active", "value": True, "scope": "website", "scope_code": "base"},
]


def role_play(**play_vars) -> list:
    return [{"name": "system configuration", "hosts": "accs", "gather_facts": False, "vars": play_vars,
             "tasks": [{"name": "Run the role", "ansible.builtin.import_role": {"name": ROLE}}]}]


def inventory(emulator, cred, group_vars=None, **host_vars) -> dict:
    return {"all": {"children": {"accs": {"hosts": {HOST: role_host(emulator, cred, **host_vars)},
                                          "vars": dict(group_vars or {})}}}}


def config_calls(emulator, cred, method=None) -> list:
    return [r for r in accs_requests(emulator, cred.tenant, "systemConfig") if method is None or r["method"] == method]


def held(emulator, cred) -> dict:
    """``{(path, scope, scope_code): value}`` the emulator stores for the tenant."""
    return {(i["path"], i["scope"], i.get("scope_code")): i["value"] for i in emulator.system_config(cred.tenant)}


def fact_of(result, host=HOST) -> dict:
    for task in FACT_TASKS:
        try:
            found = result.task_results(task).get(host)
        except KeyError:
            continue
        if found and "ansible_facts" in found:
            return found["ansible_facts"]["accs_system_config_result"]
    raise AssertionError("no accs_system_config_result fact printed for %s" % host)


def run_role(run_playbook, emulator, cred, reports, *, check=False, diff=False, verbosity=0, group_vars=None,
             **host_vars):
    host_vars.setdefault("accs_audit_report_dir", str(reports))
    return run_playbook(role_play(), inventory=inventory(emulator, cred, group_vars, **host_vars), json=True,
                        check=check, diff=diff, verbosity=verbosity)


@pytest.fixture
def cred(emulator, openbao):
    return seed_credential(emulator, openbao, cache="valid", cache_expires_in=20 * 3600)


# --------------------------------------------------------------------------- audit
def test_audit_reports_drift_and_fails_without_writing(run_playbook, emulator, cred, test_output_dir):
    before = held(emulator, cred)
    reports = test_output_dir / "reports"
    result = run_role(run_playbook, emulator, cred, reports, diff=True, accs_system_config=DECLARED)
    assert result.rc == 2, result.stdout[-3000:]
    assert result.stats[HOST]["failed"] == 1
    assert config_calls(emulator, cred, "PUT") == []
    # one filtered GET per scope and code: default, website base
    assert len(config_calls(emulator, cred, "GET")) == 2
    assert held(emulator, cred) == before
    fact = fact_of(result)
    assert fact["mode"] == "audit" and fact["passed"] is False and fact["settings"] == 4 and fact["unchanged"] == 1
    assert fact["drift"] == [
        {"path": "general/locale/code", "scope": "default", "scope_code": None, "expected": "en_GB",
         "actual": "en_US"},
        {"path": "carriers/flatrate/price", "scope": "website", "scope_code": "base", "expected": "7.5",
         "actual": None},
        {"path": "carriers/flatrate/active", "scope": "website", "scope_code": "base", "expected": "1",
         "actual": None},
    ]
    message = result.task_results(FAIL_TASK)[HOST]["msg"]
    assert message.startswith("%s (%s): 3 of 4 declared settings differ from the declaration: " % (HOST, cred.base_url))
    assert 'general/locale/code at default scope: declared "en_GB", actual "en_US"' in message
    assert "carriers/flatrate/price at website 'base': declared \"7.5\", actual unset" in message
    assert message.endswith("; set accs_system_config_mode: enforce to write them, or change the declaration.")
    assert "\n" not in message
    # --diff shows each setting's before and after
    assert "-en_US\n+en_GB\n" in result.stdout
    module = result.task_results(MODULE_TASK)[HOST]
    assert module["changed"] is True and module["requests"] == {"GET": 2}


def test_audit_passes_when_the_declaration_holds(run_playbook, emulator, cred, test_output_dir):
    result = run_role(run_playbook, emulator, cred, test_output_dir / "reports",
                      accs_system_config=[{"path": "general/locale/code", "value": "en_US"},
                                          {"path": "currency/options/allow", "value": ["USD", "EUR"]}])
    result.assert_rc(0)
    fact = fact_of(result)
    assert fact["passed"] is True and fact["drift"] == [] and fact["unchanged"] == 2
    assert result.task_results(FAIL_TASK)[HOST]["skipped"] is True
    assert config_calls(emulator, cred, "PUT") == []


def test_audit_drift_without_fail_on_drift_reports_and_passes(run_playbook, emulator, cred, test_output_dir):
    reports = test_output_dir / "reports"
    result = run_role(run_playbook, emulator, cred, reports, accs_system_config=DECLARED,
                      accs_system_config_fail_on_drift=False)
    result.assert_rc(0)
    assert len(fact_of(result)["drift"]) == 3
    document = json.loads((reports / ("%s-system-config.json" % HOST)).read_text())
    assert document["passed"] is False and len(document["drift"]) == 3 and document["mode"] == "audit"


# --------------------------------------------------------------------------- enforce
def test_enforce_writes_once_then_nothing(run_playbook, emulator, cred, test_output_dir):
    reports = test_output_dir / "reports"
    first = run_role(run_playbook, emulator, cred, reports, diff=True, accs_system_config=DECLARED,
                     accs_system_config_mode="enforce")
    first.assert_rc(0)
    puts = config_calls(emulator, cred, "PUT")
    assert len(puts) == 1
    assert puts[0]["config_items"] == [
        {"path": "general/locale/code", "scope": "default", "scope_code": None},
        {"path": "carriers/flatrate/price", "scope": "website", "scope_code": "base"},
        {"path": "carriers/flatrate/active", "scope": "website", "scope_code": "base"},
    ]
    now = held(emulator, cred)
    assert now[("general/locale/code", "default", None)] == "en_GB"
    assert now[("carriers/flatrate/price", "website", "base")] == "7.5"
    assert now[("carriers/flatrate/active", "website", "base")] == "1"
    assert now[("currency/options/base", "default", None)] == "USD"
    fact = fact_of(first)
    assert fact["mode"] == "enforce" and fact["passed"] is True and len(fact["changes"]) == 3
    assert fact["message"].startswith("Wrote 3 of 4 declared settings (general/locale/code at default scope: "
                                      '"en_US" -> "en_GB"; ')
    assert first.task_results(MODULE_TASK)[HOST]["changed"] is True
    assert "-en_US\n+en_GB\n" in first.stdout

    second = run_role(run_playbook, emulator, cred, reports, accs_system_config=DECLARED,
                      accs_system_config_mode="enforce")
    second.assert_rc(0)
    assert len(config_calls(emulator, cred, "PUT")) == 1, "the second run wrote again"
    assert second.task_results(MODULE_TASK)[HOST]["changed"] is False
    again = fact_of(second)
    assert again["changes"] == [] and again["unchanged"] == 4
    assert again["message"] == "All 4 declared settings already held their values; nothing was written."
    assert second.stats[HOST]["failed"] == 0


def test_enforce_in_check_mode_writes_nothing(run_playbook, emulator, cred, test_output_dir):
    reports = test_output_dir / "reports"
    result = run_role(run_playbook, emulator, cred, reports, check=True, accs_system_config=DECLARED,
                      accs_system_config_mode="enforce")
    result.assert_rc(0)
    assert config_calls(emulator, cred, "PUT") == []
    fact = fact_of(result)
    assert fact["check_mode"] is True and len(fact["changes"]) == 3 and fact["reports_written"] is False
    assert fact["message"].startswith("Would write 3 of 4 declared settings")
    assert not reports.exists()


def test_common_and_host_settings_merge_host_wins(run_playbook, emulator, cred, test_output_dir):
    common = [{"path": "general/locale/code", "value": "en_GB"},
              {"path": "general/store_information/name", "value": "Fleet Store"}]
    own = [{"path": "general/locale/code", "value": "de_DE", "scope": "default"}]
    result = run_role(run_playbook, emulator, cred, test_output_dir / "reports",
                      group_vars={"accs_system_config_common": common, "accs_system_config_mode": "enforce"},
                      accs_system_config=own)
    result.assert_rc(0)
    now = held(emulator, cred)
    assert now[("general/locale/code", "default", None)] == "de_DE"
    assert now[("general/store_information/name", "default", None)] == "Fleet Store"
    puts = config_calls(emulator, cred, "PUT")
    assert len(puts) == 1 and [i["path"] for i in puts[0]["config_items"]] == [
        "general/store_information/name", "general/locale/code"]
    assert fact_of(result)["settings"] == 2


def test_rejected_item_fails_naming_it_and_the_others_are_held(run_playbook, emulator, cred, test_output_dir):
    emulator.restrict_system_config(cred.client_id, ["carriers/*"])
    try:
        reports = test_output_dir / "reports"
        result = run_role(run_playbook, emulator, cred, reports, accs_system_config=DECLARED,
                          accs_system_config_mode="enforce")
    finally:
        emulator.restrict_system_config(cred.client_id, [])
    assert result.rc == 2
    assert len(config_calls(emulator, cred, "PUT")) == 1
    now = held(emulator, cred)
    assert now[("general/locale/code", "default", None)] == "en_GB"
    assert ("carriers/flatrate/price", "website", "base") not in now
    message = result.task_results(FAIL_TASK)[HOST]["msg"]
    assert message.startswith("%s (%s): ACCS at %s rejected 2 settings (" % (HOST, cred.base_url, cred.base_url))
    for path in ("carriers/flatrate/price at website 'base'", "carriers/flatrate/active at website 'base'"):
        assert path in message
    assert "was not found, is not visible for this scope, or is not allowed" in message
    assert "the other 1 was saved" in message
    fact = fact_of(result)
    assert [r["path"] for r in fact["rejected"]] == ["carriers/flatrate/price", "carriers/flatrate/active"]
    assert [c["path"] for c in fact["changes"]] == ["general/locale/code"]
    # the reports were written before the host failed
    junit = next(iter(junitparser.JUnitXml.fromfile(str(reports / ("%s-system-config.junit.xml" % HOST)))))
    assert (junit.tests, junit.failures, junit.errors) == (4, 2, 0)
    markdown = (reports / ("%s-system-config.md" % HOST)).read_text()
    assert "## Rejected" in markdown and "| carriers/flatrate/price | website | base |" in markdown


def test_unknown_scope_code_fails_with_its_sentence(run_playbook, emulator, cred, test_output_dir):
    reports = test_output_dir / "reports"
    result = run_role(run_playbook, emulator, cred, reports, accs_system_config_mode="enforce",
                      accs_system_config=[{"path": "general/locale/code", "value": "en_GB", "scope": "website",
                                           "scope_code": "b2b"}])
    assert result.rc == 2
    assert config_calls(emulator, cred, "PUT") == []
    fact = fact_of(result)
    assert fact["error_kind"] == "unknown_scope" and "website code 'b2b'" in fact["error"]
    assert result.task_results(FAIL_TASK)[HOST]["msg"] == "%s (%s): %s" % (HOST, cred.base_url, fact["error"])
    document = json.loads((reports / ("%s-system-config.json" % HOST)).read_text())
    assert document["error"] == fact["error"]


def test_bad_declaration_fails_before_any_request(run_playbook, emulator, cred, test_output_dir):
    result = run_role(run_playbook, emulator, cred, test_output_dir / "reports",
                      accs_system_config=[{"path": "general/locale/code"}])
    assert result.rc == 2
    assert config_calls(emulator, cred) == []
    assert fact_of(result)["error"] == "accs_system_config[0] (general/locale/code) has no value: give the value to hold."
    assert result.task_results(FAIL_TASK)[HOST]["msg"].endswith("): " + fact_of(result)["error"])


# --------------------------------------------------------------------------- secrets
def test_sensitive_values_never_reach_output_or_reports(run_playbook, emulator, cred, test_output_dir,
                                                        secret_registry):
    stored = "sk_live_stored_" + cred.client_id[-12:]
    declared = "sk_live_declared_" + cred.client_id[-12:]
    secret_registry.add("test system configuration credential", declared)
    emulator.set_system_config(cred.tenant, [{"path": "payment/stripe_payments/api_key", "value": stored}],
                               replace=False)
    emulator.set_system_config_mode(cred.tenant, obscured="plain")  # so the value can be compared
    settings = [{"path": "payment/stripe_payments/api_key", "value": declared},
                {"path": "general/locale/code", "value": "en_GB"}]
    reports = test_output_dir / "reports"
    audit = run_role(run_playbook, emulator, cred, reports, diff=True, verbosity=3, accs_system_config=settings,
                     accs_system_config_fail_on_drift=False)
    audit.assert_rc(0)
    drift = {d["path"]: d for d in fact_of(audit)["drift"]}
    assert drift["payment/stripe_payments/api_key"]["expected"] == "(sensitive)"
    assert drift["payment/stripe_payments/api_key"]["actual"] == "(sensitive)"
    enforce = run_role(run_playbook, emulator, cred, reports, diff=True, verbosity=3, accs_system_config=settings,
                       accs_system_config_mode="enforce")
    enforce.assert_rc(0)
    assert held(emulator, cred)[("payment/stripe_payments/api_key", "default", None)] == declared
    texts = [p.read_text() for p in reports.iterdir()]
    assert len(texts) == 3
    for run in (audit, enforce):
        texts += [run.stdout, run.stderr, run.log]
    for text in texts:
        assert_no_secrets(text, [stored, declared, cred.client_secret, cred.refresh_token])
    assert any("(sensitive)" in text for text in texts[:3])


@pytest.mark.parametrize("inherit", [False, True], ids=["stored-only-reads", "inherited-reads"])
def test_website_value_equal_to_the_inherited_one(run_playbook, emulator, cred, test_output_dir, inherit):
    """The documented read assumption: with inherited reads a website value equal to the default one is held;
    with stored-only reads it is written once as an override. Either way the second run writes nothing."""
    emulator.set_system_config_mode(cred.tenant, inherit=inherit, unknown_paths="null", echo_scope_code=not inherit)
    declared = [{"path": "carriers/flatrate/price", "value": 5, "scope": "website", "scope_code": "base"}]
    audit = run_role(run_playbook, emulator, cred, test_output_dir / "reports", accs_system_config=declared,
                     accs_system_config_fail_on_drift=False)
    audit.assert_rc(0)
    assert [d["actual"] for d in fact_of(audit)["drift"]] == ([] if inherit else [None])
    for expected_puts in (0 if inherit else 1, 0 if inherit else 1):
        enforce = run_role(run_playbook, emulator, cred, test_output_dir / "reports", accs_system_config=declared,
                           accs_system_config_mode="enforce")
        enforce.assert_rc(0)
        assert len(config_calls(emulator, cred, "PUT")) == expected_puts


def test_credential_read_back_as_asterisks_is_not_compared(run_playbook, emulator, cred, test_output_dir,
                                                           secret_registry):
    stored = "sk_live_masked_" + cred.client_id[-12:]
    emulator.set_system_config(cred.tenant, [{"path": "payment/stripe_payments/api_key", "value": stored}],
                               replace=False)
    declared = "sk_live_other_" + cred.client_id[-12:]
    secret_registry.add("test system configuration credential", declared)
    reports = test_output_dir / "reports"
    result = run_role(run_playbook, emulator, cred, reports, accs_system_config_mode="enforce",
                      accs_system_config=[{"path": "payment/stripe_payments/api_key", "value": declared}])
    result.assert_rc(0)
    assert config_calls(emulator, cred, "PUT") == []
    fact = fact_of(result)
    assert fact["unverifiable"] == [{"path": "payment/stripe_payments/api_key", "scope": "default",
                                     "scope_code": None}]
    assert fact["passed"] is True and fact["checks"][0]["status"] == "unverifiable"
    junit = next(iter(junitparser.JUnitXml.fromfile(str(reports / ("%s-system-config.junit.xml" % HOST)))))
    assert (junit.tests, junit.skipped, junit.failures) == (1, 1, 0)
    assert "only as asterisks" in result.stdout + result.stderr  # the module's warning
    for text in [p.read_text() for p in reports.iterdir()] + [result.stdout, result.log]:
        assert_no_secrets(text, [stored, declared])
