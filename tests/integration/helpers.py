"""Shared helpers of the integration tests: seed an IMS client, an ACCS tenant and a Vault
credential document, build plays, and check what playbooks printed.

Seeding
-------
``seed_credential(emulator, openbao, ...) -> Seeded`` registers a fresh confidential client at
the emulator (unique id, unique secret), optionally creates an ACCS tenant for it, mints the
tokens asked for and writes the credential document to OpenBao (KV v2)::

    cred = seed_credential(emulator, openbao)                      # refresh_token flow
    cred = seed_credential(emulator, openbao, cache="valid")       # + cached access token
    cred = seed_credential(emulator, openbao, grant="client_credentials")
    cred.vault_path, cred.document, cred.refresh_token, cred.base_url ...

Everything is unique per call, so tests never need ``emulator_clean``: count what the
emulator saw for one client with ``ims_token_requests(emulator, cred.client_id)`` and for one
tenant with ``accs_requests(emulator, cred.tenant)``.

Plays
-----
``play(tasks, emulator=...)`` builds one play on ``hosts: all`` with ``module_defaults`` for
``group/adobe_commerce.accs.accs`` (``ims_url`` and ``ca_path`` of the emulator), so tasks only
name what they test.  Results that hold tokens must be registered with ``no_log: true``;
``token_summary_task`` then prints a secret-free summary (sha256 of the token, flags, expiry)
that ``sha256()`` lets the test compare with what Vault holds.

Checks
------
``assert_no_secrets(text, secrets)`` fails naming how many secrets leaked and where (by
offset), never the secret itself.  ``assert_one_sentence(msg)`` checks the message shape of
the collection's errors.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from dataclasses import dataclass, field

COLLECTION = "adobe_commerce.accs"
IMS_TOKEN = COLLECTION + ".ims_token"
ACCS_REST = COLLECTION + ".accs_rest"
LOOKUP = COLLECTION + ".vault_ims_credential"
GROUP = "group/" + COLLECTION + ".accs"

# Scopes of a user (authorization code) credential for ACCS; offline_access makes IMS issue
# refresh tokens.
USER_SCOPES = ["openid", "AdobeID", "offline_access", "commerce.accs"]
S2S_SCOPES = ["openid", "AdobeID", "commerce.accs"]
ALL_GRANTS = ["authorization_code", "refresh_token", "client_credentials"]
REDIRECT_URI = "https://localhost:8443/callback"


def unique(prefix: str) -> str:
    """``prefix-<12 hex>``: ids, tenants and Vault paths that no other test uses."""
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def sha256(value) -> str:
    """Hex sha256 of a string: what the summary tasks print instead of a token."""
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()


def iso_in(seconds: float) -> str:
    """ISO-8601 UTC timestamp ``seconds`` from now (negative: in the past), the document's format."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))


def parse_iso(value: str) -> float:
    """Epoch seconds of a ``YYYY-MM-DDTHH:MM:SSZ`` timestamp."""
    import calendar

    return calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))


# --------------------------------------------------------------------------- Vault
def doc_policy(name: str) -> str:
    """The HCL of policy ``name`` as the documentation gives it: a ``cat > name.hcl <<'EOF'`` heredoc in
    docs/pipelines.md, or a ```` ```hcl ```` block of docs/guide.md starting with ``# name:``."""
    from tests.support.ansible_runner import REPO_ROOT

    pipelines = (REPO_ROOT / "docs" / "pipelines.md").read_text(encoding="utf-8")
    guide = (REPO_ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    heredoc = re.search(r"cat > %s\.hcl <<'EOF'\n(.*?)\nEOF\n" % re.escape(name), pipelines, re.S)
    if heredoc:
        return heredoc.group(1) + "\n"
    block = re.search(r"```hcl\n(# %s:.*?)```" % re.escape(name), guide, re.S)
    assert block, "docs give no policy named %s" % name
    return block.group(1)


def read_doc(openbao, path: str, mount: str = "secret") -> tuple[dict, int]:
    """``(document, version)`` of the latest version at ``mount/path`` (root token)."""
    answer = openbao.client().secrets.kv.v2.read_secret_version(
        path=path, mount_point=mount, raise_on_deleted_version=True
    )
    return answer["data"]["data"], int(answer["data"]["metadata"]["version"])


def write_doc(openbao, path: str, document: dict, mount: str = "secret", cas: int | None = None) -> int:
    """Write ``document`` (whole) at ``mount/path`` (check-and-set on ``cas`` when given); returns the new version."""
    answer = openbao.client().secrets.kv.v2.create_or_update_secret(
        path=path, secret=document, mount_point=mount, cas=cas
    )
    return int(answer["data"]["version"])


def kv2_mount(openbao, prefix: str = "kv", cas_required: bool = False) -> str:
    """A new KV v2 mount (optionally with ``cas_required``, so every write must carry ``cas``)."""
    mount = unique(prefix)
    openbao.enable_kv2(mount)
    if cas_required:
        openbao.client().secrets.kv.v2.configure(cas_required=True, mount_point=mount)
    return mount


def policy_token(openbao, hcl: str, name: str | None = None) -> str:
    """A Vault token holding only a new policy made of ``hcl`` (registered for the secret scan)."""
    name = name or unique("policy")
    openbao.write_policy(name, hcl)
    return openbao.create_token([name], ttl="1h", no_default_policy=True)


# --------------------------------------------------------------------------- seeding
@dataclass
class Seeded:
    """One seeded credential: the emulator client, its tenant and its Vault document."""

    client_id: str
    client_secret: str
    vault_path: str | None
    mount: str
    document: dict
    version: int
    tenant: str | None
    base_url: str | None
    org_id: str | None
    refresh_token: str | None = None
    access_token: str | None = None
    scopes: list = field(default_factory=list)

    def read(self, openbao) -> tuple[dict, int]:
        """The document as OpenBao holds it now, and its version."""
        return read_doc(openbao, self.vault_path, self.mount)


def add_client(emulator, client_id=None, secrets=None, grants=None, scopes=None) -> tuple[str, list]:
    """A confidential client at the emulator; returns ``(client_id, secrets)``."""
    client_id = client_id or unique("cid")
    secrets = secrets or ["cs-" + uuid.uuid4().hex + uuid.uuid4().hex[:8]]
    emulator.add_client(client_id, client_secrets=secrets, grants=grants or ALL_GRANTS, scopes=scopes,
                        redirect_uris=[REDIRECT_URI])
    return client_id, secrets


def seed_credential(
    emulator,
    openbao=None,
    *,
    grant: str = "refresh_token",
    cache: str | None = None,
    cache_expires_in: int = 3600,
    tenant: bool | str = True,
    tenant_data: dict | None = None,
    org_id: str | None = "ORG0001AAAABBBB@AdobeOrg",
    vault_path: str | None = None,
    mount: str = "secret",
    write: bool = True,
    extra: dict | None = None,
    client_grants: list | None = None,
    client_scopes: list | None = None,
) -> Seeded:
    """Seed a client, a tenant and a credential document.

    ``grant``: ``refresh_token`` (the document holds a refresh token minted at the emulator)
    or ``client_credentials`` (client secret and scopes).  ``cache``: None (no cached access
    token), ``"valid"`` (a real access token expiring in ``cache_expires_in`` seconds),
    ``"expired"`` (a real token, past expiry in the document), ``"unknown"`` (a token the
    emulator never issued, with a valid-looking future expiry), or ``"revoked"`` (a real one,
    revoked at the emulator, future expiry in the document).  ``tenant``: True for a new
    tenant, a string for that tenant id, False for none; ``tenant_data`` is passed to
    ``set_tenant``.  ``extra`` keys are laid over the document.  ``write=False`` skips Vault.
    """
    scopes = list(USER_SCOPES if grant == "refresh_token" else S2S_SCOPES)
    client_id, secrets = add_client(emulator, grants=client_grants, scopes=client_scopes)
    document = {"client_id": client_id, "client_secret": secrets[0]}
    if org_id:
        document["org_id"] = org_id
    refresh_token = None
    if grant == "refresh_token":
        refresh_token = emulator.mint_refresh_token(client_id, scopes)
        document["refresh_token"] = refresh_token
        document["scopes"] = ",".join(scopes)
    else:
        document["grant_type"] = "client_credentials"
        document["scopes"] = ",".join(scopes)
    access_token = None
    if cache in ("valid", "expired", "revoked"):
        access_token = emulator.mint_access_token(client_id, scopes, expires_in=cache_expires_in)
        if cache == "revoked":
            emulator.revoke(token=access_token)
    elif cache == "unknown":
        access_token = "at-" + uuid.uuid4().hex + uuid.uuid4().hex
    elif cache is not None:
        raise ValueError("cache must be None, valid, expired, revoked or unknown")
    if access_token:
        document["access_token"] = access_token
        document["access_token_expires_at"] = iso_in(-60 if cache == "expired" else cache_expires_in)
    document.update(extra or {})

    tenant_id = None
    base_url = None
    if tenant:
        tenant_id = tenant if isinstance(tenant, str) else unique("tenant")
        emulator.set_tenant(tenant_id, **(tenant_data or {}))
        base_url = emulator.accs_url(tenant_id)

    version = 0
    if vault_path is None and write:
        vault_path = "accs/" + unique("env")
    if write and openbao is not None:
        version = write_doc(openbao, vault_path, document, mount, cas=0)
    return Seeded(client_id=client_id, client_secret=secrets[0], vault_path=vault_path, mount=mount,
                  document=dict(document), version=version, tenant=tenant_id, base_url=base_url,
                  org_id=org_id, refresh_token=refresh_token, access_token=access_token, scopes=scopes)


# --------------------------------------------------------------------------- emulator records
def role_host(emulator, cred, **extra) -> dict:
    """Inventory variables of one environment for the roles and playbooks (the inventory convention)."""
    values = {
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "accs_base_url": cred.base_url,
        "accs_vault_path": cred.vault_path,
        "accs_ims_url": emulator.ims_url,
        "accs_ca_path": emulator.ca_path,
    }
    values.update(extra)
    return values


def role_fact(result, host: str, fact: str, tasks) -> dict:
    """The fact ``fact`` a role set for ``host``, from the first of ``tasks`` (set_fact tasks) that printed it."""
    for task in tasks:
        try:
            found = result.task_results(task).get(host)
        except KeyError:
            continue
        if found and "ansible_facts" in found:
            return found["ansible_facts"][fact]
    raise AssertionError("no %s fact printed for %s" % (fact, host))


def ims_token_requests(emulator, client_id: str, grant: str | None = None) -> list[dict]:
    """The emulator's records of token requests by ``client_id`` (optionally one grant), in order."""
    key = "ims.token.%s" % grant if grant else "ims.token"
    return [r for r in emulator.requests(key=key) if r.get("client_id") == client_id]


def accs_requests(emulator, tenant: str, endpoint: str | None = None) -> list[dict]:
    """The emulator's records of ACCS requests for ``tenant`` (optionally one endpoint), in order."""
    records = emulator.requests(tenant=tenant)
    return [r for r in records if endpoint is None or r.get("endpoint") == endpoint]


# --------------------------------------------------------------------------- plays
def group_defaults(emulator, **options) -> dict:
    """``module_defaults`` setting ``ims_url`` and ``ca_path`` once for both modules."""
    values = {"ims_url": emulator.url, "ca_path": emulator.ca_path}
    values.update(options)
    return {GROUP: values}


def play(tasks: list, emulator=None, name: str = "test", hosts: str = "all", defaults: dict | None = None,
         vars: dict | None = None, **play_options) -> list:
    """One play (as a playbook list) running ``tasks``; ``emulator`` adds the group defaults."""
    body = {"name": name, "hosts": hosts, "gather_facts": False}
    module_defaults = {}
    if emulator is not None:
        module_defaults.update(group_defaults(emulator))
    if defaults:
        for key, value in defaults.items():
            module_defaults.setdefault(key, {}).update(value)
    if module_defaults:
        body["module_defaults"] = module_defaults
    if vars:
        body["vars"] = vars
    body.update(play_options)
    body["tasks"] = tasks
    return [body]


def ims_token_task(name: str, register: str, no_log: bool = True, **options) -> dict:
    """An ims_token task; ``no_log`` by default (its result holds the access token)."""
    task = {"name": name, IMS_TOKEN: options, "register": register}
    if no_log:
        task["no_log"] = True
    return task


def token_summary_task(name: str, register: str) -> dict:
    """A debug task printing a secret-free summary of a registered ims_token result.

    Keys: changed, refreshed, failed, has_token, token_sha256, token_type, expires_in,
    expires_at, has_refresh_token, refresh_token_sha256, vault_path.
    """
    r = register
    expr = (
        "{{ {'changed': %(r)s.changed | default(None), 'refreshed': %(r)s.refreshed | default(None),"
        " 'failed': %(r)s.failed | default(false),"
        " 'has_token': %(r)s.access_token is defined,"
        " 'token_sha256': (%(r)s.access_token | hash('sha256')) if %(r)s.access_token is defined else None,"
        " 'token_type': %(r)s.token_type | default(None), 'expires_in': %(r)s.expires_in | default(None),"
        " 'expires_at': %(r)s.expires_at | default(None),"
        " 'has_refresh_token': %(r)s.refresh_token is defined,"
        " 'refresh_token_sha256': (%(r)s.refresh_token | hash('sha256')) if %(r)s.refresh_token is defined else None,"
        " 'vault_path': %(r)s.vault_path | default(None)} }}"
    ) % {"r": r}
    return {"name": name, "ansible.builtin.debug": {"msg": expr}}


def summary(result, task_name: str, host: str = "localhost") -> dict:
    """The dict a ``token_summary_task`` printed (needs ``run_playbook(..., json=True)``)."""
    return result.task_results(task_name)[host]["msg"]


def host_result(result, task_name: str, host: str = "localhost") -> dict:
    return result.task_results(task_name)[host]


# --------------------------------------------------------------------------- checks
def assert_no_secrets(text: str, secrets, where: str = "output") -> None:
    """Fail when ``text`` holds any of ``secrets`` (strings of 8+ characters); never print one."""
    leaked = []
    for value in secrets:
        if isinstance(value, str) and len(value) >= 8 and value in text:
            leaked.append(text.index(value))
    assert not leaked, "%d secret(s) found in %s at offsets %s" % (len(leaked), where, sorted(leaked)[:10])


def assert_one_sentence(msg: str) -> None:
    """The collection's error shape: one line, starts with a capital, ends with one period."""
    assert isinstance(msg, str) and msg, msg
    assert "\n" not in msg, msg
    assert msg[0].isupper(), msg
    assert msg.endswith(".") and not msg.endswith(".."), msg
    assert "Traceback" not in msg, msg


def failed_msg(result, task_name: str, host: str = "localhost") -> str:
    """The ``msg`` of a task that must have failed (with ``ignore_errors``)."""
    res = host_result(result, task_name, host)
    assert res.get("failed") is True, "task %r did not fail: %r" % (task_name, res)
    return res.get("msg")


def vault_secrets(openbao, *extra) -> list:
    """Every Vault secret the session OpenBao handed out (root token, tokens, secret ids) plus ``extra``."""
    return [value for _kind, value in openbao.issued] + [e for e in extra if e]


DEBUG_ID = r"[0-9a-fA-F-]{8,}"


def full_match(pattern: str, text: str) -> None:
    """``re.fullmatch`` with a readable failure (pattern and text)."""
    assert re.fullmatch(pattern, text or ""), "message does not match\n  pattern: %s\n  message: %s" % (pattern, text)
