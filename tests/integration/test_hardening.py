"""Issue 13's defects, each pinned by what IMS, ACCS (the emulator) and OpenBao received and hold.

Every test seeds its own client and Vault document (helpers.seed_credential), so nothing here
resets the emulator.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit

from tests.emulator.control import pkce_pair
from tests.integration.helpers import (
    ACCS_REST,
    REDIRECT_URI,
    S2S_SCOPES,
    USER_SCOPES,
    accs_requests,
    add_client,
    assert_no_secrets,
    assert_one_sentence,
    failed_msg,
    full_match,
    ims_token_requests,
    ims_token_task,
    play,
    policy_token,
    seed_credential,
    sha256,
    summary,
    token_summary_task,
    vault_secrets,
)
from tests.support.ansible_runner import hermetic_env


def _code(emulator, client_id):
    """An authorization code (with its PKCE verifier) the emulator issued to ``client_id``."""
    verifier, challenge = pkce_pair("S256")
    answer = emulator.authorize(client_id, redirect_uri=REDIRECT_URI, scope=",".join(USER_SCOPES),
                                state=uuid.uuid4().hex, code_challenge=challenge, code_challenge_method="S256")
    return answer["code"], verifier


def _soft_delete(openbao, cred):
    openbao.client().secrets.kv.v2.delete_latest_version_of_secret(path=cred.vault_path, mount_point=cred.mount)


def _exchange_task(name, cred, **options):
    return ims_token_task(name, name.replace(" ", "_"), grant_type="authorization_code", code="{{ code }}",
                          code_verifier="{{ verifier }}", redirect_uri=REDIRECT_URI, vault_path=cred.vault_path,
                          client_id=cred.client_id, client_secret="{{ secret }}", **options)


# --------------------------------------------------------------------------- defect 1: .netrc
def test_netrc_never_replaces_our_credentials(run_playbook, emulator, openbao, tmp_path, secret_registry):
    """A ~/.netrc entry for the emulator's host and a default entry: IMS, ACCS and Vault still get ours."""
    netrc_password = "netrc-password-must-never-travel"
    secret_registry.add("netrc password", netrc_password)
    host = urlsplit(emulator.url).hostname
    netrc = tmp_path / "netrc"
    netrc.write_text("machine %s login netrc-user password %s\ndefault login netrc-default password %s\n"
                     % (host, netrc_password, netrc_password), encoding="utf-8")
    netrc.chmod(0o600)
    cred = seed_credential(emulator, openbao, cache="valid")
    plain_id, plain_secrets = add_client(emulator, grants=["client_credentials"], scopes=S2S_SCOPES)
    tasks = [
        ims_token_task("refresh", "refreshed", vault_path=cred.vault_path, force_refresh=True),
        token_summary_task("refresh summary", "refreshed"),
        {"name": "read ACCS", ACCS_REST: {"base_url": cred.base_url, "path": "/V1/store/storeConfigs",
                                          "vault_path": cred.vault_path}, "register": "answer"},
        ims_token_task("client credentials", "s2s", grant_type="client_credentials", client_id=plain_id,
                       client_secret="{{ plain_secret }}", scopes=S2S_SCOPES),
        token_summary_task("client credentials summary", "s2s"),
    ]
    result = run_playbook(play(tasks, emulator), extra_vars={"plain_secret": plain_secrets[0]}, json=True,
                          env={"NETRC": str(netrc)}).assert_rc(0)

    # IMS saw our Basic client credentials, and only ours
    calls = ims_token_requests(emulator, cred.client_id)
    assert [(c["grant_type"], c["status"], c["client_auth"]) for c in calls] == [("refresh_token", 200, "basic")]
    assert [(c["grant_type"], c["status"]) for c in ims_token_requests(emulator, plain_id)] == [
        ("client_credentials", 200)]
    assert ims_token_requests(emulator, "netrc-user") == [] and ims_token_requests(emulator, "netrc-default") == []
    # ACCS got the bearer token IMS issued, which OpenBao holds
    document, version = cred.read(openbao)
    assert version == cred.version + 1
    assert sha256(document["access_token"]) == summary(result, "refresh summary")["token_sha256"]
    records = accs_requests(emulator, cred.tenant)
    assert [(r["status"], r["authorization_scheme"]) for r in records] == [(200, "Bearer")]
    assert summary(result, "client credentials summary")["has_token"] is True


# --------------------------------------------------------------------------- defect 4: soft-deleted documents
def test_exchange_writes_over_a_soft_deleted_document(run_playbook, emulator, openbao, tmp_path):
    """cas = the deleted version's number, with a policy that grants the data path only (no metadata/)."""
    cred = seed_credential(emulator, openbao, tenant=False)
    _soft_delete(openbao, cred)
    token = policy_token(openbao, 'path "secret/data/%s" { capabilities = ["create", "read", "update"] }\n'
                         % cred.vault_path)
    code, verifier = _code(emulator, cred.client_id)
    recovery = tmp_path / "recovery"
    tasks = [_exchange_task("exchange", cred, vault_token="{{ token }}", recovery_dir=str(recovery))]
    run_playbook(play(tasks, emulator), extra_vars={"code": code, "verifier": verifier, "token": token,
                                                    "secret": cred.client_secret}).assert_rc(0)
    document, version = cred.read(openbao)
    assert version == cred.version + 1
    assert document["client_id"] == cred.client_id and emulator.check_refresh_token(document["refresh_token"])
    assert [(c["grant_type"], c["status"]) for c in ims_token_requests(emulator, cred.client_id)] == [
        ("authorization_code", 200)]
    assert not recovery.exists() or list(recovery.iterdir()) == []


def test_deleted_document_is_recognised_with_a_read_only_policy(run_playbook, emulator, openbao):
    cred = seed_credential(emulator, openbao, tenant=False)
    _soft_delete(openbao, cred)
    token = policy_token(openbao, 'path "secret/data/%s" { capabilities = ["read"] }\n' % cred.vault_path)
    task = ims_token_task("read", "r", no_log=False, vault_path=cred.vault_path, vault_token="{{ token }}")
    result = run_playbook(play([dict(task, ignore_errors=True)], emulator), extra_vars={"token": token},
                          json=True).assert_rc(0)
    msg = failed_msg(result, "read")
    full_match(r"The credential at 'secret/%s' in Vault at %s is deleted \(version 1\): undelete it \(vault kv "
               r"undelete -versions=1\) or store a new one\." % (re.escape(cred.vault_path), re.escape(openbao.url)), msg)
    assert_one_sentence(msg)
    assert ims_token_requests(emulator, cred.client_id) == []


def test_recovery_file_restores_a_deleted_document(run_playbook, emulator, openbao, tmp_path):
    """A refresh token saved to the recovery file is used before the deleted-document error."""
    cred = seed_credential(emulator, openbao, tenant=False)
    _soft_delete(openbao, cred)
    read_only = policy_token(openbao, 'path "secret/data/%s" { capabilities = ["read"] }\n' % cred.vault_path)
    code, verifier = _code(emulator, cred.client_id)
    recovery = tmp_path / "recovery"  # outside build/test-output: the file holds a refresh token
    tasks = [dict(_exchange_task("exchange", cred, vault_token="{{ token }}", recovery_dir=str(recovery),
                                 no_log=False), ignore_errors=True)]
    result = run_playbook(play(tasks, emulator), extra_vars={"code": code, "verifier": verifier, "token": read_only,
                                                             "secret": cred.client_secret}, json=True).assert_rc(0)
    assert "it is saved in" in failed_msg(result, "exchange")
    (saved,) = recovery.iterdir()
    saved_token = json.loads(saved.read_text())["refresh_token"]
    assert emulator.check_refresh_token(saved_token) is True

    tasks = [ims_token_task("restore", "restored", vault_path=cred.vault_path, recovery_dir=str(recovery)),
             token_summary_task("restore summary", "restored")]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    assert summary(result, "restore summary")["refreshed"] is True
    document, version = cred.read(openbao)
    assert version == cred.version + 1
    assert document["client_id"] == cred.client_id and document["client_secret"] == cred.client_secret
    assert emulator.refresh_token_status(saved_token) == "used"
    assert emulator.check_refresh_token(document["refresh_token"]) is True
    assert list(recovery.iterdir()) == []


# --------------------------------------------------------------------------- defect 7: the traceback at -vvv
# A cached token whose expiry lies past year 9999 in UTC passes the document's checks but cannot be
# formatted back: an unexpected error of the engine, met without stubbing anything.
FAR_FUTURE = "9999-12-31T23:59:59-23:59"
UNEXPECTED = (r"Unexpected internal error \(ValueError\) in adobe_commerce\.accs: run again with -vvv and report it "
              r"with the task's options, leaving out secrets\.")


def _far_future_credential(emulator, openbao):
    return seed_credential(emulator, openbao, tenant=False, cache="valid",
                           extra={"access_token_expires_at": FAR_FUTURE})


def test_unexpected_error_shows_its_scrubbed_traceback_at_vvv(run_playbook, emulator, openbao):
    cred = _far_future_credential(emulator, openbao)
    task = dict(ims_token_task("token", "t", no_log=False, vault_path=cred.vault_path), ignore_errors=True)
    quiet = run_playbook(play([task], emulator), json=True).assert_rc(0)
    full_match(UNEXPECTED, failed_msg(quiet, "token"))
    loud = run_playbook(play([task], emulator), verbosity=3).assert_rc(0)
    assert "Traceback (most recent call last)" in loud.stdout + loud.stderr
    assert "ValueError: year 10000 is out of range" in loud.stdout + loud.stderr
    assert "_credential.py" in loud.stdout + loud.stderr  # where it failed
    secrets = emulator.secrets() + vault_secrets(openbao) + [cred.access_token, cred.refresh_token, cred.client_secret]
    for result in (quiet, loud):
        assert_no_secrets(result.stdout + result.stderr + result.log, secrets, "output")


def test_unexpected_error_of_the_module_returns_its_scrubbed_traceback(emulator, openbao, collection_path, tmp_path):
    """The module's own main() (as a target runs it): the traceback is in the result's exception key."""
    cred = _far_future_credential(emulator, openbao)
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
        "vault_path": cred.vault_path, "vault_url": openbao.url, "vault_token": openbao.root_token,
        "ims_url": emulator.url, "ca_path": emulator.ca_path}}), encoding="utf-8")
    answer = subprocess.run(
        [sys.executable, "-m", "ansible_collections.adobe_commerce.accs.plugins.modules.ims_token", str(args)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
        env=hermetic_env({"PYTHONPATH": str(collection_path)}))
    result = json.loads(answer.stdout)
    assert result["failed"] is True
    full_match(UNEXPECTED, result["msg"])
    # `exception` as Ansible defines it; ansible-core 2.19 keeps it only with tracebacks enabled, so the
    # module also returns it under accs_traceback, which the action plugin moves to `exception` and shows
    traceback = result.get("exception") or result["accs_traceback"]
    assert traceback == result["accs_traceback"]
    assert traceback.startswith("Traceback (most recent call last)")
    assert "ValueError: year 10000 is out of range" in traceback
    assert_no_secrets(answer.stdout + answer.stderr,
                      [openbao.root_token, cred.access_token, cred.refresh_token, cred.client_secret], "module output")


# --------------------------------------------------------------------------- defect 8: error_kind
def test_failed_results_carry_a_stable_error_kind(run_playbook, emulator, openbao):
    """Callers branch on error_kind, never on the sentence."""
    kv1 = "kv1-" + uuid.uuid4().hex[:8]
    openbao.enable_kv1(kv1)
    deleted = seed_credential(emulator, openbao, tenant=False)
    _soft_delete(openbao, deleted)
    revoked = seed_credential(emulator, openbao, tenant=False)
    emulator.revoke(token=revoked.refresh_token)
    cached = seed_credential(emulator, openbao, cache="valid")
    odd = _far_future_credential(emulator, openbao)

    def fails(name, module=None, **options):
        task = ims_token_task(name, "r_" + uuid.uuid4().hex[:8], no_log=False, **options) if module is None else \
            {"name": name, module: options, "register": "r_" + uuid.uuid4().hex[:8]}
        return dict(task, ignore_errors=True)

    tasks = [
        fails("kv1", vault_path="accs/prod", vault_mount=kv1),
        fails("deleted", vault_path=deleted.vault_path),
        fails("missing", vault_path="accs/" + uuid.uuid4().hex),
        fails("invalid_grant", vault_path=revoked.vault_path),
        fails("config", vault_path=cached.vault_path, ims_url="http://ims.example.com"),
        fails("internal", vault_path=odd.vault_path),
        fails("accs 404", ACCS_REST, base_url=cached.base_url, path="/V1/no/such/endpoint",
              vault_path=cached.vault_path),
    ]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    kinds = {name: result.task_results(name)["localhost"].get("error_kind") for name in
             ("kv1", "deleted", "missing", "invalid_grant", "config", "internal", "accs 404")}
    assert kinds == {"kv1": "vault_kv1", "deleted": "vault_deleted", "missing": "vault_not_found",
                     "invalid_grant": "ims_invalid_grant", "config": "config", "internal": "internal",
                     "accs 404": "accs_api"}


# --------------------------------------------------------------------------- defect 10: vault_timeout
def test_vault_timeout_applies_to_the_modules(run_playbook, emulator):
    """A Vault that accepts the connection and never answers: vault_timeout bounds the wait."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = "http://127.0.0.1:%d" % silent.getsockname()[1]
        tasks = [dict(ims_token_task("token", "t", no_log=False, vault_path="accs/prod", vault_url=url,
                                     vault_token="hvs.not-used-token", vault_timeout=2), ignore_errors=True),
                 {"name": "read", ACCS_REST: {"base_url": emulator.url + "/tenant", "path": "/V1/store/websites",
                                              "vault_path": "accs/prod", "vault_url": url,
                                              "vault_token": "hvs.not-used-token", "vault_timeout": 2},
                  "ignore_errors": True}]
        started = time.monotonic()
        result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
        took = time.monotonic() - started
    for name in ("token", "read"):
        res = result.task_results(name)["localhost"]
        full_match(r"Cannot reach Vault at %s to read 'secret/accs/prod': check vault_url \(VAULT_ADDR\) and that "
                   r"Vault is running\." % re.escape(url), res["msg"])
        assert res["error_kind"] == "vault_unavailable"
    assert took < 25, "vault_timeout 2 s was not applied (%.1f s)" % took
