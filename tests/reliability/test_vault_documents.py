"""Vault faults that need no server surgery, in one run against the session's real OpenBao:
broken credential documents, a deleted document, a KV v1 mount, a policy that denies the path,
a bogus token, a refused AppRole login, an unreachable Vault, and the lookup's errors.

After the run every document must be exactly as written (same version): a failure never
damages the credential; the one document with an unusable cache is repaired by a refresh.
"""

from __future__ import annotations

import secrets

import pytest

from tests.reliability.cases import Case, fails, fault_vars, params, play, run_case, succeeds, warns
from tests.reliability.harness import closed_port

CAT = "Vault faults"
CLIENT = "rel-vault-docs"
SECRET = "rel-vault-docs-secret-" + secrets.token_hex(10)
KV1 = "relkv1"
MOUNT = "secret"


def token_task(path, **extra):
    args = {"vault_path": path}
    args.update(extra)
    return {"adobe_commerce.accs.ims_token": args}


def intact(obs):
    """The document is exactly as written, at the same version."""
    path = obs.case.data.get("path")
    if path is None or obs.case.data.get("doc") is None:
        return []
    now = obs.context["after"].get(path)
    if now is None:
        return ["the document at %s is gone" % path]
    doc, version = now
    problems = []
    if doc != obs.case.data["doc"]:
        problems.append("the document at %s changed" % path)
    if version != obs.context["before"][path]:
        problems.append("the document at %s got a new version" % path)
    return problems


def doc_case(case_id, fault, doc, names, expected=None, extra_task=None):
    path = "rel/vault/" + case_id
    return Case(case_id, CAT, fault, expected or "fails with one sentence naming the key and the Vault path; "
                "the document is left as it was", token_task(path, **(extra_task or {})),
                fails(*names, extra=intact), data={"path": path, "doc": doc})


def _cases():
    C = []
    rt = "{{ REFRESH }}"  # replaced by a minted refresh token in the fixture
    C.append(Case("vault-doc-missing", CAT, "no document at vault_path",
                  "fails with one sentence: no credential at 'secret/<path>' in Vault; store it or fix vault_path",
                  token_task("rel/vault/nothing-here"), fails("No credential", "secret/rel/vault/nothing-here", "vault_path"),
                  data={}))
    C.append(doc_case("vault-doc-no-client-id", "the document lacks client_id",
                      {"refresh_token": rt, "client_secret": SECRET}, ("client_id", "rel/vault/vault-doc-no-client-id")))
    C.append(doc_case("vault-doc-no-refresh-token", "grant_type refresh_token but no refresh_token",
                      {"client_id": CLIENT, "client_secret": SECRET, "grant_type": "refresh_token"},
                      ("refresh_token", "bootstrap")))
    C.append(doc_case("vault-doc-no-grant", "only a client_id: neither refresh_token nor client secret",
                      {"client_id": CLIENT}, ("refresh_token", "client_secret")))
    C.append(doc_case("vault-doc-client-id-number", "client_id is a number",
                      {"client_id": 12345, "client_secret": SECRET, "refresh_token": rt}, ("client_id", "string")))
    C.append(doc_case("vault-doc-refresh-token-list", "refresh_token is a list",
                      {"client_id": CLIENT, "client_secret": SECRET, "refresh_token": ["a", "b"]},
                      ("refresh_token", "string")))
    C.append(doc_case("vault-doc-client-secrets-string", "client_secrets is a string, not a list",
                      {"client_id": CLIENT, "client_secrets": "one-secret-only", "refresh_token": rt},
                      ("client_secrets", "list")))
    C.append(doc_case("vault-doc-scopes-number", "scopes is a number",
                      {"client_id": CLIENT, "client_secret": SECRET, "grant_type": "client_credentials", "scopes": 42},
                      ("scopes",)))
    C.append(doc_case("vault-doc-grant-unknown", "grant_type is 'password'",
                      {"client_id": CLIENT, "client_secret": SECRET, "grant_type": "password"},
                      ("grant_type", "password")))
    C.append(doc_case("vault-doc-cc-no-scopes", "client_credentials without scopes",
                      {"client_id": CLIENT, "client_secret": SECRET, "grant_type": "client_credentials"},
                      ("scopes", "commerce.accs")))
    C.append(doc_case("vault-doc-org-id-object", "org_id is an object",
                      {"client_id": CLIENT, "client_secret": SECRET, "refresh_token": rt, "org_id": {"id": 1}},
                      ("org_id", "string")))

    def repaired(obs):
        path = obs.case.data["path"]
        doc, version = obs.context["after"][path]
        problems = []
        if version != obs.context["before"][path] + 1:
            problems.append("the document was not written back once")
        if not isinstance(doc.get("access_token"), str) or not str(doc.get("access_token_expires_at", "")).endswith("Z"):
            problems.append("the cache fields were not rewritten")
        if not obs.context["valid"](doc.get("refresh_token")):
            problems.append("the stored refresh token does not work")
        if doc.get("custom_note") != "kept":
            problems.append("a key the collection does not own was dropped")
        return problems

    C.append(Case("vault-doc-bad-cache", CAT,
                  "the cached fields are garbage (access_token: 123, access_token_expires_at: 'tomorrow', "
                  "refresh_token_issued_at: 5) next to a good refresh token",
                  "ignores the unusable cache, refreshes, and rewrites the fields; other keys stay",
                  token_task("rel/vault/vault-doc-bad-cache"), succeeds(repaired),
                  data={"path": "rel/vault/vault-doc-bad-cache",
                        "doc": {"client_id": CLIENT, "client_secret": SECRET, "refresh_token": rt, "access_token": 123,
                                "access_token_expires_at": "tomorrow", "refresh_token_issued_at": 5,
                                "custom_note": "kept"}}))
    C.append(Case("vault-tls-off-warns", CAT, "vault_validate_certs: false",
                  "works, and warns that Vault's TLS verification is off and to set vault_ca_cert instead",
                  token_task("rel/vault/tls-off", vault_validate_certs=False), succeeds(warns("verification of Vault is off")),
                  data={"path": "rel/vault/tls-off",
                        "doc": {"client_id": CLIENT, "client_secret": SECRET, "refresh_token": rt}}))
    C.append(Case("vault-doc-deleted", CAT, "the latest version of the document was deleted (kv delete)",
                  "fails with one sentence: the credential at the path is deleted; undelete or restore it",
                  token_task("rel/vault/gone-doc"), fails("rel/vault/gone-doc", ("deleted", "undelete")),
                  data={"path": "rel/vault/gone-doc", "deleted": True,
                        "doc": {"client_id": CLIENT, "client_secret": SECRET, "refresh_token": rt}}))
    C.append(Case("vault-doc-deleted-read-only", CAT,
                  "the document was deleted (kv delete) and the token's policy grants read on its data path only "
                  "(no metadata/)",
                  "fails with one sentence: the credential at the path is deleted (its version); undelete or restore "
                  "it (recognised from the data path, no metadata read)",
                  token_task("rel/vault/gone-doc", vault_token="{{ rel_tokens.read_gone }}"),
                  fails("rel/vault/gone-doc", "deleted (version", "undelete"), data={}))
    C.append(Case("vault-kv1-mount", CAT, "vault_mount is a KV version 1 engine holding the document",
                  "fails with one sentence: the mount is KV version 1, the store needs KV v2",
                  token_task("rel/vault/kv1", vault_mount=KV1), fails("KV version 1", KV1, "version 2"), data={}))
    C.append(Case("vault-mount-missing", CAT, "vault_mount names no mount at all",
                  "fails with one sentence naming the mount and path",
                  token_task("rel/vault/any", vault_mount="relnosuchmount"), fails("relnosuchmount"), data={}))
    C.append(Case("vault-policy-denies", CAT, "the Vault token's policy grants another path only",
                  "fails with one sentence: Vault denied the read of the path; names the policy capability",
                  token_task("rel/vault/vault-doc-denied", vault_token="{{ rel_tokens.deny }}"),
                  fails("denied", "read", "rel/vault/vault-doc-denied", extra=intact),
                  data={"path": "rel/vault/vault-doc-denied",
                        "doc": {"client_id": CLIENT, "client_secret": SECRET, "refresh_token": rt}}))
    C.append(Case("vault-bogus-token", CAT, "vault_token is not a token Vault knows",
                  "fails with one sentence naming Vault and the path (permission denied)",
                  token_task("rel/vault/vault-doc-denied", vault_token="{{ rel_tokens.bogus }}"),
                  fails("Vault", ("denied", "refused"), extra=intact),
                  data={"path": "rel/vault/vault-doc-denied",
                        "doc": {"client_id": CLIENT, "client_secret": SECRET, "refresh_token": rt}}))
    C.append(Case("vault-approle-refused", CAT, "AppRole login with a wrong secret id",
                  "fails with one sentence: Vault refused the approle login at mount 'approle'",
                  token_task("rel/vault/vault-doc-denied", vault_token=None, vault_auth_method="approle",
                             vault_role_id="{{ rel_tokens.role_id }}", vault_secret_id="{{ rel_tokens.bad_secret_id }}"),
                  fails("approle", "login", "vault_secret_id"), data={}))
    C.append(Case("vault-unreachable", CAT, "vault_url points at a closed loopback port",
                  "fails with one sentence: cannot reach Vault at the URL; check vault_url and that it runs",
                  token_task("rel/vault/any", vault_url="http://127.0.0.1:%d" % closed_port()),
                  fails("Vault", "vault_url"), data={}))
    C.append(Case("vault-lookup-missing", CAT, "lookup vault_ims_credential of a path with no document",
                  "the task fails with one sentence naming the path",
                  {"ansible.builtin.debug": {"msg": "{{ lookup('adobe_commerce.accs.vault_ims_credential', "
                                                    "'rel/vault/nothing-here').client_id }}"}},
                  fails("No credential", "rel/vault/nothing-here"), data={}))
    C.append(Case("vault-lookup-kv1", CAT, "lookup vault_ims_credential on a KV version 1 mount",
                  "the task fails with one sentence: the mount is KV version 1",
                  {"ansible.builtin.debug": {"msg": "{{ lookup('adobe_commerce.accs.vault_ims_credential', "
                                                    "'rel/vault/kv1', vault_mount='%s').client_id }}" % KV1}},
                  fails("KV version 1", KV1), data={}))
    return C


CASES = _cases()


@pytest.fixture(scope="module")
def vault_docs_run(emulator_module, openbao, rel_runner_factory, secret_registry):
    emulator = emulator_module
    emulator.add_client(CLIENT, client_secrets=[SECRET], grants=["refresh_token", "client_credentials"])
    client = openbao.client()
    kv = client.secrets.kv.v2
    before = {}
    for case in CASES:
        doc = case.data.get("doc")
        if doc is None:
            continue
        refresh = emulator.mint_refresh_token(CLIENT, ["openid", "offline_access", "commerce.accs"])
        doc = {k: (refresh if v == "{{ REFRESH }}" else v) for k, v in doc.items()}
        case.data["doc"] = doc
        path = case.data["path"]
        if path in before:
            case.data["doc"] = next(c.data["doc"] for c in CASES if c.data.get("path") == path)
            continue
        kv.create_or_update_secret(path=path, secret=doc, mount_point=MOUNT)
        if case.data.get("deleted"):
            kv.delete_latest_version_of_secret(path=path, mount_point=MOUNT)
        before[path] = kv.read_secret_version(path=path, mount_point=MOUNT, raise_on_deleted_version=True)["data"]["metadata"]["version"] \
            if not case.data.get("deleted") else None
    # KV v1 mount with a credential document
    if KV1 + "/" not in client.sys.list_mounted_secrets_engines()["data"]:
        openbao.enable_kv1(KV1)
    client.secrets.kv.v1.create_or_update_secret(
        path="rel/vault/kv1", secret={"client_id": CLIENT, "client_secret": SECRET}, mount_point=KV1)
    openbao.write_policy("rel-deny", 'path "secret/data/rel/elsewhere/*" { capabilities = ["read"] }\n')
    approle = openbao.enable_approle(role_name="rel-vault-docs", policies=["rel-deny"])
    bogus = "s.relbogus" + secrets.token_hex(12)
    bad_secret_id = "00000000-" + secrets.token_hex(2) + "-4000-8000-" + secrets.token_hex(6)
    for kind, value in (("test bogus vault token", bogus), ("test wrong secret id", bad_secret_id)):
        secret_registry.add(kind, value)
    openbao.write_policy("rel-read-gone", 'path "secret/data/rel/vault/gone-doc" { capabilities = ["read"] }\n')
    tokens = {"deny": openbao.create_token(["rel-deny"]), "bogus": bogus, "role_id": approle.role_id,
              "bad_secret_id": bad_secret_id, "read_gone": openbao.create_token(["rel-read-gone"])}
    runner = rel_runner_factory("vault_documents")
    plays = play(CASES, name="Vault faults", module_defaults={"group/adobe_commerce.accs.accs": {
        "ims_url": "{{ emu_url }}", "ca_path": "{{ emu_ca }}", "retries": 0, "timeout": 10}})
    extra = {"emu_url": emulator.url, "emu_ca": emulator.ca_path, "rel_tokens": tokens, **fault_vars(CASES)}
    run = runner.run(plays, "Vault document and access faults", extra_vars=extra)
    after = {}
    for path in before:
        try:
            answer = kv.read_secret_version(path=path, mount_point=MOUNT, raise_on_deleted_version=False)
            after[path] = (answer["data"]["data"], answer["data"]["metadata"]["version"])
        except Exception:  # noqa: BLE001 - recorded as "gone"
            pass
    for case in CASES:
        if case.data.get("deleted"):
            case.data["doc"] = None  # nothing readable to compare
    context = {"before": before, "after": after, "valid": lambda token: bool(token) and emulator.check_refresh_token(token)}
    return run, context


@pytest.mark.parametrize("case", params(CASES))
def test_vault_fault(case, vault_docs_run, matrix, request):
    run, context = vault_docs_run
    run_case(case, run, matrix, request, context)
