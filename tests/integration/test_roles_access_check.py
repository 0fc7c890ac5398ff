"""Role access_check and playbook validate_access.yml against OpenBao and the emulator.

Each failure cause gets its own environment, so two runs cover them all:

* the shipped playbook over ``ok`` (cached token), ``refreshed`` (expired cache, renewed at IMS),
  ``missing`` (no credential), ``revoked`` (refresh token revoked, cache expired: invalid_grant),
  ``noscope`` (tokens without commerce.accs: ACCS 401 even after a refresh) and ``wrongorg`` (a
  tenant that allows another IMS organization: ACCS 403);
* the role in a play whose ``module_defaults`` give each host its own Vault settings and no
  retries: ``vaultdown`` (Vault address on a closed port), ``denied`` (a Vault token without
  policy), ``imsdown`` (IMS answering 503 with a gateway page) and ``imsdown_json`` (503 with
  IMS's JSON error body).

The tests check the fact, the failure sentence, the summary, the JUnit reports and the requests.
"""

from __future__ import annotations

import re

import pytest

from tests.integration.helpers import (
    GROUP,
    accs_requests,
    add_client,
    ims_token_requests,
    iso_in,
    parse_iso,
    role_fact,
    role_host as host,
    seed_credential,
    unique,
    write_doc,
)
from tests.support.ansible_runner import installed_playbook
from tests.support.openbao import free_port as closed_port  # a loopback port nothing listens on

junitparser = pytest.importorskip("junitparser")

SUCCESS_TASK = "Record the successful access check"
FAILURE_TASK = "Record why access failed"
ROLE_FAIL_TASK = "Fail when ACCS cannot be called"
PATH_RE = r"accs/[a-z]+-[0-9a-f]{12}"
VAULT_RE = r"http://127\.0\.0\.1:\d+"

MESSAGES = {
    "missing": r"No credential at 'secret/%s' in Vault at %s: store the document there \(see the collection "
               r"guide\), or fix vault_path and vault_mount\." % (PATH_RE, VAULT_RE),
    "revoked": r"IMS refused the refresh token stored at 'secret/%s' in Vault at %s \(invalid_grant[^)]*\): .*"
               r"run playbooks/bootstrap_refresh_token\.yml to store a new one\." % (PATH_RE, VAULT_RE),
    "noscope": r"ACCS answered HTTP 401 for GET /V1/store/storeConfigs: .*; the token was refused even after a "
               r"refresh: check that the credential has the commerce\.accs scope and belongs to this "
               r"instance's IMS organization\.",
    "wrongorg": r"ACCS answered HTTP 403 for GET /V1/store/storeConfigs: \"The organization \S+ is not allowed to "
                r"access tenant \S+ .*; the credential's organization or permissions do not allow this: check "
                r"org_id \(x-gw-ims-org-id\) and the integration's role in the Commerce admin\.",
    "vaultdown": r"Cannot reach Vault at %s to read 'secret/%s': check vault_url \(VAULT_ADDR\) and that Vault "
                 r"is running\." % (VAULT_RE, PATH_RE),
    "denied": r"Vault denied the read of 'secret/%s' in Vault at %s \(permission denied\): grant the token's "
              r"policy 'read' on 'secret/data/%s', or use a token that has it\." % (PATH_RE, VAULT_RE, PATH_RE),
    "imsdown": r"IMS answered HTTP 503 .*: IMS or a gateway in front of it is failing; retry later.*\.",
}


def fact_of(result, name):
    return role_fact(result, name, "accs_access_check", (SUCCESS_TASK, FAILURE_TASK))


def scopeless_credential(emulator, openbao):
    """A credential whose tokens lack commerce.accs: ACCS answers 401 even after a refresh."""
    scopes = ["openid", "AdobeID", "offline_access"]
    client_id, secrets = add_client(emulator)
    tenant = unique("tenant")
    emulator.set_tenant(tenant)
    document = {
        "client_id": client_id, "client_secret": secrets[0], "scopes": ",".join(scopes),
        "refresh_token": emulator.mint_refresh_token(client_id, scopes),
        "access_token": emulator.mint_access_token(client_id, scopes, expires_in=3600),
        "access_token_expires_at": iso_in(3600),
    }
    path = "accs/" + unique("noscope")
    write_doc(openbao, path, document, cas=0)
    cred = seed_credential(emulator, None, write=False, tenant=tenant)
    cred.vault_path, cred.client_id = path, client_id
    return cred


@pytest.fixture(scope="module")
def shipped_run(emulator, openbao, collection_path, role_playbook):
    creds = {
        "ok": seed_credential(emulator, openbao, cache="valid", cache_expires_in=5 * 3600),
        "refreshed": seed_credential(emulator, openbao, cache="expired"),
        "missing": seed_credential(emulator, openbao, write=False, vault_path="accs/" + unique("missing")),
        "revoked": seed_credential(emulator, openbao, cache="expired"),
        "noscope": scopeless_credential(emulator, openbao),
        "wrongorg": seed_credential(emulator, openbao, cache="valid",
                                    tenant_data={"required_org_id": "ORG9999OTHER0000@AdobeOrg"}),
    }
    emulator.revoke(token=creds["revoked"].refresh_token)
    report_dir = role_playbook.output_root / "shipped" / "reports"
    result = role_playbook("shipped", installed_playbook(collection_path, "validate_access.yml"),
                           {n: host(emulator, c) for n, c in creds.items()},
                           extra_vars={"accs_access_check_report_dir": str(report_dir)})
    return creds, report_dir, result


@pytest.fixture(scope="module")
def vault_ims_run(emulator, openbao, role_playbook):
    """The role with per-host Vault settings (module_defaults) and no retries."""
    creds = {
        "vaultdown": seed_credential(emulator, openbao, cache="valid"),
        "denied": seed_credential(emulator, openbao, cache="valid"),
        "imsdown": seed_credential(emulator, openbao, grant="client_credentials", cache="expired"),
        "imsdown_json": seed_credential(emulator, openbao, cache="expired"),
    }
    no_policy = openbao.create_token(["default"], ttl="10m")
    hosts = {n: host(emulator, c) for n, c in creds.items()}
    hosts["vaultdown"]["test_vault_url"] = "http://127.0.0.1:%d" % closed_port()
    hosts["denied"]["test_vault_token"] = no_policy
    # one 503 per grant, so each IMS host meets its own outage whatever the order
    emulator.add_fault("ims.token.client_credentials", status=503, body="html", times=1)
    emulator.add_fault("ims.token.refresh_token", status=503, times=1)
    report_dir = role_playbook.output_root / "vault_ims" / "reports"
    playbook = [{
        "name": "Access check with per-host Vault settings",
        "hosts": "accs",
        "gather_facts": False,
        "module_defaults": {GROUP: {"retries": 0,
                                    "vault_url": "{{ test_vault_url | default(omit) }}",
                                    "vault_token": "{{ test_vault_token | default(omit) }}"}},
        "roles": ["adobe_commerce.accs.access_check"],
    }]
    try:
        result = role_playbook("vault_ims", playbook, hosts,
                               extra_vars={"accs_access_check_report_dir": str(report_dir)})
    finally:
        leftover = [f for f in emulator.faults() if f.get("match", "").startswith("ims.token.")] \
            if isinstance(emulator.faults(), list) else []
        assert not leftover, "a fault was not consumed: %s" % leftover
    return creds, report_dir, result


# --------------------------------------------------------------------------- the shipped playbook
def test_passes_with_a_cached_token_and_makes_one_call(shipped_run, emulator):
    creds, report_dir, result = shipped_run
    fact = fact_of(result, "ok")
    cred = creds["ok"]
    assert fact["passed"] is True and fact["status"] == 200 and fact["stores"] == 2
    assert fact["token_expires_at"] == cred.document["access_token_expires_at"]
    assert "error" not in fact
    assert result.stats["ok"]["failed"] == 0
    assert [r["endpoint"] for r in accs_requests(emulator, cred.tenant)] == ["storeConfigs"]
    assert ims_token_requests(emulator, cred.client_id) == []
    suite = next(iter(junitparser.JUnitXml.fromfile(str(report_dir / "ok-access-check.junit.xml"))))
    assert (suite.tests, suite.failures, suite.errors) == (1, 0, 0)


def test_passes_after_refreshing_an_expired_token(shipped_run, emulator):
    creds, report_dir, result = shipped_run
    fact = fact_of(result, "refreshed")
    assert fact["passed"] is True and fact["status"] == 200
    assert parse_iso(fact["token_expires_at"]) > parse_iso(iso_in(20 * 3600))
    assert len(ims_token_requests(emulator, creds["refreshed"].client_id, "refresh_token")) == 1


@pytest.mark.parametrize("name", ["missing", "revoked", "noscope", "wrongorg"])
def test_fails_with_one_sentence_per_cause(shipped_run, name):
    creds, report_dir, result = shipped_run
    fact = fact_of(result, name)
    assert fact["passed"] is False and fact["stores"] == 0 and fact["token_expires_at"] is None
    assert re.fullmatch(MESSAGES[name], fact["error"]), fact["error"]
    assert fact["status"] == {"noscope": 401, "wrongorg": 403}.get(name)
    assert result.task_results(ROLE_FAIL_TASK)[name]["msg"] == fact["error"]
    assert result.task_results("Fail the environment with the cause")[name]["msg"] == fact["error"]
    assert result.stats[name]["failed"] == 1
    suite = next(iter(junitparser.JUnitXml.fromfile(str(report_dir / ("%s-access-check.junit.xml" % name)))))
    assert (suite.tests, suite.failures, suite.errors) == (1, 1, 0)
    case = next(iter(suite))
    assert case.result[0].message == fact["error"]


def test_summary_lists_each_failure_and_the_reports(shipped_run):
    creds, report_dir, result = shipped_run
    assert result.rc == 2
    lines = result.task_results("Show the summary")["localhost"]["msg"]
    assert lines[0] == "2 of 6 environments passed the access check."
    failed = [line.split(": ", 1)[0] for line in lines[1:-1]]
    assert failed == ["missing", "revoked", "noscope", "wrongorg"]
    for line in lines[1:-1]:
        name, message = line.split(": ", 1)
        assert re.fullmatch(MESSAGES[name], message), line
    assert lines[-1] == "JUnit reports: %s" % report_dir


# --------------------------------------------------------------------------- Vault and IMS outages
@pytest.mark.parametrize("name", ["vaultdown", "denied", "imsdown", "imsdown_json"])
def test_vault_and_ims_failures_name_their_cause(vault_ims_run, name):
    """IMS down: a 503 with a gateway's HTML page, and a 503 with IMS's JSON error body."""
    creds, report_dir, result = vault_ims_run
    fact = fact_of(result, name)
    assert fact["passed"] is False and fact["status"] is None
    assert re.fullmatch(MESSAGES[name.replace("_json", "")], fact["error"]), fact["error"]
    assert result.task_results(ROLE_FAIL_TASK)[name]["msg"] == fact["error"]
    suite = next(iter(junitparser.JUnitXml.fromfile(str(report_dir / ("%s-access-check.junit.xml" % name)))))
    assert suite.failures == 1


def test_check_mode_still_checks_access_but_writes_no_report(emulator, openbao, collection_path, role_playbook,
                                                             tmp_path):
    cred = seed_credential(emulator, openbao, cache="valid")
    report_dir = tmp_path / "reports"
    result = role_playbook("check", installed_playbook(collection_path, "validate_access.yml"),
                           {"ok": host(emulator, cred)}, work_dir=tmp_path / "w", forks=None, check=True,
                           extra_vars={"accs_access_check_report_dir": str(report_dir)})
    assert result.rc == 0, result.stdout[-2000:]
    assert fact_of(result, "ok")["passed"] is True
    assert len(accs_requests(emulator, cred.tenant)) == 1
    assert not report_dir.exists()
