"""Vault faults on a real server, around a refresh-token rotation: sealed, stopped between the
read and the write-back, read-but-not-write, and check-and-set conflicts.

The promise shown: nothing is lost.  After each fault the Vault document is intact and the
newest refresh token IMS issued (the emulator's single valid one of the family) is either in
Vault or in the recovery file the failure message names; a later run stores it by itself.
Recovery files live under the test's tmp_path (the documented exception to "no secret in a
file"), outside the scanned output.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import time

import pytest

from tests.reliability.harness import sentence_problems

CAT = "Vault faults"
SCOPES = ["openid", "offline_access", "commerce.accs"]
SECRET = "rel-vault-server-secret-" + secrets.token_hex(10)


def _token_play(path, **args):
    task = {"vault_path": path, "ims_url": "{{ emu_url }}", "ca_path": "{{ emu_ca }}", "retries": 0,
            "timeout": 20, "force_refresh": True}
    task.update(args)
    return [{
        "name": "rotation", "hosts": "localhost", "gather_facts": False,
        "tasks": [
            {"name": "rotate", "adobe_commerce.accs.ims_token": task, "no_log": True, "ignore_errors": True,
             "register": "rotated"},
            {"name": "show", "ansible.builtin.debug": {"msg": "{{ rotated | dict2items | rejectattr('key', 'in', "
                                                              "['access_token', 'refresh_token']) | items2dict }}"}},
        ],
    }]


def _outcome(run):
    shown = run.result("show")
    return (shown or {}).get("msg") or {}


class Rotation:
    """One credential of its own: a client, a Vault document, a recovery folder."""

    def __init__(self, name, emulator, server, tmp_path, runner_factory):
        self.name = name
        self.client = "rel-" + name
        self.emulator = emulator
        self.server = server
        self.path = "rel/server/" + name
        self.recovery_dir = tmp_path / "recovery"
        self.runner = runner_factory("vault_server_" + name.replace("-", "_"), recovery_dir=self.recovery_dir)
        emulator.add_client(self.client, client_secrets=[SECRET], grants=["refresh_token"])
        self.first = emulator.mint_refresh_token(self.client, SCOPES)
        self.doc = {"client_id": self.client, "client_secret": SECRET, "refresh_token": self.first,
                    "scopes": ",".join(SCOPES), "org_id": "REL@AdobeOrg"}
        self.seed()

    def seed(self, doc=None):
        self.server.client().secrets.kv.v2.create_or_update_secret(path=self.path, secret=doc or self.doc)

    def read(self):
        answer = self.server.client().secrets.kv.v2.read_secret_version(path=self.path, raise_on_deleted_version=True)
        return answer["data"]["data"], answer["data"]["metadata"]["version"]

    def extra(self, **more):
        out = {"emu_url": self.emulator.url, "emu_ca": self.emulator.ca_path}
        out.update(more)
        return out

    def run(self, label, env=None, **args):
        base_env = {"VAULT_ADDR": self.server.url, "VAULT_TOKEN": self.server.root_token}
        base_env.update(env or {})
        return self.runner.run(_token_play(self.path, **args), label, extra_vars=self.extra(), env=base_env)

    def start(self, label, env=None, **args):
        base_env = {"VAULT_ADDR": self.server.url, "VAULT_TOKEN": self.server.root_token}
        base_env.update(env or {})
        return self.runner.start(_token_play(self.path, **args), label, extra_vars=self.extra(), env=base_env)

    def valid_tokens(self):
        return self.emulator.refresh_tokens(self.client)["valid"]

    def recovery_files(self):
        if not self.recovery_dir.is_dir():
            return []
        return sorted(p for p in self.recovery_dir.iterdir() if p.is_file() and not p.name.startswith("."))

    def wait_for_ims(self, before, timeout=20.0):
        """Block until IMS received the rotation's token request (it is then held by a delay fault)."""
        deadline = time.monotonic() + timeout
        while self.emulator.counters().get("ims.token", 0) <= before:
            if time.monotonic() > deadline:
                raise AssertionError("the playbook never reached IMS")
            time.sleep(0.02)


def nothing_lost(rot, stored_doc, where="Vault"):
    """The newest refresh token IMS issued is in Vault or in the recovery file, and it works."""
    problems = []
    valid = rot.valid_tokens()
    if len(valid) != 1:
        problems.append("IMS holds %d valid refresh tokens for the client, expected exactly 1" % len(valid))
        return problems
    newest = valid[0]
    in_vault = stored_doc is not None and stored_doc.get("refresh_token") == newest
    in_file = False
    for path in rot.recovery_files():
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("refresh_token") == newest:
            in_file = True
            mode = stat.S_IMODE(os.stat(path).st_mode)
            if mode != 0o600:
                problems.append("the recovery file has mode %o, not 0600" % mode)
            # "document": the credential's client fields, to restore a document deleted meanwhile (issue 13)
            extra_keys = set(record) - {"vault_url", "vault_mount", "vault_path", "refresh_token", "replaces_sha256",
                                        "saved_at", "document"}
            if extra_keys:
                problems.append("the recovery file holds more than documented: %s" % sorted(extra_keys))
    if not (in_vault or in_file):
        problems.append("the newest refresh token IMS issued is neither in %s nor in a recovery file" % where)
    return problems


def intact(rot, doc):
    """The document still holds every key the user stored, unchanged but for the collection's own fields."""
    problems = []
    if doc is None:
        return ["the document is gone"]
    for key, value in rot.doc.items():
        if key == "refresh_token":
            continue
        if doc.get(key) != value:
            problems.append("key %s of the document changed or vanished" % key)
    return problems


def _record(matrix, request, case, fault, expected, observed, problems):
    matrix.check(request, CAT, case, fault, expected, observed, problems)


def _recovered(rot, run, version=None):
    """The run after a fault: it succeeds, Vault holds the newest refresh token, which works, and the
    recovery file is gone; ``version``: the document version expected.  Returns (observed, problems)."""
    outcome = _outcome(run)
    problems = [] if not outcome.get("failed") else ["the next run failed: %s" % outcome.get("msg")]
    doc, doc_version = rot.read()
    problems += intact(rot, doc) + nothing_lost(rot, doc)
    if rot.recovery_files():
        problems.append("the recovery file is still there after the token was stored")
    if not rot.emulator.check_refresh_token((doc or {}).get("refresh_token")):
        problems.append("the refresh token in Vault does not work")
    if version is not None and doc_version != version:
        problems.append("the document was not written exactly once (version %s, expected %s)" % (doc_version, version))
    if problems:
        return "; ".join(problems), problems
    return ("succeeded (refreshed=%s); the stored refresh token works, recovery file removed"
            % outcome.get("refreshed")), problems


def _failure(run, names):
    outcome = _outcome(run)
    problems = []
    if not outcome.get("failed"):
        problems.append("the task did not fail")
    problems += sentence_problems(outcome.get("msg"), names)
    return outcome, problems


@pytest.fixture
def emu(emulator):
    emulator.clear_faults()
    return emulator


def test_sealed_vault(emu, private_openbao, tmp_path, rel_runner_factory, matrix, request):
    server = private_openbao()
    rot = Rotation("sealed-read", emu, server, tmp_path, rel_runner_factory)
    result = server.bao("operator", "seal")
    assert server.health()[0] == 503, result.stderr
    run = rot.run("Vault sealed before the read")
    outcome, problems = _failure(run, ["Vault", "sealed", "unseal"])
    server.unseal()
    doc, version = rot.read()
    problems += intact(rot, doc)
    if doc.get("refresh_token") != rot.first or version != 1:
        problems.append("the document changed while Vault was sealed")
    if not emu.check_refresh_token(rot.first):
        problems.append("the stored refresh token was used although nothing could be stored")
    _record(matrix, request, "vault-sealed", "Vault sealed (bao operator seal) before the task reads the credential",
            "fails with one sentence: Vault is sealed, unseal it; IMS is not asked, the stored token stays valid",
            "failed: %s" % outcome.get("msg"), problems)


def test_sealed_during_rotation_then_recovered(emu, private_openbao, tmp_path, rel_runner_factory, matrix, request):
    server = private_openbao()
    rot = Rotation("sealed-rotation", emu, server, tmp_path, rel_runner_factory)
    emu.add_fault("ims.token", delay=2)
    before = emu.counters().get("ims.token", 0)
    future = rot.start("Vault sealed during the rotation")
    rot.wait_for_ims(before)
    server.bao("operator", "seal")
    run = future.result(timeout=300)
    outcome, problems = _failure(run, ["refresh token", "saved in", str(rot.recovery_dir), "next run"])
    if not rot.recovery_files():
        problems.append("no recovery file was written")
    elif str(rot.recovery_files()[0]) not in (outcome.get("msg") or ""):
        problems.append("the message does not name the recovery file")
    server.unseal()
    doc, doc_version = rot.read()
    problems += intact(rot, doc) + nothing_lost(rot, doc)
    _record(matrix, request, "vault-sealed-mid-rotation",
            "Vault sealed after IMS rotated the refresh token, before the write-back (IMS delayed 2 s)",
            "fails with one sentence naming the recovery file; the new refresh token is in that 0600 file",
            "failed: %s" % outcome.get("msg"), problems)

    observed, problems = _recovered(rot, rot.run("next run after unsealing"))
    _record(matrix, request, "vault-recovery-after-unseal",
            "the next run after the sealed write-back, Vault unsealed",
            "uses the token from the recovery file, stores the rotated one in Vault and removes the file",
            observed, problems)


def test_stopped_during_rotation_then_recovered(emu, private_openbao, tmp_path, rel_runner_factory, matrix, request):
    server = private_openbao()
    rot = Rotation("stopped-rotation", emu, server, tmp_path, rel_runner_factory)
    emu.add_fault("ims.token", delay=2)
    before = emu.counters().get("ims.token", 0)
    future = rot.start("Vault stopped during the rotation")
    rot.wait_for_ims(before)
    server.stop()
    run = future.result(timeout=300)
    outcome, problems = _failure(run, ["refresh token", "saved in", str(rot.recovery_dir)])
    problems += nothing_lost(rot, None, where="Vault (stopped)")
    _record(matrix, request, "vault-stopped-mid-rotation",
            "the Vault server stopped between the read and the write-back of a rotation (IMS delayed 2 s)",
            "fails with one sentence naming the recovery file; the new refresh token is in that 0600 file",
            "failed: %s" % outcome.get("msg"), problems)

    server.start()  # a new, empty dev server at the same address: the document is restored from backup
    rot.seed()
    observed, problems = _recovered(rot, rot.run("next run against the restored Vault"))
    _record(matrix, request, "vault-recovery-after-restart",
            "the next run after Vault came back with the document restored from backup (the used refresh token)",
            "takes the newer token from the recovery file (it replaces the stored one), stores the rotation",
            observed, problems)


def test_read_but_not_write(emu, openbao, tmp_path, rel_runner_factory, matrix, request):
    rot = Rotation("read-only", emu, openbao, tmp_path, rel_runner_factory)
    openbao.write_policy("rel-read-only", 'path "secret/data/%s" { capabilities = ["read"] }\n' % rot.path)
    token = openbao.create_token(["rel-read-only"])
    run = rot.run("Vault token may read but not write", env={"VAULT_TOKEN": token})
    outcome, problems = _failure(run, ["refresh token", "saved in", str(rot.recovery_dir), "next run"])
    doc, version = rot.read()
    problems += intact(rot, doc) + nothing_lost(rot, doc)
    if version != 1:
        problems.append("the document was written although the token may not write")
    _record(matrix, request, "vault-read-not-write",
            "the Vault token's policy allows read but not write; IMS rotates the refresh token",
            "fails with one sentence naming the recovery file; the newest refresh token is in that 0600 file",
            "failed: %s" % outcome.get("msg"), problems)

    observed, problems = _recovered(rot, rot.run("next run with write access", env={"VAULT_TOKEN": openbao.root_token}),
                                    version=2)
    _record(matrix, request, "vault-recovery-with-write-access",
            "the next run, with a token that may write",
            "stores the recovered chain in Vault by itself and removes the recovery file",
            observed, problems)


def test_cas_conflict_unrelated_change(emu, openbao, tmp_path, rel_runner_factory, matrix, request):
    rot = Rotation("cas-merge", emu, openbao, tmp_path, rel_runner_factory)
    emu.add_fault("ims.token", delay=2)
    before = emu.counters().get("ims.token", 0)
    future = rot.start("concurrent writer changes another key")
    rot.wait_for_ims(before)
    changed = dict(rot.doc, note="written by another tool meanwhile")
    rot.seed(changed)
    run = future.result(timeout=300)
    outcome = _outcome(run)
    problems = [] if not outcome.get("failed") else ["the task failed: %s" % outcome.get("msg")]
    doc, version = rot.read()
    problems += intact(rot, doc) + nothing_lost(rot, doc)
    if doc.get("note") != changed["note"]:
        problems.append("the other writer's change was lost")
    if version != 3:
        problems.append("expected version 3 (seed, other writer, merged write-back), got %s" % version)
    _record(matrix, request, "vault-cas-conflict-merge",
            "check-and-set conflict: another writer changes a key of the document during the rotation",
            "the write-back loses the check-and-set, re-reads, keeps the other change and stores the new token",
            "succeeded; both changes in the document (version %s), the stored refresh token works" % version
            if not problems else "; ".join(problems), problems)


def test_cas_conflict_other_refresh_token(emu, openbao, tmp_path, rel_runner_factory, matrix, request):
    rot = Rotation("cas-other-token", emu, openbao, tmp_path, rel_runner_factory)
    emu.add_fault("ims.token", delay=2)
    before = emu.counters().get("ims.token", 0)
    future = rot.start("concurrent writer stores another refresh token")
    rot.wait_for_ims(before)
    theirs = emu.mint_refresh_token(rot.client, SCOPES)  # e.g. a bootstrap run meanwhile
    rot.seed(dict(rot.doc, refresh_token=theirs))
    run = future.result(timeout=300)
    outcome = _outcome(run)
    problems = [] if not outcome.get("failed") else ["the task failed: %s" % outcome.get("msg")]
    doc, version = rot.read()
    problems += intact(rot, doc)
    if doc.get("refresh_token") != theirs:
        problems.append("the other writer's refresh token was overwritten")
    if not emu.check_refresh_token(doc.get("refresh_token")):
        problems.append("the refresh token in Vault does not work")
    _record(matrix, request, "vault-cas-conflict-other-token",
            "check-and-set conflict: another writer stores a different refresh token during the rotation",
            "the run succeeds with its access token; Vault keeps the other writer's refresh token, which works",
            "succeeded; Vault keeps the other writer's refresh token (it works), version %s" % version
            if not problems else "; ".join(problems), problems)
