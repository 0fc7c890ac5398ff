"""The vault_environments inventory plugin against the real OpenBao (issue 18, part 1).

Everything goes through ``ansible-inventory --list --vars`` (or ``ansible-playbook``) with the collection
as installed from its tarball; stdout and stderr are kept under build/test-output (secret-scanned) and
also checked here for every secret of the seeded documents.  Vault request counts are proven with
tokens that allow exactly that many uses (``num_uses``).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.integration.helpers import (
    assert_no_secrets,
    policy_token,
    seed_credential,
    unique,
    vault_secrets,
    write_doc,
)
from tests.support.ansible_runner import REPO_ROOT, hermetic_env, installed_playbook, venv_tool

PLUGIN = "adobe_commerce.accs.vault_environments"
SECRET_KEYS = ("client_secret", "client_secrets", "refresh_token", "access_token")


def _plain(value):
    """ansible-core 2.19 shows strings from plugins as {"__ansible_unsafe": ...}: the plain value."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class Inventory:
    def __init__(self, proc: subprocess.CompletedProcess, seconds: float):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.seconds = seconds
        self.data = _plain(json.loads(proc.stdout)) if proc.returncode == 0 and proc.stdout.strip() else {}

    @property
    def hostvars(self) -> dict:
        return self.data.get("_meta", {}).get("hostvars", {})

    def group(self, name: str) -> list:
        return sorted(self.data.get(name, {}).get("hosts", []))

    @property
    def warnings(self) -> str:
        """stderr on one line (older ansible-core releases wrap warnings at 80 columns, also after hyphens)."""
        return " ".join(re.sub(r"-\n\s*", "-", self.stderr).split())


def _source(tmp_path: Path, config: dict, name: str = "accs.vault_environments.yml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(dict({"plugin": PLUGIN}, **config), sort_keys=False), encoding="utf-8")
    return path


def _inventory(collection_path, openbao, source: Path, out_dir: Path, label: str, env: dict | None = None,
               args=("--list", "--vars")) -> Inventory:
    run_env = hermetic_env({
        **openbao.env(),
        "ANSIBLE_COLLECTIONS_PATH": str(collection_path),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "0",
        "ANSIBLE_HOME": str(source.parent / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(source.parent / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        # an unparsable source is an error, not a warning and an empty inventory
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1",
        **(env or {}),
    })
    started = time.monotonic()
    proc = subprocess.run(  # noqa: S603
        [venv_tool("ansible-inventory"), "-i", str(source), *args], env=run_env, capture_output=True, text=True,
        timeout=300, check=False)
    seconds = time.monotonic() - started
    (out_dir / f"{label}.stdout.txt").write_text(proc.stdout, encoding="utf-8")
    (out_dir / f"{label}.stderr.txt").write_text(proc.stderr, encoding="utf-8")
    return Inventory(proc, seconds)


def _document_secrets(*creds) -> list:
    values = []
    for cred in creds:
        for key in SECRET_KEYS:
            value = cred.document.get(key)
            values.extend(value if isinstance(value, list) else [value])
    return [v for v in values if v]


def _assert_clean(inventory: Inventory, openbao, secrets) -> None:
    for host, values in inventory.hostvars.items():
        for key in values:
            assert key.split("accs_", 1)[-1] not in SECRET_KEYS, (host, key)
    assert_no_secrets(inventory.stdout + inventory.stderr, vault_secrets(openbao, *secrets), "ansible-inventory output")


# --------------------------------------------------------------------------- hosts, vars, groups
def doc_policy(name: str) -> str:
    """The HCL of policy ``name`` as docs/guide.md gives it."""
    guide = (REPO_ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    block = re.search(r"```hcl\n(# %s:.*?)```" % re.escape(name), guide, re.S)
    assert block, "docs/guide.md gives no policy named %s" % name
    return block.group(1)


def test_one_host_per_document_with_non_secret_vars_and_constructed_groups(
        collection_path, emulator, openbao, tmp_path, test_output_dir):
    folder = "accs/" + unique("fleet")  # under accs/, where the documented policy grants list and read
    prod = seed_credential(emulator, openbao, cache="valid", tenant=False, vault_path=f"{folder}/prod", extra={
        "base_url": "https://na1.api.commerce.adobe.com/TENANT-PROD", "environment": "production",
        "region": "na1", "tenant_id": "TENANT-PROD", "tags": ["shop", "b2c"], "owner": "team-a",
        "client_secrets": ["cs-" + "x" * 30, "cs-" + "y" * 30], "notes": "not a host var"})
    stage = seed_credential(emulator, openbao, grant="client_credentials", tenant=False,
                            vault_path=f"{folder}/eu/stage", extra={
                                "base_url": "https://eu1-sandbox.api.commerce.adobe.com/TENANT-STAGE",
                                "environment": "staging", "region": "eu1"})
    bare = seed_credential(emulator, openbao, tenant=False, vault_path=f"{folder}/legacy")  # no base_url
    # a document whose base_url holds a template: shown as written, never rendered
    trap = seed_credential(emulator, openbao, tenant=False, vault_path=f"{folder}/trap",
                           extra={"base_url": "https://x.example/{{ lookup('env', 'VAULT_TOKEN') }}"})
    source = _source(tmp_path, {
        "path": folder + "/",
        "host_var_keys": ["owner", "org_id"],
        "keyed_groups": [{"key": "environment", "prefix": "env"}, {"key": "accs_region", "prefix": "region"}],
        "groups": {"europe": "region is defined and region.startswith('eu')"},
        "compose": {"accs_store_code": "'default'"},
    })
    # the documented accs-inventory policy, on a token good for exactly: LIST of the folder, LIST of eu/, four reads
    policy = unique("accs-inventory")
    openbao.write_policy(policy, doc_policy("accs-inventory"))
    token = openbao.create_token([policy], ttl="10m", num_uses=6, no_default_policy=True)
    inv = _inventory(collection_path, openbao, source, test_output_dir, "list", env={"VAULT_TOKEN": token})
    assert inv.rc == 0, inv.stderr

    assert inv.group("accs") == ["eu/stage", "legacy", "prod", "trap"]
    assert inv.group("env_production") == ["prod"]
    assert inv.group("env_staging") == ["eu/stage"]
    assert inv.group("region_na1") == ["prod"]
    assert inv.group("europe") == ["eu/stage"]

    hv = inv.hostvars
    assert hv["prod"] == {
        "accs_vault_path": f"{folder}/prod", "accs_vault_mount": "secret",
        "accs_base_url": "https://na1.api.commerce.adobe.com/TENANT-PROD", "accs_environment": "production",
        "accs_region": "na1", "accs_tenant_id": "TENANT-PROD", "accs_tags": ["shop", "b2c"], "accs_owner": "team-a",
        "accs_org_id": prod.org_id, "accs_store_code": "default",
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
    }
    assert hv["eu/stage"]["accs_vault_path"] == f"{folder}/eu/stage"
    assert "accs_owner" not in hv["eu/stage"]
    assert hv["legacy"]["accs_vault_path"] == f"{folder}/legacy"
    assert "accs_base_url" not in hv["legacy"]
    assert hv["trap"]["accs_base_url"] == "https://x.example/{{ lookup('env', 'VAULT_TOKEN') }}"
    assert "has no base_url" in inv.warnings and f"'secret/{folder}/legacy' (host legacy)" in inv.warnings
    # no Ansible warning about play keywords (environment, tags) used as variable names
    assert "reserved name" not in inv.warnings
    _assert_clean(inv, openbao, _document_secrets(prod, stage, bare, trap) + [token])


def test_user_settings_override_the_local_connection(collection_path, emulator, openbao, tmp_path, test_output_dir):
    folder = unique("fleet")
    seed_credential(emulator, openbao, tenant=False, vault_path=f"{folder}/one", extra={"base_url": "https://a.example"})
    seed_credential(emulator, openbao, tenant=False, vault_path=f"{folder}/two", extra={"base_url": "https://b.example"})
    source = _source(tmp_path, {"path": folder, "compose": {
        "ansible_python_interpreter": "'/opt/custom/bin/python3' if inventory_hostname == 'one' else omit_me",
    }, "strict": False})
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "two.yml").write_text("ansible_connection: ssh\n", encoding="utf-8")
    inv = _inventory(collection_path, openbao, source, test_output_dir, "list")
    assert inv.rc == 0, inv.stderr
    assert inv.hostvars["one"]["ansible_python_interpreter"] == "/opt/custom/bin/python3"
    assert inv.hostvars["one"]["ansible_connection"] == "local"
    assert inv.hostvars["two"]["ansible_connection"] == "ssh"
    assert inv.hostvars["two"]["ansible_python_interpreter"] == "{{ ansible_playbook_python }}"


def test_playbook_runs_on_the_plugin_inventory(run_playbook, collection_path, emulator, openbao, tmp_path,
                                               test_output_dir):
    """validate_access over the plugin's hosts, refreshing and writing back in parallel forks (the main
    process used Vault for the inventory: its connections must not leak into the workers); the host
    without base_url fails with the role's own sentence."""
    folder = unique("fleet")
    good = []
    for name in ("one", "two", "three"):
        cred = seed_credential(emulator, openbao, vault_path=f"{folder}/{name}")  # no cached token: refresh + write
        write_doc(openbao, cred.vault_path, dict(cred.document, base_url=cred.base_url), cas=cred.version)
        good.append(cred)
    bare = seed_credential(emulator, openbao, cache="valid", tenant=False, vault_path=f"{folder}/bare")
    source = _source(tmp_path, {"path": folder, "compose": {
        "accs_ims_url": "'%s'" % emulator.ims_url, "accs_ca_path": "'%s'" % emulator.ca_path}})
    result = run_playbook(installed_playbook(collection_path, "validate_access.yml"), inventory=source, forks=4,
                          extra_vars={"accs_access_check_report_dir": str(test_output_dir)})
    assert result.rc == 2, result.stdout[-3000:]
    for name, cred in zip(("one", "two", "three"), good):
        assert result.stats[name]["failed"] == 0, result.stdout[-3000:]
        assert (test_output_dir / f"{name}-access-check.junit.xml").is_file()
        document, version = cred.read(openbao)
        assert version == cred.version + 2 and document["refresh_token"] != cred.refresh_token  # rotated, stored
    assert result.stats["bare"]["failed"] == 1
    assert "accs_base_url" in result.stdout and "has no base_url" in result.stderr.replace("\n", " ")
    assert_no_secrets(result.stdout + result.stderr, vault_secrets(openbao, *_document_secrets(*good, bare)))


# --------------------------------------------------------------------------- cache
def test_inventory_cache_answers_without_vault_and_holds_no_secret(
        collection_path, emulator, openbao, tmp_path, test_output_dir):
    folder = unique("fleet")
    cred = seed_credential(emulator, openbao, cache="valid", tenant=False, vault_path=f"{folder}/prod",
                           extra={"base_url": "https://na1.api.commerce.adobe.com/T", "environment": "production"})
    cache_dir = test_output_dir / "inventory-cache"  # kept, so the session's secret scan covers it
    source = _source(tmp_path, {"path": folder, "cache": True, "cache_plugin": "ansible.builtin.jsonfile",
                                "cache_connection": str(cache_dir), "cache_timeout": 600,
                                "keyed_groups": [{"key": "environment", "prefix": "env"}]})
    first = _inventory(collection_path, openbao, source, test_output_dir, "first")
    assert first.rc == 0, first.stderr
    cached = sorted(cache_dir.iterdir())
    assert len(cached) == 1
    # second run: a token Vault refuses, so any request would fail; the cache answers the same inventory
    second = _inventory(collection_path, openbao, source, test_output_dir, "second",
                        env={"VAULT_TOKEN": "not-a-token"})
    assert second.rc == 0, second.stderr
    assert second.hostvars == first.hostvars
    assert second.group("env_production") == ["prod"]
    text = "".join(p.read_text(encoding="utf-8") for p in cached)
    # without the cache entry the plugin goes to Vault again (and fails here, naming why)
    for path in cached:
        path.unlink()
    third = _inventory(collection_path, openbao, source, test_output_dir, "uncached",
                       env={"VAULT_TOKEN": "not-a-token"})
    assert third.rc != 0 and f"denied listing 'secret/metadata/{folder}/'" in third.warnings
    assert_no_secrets(text, vault_secrets(openbao, *_document_secrets(cred)), "inventory cache")
    assert "client_id" not in text


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("case", ["no_list", "empty_folder", "blank_path", "kv1", "secret_key", "deleted"])
def test_bad_input_fails_with_one_sentence(case, collection_path, emulator, openbao, tmp_path, test_output_dir):
    folder = unique("fleet")
    cred = seed_credential(emulator, openbao, tenant=False, vault_path=f"{folder}/prod",
                           extra={"base_url": "https://a.example"})
    config = {"path": folder}
    env = {}
    if case == "no_list":
        env["VAULT_TOKEN"] = policy_token(openbao, 'path "secret/data/%s/*" { capabilities = ["read"] }\n' % folder)
        expected = (f"Vault at {openbao.url} denied listing 'secret/metadata/{folder}/' (permission denied): grant "
                    f"the token's policy 'list' on 'secret/metadata/{folder}/*' (see the inventory section of the "
                    "collection guide).")
    elif case == "empty_folder":
        config["path"] = unique("nothing-here")
        expected = (f"No credential documents under 'secret/{config['path']}/' in Vault at {openbao.url}: store "
                    "them there, or fix path and vault_mount.")
    elif case == "blank_path":
        config["path"] = " / "
        expected = "Option path of %s is empty: give the folder of the credential documents inside the mount, like accs/."
    elif case == "kv1":
        mount = unique("kv1")
        openbao.enable_kv1(mount)
        openbao.client().write(f"{mount}/{folder}/prod", **cred.document)
        config["vault_mount"] = mount
        expected = (f"Mount '{mount}' in Vault at {openbao.url} is a KV version 1 engine: the credential store needs "
                    "KV version 2 (enable kv-v2 there, or point vault_mount at a KV v2 mount).")
    elif case == "secret_key":
        config["host_var_keys"] = ["owner", "refresh_token"]
        expected = ("Option host_var_keys names the secret key refresh_token: remove it, secrets stay in Vault and "
                    "never become host variables.")
    else:  # deleted: still listed in the metadata, left out with a warning naming it
        seed_credential(emulator, openbao, tenant=False, vault_path=f"{folder}/gone")
        openbao.client().secrets.kv.v2.delete_latest_version_of_secret(path=f"{folder}/gone", mount_point="secret")
        expected = None
    source = _source(tmp_path, config)
    inv = _inventory(collection_path, openbao, source, test_output_dir, case, env=env)
    assert_no_secrets(inv.stdout + inv.stderr, vault_secrets(openbao, *_document_secrets(cred)))
    if expected is None:
        assert inv.rc == 0, inv.stderr
        assert inv.group("accs") == ["prod"]
        assert f"Host gone left out: The credential at 'secret/{folder}/gone'" in inv.warnings
        assert "is deleted (version 1)" in inv.warnings
        return
    assert inv.rc != 0
    if "%s" in expected:
        expected = expected % source
    assert expected in inv.warnings, inv.stderr
    assert "Traceback" not in inv.stderr


# --------------------------------------------------------------------------- scale
def test_thousand_documents_are_listed_in_under_ten_seconds(collection_path, openbao, tmp_path, test_output_dir):
    """1000 documents (800 at the top, 200 in four subfolders), listed in pages of 100 and read once each."""
    folder = unique("bench")
    client = openbao.client()
    paths = ["%s/env-%04d" % (folder, i) for i in range(800)]
    paths += ["%s/region-%d/env-%04d" % (folder, i % 4, i) for i in range(800, 1000)]

    def write(path):
        client.secrets.kv.v2.create_or_update_secret(path=path, mount_point="secret", secret={
            "client_id": "cid", "client_secret": "cs-not-a-real-secret-%s" % path[-4:],
            "base_url": "https://na1.api.commerce.adobe.com/%s" % path.rsplit("/", 1)[-1],
            "environment": "production" if path.endswith(("0", "5")) else "staging"})

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, paths))
    source = _source(tmp_path, {"path": folder, "list_page_size": 100,
                                "keyed_groups": [{"key": "environment", "prefix": "env"}]})
    inv = _inventory(collection_path, openbao, source, test_output_dir, "thousand", args=("--list",))
    assert inv.rc == 0, inv.stderr
    assert len(inv.group("accs")) == 1000
    assert len(inv.group("env_production")) == 200
    assert inv.hostvars["region-3/env-0999"]["accs_vault_path"] == f"{folder}/region-3/env-0999"
    timing = "ansible-inventory --list of 1000 documents: %.2f s" % inv.seconds
    (test_output_dir / "timing.txt").write_text(timing + "\n", encoding="utf-8")
    print("\n" + timing)
    assert inv.seconds < 10, "listing 1000 documents took %.1f s" % inv.seconds


# --------------------------------------------------------------------------- fork safety
def test_workers_do_not_share_the_inventory_connection_to_vault(run_playbook, tmp_path, secret_registry):
    """Workers are forks of the process that listed the inventory: each must open its own connection to
    Vault (the audit log's remote port tells connections apart), never write on the inherited one."""
    import json as _json

    from tests.bench import run_bench

    with run_bench.audited_openbao(tmp_path / "audited") as (server, audit_log):
        secret_registry.add("openbao root token", server.root_token)
        for name in ("a", "b", "c", "d"):
            write_doc(server, f"fleet/{name}", {"client_id": "cid-" + name, "base_url": "https://x.example/" + name})
        source = _source(tmp_path, {"path": "fleet"})
        lookup = "{{ lookup('adobe_commerce.accs.vault_ims_credential', accs_vault_path).client_id }}"
        start = run_bench.audit_offset(audit_log)
        result = run_playbook([{"hosts": "accs", "gather_facts": False,
                                "tasks": [{"name": "read", "ansible.builtin.debug": {"msg": lookup}}]}],
                              inventory=source, env=server.env(), forks=4)
        result.assert_rc(0)
        with open(audit_log, "rb") as stream:
            stream.seek(start)
            requests = [entry["request"] for entry in map(_json.loads, stream.read().splitlines())
                        if entry.get("type") == "request"]
    inventory_ports = {r.get("remote_port") for r in requests[:5]}  # the LIST and the four reads of the plugin
    assert [r["operation"] for r in requests[:5]] == ["list"] + ["read"] * 4
    worker_reads = requests[5:]
    assert len(worker_reads) == 4 and all(r["operation"] == "read" for r in worker_reads)
    assert not inventory_ports & {r.get("remote_port") for r in worker_reads}


def test_approle_login_from_the_environment_as_the_lookup_does(collection_path, emulator, openbao, tmp_path,
                                                               test_output_dir):
    """VAULT_AUTH_METHOD=approle with VAULT_ROLE_ID / VAULT_SECRET_ID, the documented policy, nothing in the file."""
    folder = unique("fleet")
    cred = seed_credential(emulator, openbao, tenant=False, vault_path=f"{folder}/prod",
                           extra={"base_url": "https://a.example"})
    policy = unique("inventory")
    openbao.write_policy(policy, 'path "secret/metadata/%s/*" { capabilities = ["list"] }\n'
                                 'path "secret/data/%s/*" { capabilities = ["read"] }\n' % (folder, folder))
    approle = openbao.enable_approle(role_name=unique("inv"), policies=[policy])
    inv = _inventory(collection_path, openbao, _source(tmp_path, {"path": folder}), test_output_dir, "approle",
                     env={"VAULT_TOKEN": None, "VAULT_AUTH_METHOD": "approle", "VAULT_ROLE_ID": approle.role_id,
                          "VAULT_SECRET_ID": approle.secret_id, "HOME": str(tmp_path)})
    assert inv.rc == 0, inv.stderr
    assert inv.group("accs") == ["prod"]
    assert inv.hostvars["prod"]["accs_base_url"] == "https://a.example"
    _assert_clean(inv, openbao, _document_secrets(cred) + [approle.secret_id])
