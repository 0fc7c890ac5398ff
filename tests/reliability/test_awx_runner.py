"""AWX's records: the shipped playbooks run through ansible-runner, then its artifacts are searched.

AWX (and automation controller) run playbooks through ansible-runner and keep what it records:
every job event (task arguments, results, verbose output), stdout, the command and its
environment.  Here the real ansible-runner package (Python API, ``ansible_runner.run``) runs
``audit_store_config.yml``, ``refresh_tokens.yml``, ``validate_access.yml`` and both runs of a
paste-mode bootstrap whose exchange fails, at ``-vvvv``, with the credentials passed as an AWX
credential passes them: Vault in environment variables (AppRole ``VAULT_ROLE_ID`` /
``VAULT_SECRET_ID``, or ``VAULT_TOKEN``) and the IMS client in extra vars (which ansible-runner,
like AWX, keeps in ``env/extravars`` and hands over as ``-e @file``).

Then every file under the run's ``artifacts/`` folder (``job_events/*.json``, ``stdout``,
``stderr``, ``command``, ``rc``, ``status``) is searched for every secret known after the run:
what the emulator issued or was given, the OpenBao tokens and AppRole secret ids the session
made, and any string shaped like an OpenBao token (the AppRole logins inside the modules make
tokens nobody registered).  One exception is expected and checked exactly: ansible-runner writes
the environment it was given into ``command``, so the Vault credential the job was given
appears there, under the variable it was given in, and nowhere else.  (AWX stores that
environment with TOKEN/SECRET variables redacted and deletes the artifacts folder after the job.)
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from pathlib import Path

import pytest

from tests.integration.helpers import iso_in
from tests.reliability.harness import SECRETS
from tests.support.ansible_runner import installed_playbook, venv_tool
from tests.support.secretscan import scan_tree

CAT = "Secret hygiene"
SCOPES = ["openid", "AdobeID", "offline_access", "commerce.accs"]
SECRET = "rel-awx-secret-" + secrets.token_hex(12)
PREFIX = "rel/awx"
# OpenBao tokens: s. (service), b. (batch), r. (recovery) and their base62 body
TOKEN_SHAPE = re.compile(rb"(?<![A-Za-z0-9])[sbr]\.[A-Za-z0-9]{20,}")
CREDENTIAL_VARS = ("VAULT_TOKEN", "VAULT_SECRET_ID")
POLICY = """
path "secret/data/rel/awx/*" { capabilities = ["create", "read", "update"] }
path "secret/metadata/rel/awx/*" { capabilities = ["read"] }
"""


class AwxJob:
    """One ansible-runner run in its own private data dir, and what its artifacts hold."""

    def __init__(self, name, runner, work):
        self.name = name
        self.runner = runner
        self.private_data_dir = work / name
        self.artifacts = self.private_data_dir / "artifacts" / name
        self.events = []
        for path in sorted((self.artifacts / "job_events").glob("*.json")):
            self.events.append(json.loads(path.read_text(encoding="utf-8")))
        self.stdout = (self.artifacts / "stdout").read_text(encoding="utf-8", errors="replace")

    @property
    def rc(self):
        return self.runner.rc

    def results(self, task):
        """``{host: res}`` of the runner_on_ok / runner_on_failed events of ``task``."""
        out = {}
        for event in self.events:
            data = event.get("event_data") or {}
            if event.get("event") in ("runner_on_ok", "runner_on_failed") and data.get("task") == task:
                out[data.get("host")] = dict(data.get("res") or {}, _event=event["event"])
        return out


def _run(name, playbook, work, collection_path, inventory, envvars, extravars, timeout=300):
    import ansible_runner
    import yaml

    pdd = work / name
    (pdd / "inventory").mkdir(parents=True)
    (pdd / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
    home = work / (name + "-home")
    home.mkdir()
    env = {
        "PATH": str(Path(venv_tool("ansible-playbook")).parent) + os.pathsep + os.environ.get("PATH", ""),
        "HOME": str(home),
        "ANSIBLE_COLLECTIONS_PATH": str(collection_path),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "0",
        "ANSIBLE_HOME": str(home / ".ansible"),
        "ANSIBLE_LOCAL_TEMP": str(home / ".ansible" / "tmp"),
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "ACCS_RECOVERY_DIR": str(work / (name + "-recovery")),
        # AWX's job environment carries the job's id
        "JOB_ID": "4242",
    }
    env.update(envvars)
    runner = ansible_runner.run(private_data_dir=str(pdd), playbook=str(playbook), inventory="hosts.yml",
                                envvars=env, extravars=extravars, ident=name, verbosity=4, quiet=True,
                                timeout=timeout)
    return AwxJob(name, runner, work)


def _host(emulator, path, tenant=None):
    values = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
              "accs_vault_path": path, "accs_ims_url": emulator.url, "accs_ca_path": emulator.ca_path}
    if tenant:
        values["accs_base_url"] = emulator.accs_url(tenant)
    return values


def _seed(emulator, openbao, name, cache=None, old_refresh=False):
    client = "rel-awx-" + name
    emulator.add_client(client, client_secrets=[SECRET], grants=["authorization_code", "refresh_token"])
    emulator.set_tenant(client)
    document = {"client_id": client, "client_secret": SECRET, "scopes": ",".join(SCOPES),
                "refresh_token": emulator.mint_refresh_token(client, SCOPES), "org_id": "REL0AWX@AdobeOrg",
                "refresh_token_issued_at": iso_in(-10 * 86400 if old_refresh else -3600)}
    if cache:
        document["access_token"] = emulator.mint_access_token(client, SCOPES, expires_in=6 * 3600)
        document["access_token_expires_at"] = iso_in(6 * 3600 if cache == "valid" else -60)
    openbao.client().secrets.kv.v2.create_or_update_secret(path="%s/%s" % (PREFIX, name), secret=document)
    return client


def _scan(job, given):
    """Findings in the job's artifacts: ``(problems, notes, files, events)``.

    ``given`` maps an environment variable to the credential the job was given in it: those may
    appear in ``command``'s ``env`` under that variable, and nowhere else."""
    registry = SECRETS.refresh()
    scan_root = job.private_data_dir.parent / (job.name + "-scan")
    shutil.rmtree(scan_root, ignore_errors=True)
    shutil.copytree(job.artifacts, scan_root)
    notes = []
    command_path = scan_root / "command"
    command = json.loads(command_path.read_text(encoding="utf-8"))
    for var, value in given.items():
        if command.get("env", {}).get(var) == value:
            notes.append("command's env holds %s, as given" % var)
            command["env"][var] = "<given>"
    command_path.write_text(json.dumps(command), encoding="utf-8")
    problems = [finding.describe().replace(str(scan_root), "artifacts") for finding in scan_tree(scan_root, registry)]
    files = 0
    for dirpath, _dirs, names in os.walk(scan_root):
        for filename in names:
            files += 1
            data = Path(dirpath, filename).read_bytes()
            for match in TOKEN_SHAPE.finditer(data):
                problems.append("%s: holds a string shaped like an OpenBao token (%s...)"
                                % (os.path.relpath(os.path.join(dirpath, filename), scan_root),
                                   match.group(0)[:2].decode()))
    return problems, notes, files, len(job.events)


@pytest.fixture(scope="module")
def awx(emulator, openbao, collection_path, tmp_path_factory, rel_secrets):
    emulator.reset()
    work = tmp_path_factory.mktemp("awx")
    openbao.write_policy("rel-awx", POLICY)
    approle = openbao.enable_approle("rel-awx", ["rel-awx"], token_ttl="10m")
    vault_token = openbao.create_token(["rel-awx"], ttl="20m")
    approle_env = {"VAULT_ADDR": openbao.url, "VAULT_AUTH_METHOD": "approle", "VAULT_ROLE_ID": approle.role_id,
                   "VAULT_SECRET_ID": approle.secret_id}
    token_env = {"VAULT_ADDR": openbao.url, "VAULT_TOKEN": vault_token}
    playbook = {name: installed_playbook(collection_path, name + ".yml")
                for name in ("audit_store_config", "refresh_tokens", "validate_access", "bootstrap_refresh_token")}
    jobs = {}

    # the store configuration audit: one cached, one to refresh, one not in Vault (fails)
    clients = {name: _seed(emulator, openbao, name, cache=cache)
               for name, cache in (("audit-cached", "valid"), ("audit-expired", "expired"))}
    hosts = {name: _host(emulator, "%s/%s" % (PREFIX, name), client) for name, client in clients.items()}
    hosts["audit-missing"] = _host(emulator, PREFIX + "/audit-missing", clients["audit-cached"])
    jobs["audit_store_config"] = (_run(
        "audit", playbook["audit_store_config"], work, collection_path, {"all": {"children": {"accs": {"hosts": hosts}}}},
        approle_env, {"accs_audit_report_dir": str(work / "audit-reports"),
                      "accs_fleet_report_path": str(work / "audit-reports" / "fleet.html")}),
        {"VAULT_SECRET_ID": approle.secret_id})

    # scheduled rotation with a Vault token: one due, one fresh
    due = _seed(emulator, openbao, "refresh-due", cache="valid", old_refresh=True)
    fresh = _seed(emulator, openbao, "refresh-fresh", cache="valid")
    hosts = {name: _host(emulator, "%s/%s" % (PREFIX, name)) for name in ("refresh-due", "refresh-fresh")}
    jobs["refresh_tokens"] = (_run(
        "refresh", playbook["refresh_tokens"], work, collection_path, {"all": {"children": {"accs": {"hosts": hosts}}}},
        token_env, {}), {"VAULT_TOKEN": vault_token})

    # the access check: one to refresh, one whose refresh token was revoked (fails)
    access = {name: _seed(emulator, openbao, name, cache="expired") for name in ("access-ok", "access-revoked")}
    emulator.revoke(token=openbao.client().secrets.kv.v2.read_secret_version(
        path=PREFIX + "/access-revoked", raise_on_deleted_version=True)["data"]["data"]["refresh_token"])
    hosts = {name: _host(emulator, "%s/%s" % (PREFIX, name), client) for name, client in access.items()}
    jobs["validate_access"] = (_run(
        "access", playbook["validate_access"], work, collection_path, {"all": {"children": {"accs": {"hosts": hosts}}}},
        approle_env, {"accs_access_check_report_dir": str(work / "access-reports")}), {"VAULT_SECRET_ID": approle.secret_id})

    # a paste-mode bootstrap in two runs, the IMS client given in extra vars; the code expires before the exchange
    client = "rel-awx-bootstrap"
    emulator.add_client(client, client_secrets=[SECRET], grants=["authorization_code", "refresh_token"])
    localhost = {"all": {"hosts": {"localhost": {"ansible_connection": "local",
                                                 "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}
    common = {"accs_bootstrap_mode": "paste", "accs_vault_path": PREFIX + "/bootstrap", "accs_client_id": client,
              "accs_client_secret": SECRET, "accs_ims_url": emulator.url, "accs_ca_path": emulator.ca_path,
              "accs_bootstrap_session_dir": str(work / "bootstrap-sessions")}
    first = _run("bootstrap-authorize", playbook["bootstrap_refresh_token"], work, collection_path, localhost,
                 approle_env, common, timeout=120)
    jobs["bootstrap, first run"] = (first, {"VAULT_SECRET_ID": approle.secret_id})
    url = next((line.strip() for line in first.stdout.splitlines()
                if line.strip().startswith(emulator.authorize_url + "?")), None)
    session = re.search(r"-e accs_bootstrap_session=(\S+) ", first.stdout)
    second = None
    if url and session:
        answer = emulator.session().get(url, allow_redirects=False, timeout=30)
        location = answer.headers["Location"]
        code = re.search(r"[?&]code=([^&]+)", location).group(1)
        emulator.expire(code)
        second = _run("bootstrap-exchange", playbook["bootstrap_refresh_token"], work, collection_path, localhost,
                      approle_env, dict(common, accs_bootstrap_session=session.group(1), accs_redirect_url=location),
                      timeout=120)
        jobs["bootstrap, failing exchange"] = (second, {"VAULT_SECRET_ID": approle.secret_id})
    return {"jobs": jobs, "clients": clients, "due": due, "fresh": fresh, "access": access, "url": url,
            "session": session.group(1) if session else None, "emulator": emulator, "openbao": openbao}


def _record(matrix, request, label, playbook_text, awx, outcome_problems, outcome):
    job, given = awx["jobs"][label]
    problems, notes, files, events = _scan(job, given)
    # (the counts stay out of the matrix: they differ between ansible-core releases)
    request.node.user_properties.append(("artifact_files", files))
    request.node.user_properties.append(("job_events", events))
    observed = "%s; every artifact file and job event searched: %s%s" % (
        outcome, "%d finding(s)" % len(problems) if problems else "0 secrets found",
        "; " + "; ".join(notes) if notes else "")
    if files < 5 or events < 5:
        outcome_problems = outcome_problems + ["only %d artifact files and %d job events: nothing to search" % (files, events)]
    matrix.check(request, CAT, "ansible-runner artifacts: %s" % label,
                 "%s; run through ansible-runner (Python API) at -vvvv, the Vault credential in the environment "
                 "(%s), IMS settings in extra vars" % (playbook_text, " / ".join(sorted(given))),
                 "no secret issued or used in the run in any file under artifacts/ (job_events, stdout, stderr, "
                 "command, rc, status), nor any OpenBao token; the given Vault credential only in command's "
                 "record of the environment",
                 observed, outcome_problems + problems)


def test_audit_store_config(awx, matrix, request):
    job, _given = awx["jobs"]["audit_store_config"]
    problems = []
    if job.rc != 2:
        problems.append("the run exited %s, expected 2 (one environment is not in Vault)" % job.rc)
    emulator = awx["emulator"]
    refreshed = [r for r in emulator.requests(key="ims.token") if r.get("client_id") == awx["clients"]["audit-expired"]]
    if [r["status"] for r in refreshed] != [200]:
        problems.append("the expired environment was not refreshed once: %s" % [r["status"] for r in refreshed])
    _record(matrix, request, "audit_store_config", "playbooks/audit_store_config.yml over 3 environments (cached, "
            "expired, not in Vault), AppRole", awx, problems,
            "rc %s, one token refreshed, the missing environment failed" % job.rc)


def test_refresh_tokens(awx, matrix, request):
    job, _given = awx["jobs"]["refresh_tokens"]
    problems = [] if job.rc == 0 else ["the run exited %s" % job.rc]
    emulator = awx["emulator"]
    if [r["status"] for r in emulator.requests(key="ims.token") if r.get("client_id") == awx["due"]] != [200]:
        problems.append("the environment due for rotation was not rotated once")
    if [r for r in emulator.requests(key="ims.token") if r.get("client_id") == awx["fresh"]]:
        problems.append("the fresh environment called IMS")
    _record(matrix, request, "refresh_tokens", "playbooks/refresh_tokens.yml over 2 environments (one due for "
            "rotation), Vault token", awx, problems, "rc %s, one rotated, one fresh" % job.rc)


def test_validate_access(awx, matrix, request):
    job, _given = awx["jobs"]["validate_access"]
    problems = [] if job.rc == 2 else ["the run exited %s, expected 2 (one refresh token is revoked)" % job.rc]
    failed = job.results("Fail the environment with the cause") or {}
    _record(matrix, request, "validate_access", "playbooks/validate_access.yml over 2 environments (one to "
            "refresh, one with a revoked refresh token), AppRole", awx, problems,
            "rc %s, one passed, one failed (%d failure event)" % (job.rc, len(failed)))


def test_bootstrap_first_run_ends_under_ansible_runner(awx, matrix, request):
    job, _given = awx["jobs"]["bootstrap, first run"]
    problems = []
    if job.rc != 0 or job.runner.status != "successful":
        problems.append("the first run ended %s (rc %s): the prompt waited on ansible-runner's pseudo-terminal"
                        % (job.runner.status, job.rc))
    if not awx["url"] or not awx["session"]:
        problems.append("the authorize URL or the session handle was not printed")
    _record(matrix, request, "bootstrap, first run", "playbooks/bootstrap_refresh_token.yml, paste mode, first run "
            "(no one types into ansible-runner's pseudo-terminal), client secret in extra vars", awx, problems,
            "rc %s (%s), %s" % (job.rc, job.runner.status, "URL and session handle printed"
                                if awx["url"] and awx["session"] else "no URL or session handle printed"))


def test_bootstrap_failing_exchange(awx, matrix, request):
    entry = awx["jobs"].get("bootstrap, failing exchange")
    if entry is None:
        pytest.fail("the first bootstrap run printed no URL or session: no exchange to run")
    job, _given = entry
    problems = [] if job.rc == 2 else ["the run exited %s, expected 2" % job.rc]
    failure = job.results("Report why the exchange failed").get("localhost") or {}
    msg = failure.get("msg") or ""
    if not msg.startswith("IMS refused the authorization code (invalid_grant"):
        problems.append("the failure does not say IMS refused the code: %r" % msg[:200])
    _record(matrix, request, "bootstrap, failing exchange", "playbooks/bootstrap_refresh_token.yml, paste mode, "
            "second run with the address (its code expired before the exchange) and the client secret in extra vars",
            awx, problems, "rc %s, failed: %s" % (job.rc, msg.split(" (", 1)[0] + (" (invalid_grant)" if "(invalid_grant" in msg else "")))


def test_the_detectors_find_what_they_look_for(awx, openbao, tmp_path):
    """The scan is not blind: a planted OpenBao token and an emulator secret are both found."""
    job, given = awx["jobs"]["refresh_tokens"]
    planted = awx["emulator"].secrets()[0]
    token = openbao.create_token(["default"], ttl="5m")
    (job.artifacts / "job_events" / "zz-planted.json").write_text(json.dumps({"a": planted, "b": token}))
    try:
        problems, _notes, _files, _events = _scan(job, given)
    finally:
        (job.artifacts / "job_events" / "zz-planted.json").unlink()
    assert any("OpenBao token" in p for p in problems), problems
    assert sum("zz-planted.json" in p for p in problems) >= 2, problems
