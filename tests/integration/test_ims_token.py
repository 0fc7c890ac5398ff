"""ims_token against the real OpenBao and the IMS emulator, through ansible-playbook (issue 3).

Every test seeds its own client and Vault document (helpers.seed_credential), so counts are
taken per client from the emulator's request records and no test resets the emulator.
Results holding tokens are registered with no_log; a debug task prints their sha256, which
the tests compare with what OpenBao holds.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest

from tests.emulator.control import pkce_pair
from tests.integration.helpers import (
    DEBUG_ID,
    LOOKUP,
    REDIRECT_URI,
    S2S_SCOPES,
    USER_SCOPES,
    add_client,
    assert_no_secrets,
    assert_one_sentence,
    failed_msg,
    full_match,
    ims_token_requests,
    ims_token_task,
    kv2_mount,
    parse_iso,
    play,
    policy_token,
    seed_credential,
    sha256,
    summary,
    token_summary_task,
    unique,
    vault_secrets,
)
from tests.support.openbao import free_port as _closed_port  # a loopback port nothing listens on


def _hostport(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[0]


def _counter(emulator, key: str) -> int:
    return emulator.counters().get(key, 0)


# --------------------------------------------------------------------------- cache and rotation
def test_cached_token_is_reused_without_any_ims_call(run_playbook, emulator, openbao):
    cred = seed_credential(emulator, openbao, cache="valid", cache_expires_in=3600)
    before = {key: _counter(emulator, key) for key in ("ims.token", "ims.token.refresh_token")}
    tasks = [
        ims_token_task("cached", "cached", vault_path=cred.vault_path),
        token_summary_task("cached summary", "cached"),
        # min_ttl just under the remaining lifetime still reuses it
        ims_token_task("cached again", "again", vault_path=cred.vault_path, min_ttl=3000),
        token_summary_task("again summary", "again"),
    ]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)

    for name in ("cached summary", "again summary"):
        got = summary(result, name)
        assert got["changed"] is False and got["refreshed"] is False, got
        assert got["token_sha256"] == sha256(cred.access_token), got
        assert got["token_type"] == "bearer"
        assert 3000 < got["expires_in"] <= 3600
        assert abs(parse_iso(got["expires_at"]) - parse_iso(cred.document["access_token_expires_at"])) <= 1
        assert got["has_refresh_token"] is False and got["vault_path"] == cred.vault_path
    assert result.stats["localhost"]["changed"] == 0
    # zero IMS calls: the emulator's counters did not move, and it saw nothing from this client
    assert {key: _counter(emulator, key) for key in before} == before
    assert ims_token_requests(emulator, cred.client_id) == []
    document, version = cred.read(openbao)
    assert version == cred.version and document == cred.document
    assert emulator.check_refresh_token(cred.refresh_token) is True


def test_rotation_is_stored_with_check_and_set(run_playbook, emulator, openbao):
    # cas_required on the mount: OpenBao refuses any write that does not carry check-and-set
    mount = kv2_mount(openbao, "kvcas", cas_required=True)
    cred = seed_credential(emulator, openbao, cache="valid", cache_expires_in=3600, mount=mount)
    tasks = [
        # 3600 s left < min_ttl 7200: refresh
        ims_token_task("refresh on min_ttl", "first", vault_path=cred.vault_path, vault_mount=mount, min_ttl=7200),
        token_summary_task("first summary", "first"),
        # the token just stored is reused by the next task
        ims_token_task("reuse stored", "second", vault_path=cred.vault_path, vault_mount=mount),
        token_summary_task("second summary", "second"),
        ims_token_task("forced", "third", vault_path=cred.vault_path, vault_mount=mount, force_refresh=True),
        token_summary_task("third summary", "third"),
    ]
    started = time.time()
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)

    first, second, third = (summary(result, n) for n in ("first summary", "second summary", "third summary"))
    assert first["changed"] is True and first["refreshed"] is True, first
    assert second["changed"] is False and second["refreshed"] is False, second
    assert second["token_sha256"] == first["token_sha256"] != sha256(cred.access_token)
    assert third["changed"] is True and third["refreshed"] is True, third
    assert third["token_sha256"] not in (first["token_sha256"], sha256(cred.access_token))
    for got in (first, third):
        assert got["has_refresh_token"] is False  # with vault_path the refresh token stays in Vault
        assert 86000 < got["expires_in"] <= 86399

    document, version = cred.read(openbao)
    assert version == cred.version + 2  # two CAS writes, each on the version it read
    assert sha256(document["access_token"]) == third["token_sha256"]
    expires_at = parse_iso(document["access_token_expires_at"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["access_token_expires_at"])
    assert started + 86399 - 5 <= expires_at <= time.time() + 86399 + 1
    assert document["access_token_expires_at"] == third["expires_at"]
    assert started - 1 <= parse_iso(document["refresh_token_issued_at"]) <= time.time() + 1
    # the client fields are kept as they were
    for key in ("client_id", "client_secret", "org_id", "scopes"):
        assert document[key] == cred.document[key]
    # OpenBao holds the newest refresh token; both older ones are spent at the emulator
    new_refresh = document["refresh_token"]
    assert new_refresh != cred.refresh_token
    assert emulator.check_refresh_token(new_refresh) is True
    assert emulator.refresh_token_status(cred.refresh_token) == "used"
    tokens = emulator.refresh_tokens(cred.client_id)
    assert tokens["valid"] == [new_refresh] and len(tokens["used"]) == 2
    calls = ims_token_requests(emulator, cred.client_id)
    assert [(c["grant_type"], c["status"]) for c in calls] == [("refresh_token", 200)] * 2
    # the previous version is intact in Vault's history (a real write, not an overwrite in place)
    old = openbao.client().secrets.kv.v2.read_secret_version(path=cred.vault_path, mount_point=mount,
                                                             version=cred.version, raise_on_deleted_version=True)
    assert old["data"]["data"]["refresh_token"] == cred.refresh_token


@pytest.mark.slow
def test_eight_concurrent_forks_rotate_one_credential_once(run_playbook, emulator, openbao):
    cred = seed_credential(emulator, openbao, cache="expired")
    hosts = {"host%d" % i: {} for i in range(1, 9)}
    inventory = {"all": {"hosts": hosts, "vars": {"ansible_connection": "local",
                                                  "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}
    tasks = [
        ims_token_task("token", "tok", vault_path=cred.vault_path),
        token_summary_task("summary", "tok"),
    ]
    # IMS latency widens the race the way a slow network does: each refresh waits 2 s before
    # IMS handles it, so forks that start up to 2 s apart overlap (and, without the lock, would
    # all send the same refresh token)
    emulator.add_fault("ims.token.refresh_token", delay=2, times=8)
    try:
        result = run_playbook(play(tasks, emulator), inventory=inventory, forks=8, json=True).assert_rc(0)
    finally:
        emulator.clear_faults()

    summaries = result.task_results("summary")
    assert sorted(summaries) == sorted(hosts)
    document, version = cred.read(openbao)
    for host, res in summaries.items():
        got = res["msg"]
        assert got["failed"] is False and got["has_token"] is True, (host, got)
        # every fork ends with the one token IMS issued, the one Vault holds
        assert got["token_sha256"] == sha256(document["access_token"]), (host, got)
    assert sum(1 for r in summaries.values() if r["msg"]["refreshed"]) == 1
    assert all(s["failed"] == 0 for s in result.stats.values())
    # one refresh reached IMS: the forks on this host wait for the one refreshing (a per-credential
    # lock), so no fork sends the used refresh token again (a server with reuse protection would
    # revoke the whole token family for it: tests/integration/test_oauth_server.py)
    calls = ims_token_requests(emulator, cred.client_id, "refresh_token")
    assert [c["status"] for c in calls] == [200]
    assert version == cred.version + 1
    assert document["refresh_token"] != cred.refresh_token
    assert emulator.check_refresh_token(document["refresh_token"]) is True
    assert emulator.refresh_tokens(cred.client_id)["valid"] == [document["refresh_token"]]


# --------------------------------------------------------------------------- grants
def test_client_credentials_and_secret_fallback(run_playbook, emulator, openbao, secret_registry):
    # client_credentials given as options (no Vault), with client_secret_post and a 429 first
    plain_id, plain_secrets = add_client(emulator, grants=["client_credentials"], scopes=S2S_SCOPES)
    emulator.add_fault("ims.token.client_credentials", status=429, retry_after=1, times=1)
    # client_credentials from a Vault document
    s2s = seed_credential(emulator, openbao, grant="client_credentials", tenant=False)
    # two client secrets during rotation: the first one is no longer valid
    wrong = "cs-retired-" + uuid.uuid4().hex
    secret_registry.add("made-up client secret", wrong)
    rotating = seed_credential(emulator, openbao, tenant=False, cache="expired")
    rotating_doc = dict(rotating.document, client_secret=wrong, client_secrets=[rotating.client_secret])
    openbao.client().secrets.kv.v2.create_or_update_secret(path=rotating.vault_path, secret=rotating_doc)

    tasks = [
        ims_token_task("options", "opts", grant_type="client_credentials", client_id=plain_id,
                       client_secret="{{ plain_secret }}", scopes=S2S_SCOPES, ims_client_auth="post"),
        token_summary_task("options summary", "opts"),
        ims_token_task("vault s2s", "s2s", vault_path=s2s.vault_path),
        token_summary_task("vault s2s summary", "s2s"),
        ims_token_task("vault s2s cached", "s2s_again", vault_path=s2s.vault_path),
        token_summary_task("vault s2s cached summary", "s2s_again"),
        ims_token_task("fallback", "fallback", vault_path=rotating.vault_path),
        token_summary_task("fallback summary", "fallback"),
    ]
    try:
        result = run_playbook(play(tasks, emulator), extra_vars={"plain_secret": plain_secrets[0]},
                              json=True).assert_rc(0)
    finally:
        emulator.clear_faults()

    opts = summary(result, "options summary")
    assert opts["changed"] is True and opts["refreshed"] is True and opts["has_token"] is True
    assert opts["has_refresh_token"] is False and opts["vault_path"] is None
    calls = ims_token_requests(emulator, plain_id)
    assert [(c["grant_type"], c["status"], c["client_auth"]) for c in calls] == [
        ("client_credentials", 429, "post"), ("client_credentials", 200, "post")]
    assert calls[1]["time"] - calls[0]["time"] >= 0.95  # Retry-After: 1 honoured
    assert calls[1]["scope"] == ",".join(S2S_SCOPES)

    first, again = summary(result, "vault s2s summary"), summary(result, "vault s2s cached summary")
    assert first["changed"] is True and first["refreshed"] is True
    assert again["changed"] is False and again["token_sha256"] == first["token_sha256"]
    document, version = s2s.read(openbao)
    assert version == s2s.version + 1
    assert sha256(document["access_token"]) == first["token_sha256"]
    assert "refresh_token" not in document and document["grant_type"] == "client_credentials"
    assert [(c["grant_type"], c["status"]) for c in ims_token_requests(emulator, s2s.client_id)] == [
        ("client_credentials", 200)]

    fallback = summary(result, "fallback summary")
    assert fallback["changed"] is True and fallback["refreshed"] is True
    calls = ims_token_requests(emulator, rotating.client_id)
    # the retired secret first (refused with invalid_client), then the second one
    assert [(c["grant_type"], c["status"], c["client_auth"]) for c in calls] == [
        ("refresh_token", 400, "basic"), ("refresh_token", 200, "basic")]
    document, doc_version = rotating.read(openbao)
    assert document["client_secret"] == wrong and document["client_secrets"] == [rotating.client_secret]
    assert emulator.check_refresh_token(document["refresh_token"]) is True


def test_authorization_code_with_pkce(run_playbook, emulator, openbao):
    cred = seed_credential(emulator, openbao, tenant=False)
    # the document holds only the client fields before the bootstrap
    client_doc = {k: cred.document[k] for k in ("client_id", "client_secret", "org_id", "scopes")}
    openbao.client().secrets.kv.v2.create_or_update_secret(path=cred.vault_path, secret=client_doc)
    emulator.revoke(token=cred.refresh_token)
    codes = []
    for code_no in range(2):
        verifier, challenge = pkce_pair("S256")
        answer = emulator.authorize(cred.client_id, redirect_uri=REDIRECT_URI, scope=",".join(USER_SCOPES),
                                    state=uuid.uuid4().hex, code_challenge=challenge, code_challenge_method="S256")
        codes.append((answer["code"], verifier))
    extra_vars = {"code1": codes[0][0], "verifier1": codes[0][1], "code2": codes[1][0], "verifier2": codes[1][1],
                  "secret": cred.client_secret}
    tasks = [
        ims_token_task("exchange into vault", "stored", grant_type="authorization_code", code="{{ code1 }}",
                       code_verifier="{{ verifier1 }}", redirect_uri=REDIRECT_URI, vault_path=cred.vault_path),
        token_summary_task("stored summary", "stored"),
        # the stored refresh token works: rotate it once
        ims_token_task("use stored refresh token", "used", vault_path=cred.vault_path, force_refresh=True),
        token_summary_task("used summary", "used"),
        ims_token_task("exchange without vault", "bare", grant_type="authorization_code", code="{{ code2 }}",
                       code_verifier="{{ verifier2 }}", redirect_uri=REDIRECT_URI, client_id=cred.client_id,
                       client_secret="{{ secret }}"),
        token_summary_task("bare summary", "bare"),
    ]
    result = run_playbook(play(tasks, emulator), extra_vars=extra_vars, json=True).assert_rc(0)

    stored = summary(result, "stored summary")
    assert stored["changed"] is True and stored["refreshed"] is True and stored["has_token"] is True
    assert stored["has_refresh_token"] is False  # stored in Vault, not returned
    used = summary(result, "used summary")
    assert used["changed"] is True and used["refreshed"] is True
    document, version = cred.read(openbao)
    assert version == cred.version + 3  # seed, client-only rewrite, exchange, rotation
    for key, value in client_doc.items():
        assert document[key] == value, key
    assert document["grant_type"] == "refresh_token"
    assert emulator.check_refresh_token(document["refresh_token"]) is True
    assert sha256(document["access_token"]) == used["token_sha256"]
    assert "access_token_expires_at" in document and "refresh_token_issued_at" in document

    bare = summary(result, "bare summary")
    assert bare["has_token"] is True and bare["has_refresh_token"] is True and bare["vault_path"] is None
    valid = emulator.refresh_tokens(cred.client_id)["valid"]
    assert bare["refresh_token_sha256"] in {sha256(t) for t in valid}

    calls = ims_token_requests(emulator, cred.client_id)
    assert [(c["grant_type"], c["status"], c["code_verifier_present"]) for c in calls] == [
        ("authorization_code", 200, True), ("refresh_token", 200, False), ("authorization_code", 200, True)]


def test_approle_login_once_per_run(run_playbook, emulator, openbao):
    cred = seed_credential(emulator, openbao, cache="expired", tenant=False)
    policy = unique("approle-pol")
    openbao.write_policy(policy, 'path "secret/data/%s" { capabilities = ["read", "create", "update"] }\n'
                         % cred.vault_path)
    # a secret id that works for exactly one login: a second login in the task would fail
    role = openbao.enable_approle(role_name=unique("role"), policies=[policy], secret_id_num_uses=1)
    tasks = [
        ims_token_task("approle", "tok", vault_path=cred.vault_path, vault_auth_method="approle",
                       vault_role_id=role.role_id, vault_secret_id="{{ secret_id }}"),
        token_summary_task("approle summary", "tok"),
    ]
    # no Vault token in the environment: the AppRole login is the only way in
    result = run_playbook(play(tasks, emulator), extra_vars={"secret_id": role.secret_id},
                          env={"VAULT_TOKEN": None, "HOME": str(result_home(run_playbook))}, json=True)
    result.assert_rc(0)
    got = summary(result, "approle summary")
    assert got["changed"] is True and got["refreshed"] is True
    document, version = cred.read(openbao)
    assert version == cred.version + 1 and sha256(document["access_token"]) == got["token_sha256"]
    assert emulator.check_refresh_token(document["refresh_token"]) is True
    assert_no_secrets(result.stdout + result.log, [role.secret_id, openbao.root_token], "approle run output")


def result_home(run_playbook):
    """An empty HOME for a run (no ~/.vault-token to fall back on)."""
    home = run_playbook.work_dir / "home"
    home.mkdir(parents=True, exist_ok=True)
    return home


# --------------------------------------------------------------------------- recovery file
def test_rotated_refresh_token_survives_a_refused_vault_write(run_playbook, emulator, openbao, tmp_path):
    cred = seed_credential(emulator, openbao, cache="expired", tenant=False)
    # a token that may read the credential but not write it
    read_only = policy_token(openbao, 'path "secret/data/%s" { capabilities = ["read"] }\n' % cred.vault_path)
    recovery_dir = tmp_path / "recovery"  # outside build/test-output: the file holds a refresh token
    tasks = [ims_token_task("refresh", "tok", vault_path=cred.vault_path, vault_token="{{ read_only }}",
                            recovery_dir=str(recovery_dir), no_log=False) | {"ignore_errors": True}]
    result = run_playbook(play(tasks, emulator), extra_vars={"read_only": read_only}, json=True).assert_rc(0)

    files = list(recovery_dir.iterdir())
    assert len(files) == 1, files
    saved = files[0]
    msg = failed_msg(result, "refresh")
    full_match(r"IMS issued a new refresh token for 'secret/%s' in Vault at %s but storing it failed \(Vault denied "
               r"the write\); it is saved in %s \(mode 0600\), and the next run stores it in Vault by itself once "
               r"Vault accepts writes again\." % (re.escape(cred.vault_path), re.escape(openbao.url),
                                                  re.escape(str(saved))), msg)
    assert_one_sentence(msg)
    assert (saved.stat().st_mode & 0o777) == 0o600
    record = json.loads(saved.read_text())
    rotated = record["refresh_token"]
    assert emulator.check_refresh_token(rotated) is True  # the only valid refresh token is in the file
    assert emulator.refresh_token_status(cred.refresh_token) == "used"
    assert cred.read(openbao) == (cred.document, cred.version)
    assert_no_secrets(result.stdout + result.log, emulator.secrets() + vault_secrets(openbao, read_only), "output")

    # the next run (Vault writable again) stores the saved token and removes the file
    tasks = [ims_token_task("again", "again", vault_path=cred.vault_path, recovery_dir=str(recovery_dir)),
             token_summary_task("again summary", "again")]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    assert summary(result, "again summary")["refreshed"] is True
    assert list(recovery_dir.iterdir()) == []
    document, version = cred.read(openbao)
    assert version == cred.version + 1
    assert emulator.refresh_token_status(rotated) == "used"
    assert emulator.check_refresh_token(document["refresh_token"]) is True
    assert [c["status"] for c in ims_token_requests(emulator, cred.client_id)] == [200, 200]


# --------------------------------------------------------------------------- check mode
def test_check_mode_makes_no_token_call_and_no_vault_write(run_playbook, emulator, openbao):
    valid = seed_credential(emulator, openbao, cache="valid", tenant=False)
    expired = seed_credential(emulator, openbao, cache="expired", tenant=False)
    plain_id, plain_secrets = add_client(emulator, grants=["client_credentials"])
    verifier, challenge = pkce_pair("S256")
    code = emulator.authorize(valid.client_id, redirect_uri=REDIRECT_URI, scope=",".join(USER_SCOPES),
                              code_challenge=challenge, code_challenge_method="S256")["code"]
    tasks = [
        ims_token_task("valid cache", "valid", vault_path=valid.vault_path),
        token_summary_task("valid summary", "valid"),
        ims_token_task("expired cache", "expired", vault_path=expired.vault_path),
        token_summary_task("expired summary", "expired"),
        ims_token_task("forced", "forced", vault_path=valid.vault_path, force_refresh=True),
        token_summary_task("forced summary", "forced"),
        ims_token_task("options", "opts", grant_type="client_credentials", client_id=plain_id,
                       client_secret="{{ plain_secret }}", scopes=S2S_SCOPES),
        token_summary_task("options summary", "opts"),
        ims_token_task("code", "code_result", grant_type="authorization_code", code="{{ code }}",
                       code_verifier="{{ verifier }}", redirect_uri=REDIRECT_URI, vault_path=valid.vault_path),
        token_summary_task("code summary", "code_result"),
    ]
    result = run_playbook(play(tasks, emulator),
                          extra_vars={"code": code, "verifier": verifier, "plain_secret": plain_secrets[0]},
                          check=True, json=True).assert_rc(0)

    got = summary(result, "valid summary")
    assert got["changed"] is False and got["has_token"] is True
    assert got["token_sha256"] == sha256(valid.access_token)
    for name in ("expired summary", "forced summary", "options summary", "code summary"):
        got = summary(result, name)
        assert got["changed"] is True and got["has_token"] is False and got["refreshed"] is False, (name, got)
        assert got["has_refresh_token"] is False
    for cred in (valid, expired):
        assert cred.read(openbao) == (cred.document, cred.version)
        assert ims_token_requests(emulator, cred.client_id) == []
        assert emulator.check_refresh_token(cred.refresh_token) is True
    assert ims_token_requests(emulator, plain_id) == []


# --------------------------------------------------------------------------- errors
def test_error_messages(run_playbook, emulator, openbao, secret_registry, tmp_path):
    # IMS answers that are not tokens: faults for the first three client_credentials requests
    s2s_id, s2s_secrets = add_client(emulator, grants=["client_credentials"], scopes=S2S_SCOPES)
    emulator.add_fault("ims.token.client_credentials", status=500, body="html")
    emulator.add_fault("ims.token.client_credentials", status=200, body="not_json")
    emulator.add_fault("ims.token.client_credentials", delay=3)
    # refresh token revoked; client secret wrong; grant not allowed
    revoked = seed_credential(emulator, openbao, tenant=False)
    emulator.revoke(token=revoked.refresh_token)
    wrong_secret = "cs-wrong-" + uuid.uuid4().hex
    secret_registry.add("made-up client secret", wrong_secret)
    bad_client = seed_credential(emulator, openbao, tenant=False, extra={"client_secret": wrong_secret})
    no_refresh = seed_credential(emulator, openbao, tenant=False, client_grants=["authorization_code"])
    bare_revoked = emulator.mint_refresh_token(revoked.client_id, USER_SCOPES)
    emulator.revoke(token=bare_revoked)
    # Vault: a denied path, a KV v1 mount, a missing path
    denied = seed_credential(emulator, openbao, tenant=False)
    deny_token = policy_token(openbao, 'path "secret/data/%s" { capabilities = ["deny"] }\n'
                              'path "secret/*" { capabilities = ["read"] }\n' % denied.vault_path)
    kv1 = unique("kv1")
    openbao.enable_kv1(kv1)
    openbao.client().secrets.kv.v1.create_or_update_secret(path="accs/prod", secret=revoked.document, mount_point=kv1)
    missing = "accs/" + unique("missing")
    closed = _closed_port()
    ims_host = _hostport(emulator.url)
    vault_url = openbao.url

    def fails(name, **options):
        task = ims_token_task(name, unique("r").replace("-", "_"), no_log=False, **options)
        task["ignore_errors"] = True
        return task

    cc = dict(grant_type="client_credentials", client_id=s2s_id, client_secret="{{ s2s_secret }}", scopes=S2S_SCOPES)
    tasks = [
        fails("html body", **cc),
        fails("not json", **cc),
        fails("timeout", timeout=1, **cc),
        fails("invalid_grant", vault_path=revoked.vault_path),
        fails("invalid_grant bare", client_id=revoked.client_id, client_secret="{{ revoked_secret }}",
              refresh_token="{{ bare_revoked }}"),
        fails("invalid_client", vault_path=bad_client.vault_path),
        fails("unauthorized_client", vault_path=no_refresh.vault_path),
        fails("invalid_scope", grant_type="client_credentials", client_id=s2s_id, client_secret="{{ s2s_secret }}",
              scopes=S2S_SCOPES + ["admin.everything"]),
        fails("unknown ca", ims_url=emulator.unknown_ca_url, **cc),
        fails("wrong host", ims_url=emulator.wrong_host_url, **cc),
        fails("refused", ims_url="https://127.0.0.1:%d" % closed, retries=1, **cc),
        fails("plain http", ims_url="http://ims.example.com", **cc),
        fails("vault path missing", vault_path=missing),
        fails("vault denied", vault_path=denied.vault_path, vault_token="{{ deny_token }}"),
        fails("kv1 mount", vault_path="accs/prod", vault_mount=kv1),
    ]
    try:
        result = run_playbook(play(tasks, emulator), json=True, extra_vars={
            "bare_revoked": bare_revoked, "deny_token": deny_token, "s2s_secret": s2s_secrets[0],
            "revoked_secret": revoked.client_secret})
    finally:
        emulator.clear_faults()
    result.assert_rc(0)
    d = DEBUG_ID
    esc = re.escape
    expected = {
        "html body": r"IMS answered HTTP 500 with an HTML error page from a gateway or proxy, x-debug-id %s: IMS "
                     r"or a gateway in front of it is failing; retry later and give the x-debug-id to Adobe support if "
                     r"it persists\." % d,
        "not json": r"IMS answered HTTP 200 with a body that is not JSON, of type application/json instead of a token, "
                    r"x-debug-id %s: check ims_url points at IMS itself, not a proxy page\." % d,
        "timeout": r"IMS at %s did not answer within 1 s: check the service's status, or raise timeout, and run "
                   r"again\." % esc(ims_host),
        # IMS's own words (error_description) are kept (issue 13, defect 2)
        "invalid_grant": r"IMS refused the refresh token stored at 'secret/%s' in Vault at %s \(invalid_grant: refresh "
                         r"token is revoked; HTTP 400, x-debug-id %s\): it expired \(refresh tokens last about 14 days\), was revoked, or was "
                         r"used by a tool that did not store the rotated one; run playbooks/bootstrap_refresh_token\.yml "
                         r"to store a new one\." % (esc(revoked.vault_path), esc(vault_url), d),
        "invalid_grant bare": r"IMS refused the refresh token \(invalid_grant: refresh token is revoked; HTTP 400, "
                              r"x-debug-id %s\): it expired \(refresh tokens last about 14 days\), was already used or "
                              r"was revoked; run playbooks/bootstrap_refresh_token\.yml to store a new one\." % d,
        "invalid_client": r"IMS refused the client id or secret \(invalid_client: invalid client_secret parameter; "
                          r"HTTP 400, x-debug-id %s\): check client_id and client_secret in the credential against "
                          r"the Adobe Developer Console\." % d,
        "unauthorized_client": r"IMS does not allow this client the refresh_token grant \(unauthorized_client: client "
                               r"is not allowed the refresh_token grant; HTTP 400, x-debug-id %s\): enable it for the "
                               r"credential in the Adobe Developer Console, or use the grant the credential "
                               r"supports\." % d,
        "invalid_scope": r"IMS refused the requested scopes \(invalid_scope: scope not allowed for this client: "
                         r"admin\.everything; HTTP 400, x-debug-id %s\): request only scopes the credential has in the "
                         r"Adobe Developer Console \(ACCS needs commerce\.accs\)\." % d,
        "unknown ca": r"TLS verification of IMS at %s failed \([^()]*\): check the URL, or give the CA that signed "
                      r"its certificate with ca_path\." % esc(_hostport(emulator.unknown_ca_url)),
        "wrong host": r"TLS verification of IMS at %s failed \([^()]*\): check the URL, or give the CA that signed "
                      r"its certificate with ca_path\." % esc(_hostport(emulator.wrong_host_url)),
        "refused": r"Cannot connect to IMS at 127\.0\.0\.1:%d after 1 retry: check that the URL is right and the "
                   r"service is up, then run again\." % closed,
        "plain http": r"Option ims_url uses plain http:// for host ims\.example\.com: use https:// \(plain http is "
                      r"allowed for loopback addresses only\)\.",
        "vault path missing": r"No credential at 'secret/%s' in Vault at %s: store the document there \(see the "
                              r"collection guide\), or fix vault_path and vault_mount\." % (esc(missing), esc(vault_url)),
        "vault denied": r"Vault denied the read of 'secret/%s' in Vault at %s \(permission denied\): grant the token's "
                        r"policy 'read' on 'secret/data/%s', or use a token that has it\."
                        % (esc(denied.vault_path), esc(vault_url), esc(denied.vault_path)),
        "kv1 mount": r"Mount '%s' in Vault at %s is a KV version 1 engine: the credential store needs KV version 2 "
                     r"\(enable kv-v2 there, or point vault_mount at a KV v2 mount\)\." % (esc(kv1), esc(vault_url)),
    }
    secrets = emulator.secrets() + vault_secrets(openbao, wrong_secret, deny_token, bare_revoked)
    for name, pattern in expected.items():
        msg = failed_msg(result, name)
        full_match(pattern, msg)
        assert_one_sentence(msg)
        assert_no_secrets(msg, secrets, "the message of %r" % name)
        assert_no_secrets(repr(result.task_results(name)), secrets, "the result of %r" % name)
    # the TLS reasons name the actual problem
    assert re.search(r"issuer|unknown ca|self.signed", failed_msg(result, "unknown ca"), re.I)
    assert re.search(r"hostname|mismatch|not valid for", failed_msg(result, "wrong host"), re.I)
    # nothing was written: Vault documents are as seeded
    for cred in (revoked, bad_client, no_refresh, denied):
        assert cred.read(openbao)[1] == cred.version
    # the non-JSON and HTML answers were not retried; the timed-out POST was not resent
    deadline = time.monotonic() + 5  # the delayed request is recorded once the emulator answered it
    while True:
        calls = [c for c in ims_token_requests(emulator, s2s_id) if c["scope"] == ",".join(S2S_SCOPES)]
        if len(calls) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [c["status"] for c in calls][:2] == [500, 200]
    assert len(calls) == 3
    assert_no_secrets(result.stdout + result.stderr + result.log, secrets, "the run's output")


# --------------------------------------------------------------------------- -vvvv
def test_vvvv_output_holds_no_secret(run_playbook, emulator, openbao, secret_registry):
    cred = seed_credential(emulator, openbao, cache="expired", tenant=False)
    spent = seed_credential(emulator, openbao, tenant=False)
    emulator.revoke(token=spent.refresh_token)
    fake_code = "code-" + uuid.uuid4().hex + uuid.uuid4().hex
    fake_verifier, _challenge = pkce_pair("S256")
    wrong_secret = "cs-wrong-" + uuid.uuid4().hex
    bad_vault_token = "s." + uuid.uuid4().hex + uuid.uuid4().hex
    for kind, value in (("made-up code", fake_code), ("made-up verifier", fake_verifier),
                        ("made-up client secret", wrong_secret), ("made-up vault token", bad_vault_token)):
        secret_registry.add(kind, value)

    def fails(name, **options):
        task = ims_token_task(name, unique("r").replace("-", "_"), no_log=False, **options)
        task["ignore_errors"] = True
        return task

    tasks = [
        # the documented way: the task that registers the token has no_log
        ims_token_task("refresh", "tok", vault_path=cred.vault_path),
        token_summary_task("summary", "tok"),
        {"name": "lookup keys", "ansible.builtin.debug": {
            "msg": "{{ lookup('%s', '%s').keys() | sort }}" % (LOOKUP, cred.vault_path)}},
        # failures carrying secrets in their options print their result (no no_log)
        fails("spent refresh token", client_id=spent.client_id, client_secret="{{ spent_secret }}",
              refresh_token="{{ spent_refresh }}"),
        fails("wrong secret", grant_type="client_credentials", client_id=cred.client_id,
              client_secret="{{ wrong_secret }}", scopes=S2S_SCOPES),
        fails("bad code", grant_type="authorization_code", client_id=cred.client_id,
              client_secret="{{ client_secret }}", code="{{ fake_code }}", code_verifier="{{ fake_verifier }}",
              redirect_uri=REDIRECT_URI),
        fails("bad vault token", vault_path=cred.vault_path, vault_token="{{ bad_vault_token }}"),
    ]
    extra_vars = {"spent_secret": spent.client_secret, "spent_refresh": spent.refresh_token,
                  "wrong_secret": wrong_secret, "client_secret": cred.client_secret, "fake_code": fake_code,
                  "fake_verifier": fake_verifier, "bad_vault_token": bad_vault_token}
    result = run_playbook(play(tasks, emulator), extra_vars=extra_vars, verbosity=4, json=True).assert_rc(0)
    assert summary(result, "summary")["refreshed"] is True
    for name in ("spent refresh token", "wrong secret", "bad code", "bad vault token"):
        assert_one_sentence(failed_msg(result, name))
    assert "IMS refused the authorization code" in failed_msg(result, "bad code")
    assert "Vault denied the read" in failed_msg(result, "bad vault token") \
        or "permission denied" in failed_msg(result, "bad vault token")
    assert "verbosity: 4" in result.stdout and "task path:" in result.stdout  # it really ran at -vvvv
    document, doc_version = cred.read(openbao)
    secrets = emulator.secrets() + vault_secrets(openbao, fake_code, fake_verifier, wrong_secret, bad_vault_token,
                                                 document["refresh_token"], document["access_token"])
    assert document["access_token"] in emulator.secrets()
    assert_no_secrets(result.stdout, secrets, "stdout")
    assert_no_secrets(result.stderr, secrets, "stderr")
    assert_no_secrets(result.log, secrets, "the Ansible log")
    assert len(result.log) > 1000
