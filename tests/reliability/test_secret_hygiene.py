"""Secret hygiene beyond the per-run scans: what the collection itself shows when used as documented.

Every other playbook run of the suite is scanned by the runner (stdout, stderr, Ansible log,
JSON results, junit, HOME, Ansible tmp) and recorded as a "Secret hygiene" case of its own.
The runs here exercise output paths the collection controls: a task's result and failure
message with and without ``no_log``, the lookup's documented example, and the reports the
role playbooks write.  (A run expected to show a secret because of a known engine bug would
use ``RelRunner.run(..., quarantine=True)``: its output stays outside build/test-output and
the test checks it itself.)
"""

from __future__ import annotations

import json
import secrets

import pytest
import yaml

from tests.reliability.harness import leaks, sentence_problems

CAT = "Secret hygiene"
SCOPES = ["openid", "commerce.accs"]
CLIENT = "rel-hygiene"
SECRET = "rel-hygiene-secret-" + secrets.token_hex(12)


@pytest.fixture(scope="module")
def hygiene(emulator_module, seed_client, emulator_vars, rel_runner_factory, secret_registry, collection_path):
    emulator = emulator_module
    seed_client(CLIENT, SECRET, "rel/hygiene/doc", grants=["client_credentials", "refresh_token"], scopes=SCOPES,
                refresh_scopes=["openid", "offline_access", "commerce.accs"], org_id="REL@AdobeOrg")
    runner = rel_runner_factory("secret_hygiene")
    common = {"ims_url": "{{ emu_url }}", "ca_path": "{{ emu_ca }}", "grant_type": "client_credentials",
              "client_id": CLIENT, "client_secret": "{{ rel_secret }}", "scopes": SCOPES}
    plays = [{
        "name": "ims_token used without no_log", "hosts": "localhost", "gather_facts": False,
        "tasks": [{"name": "token shown", "adobe_commerce.accs.ims_token": common, "register": "shown"}],
    }]
    extra = {**emulator_vars, "rel_secret": SECRET}
    leaky = runner.run(plays, "ims_token without no_log", extra_vars=extra)
    # the lookup's own documented example, from the installed collection, pointed at the test's document
    lookup_docs = (collection_path / "ansible_collections" / "adobe_commerce" / "accs" / "plugins" / "lookup"
                   / "vault_ims_credential.py").read_text(encoding="utf-8")
    examples = yaml.safe_load(lookup_docs.split("EXAMPLES = r\'\'\'", 1)[1].split("\'\'\'", 1)[0])
    example = next(t for t in examples if t["name"] == "Expiry of each environment's cached access token")
    example = json.loads(json.dumps(example).replace("'accs/prod', 'accs/stage'", "'rel/hygiene/doc'")
                         .replace("Expiry of each environment's cached access token", "documented lookup example"))
    lookup_plays = [{"name": "the lookup's documented example", "hosts": "localhost", "gather_facts": False,
                     "tasks": [example]}]
    lookup = runner.run(lookup_plays, "the lookup's documented example", extra_vars=extra)
    failing = [{
        "name": "documented no_log use, failing", "hosts": "localhost", "gather_facts": False,
        "tasks": [
            {"name": "failing with no_log", "adobe_commerce.accs.ims_token": dict(common,
                                                                                  client_secret="{{ rel_wrong }}"),
             "no_log": True, "ignore_errors": True, "register": "quiet"},
            {"name": "failing without no_log", "adobe_commerce.accs.ims_token": dict(common,
                                                                                     client_secret="{{ rel_wrong }}"),
             "ignore_errors": True, "register": "loud"},
            {"name": "accs_rest result", "adobe_commerce.accs.accs_rest": {
                "ims_url": "{{ emu_url }}", "ca_path": "{{ emu_ca }}", "base_url": "{{ emu_url }}/relhygiene",
                "path": "/V1/store/websites", "vault_path": "rel/hygiene/doc", "force_refresh": True}},
        ],
    }]
    wrong = "rel-wrong-" + secrets.token_hex(12)
    secret_registry.add("test wrong client secret", wrong)
    emulator.set_tenant("relhygiene")
    quiet = runner.run(failing, "documented no_log use and accs_rest", extra_vars=dict(extra, rel_wrong=wrong))
    return leaky, quiet, lookup


def _leak_problems(run, where):
    text = run.stdout + run.stderr + run.raw.log
    kinds = leaks(text)
    return ["%s holds a secret: %s" % (where, ", ".join(kinds))] if kinds else []


def test_ims_token_result_not_shown(hygiene, matrix, request):
    leaky, quiet, lookup = hygiene
    result = leaky.result("token shown")
    problems = []
    if result is None or result["_event"] != "ok":
        problems.append("the task did not succeed")
    shown = [line for line in leaky.stdout.splitlines() if line.startswith(("ok:", "changed:")) and "access_token" in line]
    kinds = leaks("\n".join(shown)) + leaks(leaky.raw.log)
    if kinds:
        problems.append("the access token is printed in the task result and written to the Ansible log")
    matrix.check(request, CAT, "ims_token result without no_log",
                 "ims_token task (client_credentials) without no_log, run at -vvvv with ANSIBLE_LOG_PATH",
                 "the access token is usable through register but never printed nor logged",
                 "access token printed in stdout and log" if kinds else "no token in stdout or log", problems)


def test_lookup_example_shows_no_secret(hygiene, matrix, request):
    leaky, quiet, lookup = hygiene
    result = lookup.result("documented lookup example")
    problems = [] if result is not None and result["_event"] == "ok" else ["the lookup example did not run"]
    outputs = {"stdout": lookup.stdout, "Ansible log": lookup.raw.log,
               "JSON results": "\n".join(json.dumps(e) for e in lookup.events)}
    junit = lookup.output_dir / "junit"
    if junit.is_dir():
        outputs["junit report"] = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in junit.glob("*"))
    shown = {where: sorted(set(leaks(text))) for where, text in outputs.items()}
    shown = {where: kinds for where, kinds in shown.items() if kinds}
    for where, kinds in shown.items():
        problems.append("the %s holds %s" % (where, ", ".join(kinds)))
    matrix.check(request, CAT, "lookup vault_ims_credential, documented example",
                 "the lookup's EXAMPLES (query, then map the expiry field) run at -vvvv with the JSON and junit "
                 "callbacks",
                 "prints the expiry only; no client secret or token in any output",
                 ("; ".join("%s: %s" % (w, ", ".join(k)) for w, k in shown.items())) if shown
                 else "no secret in any output", problems)


def test_failure_visible_with_documented_no_log(hygiene, collection_path, matrix, request):
    leaky, quiet, lookup = hygiene
    docs = (collection_path / "ansible_collections" / "adobe_commerce" / "accs" / "plugins" / "modules"
            / "ims_token.py").read_text(encoding="utf-8")
    documented_no_log = "no_log: true" in docs.split("RETURN = ", 1)[0]
    task = "failing with no_log" if documented_no_log else "failing without no_log"
    result = quiet.result(task)
    shown = [line for line in quiet.stdout.splitlines() if line.startswith(("fatal:", "failed:"))
             and ("censored" in line or "IMS" in line)]
    wanted = [line for line in shown if ("censored" in line) == documented_no_log]
    visible = bool(wanted) and "IMS" in wanted[0]
    problems = []
    if result is None or result["_event"] != "failed":
        problems.append("the task did not fail")
    if not visible:
        problems.append("the failure message is censored ('output has been hidden') under the documented no_log")
    matrix.check(request, CAT, "failure under the documented use",
                 "ims_token used as its documentation says (%s) fails with invalid_client"
                 % ("no_log: true on the task" if documented_no_log else "no no_log"),
                 "the task fails and the operator sees the one-sentence reason",
                 (wanted[0][:200] if wanted else "no failure line"), problems)


def test_accs_rest_result_holds_no_token(hygiene, matrix, request):
    leaky, quiet, lookup = hygiene
    result = quiet.result("accs_rest result")
    problems = []
    if result is None or result["_event"] != "ok":
        problems.append("accs_rest failed: %s" % (result or {}).get("msg"))
    kinds = leaks(result)
    if kinds:
        problems.append("the result holds " + ", ".join(kinds))
    if result and not result.get("token_refreshed"):
        problems.append("force_refresh did not renew the token")
    matrix.check(request, CAT, "accs_rest result after a token renewal",
                 "accs_rest with vault_path and force_refresh, result printed at -vvvv",
                 "status, json and token_expires_at only: no token, secret or header value in the result",
                 "succeeded (status=%s, token_refreshed=%s); result holds no secret" % (
                     (result or {}).get("status"), (result or {}).get("token_refreshed")) if not kinds
                 else "result holds " + ", ".join(kinds), problems)
    assert not sentence_problems("Ok.")  # the checker itself accepts a plain sentence


def _installed(collection_path, name):
    return collection_path / "ansible_collections" / "adobe_commerce" / "accs" / "playbooks" / name


def test_role_playbooks_write_no_secret(emulator, seed_client, rel_runner_factory, collection_path, matrix, request):
    """The collection's playbooks and roles write reports: run them at -vvvv and scan every file."""
    seed_client("rel-hygiene-roles", SECRET, "rel/hygiene/roles", scopes=["openid", "offline_access", "commerce.accs"])
    emulator.set_tenant("relroles")
    inventory = {"all": {"children": {"accs": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                 "accs_ims_url": emulator.url, "accs_ca_path": emulator.ca_path,
                 "accs_audit_report_dir": "{{ lookup('env', 'HOME') }}/reports",
                 "accs_access_check_report_dir": "{{ lookup('env', 'HOME') }}/reports",
                 "accs_audit_fail_on_drift": False},
        "hosts": {
            "rel-good": {"accs_base_url": emulator.url + "/relroles", "accs_vault_path": "rel/hygiene/roles"},
            "rel-missing": {"accs_base_url": emulator.url + "/relroles", "accs_vault_path": "rel/hygiene/absent"},
        }}}}}
    runner = rel_runner_factory("secret_hygiene_roles")
    access = runner.run(_installed(collection_path, "validate_access.yml"), "validate_access.yml over 2 environments",
                        inventory=inventory)
    audit = runner.run(_installed(collection_path, "audit_store_config.yml"),
                       "audit_store_config.yml over 2 environments", inventory=inventory)
    problems = []
    reports = []
    for run in (access, audit):
        folder = run.home / "reports"
        reports += sorted(p.name for p in folder.glob("*")) if folder.is_dir() else []
        problems += ["%s: %s" % (run.name, leak) for leak in run.leaks]
    if not any(name.startswith("rel-good") for name in reports):
        problems.append("no report was written for the good environment")
    failures = [e["result"].get("ansible_facts", {}).get("accs_access_failed_message") for e in access.events
                if e["host"] == "rel-missing" and e["result"].get("ansible_facts", {}).get("accs_access_failed_message")]
    if not failures:
        problems.append("the environment without a credential did not report a failure")
    else:
        problems += ["access_check failure: " + p for p in sentence_problems(failures[-1], ["rel/hygiene/absent"])]
    matrix.check(request, CAT, "role playbooks and their reports",
                 "validate_access.yml and audit_store_config.yml over a good environment and one without a "
                 "credential, at -vvvv, reports written under the scanned HOME",
                 "reports written; no secret in any output or report; the broken environment fails with one "
                 "sentence naming its Vault path",
                 "reports written, 0 secrets; broken environment: %s" % (failures[-1] if failures else "-")
                 if not problems else "; ".join(problems), problems)


def test_netrc_credentials_are_never_sent(emulator, openbao, rel_runner_factory, secret_registry, matrix, request):
    """A ~/.netrc with an entry for the services' host and a default entry (issue 13, defect 1)."""
    client, secret = "rel-netrc-" + secrets.token_hex(4), "rel-netrc-secret-" + secrets.token_hex(12)
    emulator.add_client(client, client_secrets=[secret], grants=["client_credentials", "refresh_token"])
    refresh = emulator.mint_refresh_token(client, ["openid", "offline_access", "commerce.accs"])
    openbao.client().secrets.kv.v2.create_or_update_secret(
        path="rel/hygiene/netrc", secret={"client_id": client, "client_secret": secret, "refresh_token": refresh})
    tenant = "relnetrc" + secrets.token_hex(4)
    emulator.set_tenant(tenant)
    password = "rel-netrc-password-" + secrets.token_hex(12)
    secret_registry.add("test netrc password", password)
    runner = rel_runner_factory("secret_hygiene_netrc")
    netrc = runner.work_root / "netrc"
    netrc.parent.mkdir(parents=True, exist_ok=True)
    netrc.write_text("machine 127.0.0.1 login rel-netrc-user password %s\ndefault login rel-netrc-default password %s\n"
                     % (password, password), encoding="utf-8")
    netrc.chmod(0o600)
    common = {"ims_url": "{{ emu_url }}", "ca_path": "{{ emu_ca }}"}
    plays = [{"name": "a .netrc for the services' host", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "client credentials", "adobe_commerce.accs.ims_token": dict(
            common, grant_type="client_credentials", client_id=client, client_secret="{{ rel_secret }}",
            scopes=SCOPES), "no_log": True, "register": "cc"},
        {"name": "accs_rest with a refresh", "adobe_commerce.accs.accs_rest": dict(
            common, base_url="{{ emu_url }}/" + tenant, path="/V1/store/websites", vault_path="rel/hygiene/netrc",
            force_refresh=True), "ignore_errors": True}]}]
    run = runner.run(plays, "a .netrc with host and default entries", env={"NETRC": str(netrc)},
                     extra_vars={"emu_url": emulator.url, "emu_ca": emulator.ca_path, "rel_secret": secret})
    calls = [r for r in emulator.requests(key="ims.token")
             if r.get("client_id") in (client, "rel-netrc-user", "rel-netrc-default")]
    accs = emulator.requests(tenant=tenant)
    problems = []
    if [(c.get("client_id"), c.get("status")) for c in calls] != [(client, 200), (client, 200)]:
        problems.append("IMS did not get exactly our client credentials: %s" % [
            (c.get("client_id"), c.get("status")) for c in calls])
    if [(r.get("authorization_scheme"), r.get("status")) for r in accs] != [("Bearer", 200)]:
        problems.append("ACCS did not get exactly our bearer token: %s" % [
            (r.get("authorization_scheme"), r.get("status")) for r in accs])
    result = run.result("accs_rest with a refresh")
    if result is None or result["_event"] != "ok":
        problems.append("accs_rest failed: %s" % (result or {}).get("msg"))
    matrix.check(request, CAT, "a .netrc for the services' host",
                 "NETRC names a file with an entry for 127.0.0.1 (IMS, ACCS and Vault) and a default entry; "
                 "ims_token (client_credentials) and accs_rest (vault_path, force_refresh)",
                 "IMS, ACCS and Vault get exactly the collection's credentials; the netrc password goes nowhere",
                 "IMS saw %s; ACCS saw %s" % (
                     [(c.get("client_id") == client, c.get("status")) for c in calls],
                     [(r.get("authorization_scheme"), r.get("status")) for r in accs]),
                 problems)
