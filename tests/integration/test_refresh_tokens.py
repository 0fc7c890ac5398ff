"""playbooks/refresh_tokens.yml against OpenBao and the emulator.

The scheduled job rotates refresh tokens older than accs_refresh_token_max_age, renews access tokens
close to expiry, leaves fresh credentials alone (no IMS call), reports rotated/fresh/failed per host
without a secret, and is safe when two schedulers run it at once.
"""

from __future__ import annotations

import datetime
import threading
import time
import uuid

import pytest

from tests.support.ansible_runner import run_ansible_playbook

SCOPES = ["openid", "AdobeID", "offline_access", "commerce.accs"]
DAY = 86400


def _iso(epoch):
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


class Env:
    """One ACCS environment: an emulator client and its credential document in OpenBao."""

    def __init__(self, name, emulator, openbao, refresh_age=None, access_ttl=20 * 3600, seed=True):
        self.name = name
        self.emulator = emulator
        self.kv = openbao.client().secrets.kv.v2
        self.path = "refresh-%s/%s" % (uuid.uuid4().hex[:8], name)
        self.client_id = "cid-%s-%s" % (name, uuid.uuid4().hex[:6])
        self.secret = "sec-" + uuid.uuid4().hex
        emulator.add_client(self.client_id, client_secrets=[self.secret], grants=["authorization_code", "refresh_token"])
        self.seeded = None
        if seed:
            now = time.time()
            self.seeded = {
                "client_id": self.client_id,
                "client_secret": self.secret,
                "refresh_token": emulator.mint_refresh_token(self.client_id, SCOPES),
                "refresh_token_issued_at": _iso(now - refresh_age),
                "access_token": emulator.mint_access_token(self.client_id, SCOPES, expires_in=access_ttl),
                "access_token_expires_at": _iso(now + access_ttl),
                "org_id": "ORG%s@AdobeOrg" % uuid.uuid4().hex[:8].upper(),
            }
            self.kv.create_or_update_secret(path=self.path, secret=self.seeded, cas=0)

    def read(self):
        data = self.kv.read_secret_version(path=self.path, raise_on_deleted_version=True)["data"]
        return data["data"], data["metadata"]["version"]

    def token_calls(self):
        return [r for r in self.emulator.requests(key="ims.token") if r.get("client_id") == self.client_id]

    def host_vars(self):
        return {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "accs_vault_path": self.path,
            "accs_ims_url": self.emulator.url,
            "accs_ca_path": self.emulator.ca_path,
        }


def _inventory(envs):
    return {"all": {"children": {"accs": {"hosts": {env.name: env.host_vars() for env in envs}}}}}


@pytest.fixture
def playbook(collection_path):
    return collection_path / "ansible_collections" / "adobe_commerce" / "accs" / "playbooks" / "refresh_tokens.yml"


def _assert_no_secret(text, emulator):
    leaked = [s for s in emulator.secrets() if len(s) >= 12 and s in text]
    assert not leaked, "%d secret(s) issued by the emulator appear in the playbook output" % len(leaked)


def test_rotates_old_refresh_tokens_and_leaves_fresh_ones_alone(emulator_clean, openbao, run_playbook, playbook):
    emulator = emulator_clean
    old = Env("env-old", emulator, openbao, refresh_age=4 * DAY)                       # refresh token too old
    expiring = Env("env-expiring", emulator, openbao, refresh_age=3600, access_ttl=300)  # access token nearly expired
    fresh = Env("env-fresh", emulator, openbao, refresh_age=3600)
    missing = Env("env-missing", emulator, openbao, seed=False)                       # nothing in Vault
    envs = [old, expiring, fresh, missing]
    fresh_doc, fresh_version = fresh.read()

    result = run_playbook(playbook, inventory=_inventory(envs), json=True)

    assert result.rc == 2, result.stdout[-3000:]  # the failed environment fails the run, the others are done
    summary = result.task_results("Summary")
    lines = next(iter(summary.values()))["msg"]
    assert "env-old: rotated (access token valid until " in "\n".join(lines)
    assert "env-expiring: rotated (access token valid until " in "\n".join(lines)
    assert "env-fresh: fresh (access token valid until %s)" % fresh.seeded["access_token_expires_at"] in lines
    assert any(line.startswith("env-missing: failed: No credential at 'secret/%s'" % missing.path) for line in lines)
    assert lines[-1] == "refresh_tokens: 4 environments: 2 rotated, 1 fresh, 1 failed"
    assert result.stats["env-missing"]["failed"] == 1
    assert result.stats["env-old"]["failed"] == 0 and result.stats["env-fresh"]["failed"] == 0
    failure = result.task_results("Fail the environments whose refresh failed")["env-missing"]
    assert failure["msg"].startswith("No credential at 'secret/%s'" % missing.path)

    for env in (old, expiring):
        doc, version = env.read()
        assert version == 2
        assert doc["refresh_token"] != env.seeded["refresh_token"]
        assert _epoch(doc["refresh_token_issued_at"]) > time.time() - 120
        assert doc["access_token"] != env.seeded["access_token"]
        assert _epoch(doc["access_token_expires_at"]) > time.time() + 20 * 3600
        assert doc["org_id"] == env.seeded["org_id"] and doc["client_secret"] == env.secret
        assert emulator.refresh_token_status(env.seeded["refresh_token"]) == "used"
        assert emulator.check_refresh_token(doc["refresh_token"]) is True
        assert [c["grant_type"] for c in env.token_calls()] == ["refresh_token"]

    # The fresh credential: no IMS call, no Vault write.
    assert fresh.token_calls() == []
    assert fresh.read() == (fresh_doc, fresh_version)
    assert emulator.check_refresh_token(fresh.seeded["refresh_token"]) is True
    _assert_no_secret(result.stdout + result.stderr + result.log, emulator)

    # A lower threshold rotates the hour-old refresh token; the ones rotated a moment ago stay.
    again = run_playbook(playbook, inventory=_inventory([old, expiring, fresh]), json=True,
                         extra_vars={"accs_refresh_token_max_age": 1800})
    again.assert_rc(0)
    lines = next(iter(again.task_results("Summary").values()))["msg"]
    assert lines[-1] == "refresh_tokens: 3 environments: 1 rotated, 2 fresh, 0 failed"
    assert any(line.startswith("env-fresh: rotated") for line in lines)
    doc, doc_version = fresh.read()
    assert doc["refresh_token"] != fresh.seeded["refresh_token"]
    assert emulator.check_refresh_token(doc["refresh_token"]) is True
    assert len(old.token_calls()) == 1 and len(expiring.token_calls()) == 1
    _assert_no_secret(again.stdout + again.stderr + again.log, emulator)


def test_two_schedulers_at_once_are_safe(emulator_clean, openbao, collection_path, playbook, test_output_dir, tmp_path):
    emulator = emulator_clean
    envs = [Env("env-%02d" % number, emulator, openbao, refresh_age=5 * DAY) for number in range(1, 11)]
    seeded = {env.name: env.seeded["refresh_token"] for env in envs}
    # Every token answer takes a moment, so the two runs' refreshes of one credential overlap.
    emulator.add_fault("ims.token.refresh_token", times=40, delay=2.5)
    inventory = _inventory(envs)
    results = {}

    def run(name):
        results[name] = run_ansible_playbook(
            playbook, work_dir=tmp_path / name, output_dir=test_output_dir / name, collections_path=collection_path,
            inventory=inventory, base_env=openbao.env(), forks=10, json=True, timeout=300)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("scheduler-a", "scheduler-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(320)
    emulator.clear_faults()

    for name in ("scheduler-a", "scheduler-b"):
        result = results[name]
        result.assert_rc(0)
        lines = next(iter(result.task_results("Summary").values()))["msg"]
        assert lines[-1].startswith("refresh_tokens: 10 environments: ") and lines[-1].endswith(" 0 failed"), lines
        _assert_no_secret(result.stdout + result.stderr + result.log, emulator)

    # The runs overlap on every credential (2.5 s per token answer), and the per-host refresh lock
    # queues them: each credential is refreshed at IMS exactly once, the waiting run adopts its token.
    calls = emulator.requests(key="ims.token")
    assert len(calls) == len(envs), [c.get("client_id") for c in calls]
    for env in envs:
        doc, _version = env.read()
        assert doc["refresh_token"] != seeded[env.name]
        assert emulator.check_refresh_token(doc["refresh_token"]) is True, "%s holds a dead refresh token" % env.name
        assert _epoch(doc["refresh_token_issued_at"]) > time.time() - 300
        assert doc["client_secret"] == env.secret and doc["org_id"] == env.seeded["org_id"]
