"""The vault_ims_credential lookup against the real OpenBao, through ansible-playbook (issue 3).

The documents hold secrets, so tasks print only keys, plain fields and sha256 of the secret
values.  Secrets the tasks need (Vault tokens) come from extra vars, never from the playbook
text: Ansible quotes the playbook's source lines around a failing task.
"""

from __future__ import annotations

import re

from tests.integration.helpers import (
    LOOKUP,
    assert_no_secrets,
    assert_one_sentence,
    failed_msg,
    host_result,
    play,
    policy_token,
    seed_credential,
    sha256,
    unique,
    vault_secrets,
)
from tests.support.openbao import free_port as _closed_port  # a loopback port nothing listens on


def _lookup(term: str, **kwargs) -> str:
    args = "".join(", %s=%s" % (key, value) for key, value in kwargs.items())
    return "lookup('%s', '%s'%s)" % (LOOKUP, term, args)


def _debug(name: str, msg: str, ignore_errors: bool = False, **task) -> dict:
    out = {"name": name, "ansible.builtin.debug": {"msg": msg}}
    if ignore_errors:
        out["ignore_errors"] = True
    out.update(task)
    return out


def _sentence_at_end(pattern: str, msg: str) -> str:
    """The lookup's own sentence at the end of Ansible's wrapping of a lookup failure."""
    match = re.search(r"(%s)$" % pattern, msg or "")
    assert match, "message does not end with the expected sentence\n  pattern: %s\n  message: %s" % (pattern, msg)
    return match.group(1)


def test_lookup_returns_documents_and_reads_each_term_once(run_playbook, emulator, openbao):
    first = seed_credential(emulator, openbao, cache="valid", tenant=False)
    second = seed_credential(emulator, openbao, grant="client_credentials", tenant=False)
    # a read-only token good for exactly two requests: two reads, one per term, and nothing more
    hcl = "".join('path "secret/data/%s" { capabilities = ["read"] }\n' % c.vault_path for c in (first, second))
    policy = unique("lookup-read")
    openbao.write_policy(policy, hcl)
    limited = openbao.create_token([policy], ttl="10m", num_uses=2, no_default_policy=True)

    doc = _lookup(first.vault_path)
    tasks = [
        _debug("document", "{{ {'keys': doc.keys() | sort, 'client_id': doc.client_id, 'org_id': doc.org_id,"
               " 'scopes': doc.scopes, 'expires_at': doc.access_token_expires_at,"
               " 'refresh_sha256': doc.refresh_token | hash('sha256'),"
               " 'access_sha256': doc.access_token | hash('sha256'),"
               " 'secret_sha256': doc.client_secret | hash('sha256'), 'type': doc | type_debug} }}",
               vars={"doc": "{{ %s }}" % doc}),
        _debug("two terms", "{{ query('%s', '%s', '%s', vault_mount='secret') | map(attribute='client_id') }}"
               % (LOOKUP, first.vault_path, second.vault_path)),
        # lazy templating: six evaluations of two terms over three loop items, in one task
        _debug("cached per term",
               "{{ item }}: {{ (%s).client_id }} {{ (%s).org_id }} {{ (%s).grant_type }}" % (
                   _lookup(first.vault_path, vault_token="limited"), _lookup(first.vault_path, vault_token="limited"),
                   _lookup(second.vault_path, vault_token="limited")),
               loop=[1, 2, 3]),
        # a new task is a new process: the token's two uses are spent, so a read now fails
        _debug("uses spent", "{{ (%s).client_id }}" % _lookup(first.vault_path, vault_token="limited"),
               ignore_errors=True),
    ]
    result = run_playbook(play(tasks), extra_vars={"limited": limited}, json=True).assert_rc(0)

    got = host_result(result, "document")["msg"]
    assert got["keys"] == sorted(first.document)
    assert got["client_id"] == first.client_id and got["org_id"] == first.org_id
    assert got["scopes"] == first.document["scopes"]
    assert got["expires_at"] == first.document["access_token_expires_at"]
    assert got["refresh_sha256"] == sha256(first.refresh_token)
    assert got["access_sha256"] == sha256(first.access_token)
    assert got["secret_sha256"] == sha256(first.client_secret)
    assert got["type"] == "dict"
    assert host_result(result, "two terms")["msg"] == [first.client_id, second.client_id]

    items = host_result(result, "cached per term")["results"]
    assert [i["msg"] for i in items] == ["%d: %s %s client_credentials" % (n, first.client_id, first.org_id)
                                         for n in (1, 2, 3)]
    msg = failed_msg(result, "uses spent")
    assert "permission denied" in msg and first.vault_path in msg
    assert_no_secrets(result.stdout + result.log, emulator.secrets() + vault_secrets(openbao, limited), "output")


def test_lookup_error_messages(run_playbook, emulator, openbao, openbao_factory):
    cred = seed_credential(emulator, openbao, tenant=False)
    deny = policy_token(openbao, 'path "secret/data/%s" { capabilities = ["deny"] }\n' % cred.vault_path)
    kv1 = unique("kv1")
    openbao.enable_kv1(kv1)
    openbao.client().secrets.kv.v1.create_or_update_secret(path="accs/prod", secret=cred.document, mount_point=kv1)
    missing = "accs/" + unique("missing")
    closed = _closed_port()
    sealed = openbao_factory()
    sealed.client().secrets.kv.v2.create_or_update_secret(path="accs/prod", secret=cred.document)
    sealed.seal()

    tasks = [
        _debug("missing", "{{ %s }}" % _lookup(missing), ignore_errors=True),
        _debug("denied", "{{ %s }}" % _lookup(cred.vault_path, vault_token="deny"), ignore_errors=True),
        _debug("kv1", "{{ %s }}" % _lookup("accs/prod", vault_mount="'%s'" % kv1), ignore_errors=True),
        _debug("unreachable", "{{ %s }}" % _lookup(cred.vault_path, vault_url="'http://127.0.0.1:%d'" % closed),
               ignore_errors=True),
        _debug("sealed", "{{ %s }}" % _lookup("accs/prod", vault_url="'%s'" % sealed.url, vault_token="sealed_token"),
               ignore_errors=True),
    ]
    result = run_playbook(play(tasks), extra_vars={"deny": deny, "sealed_token": sealed.root_token}, json=True)
    result.assert_rc(0)
    url = re.escape(openbao.url)
    expected = {
        "missing": r"No credential at 'secret/%s' in Vault at %s: store the document there \(see the collection "
                   r"guide\), or fix vault_path and vault_mount\." % (re.escape(missing), url),
        "denied": r"Vault denied the read of 'secret/%s' in Vault at %s \(permission denied\): grant the token's "
                  r"policy 'read' on 'secret/data/%s', or use a token that has it\."
                  % (re.escape(cred.vault_path), url, re.escape(cred.vault_path)),
        "kv1": r"Mount '%s' in Vault at %s is a KV version 1 engine: the credential store needs KV version 2 "
               r"\(enable kv-v2 there, or point vault_mount at a KV v2 mount\)\." % (re.escape(kv1), url),
        "unreachable": r"Cannot reach Vault at http://127\.0\.0\.1:%d to read 'secret/%s': check vault_url "
                       r"\(VAULT_ADDR\) and that Vault is running\." % (closed, re.escape(cred.vault_path)),
        "sealed": r"Vault at %s is sealed or not ready, so it cannot read 'secret/accs/prod': unseal it \(vault "
                  r"operator unseal\) and run again\." % re.escape(sealed.url),
    }
    secrets = emulator.secrets() + vault_secrets(openbao, deny, sealed.root_token, sealed.unseal_key)
    for name, pattern in expected.items():
        msg = failed_msg(result, name)
        sentence = _sentence_at_end(pattern, msg)
        assert_one_sentence(sentence)
        # Ansible's words around the sentence are pinned per release in test_core_differences.py
        assert_no_secrets(msg, secrets, "the message of %r" % name)
    assert_no_secrets(result.stdout + result.stderr + result.log, secrets, "the run's output")


def test_lookup_warns_when_vault_certificates_are_not_verified(run_playbook, emulator, openbao):
    """vault_validate_certs: false is said once, as the modules say it (issue 19)."""
    cred = seed_credential(emulator, openbao, cache="valid", tenant=False)
    warning = ("TLS certificate verification of Vault is off (vault_validate_certs: false): turn it back on and "
               "set vault_ca_cert instead.")
    tasks = [_debug("verified", "{{ %s.client_id }}" % _lookup(cred.vault_path)),
             _debug("not verified", "{{ %s.client_id }}" % _lookup(cred.vault_path, vault_validate_certs=False))]
    result = run_playbook(play(tasks[:1], emulator)).assert_rc(0)
    assert "vault_validate_certs" not in result.stdout + result.stderr
    result = run_playbook(play(tasks, emulator)).assert_rc(0)
    said = " ".join((result.stdout + result.stderr).split())
    assert "[WARNING]: " + warning in said, said
