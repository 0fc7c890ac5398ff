"""The credential_health playbook and role (issue 18, part 2) against OpenBao and the emulator.

OpenBao runs here with a file audit device (as the benchmark's), so the Vault requests of a run are
counted from its audit log; the emulator's request log proves that no IMS call is made.  Outputs (the
playbook's stdout, the HTML page, the Prometheus text file) are kept under build/test-output and
secret-scanned, and checked here for every secret of the seeded documents.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.bench import run_bench
from tests.integration.helpers import (
    assert_no_secrets,
    assert_one_sentence,
    ims_token_requests,
    iso_in,
    parse_iso,
    role_host,
    seed_credential,
    unique,
    vault_secrets,
)
from tests.support.ansible_runner import installed_playbook

DAY = 86400


@pytest.fixture(scope="module")
def audited(tmp_path_factory, secret_registry):
    """A private OpenBao whose audit log counts the requests of each run: (server, audit log)."""
    with run_bench.audited_openbao(tmp_path_factory.mktemp("audited-vault")) as (server, audit_log):
        secret_registry.add("openbao root token", server.root_token)
        yield server, audit_log


def _inventory(hosts: dict) -> dict:
    return {"all": {"children": {"accs": {"hosts": hosts}}}}


def _secrets(openbao, *creds) -> list:
    values = []
    for cred in creds:
        for key in ("client_secret", "refresh_token", "access_token"):
            if cred.document.get(key):
                values.append(cred.document[key])
    return vault_secrets(openbao, *values)


def _metrics(path) -> dict:
    """{(metric name, frozenset of labels): value} of a Prometheus text file."""
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def _metric(metrics, name, environment, **labels):
    return metrics.get((name, frozenset(dict(labels, environment=environment).items())))


def test_states_files_one_read_per_credential_no_ims_and_exit_code(
        run_playbook, emulator, audited, test_output_dir):
    openbao, audit_log = audited
    folder = unique("health")

    def seed(name, **kwargs):
        return seed_credential(emulator, openbao, tenant=False, vault_path=f"{folder}/{name}", **kwargs)

    fresh = seed("fresh", cache="valid", extra={"refresh_token_issued_at": iso_in(-1 * DAY)})
    late = seed("late", extra={"refresh_token_issued_at": iso_in(-6 * DAY)})
    old = seed("old", extra={"refresh_token_issued_at": iso_in(-11 * DAY)})
    expired = seed("expired", extra={"refresh_token_issued_at": iso_in(-15 * DAY)})
    unknown = seed("unknown")  # a refresh token stored by hand: no refresh_token_issued_at
    s2s = seed("s2s", grant="client_credentials", cache="valid")
    no_rt = seed("no-rt", grant="client_credentials", extra={"grant_type": "refresh_token"})
    creds = [fresh, late, old, expired, unknown, s2s, no_rt]
    hosts = {name: role_host(emulator, cred, accs_base_url="https://example.invalid/" + name)
             for name, cred in (("fresh", fresh), ("late", late), ("old", old), ("expired", expired),
                                ("unknown", unknown), ("s2s", s2s), ("no-rt", no_rt))}
    hosts["fresh-twin"] = role_host(emulator, fresh)  # shares fresh's document: no second read
    hosts["missing"] = role_host(emulator, fresh, accs_vault_path=f"{folder}/missing")
    prom = test_output_dir / "textfile" / "accs_credentials.prom"
    page = test_output_dir / "credential-health.html"

    start = run_bench.audit_offset(audit_log)
    result = run_playbook(installed_playbook(run_playbook.collections_path, "credential_health.yml"),
                          inventory=_inventory(hosts), env=openbao.env(), json=True,
                          extra_vars={"accs_health_prometheus_path": str(prom), "accs_health_report_path": str(page)})
    counts = run_bench.count_vault_requests(audit_log, start)

    # exit code 2: the critical environments failed, the others did not
    assert result.rc == 2, result.stdout[-3000:]
    critical = {"old", "expired", "no-rt", "missing"}
    for host in hosts:
        assert result.stats[host]["failed"] == (1 if host in critical else 0), host
    # one Vault read per distinct document (8, the twin shares one), no write, no login; no IMS call
    assert counts["read"] == 8 and counts["write"] == 0 and counts["login"] == 0, counts
    for cred in creds:
        assert ims_token_requests(emulator, cred.client_id) == []

    health = {host: res["ansible_facts"]["accs_credential_health"]
              for host, res in result.task_results("Record the environment's credential health").items()}
    states = {host: h["state"] for host, h in health.items()}
    assert states == {"fresh": "ok", "fresh-twin": "ok", "late": "warn", "old": "critical", "expired": "critical",
                      "unknown": "warn", "s2s": "ok", "no-rt": "critical", "missing": "critical"}
    assert health["fresh"]["grant_type"] == "refresh_token"
    assert health["s2s"]["grant_type"] == "client_credentials"
    assert 0.9 <= health["fresh"]["refresh_token_age_days"] <= 1.1
    assert 12.8 <= health["fresh"]["refresh_token_days_left"] <= 13.1
    assert health["fresh"]["last_rotation"] == fresh.document["refresh_token_issued_at"]
    assert health["fresh"]["access_token_expires_at"] == fresh.document["access_token_expires_at"]
    assert health["late"]["reason"].startswith("The refresh token is 6.0 days old (warning after 5.0 days)")
    assert health["old"]["reason"].startswith("The refresh token is 11.0 days old (critical after 10.0 days)")
    assert health["expired"]["refresh_token_days_left"] < 0
    assert "bootstrap_refresh_token" in health["expired"]["reason"]
    assert "no refresh_token_issued_at" in health["unknown"]["reason"]
    assert health["no-rt"]["reason"] == (
        f"The credential 'secret/{folder}/no-rt' in Vault at {openbao.url} has no refresh_token: run the "
        "bootstrap_refresh_token.yml playbook to store one.")
    assert health["missing"]["reason"].startswith(f"No credential at 'secret/{folder}/missing' in Vault at")
    for h in health.values():
        assert_one_sentence(h["reason"])
    fails = result.task_results("Fail when the credential is critical")
    assert fails["old"]["msg"] == "old: " + health["old"]["reason"]

    # the Prometheus text file
    metrics = _metrics(prom)
    for host, state in states.items():
        for value in ("ok", "warn", "critical"):
            assert _metric(metrics, "accs_credential_state", host, state=value) == (1.0 if value == state else 0.0)
    assert _metric(metrics, "accs_refresh_token_age_seconds", "late") == pytest.approx(6 * DAY, abs=120)
    assert _metric(metrics, "accs_refresh_token_age_seconds", "s2s") is None
    assert _metric(metrics, "accs_access_token_expiry_timestamp_seconds", "fresh") == parse_iso(
        fresh.document["access_token_expires_at"])
    assert _metric(metrics, "accs_refresh_token_expiry_timestamp_seconds", "fresh") == parse_iso(
        fresh.document["refresh_token_issued_at"]) + 14 * DAY
    assert _metric(metrics, "accs_credential_last_rotation_timestamp_seconds", "old") == parse_iso(
        old.document["refresh_token_issued_at"])
    assert abs(metrics[("accs_credential_health_timestamp_seconds", frozenset())] - time.time()) < 600
    assert [p.name for p in prom.parent.iterdir()] == ["accs_credentials.prom"]  # no temporary file left

    # the page
    text = page.read_text(encoding="utf-8")
    for host, state in states.items():
        assert re.search(r'<tr data-env="%s" data-state="%s">' % (re.escape(host), state), text), host
    assert '<div class="bad" id="total-critical"><b>4</b>critical</div>' in text

    secrets = _secrets(openbao, *creds)
    for where, content in (("stdout", result.stdout + result.stderr), ("page", text),
                           ("prometheus", prom.read_text(encoding="utf-8"))):
        assert_no_secrets(content, secrets, where)


def test_all_ok_exits_zero_and_fleet_report_shows_the_column_group_and_audit_metrics(
        run_playbook, emulator, audited, tmp_path, test_output_dir):
    """An audit run, then credential health and the audit in one run: the fleet page gets the credential
    columns, and the Prometheus file the audit metrics (from the earlier run's JSON reports)."""
    from tests.support.devenv import drift_store_configs

    openbao, audit_log = audited
    clean = seed_credential(emulator, openbao, cache="valid", extra={"refresh_token_issued_at": iso_in(-2 * DAY)})
    drifted = seed_credential(emulator, openbao, cache="valid", tenant_data={"storeConfigs": drift_store_configs()},
                              extra={"refresh_token_issued_at": iso_in(-2 * DAY)})
    reports = test_output_dir / "reports"
    prom = test_output_dir / "accs.prom"
    inventory = _inventory({"clean": role_host(emulator, clean), "drifted": role_host(emulator, drifted)})
    extra = {"accs_audit_report_dir": str(reports), "accs_audit_fail_on_drift": False,
             "accs_expected_store_configs": {"fr": {"default_display_currency_code": "EUR"}}}
    audit_playbook = installed_playbook(run_playbook.collections_path, "audit_store_config.yml")
    run_playbook(audit_playbook, inventory=inventory, env=openbao.env(), extra_vars=extra).assert_rc(0)

    site = tmp_path / "site.yml"
    site.write_text("- import_playbook: %s\n- import_playbook: %s\n" % (
        installed_playbook(run_playbook.collections_path, "credential_health.yml"), audit_playbook), encoding="utf-8")
    start = run_bench.audit_offset(audit_log)
    result = run_playbook(site, inventory=inventory, env=openbao.env(),
                          extra_vars=dict(extra, accs_health_prometheus_path=str(prom)))
    result.assert_rc(0)
    # health: 2 reads; audit: 2 reads (cached tokens still valid); nothing written
    counts = run_bench.count_vault_requests(audit_log, start)
    assert counts["read"] == 4 and counts["write"] == 0, counts

    fleet = (reports / "fleet-store-config.html").read_text(encoding="utf-8")
    assert '<th class="health" title="credential health">Credential</th>' in fleet
    assert fleet.count('data-health="ok"') == 2
    assert (reports / "credential-health.html").is_file()  # its own page too

    metrics = _metrics(prom)
    assert _metric(metrics, "accs_audit_passed", "clean") == 1.0
    assert _metric(metrics, "accs_audit_drift_total", "clean") == 0.0
    assert _metric(metrics, "accs_audit_passed", "drifted") == 0.0
    assert _metric(metrics, "accs_audit_drift_total", "drifted") >= 1.0
    assert_no_secrets(result.stdout + fleet + prom.read_text(encoding="utf-8"), _secrets(openbao, clean, drifted))


def test_thresholds_and_unreadable_vault_fail_with_one_sentence(run_playbook, emulator, audited, secret_registry):
    openbao, _audit_log = audited
    cred = seed_credential(emulator, openbao, tenant=False, extra={"refresh_token_issued_at": iso_in(-3 * DAY)})
    inventory = _inventory({"env": role_host(emulator, cred)})
    playbook = installed_playbook(run_playbook.collections_path, "credential_health.yml")

    swapped = run_playbook(playbook, inventory=inventory, env=openbao.env(), json=True,
                           extra_vars={"accs_health_warn_age": 864000, "accs_health_critical_age": 432000})
    assert swapped.rc == 2
    msg = swapped.task_results("Check the credential of every environment")["env"]["msg"]
    assert msg == ("warn_age (864000 s) must be above 0 and below critical_age (432000 s): fix accs_health_warn_age "
                   "or accs_health_critical_age.")

    # a lower warn age turns the same credential to warn (with a token holding only the documented
    # accs-read policy: reading is all the check needs); Vault refusing the token turns it critical
    from tests.integration.test_inventory_plugin import doc_policy

    policy = unique("accs-read")
    openbao.write_policy(policy, doc_policy("accs-read"))
    reader = openbao.create_token([policy], ttl="10m", no_default_policy=True)
    secret_registry.add("openbao token", reader)
    lower = run_playbook(playbook, inventory=inventory, env=dict(openbao.env(), VAULT_TOKEN=reader), json=True,
                         extra_vars={"accs_health_warn_age": 2 * DAY})
    assert lower.rc == 0
    assert lower.task_results("Record the environment's credential health")["env"]["ansible_facts"][
        "accs_credential_health"]["state"] == "warn"
    denied = run_playbook(playbook, inventory=inventory, env=dict(openbao.env(), VAULT_TOKEN="not-a-token"), json=True)
    assert denied.rc == 2
    reason = denied.task_results("Record the environment's credential health")["env"]["ansible_facts"][
        "accs_credential_health"]["reason"]
    assert reason.startswith("Vault denied the read of '%s/%s'" % (cred.mount, cred.vault_path))
    assert_one_sentence(reason)
