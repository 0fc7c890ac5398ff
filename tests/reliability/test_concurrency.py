"""Concurrency with single-use refresh tokens (the emulator retires a refresh token the moment it
is used): 20 forks refreshing one credential, and two ``playbooks/refresh_tokens.yml`` runs at
once over 50 environments.  Afterwards every stored refresh token still works, and it is the
only valid one of its chain (nothing was lost or forked).
"""

from __future__ import annotations

import secrets
import time

import pytest

from tests.reliability.harness import sentence_problems
from tests.support.ansible_runner import installed_playbook

CAT = "Concurrency"
SCOPES = ["openid", "offline_access", "commerce.accs"]
SECRET = "rel-conc-secret-" + secrets.token_hex(10)
OLD = "2026-01-01T00:00:00Z"


def _chain_problems(emulator, openbao, client, path):
    problems = []
    doc = openbao.client().secrets.kv.v2.read_secret_version(path=path, raise_on_deleted_version=True)["data"]["data"]
    stored = doc.get("refresh_token")
    if not stored or not emulator.check_refresh_token(stored):
        problems.append("%s: the stored refresh token does not work" % path)
    valid = emulator.refresh_tokens(client)["valid"]
    if valid != [stored]:
        problems.append("%s: IMS holds %d valid refresh tokens, the stored one %s among them"
                        % (path, len(valid), "is" if stored in valid else "is not"))
    for key in ("client_id", "client_secret", "scopes"):
        if key not in doc:
            problems.append("%s: key %s vanished" % (path, key))
    return problems


def test_twenty_forks_one_credential(emulator, openbao, seed_client, emulator_vars, rel_runner_factory, matrix,
                                     request):
    client = "rel-conc-forks"
    path = "rel/conc/shared"
    first = seed_client(client, SECRET, path, scopes=SCOPES)["refresh_token"]
    hosts = {"rel-fork-%02d" % i: {} for i in range(20)}
    inventory = {"all": {"hosts": hosts, "vars": {"ansible_connection": "local",
                                                  "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}
    plays = [{"name": "20 forks, one credential", "hosts": "all", "gather_facts": False, "tasks": [
        {"name": "token", "adobe_commerce.accs.ims_token": {
            "vault_path": path, "ims_url": "{{ emu_url }}", "ca_path": "{{ emu_ca }}"},
         "no_log": True, "ignore_errors": True, "register": "tok"},
        {"name": "show", "ansible.builtin.debug": {"msg": "{{ tok | dict2items | rejectattr('key', 'in', "
                                                          "['access_token', 'refresh_token']) | items2dict }}"}},
    ]}]
    before = len(emulator.requests(key="ims.token"))
    run = rel_runner_factory("concurrency_forks").run(
        plays, "20 forks refresh one credential", inventory=inventory, forks=20,
        extra_vars=emulator_vars)
    shown = run.by_host("show")
    outcomes = {host: (result.get("msg") or {}) for host, result in shown.items()}
    failed = {host: o.get("msg") for host, o in outcomes.items() if o.get("failed")}
    problems = []
    if len(outcomes) != 20:
        problems.append("%d of 20 hosts reported" % len(outcomes))
    for host, msg in sorted(failed.items()):
        problems.append("%s failed: %s" % (host, msg))
    problems += _chain_problems(emulator, openbao, client, path)
    ims = len(emulator.requests(key="ims.token")) - before
    refreshed = sum(1 for o in outcomes.values() if o.get("refreshed"))
    matrix.check(request, CAT, "20 forks, one credential",
                 "20 hosts (forks: 20) get a token from one Vault credential at once; IMS refresh tokens are single-use",
                 "all 20 succeed (one refreshes, the others adopt its token or wait for it); the stored refresh token "
                 "works and is the only valid one",
                 "%d/20 succeeded; the stored refresh token works and is the only valid one" % (20 - len(failed))
                 if not problems else "; ".join(problems), problems)
    request.node.user_properties.append(("ims_requests", ims))
    request.node.user_properties.append(("refreshed_hosts", refreshed))


def _installed_playbook(collection_path, name):
    path = installed_playbook(collection_path, name)
    if not path.is_file():
        pytest.fail("playbooks/%s is not in the built collection" % name)
    return path


def test_two_refresh_runs_fifty_environments(emulator, openbao, seed_client, rel_runner_factory, collection_path,
                                             matrix, request):
    playbook = _installed_playbook(collection_path, "refresh_tokens.yml")
    hosts = {}
    clients = {}
    for i in range(50):
        client = "rel-conc-env-%02d" % i
        path = "rel/conc/env-%02d" % i
        # an old refresh token and no cached access token: every environment rotates
        seed_client(client, SECRET, path, scopes=SCOPES, refresh_token_issued_at=OLD)
        hosts["rel-env-%02d" % i] = {"accs_vault_path": path}
        clients[client] = path
    inventory = {"all": {"children": {"accs": {"hosts": hosts, "vars": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "accs_ims_url": emulator.url, "accs_ca_path": emulator.ca_path}}}}}
    runner = rel_runner_factory("concurrency_refresh_tokens")
    started = time.monotonic()
    first = runner.start(playbook, "refresh_tokens.yml run A over 50 environments", inventory=inventory, forks=10)
    second = runner.start(playbook, "refresh_tokens.yml run B over 50 environments", inventory=inventory, forks=10)
    runs = [first.result(timeout=600), second.result(timeout=600)]
    elapsed = time.monotonic() - started
    problems = []
    for label, run in zip("AB", runs):
        if run.rc != 0:
            problems.append("run %s exited %s" % (label, run.rc))
        for event in run.events:
            if event["task"] == "Fail the environments whose refresh failed" and event["event"] == "failed":
                msg = event["result"].get("msg")
                problems.append("run %s, %s: %s" % (label, event["host"], msg))
                problems += ["run %s, %s: %s" % (label, event["host"], p) for p in sentence_problems(msg)]
        summary = [e for e in run.events if e["task"] == "Summary"]
        text = str(summary[-1]["result"].get("msg")) if summary else ""
        if "0 failed" not in text:
            problems.append("run %s summary does not say 0 failed" % label)
    for client, path in clients.items():
        problems += _chain_problems(emulator, openbao, client, path)
    matrix.check(request, CAT, "two refresh_tokens.yml runs, 50 environments",
                 "playbooks/refresh_tokens.yml started twice at once (forks: 10 each) over 50 environments whose "
                 "refresh tokens are due for rotation",
                 "both runs succeed for all 50 environments; every stored refresh token works and is the only valid one",
                 "both runs: 50/50 environments ok; all 50 stored refresh tokens work and are the only valid ones"
                 if not problems else "; ".join(problems[:10]), problems)
    request.node.user_properties.append(("elapsed", round(elapsed, 1)))
