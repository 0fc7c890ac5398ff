"""Local development environment: OpenBao + the IMS/ACCS emulator, seeded, plus the collection.

    python tests/support/devenv.py demo   # seed, run the fleet audit, enforce, stop (`make demo`)
    python tests/support/devenv.py up     # seed, print the exports, wait for Ctrl-C (`make env`)

State lives in ``build/devenv/`` (``--workdir``): the servers' logs, the emulator's CA, the built
collection (``collections/``), ``inventory.yml``, ``env.sh`` and the audit reports
(``accs-reports/``).  Every process started here is stopped on exit, on failure, on Ctrl-C and on
SIGTERM or SIGHUP.

Seeding
-------
* emulator client ``accs-demo-client`` with two client secrets, grants ``refresh_token``,
  ``authorization_code`` and ``client_credentials``, scopes ``AdobeID,openid,offline_access,commerce.accs``;
* tenants ``demo-us`` and ``demo-eu`` (the emulator's default data) and ``demo-drift`` (default data,
  but store view ``fr`` has ``secure_base_url`` on http:// and display currency GBP);
* App Builder wiring: the group declares one webhook of a demo app (``accs_extensibility_common``, owner
  prefix ``demoapp_``); ``deploy_extensibility.yml`` runs as a dry run, then applies it, then once more;
* system configuration: the inventory declares ``accs_system_config_common`` for the group (locale, base
  currency, flat-rate shipping on website ``base``) and ``accs_system_config`` for ``demo-eu`` (locale
  ``de_DE``); ``demo-us`` and ``demo-eu`` hold what is declared, ``demo-drift`` has drifted (locale ``en_GB``,
  flat-rate price 12.00, flat rate off);
* per tenant a refresh token minted through the emulator's control API and a KV v2 document at
  ``secret/accs/<tenant>``: ``client_id``, ``client_secret`` (the first secret), ``refresh_token``,
  ``refresh_token_issued_at``, ``scopes``, ``grant_type: refresh_token``, and the non-secret ``base_url`` (the
  tenant's ACCS URL at the emulator) and ``environment``.

The inventory is the collection's ``vault_environments`` inventory plugin reading those documents
(``inventory.yml``); the emulator's IMS URL and CA, the expected store configs and the declared system
configuration are in ``group_vars/accs.yml`` and ``host_vars/<tenant>.yml`` beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.ansible_runner import (  # noqa: E402
    REPO_ROOT,
    build_and_install_collection,
    hermetic_env,
    parse_default_output,
    venv_tool,
)
from tests.support.openbao import running_openbao  # noqa: E402
from tests.support.secretscan import SecretRegistry, scan_tree  # noqa: E402

DEFAULT_WORKDIR = REPO_ROOT / "build" / "devenv"
CLIENT_ID = "accs-demo-client"
SCOPES = ["AdobeID", "openid", "offline_access", "commerce.accs"]
GRANTS = ["refresh_token", "authorization_code", "client_credentials"]
TENANTS = ("demo-us", "demo-eu", "demo-drift")
DRIFT_TENANT = "demo-drift"
VAULT_MOUNT = "secret"
AUDIT_PLAYBOOK = REPO_ROOT / "playbooks" / "audit_fleet.yml"
DEPLOY_WIRING_PLAYBOOK = REPO_ROOT / "playbooks" / "deploy_extensibility.yml"
# the App Builder wiring every tenant gets (group vars): one webhook of a demo app
WIRING_COMMON = {"webhooks": [{
    "webhook_method": "observer.checkout_cart_product_add_before", "webhook_type": "before",
    "batch_name": "demoapp_cart", "hook_name": "demoapp_validate_stock",
    "url": "https://demoapp.example/api/v1/web/demoapp/validate-stock", "timeout": 2000, "required": True,
    "fields": [{"name": "product.sku", "source": "data.product.sku"}]}]}
# the system configuration every tenant should hold (group vars), and demo-eu's own (host vars)
SYSTEM_CONFIG_COMMON = [
    {"path": "general/locale/code", "value": "en_US"},
    {"path": "currency/options/base", "value": "USD"},
    {"path": "carriers/flatrate/active", "value": True, "scope": "website", "scope_code": "base"},
    {"path": "carriers/flatrate/price", "value": 5, "scope": "website", "scope_code": "base"},
]
SYSTEM_CONFIG_HOSTS = {"demo-eu": [{"path": "general/locale/code", "value": "de_DE"}]}
# what demo-drift holds instead
SYSTEM_CONFIG_DRIFT = [
    {"path": "general/locale/code", "value": "en_GB"},
    {"path": "carriers/flatrate/active", "value": "0", "scope": "website", "scope_code": "base"},
    {"path": "carriers/flatrate/price", "value": "12.00", "scope": "website", "scope_code": "base"},
]
ENFORCE_PLAYBOOK = """---
# Written by tests/support/devenv.py: the system_config role in enforce mode (make demo).
- name: Enforce the declared system configuration
  hosts: accs
  gather_facts: false
  tasks:
    - name: Run the system_config role in enforce mode
      ansible.builtin.import_role:
        name: adobe_commerce.accs.system_config
      vars:
        accs_system_config_mode: enforce
"""
# the store-config fields the demo expects on every tenant (compared by the audit)
EXPECTED_FIELDS = (
    "locale",
    "base_currency_code",
    "default_display_currency_code",
    "timezone",
    "weight_unit",
    "base_url",
    "secure_base_url",
)


class _Terminated(SystemExit):
    pass


def _on_signal(signum, _frame):
    raise _Terminated(128 + signum)


def say(message: str = "") -> None:
    print(message, flush=True)


# --------------------------------------------------------------------------- data
def drift_store_configs() -> list[dict]:
    from tests.emulator import data

    configs = data.default_store_configs()
    for config in configs:
        if config["code"] == "fr":
            config["secure_base_url"] = config["secure_base_url"].replace("https://", "http://", 1)
            config["default_display_currency_code"] = "GBP"
    return configs


def expected_store_configs() -> dict[str, dict]:
    """``{store code: {field: value}}`` as a clean tenant has it (the emulator's default data)."""
    from tests.emulator import data

    return {
        config["code"]: {field: config[field] for field in EXPECTED_FIELDS}
        for config in data.default_store_configs()
    }


def seed(emulator, openbao) -> dict[str, dict]:
    """Seed the emulator and Vault; returns ``{tenant: vault document}``."""
    client_secrets = ["p8e-" + secrets.token_urlsafe(24), "p8e-" + secrets.token_urlsafe(24)]
    emulator.reset()
    emulator.add_client(CLIENT_ID, client_secrets=client_secrets, grants=GRANTS, scopes=SCOPES)
    vault = openbao.client()
    documents = {}
    for tenant in TENANTS:
        if tenant == DRIFT_TENANT:
            emulator.set_tenant(tenant, storeConfigs=drift_store_configs())
        else:
            emulator.set_tenant(tenant)
        emulator.set_system_config(tenant, system_config_seed(tenant), replace=False)
        document = {
            "client_id": CLIENT_ID,
            "client_secret": client_secrets[0],
            "refresh_token": emulator.mint_refresh_token(CLIENT_ID, SCOPES),
            "refresh_token_issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "scopes": ",".join(SCOPES),
            "grant_type": "refresh_token",
            "base_url": emulator.accs_url(tenant),
            "environment": "production" if tenant == "demo-us" else "staging",
        }
        vault.secrets.kv.v2.create_or_update_secret(
            path=f"accs/{tenant}", secret=document, mount_point=VAULT_MOUNT, cas=0
        )
        documents[tenant] = document
    return documents


def system_config_seed(tenant: str) -> list[dict]:
    """What the tenant holds: the declaration (common, then the host's), or the drift for DRIFT_TENANT."""
    if tenant == DRIFT_TENANT:
        return [dict(item) for item in SYSTEM_CONFIG_DRIFT]
    held = {}
    for item in SYSTEM_CONFIG_COMMON + SYSTEM_CONFIG_HOSTS.get(tenant, []):
        held[(item["path"], item.get("scope", "default"), item.get("scope_code"))] = dict(item)
    return list(held.values())


def write_inventory(path: Path, emulator) -> Path:
    """The vault_environments inventory plugin over ``secret/accs/``; group_vars/accs.yml and host_vars beside it."""
    import yaml

    inventory = {
        "plugin": "adobe_commerce.accs.vault_environments",
        "path": "accs/",
        "vault_mount": VAULT_MOUNT,
        "keyed_groups": [{"key": "environment", "prefix": "env"}],
    }
    group_vars = {
        "accs_ims_url": emulator.ims_url,
        "accs_ca_path": str(emulator.ca_path),
        "accs_expected_store_configs": expected_store_configs(),
        "accs_system_config_common": SYSTEM_CONFIG_COMMON,
        "accs_extensibility_common": WIRING_COMMON,
        "accs_extensibility_owner_prefix": "demoapp_",
    }
    header = (
        "# Written by tests/support/devenv.py for the local OpenBao + emulator; rewritten on each run.\n"
        "# One host per credential document under secret/accs/ (VAULT_ADDR and VAULT_TOKEN from the environment).\n"
    )
    path.write_text(header + yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")
    (path.parent / "group_vars").mkdir(exist_ok=True)
    (path.parent / "group_vars" / "accs.yml").write_text(
        f"# Written by tests/support/devenv.py. {DRIFT_TENANT} has drifted on purpose (store view fr: http://\n"
        "# secure_base_url, GBP display currency; system configuration: locale en_GB, flat rate off at 12.00 on\n"
        "# website base).\n" + yaml.safe_dump(group_vars, sort_keys=False), encoding="utf-8")
    (path.parent / "host_vars").mkdir(exist_ok=True)
    for tenant, declared in SYSTEM_CONFIG_HOSTS.items():
        (path.parent / "host_vars" / f"{tenant}.yml").write_text(
            "# Written by tests/support/devenv.py.\n" + yaml.safe_dump({"accs_system_config": declared}, sort_keys=False),
            encoding="utf-8")
    return path


# --------------------------------------------------------------------------- environment
@contextlib.contextmanager
def devenv(workdir: Path):
    """Start both servers, seed, install the collection; yield a dict describing it all."""
    from tests.emulator.control import running_emulator

    workdir.mkdir(parents=True, exist_ok=True)
    for stale in ("openbao", "emulator", "ansible-home", "ansible-tmp", "accs-reports", "env.sh", "inventory.yml",
                  "group_vars", "host_vars"):
        target = workdir / stale
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        elif target.exists():
            target.unlink()
    with contextlib.ExitStack() as stack:
        say(f">> starting OpenBao (log: {_rel(workdir / 'openbao' / 'openbao.log')})")
        openbao = stack.enter_context(running_openbao(workdir / "openbao"))
        say(f">> starting the IMS/ACCS emulator (log: {_rel(workdir / 'emulator' / 'emulator.log')})")
        emulator = stack.enter_context(running_emulator(workdir / "emulator"))
        say(">> seeding the emulator and Vault")
        documents = seed(emulator, openbao)
        say(">> building and installing the collection")
        collections = build_and_install_collection(workdir)
        inventory = write_inventory(workdir / "inventory.yml", emulator)
        reports = workdir / "accs-reports"
        reports.mkdir(parents=True, exist_ok=True)
        env_sh = workdir / "env.sh"
        env_sh.write_text(_exports(openbao, collections) + "\n", encoding="utf-8")
        env_sh.chmod(0o600)
        yield {
            "workdir": workdir,
            "openbao": openbao,
            "emulator": emulator,
            "documents": documents,
            "collections": collections,
            "inventory": inventory,
            "reports": reports,
            "env_sh": env_sh,
        }


def _exports(openbao, collections: Path) -> str:
    return (
        f"export VAULT_ADDR={shlex.quote(openbao.url)} VAULT_TOKEN={shlex.quote(openbao.root_token)} "
        f"ANSIBLE_COLLECTIONS_PATH={shlex.quote(str(collections))}"
    )


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _ansible_env(env: dict) -> dict[str, str]:
    workdir = env["workdir"]
    return hermetic_env(
        {
            **env["openbao"].env(),
            "ANSIBLE_COLLECTIONS_PATH": str(env["collections"]),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "0",
            "ANSIBLE_HOME": str(workdir / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-tmp"),
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_HOST_KEY_CHECKING": "0",
        }
    )


# --------------------------------------------------------------------------- demo
def run_ansible(env: dict, playbook: Path, extra_vars: dict, *args: str) -> tuple[int, str, dict]:
    """Run one playbook against the demo inventory, echoing its output; ``(rc, output, recap stats)``."""
    cmd = [
        venv_tool("ansible-playbook"),
        "-i",
        str(env["inventory"]),
        str(playbook),
        "-e",
        json.dumps(extra_vars),
        *args,
    ]
    say(">> " + " ".join(shlex.quote(part) for part in cmd))
    say()
    proc = subprocess.Popen(  # noqa: S603
        cmd,
        cwd=REPO_ROOT,
        env=_ansible_env(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    captured = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            captured.append(line)
            sys.stdout.write(line)
            sys.stdout.flush()
        rc = proc.wait()
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    output = "".join(captured)
    return rc, output, parse_default_output(output)["stats"]


def system_config_puts(env: dict, tenant: str) -> int:
    """How many PUTs of /V1/system/config the emulator has seen for ``tenant``."""
    return sum(1 for r in env["emulator"].requests(tenant=tenant)
               if r.get("endpoint") == "systemConfig" and r.get("method") == "PUT")


def webhook_writes(env: dict, tenant: str) -> int:
    """How many webhook subscribe/unsubscribe calls the emulator has seen for ``tenant``."""
    return sum(1 for r in env["emulator"].requests(tenant=tenant)
               if r.get("endpoint") == "webhooks" and r.get("method") == "POST")


def run_wiring(env: dict) -> tuple[int, str]:
    """The fleet's webhook declared in group vars: a dry run (--check --diff) writes nothing, the apply
    registers it on every tenant, a second apply writes nothing."""
    reports: Path = env["reports"] / "wiring"
    outputs, writes = [], []
    for label, args in (("dry run", ("--check", "--diff")), ("apply", ("--diff",)), ("apply again", ())):
        before = {tenant: webhook_writes(env, tenant) for tenant in TENANTS}
        rc, output, _stats = run_ansible(env, DEPLOY_WIRING_PLAYBOOK, {"accs_audit_report_dir": str(reports)}, *args)
        outputs.append(output)
        if rc != 0:
            say(f"deploy_extensibility {label} failed (exit {rc})")
            return rc, "".join(outputs)
        writes.append((label, {tenant: webhook_writes(env, tenant) - before[tenant] for tenant in TENANTS}))
    held = {tenant: [h["hook_name"] for h in env["emulator"].extensibility(tenant)["webhooks"]] for tenant in TENANTS}
    say()
    for label, counts in writes:
        say(f"wiring {label}: webhook writes per tenant: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
    say("webhooks held: " + ", ".join(f"{t} {hooks}" for t, hooks in held.items()))
    expected = [(label, {t: int(label == "apply") for t in TENANTS}) for label, _counts in writes]
    if writes != expected or any(hooks != ["demoapp_validate_stock"] for hooks in held.values()):
        say("UNEXPECTED: the dry run and the second apply should write nothing, the apply one webhook per tenant.")
        return 1, "".join(outputs)
    say("the webhook declared once in group_vars is registered on every environment; a second run writes nothing.")
    return 0, "".join(outputs)


def run_audit(env: dict) -> tuple[int, str]:
    """The fleet audit (store and system configuration, App Builder wiring, credential health: one task per
    environment), drift reported without failing; then the system configuration enforced twice: the first run
    writes the drift back, the second writes nothing."""
    reports: Path = env["reports"]
    rc, output, stats = run_ansible(env, AUDIT_PLAYBOOK, {"accs_audit_report_dir": str(reports),
                                                          "accs_audit_fail_on_drift": False,
                                                          "accs_system_config_fail_on_drift": False,
                                                          "accs_extensibility_fail_on_drift": False})
    failed = sorted(host for host, counts in stats.items() if counts.get("failed") or counts.get("unreachable"))
    say()
    say("== fleet audit ==")
    report_files = sorted(p for p in reports.rglob("*") if p.is_file())
    if report_files:
        say(f"reports ({_rel(reports)}/):")
        for path in report_files:
            say(f"  {_rel(path)}")
    else:
        say(f"no report files were written to {_rel(reports)}/")
    if rc != 0:
        say(f"audit playbook failed (exit {rc}); failed hosts: {', '.join(failed) or 'unknown'}")
        return rc, output
    drift_report = reports / f"{DRIFT_TENANT}-system-config.json"
    drifted = json.loads(drift_report.read_text(encoding="utf-8")).get("drift") if drift_report.is_file() else None
    if not drifted:
        say(f"UNEXPECTED: the system configuration audit found no drift on {DRIFT_TENANT}.")
        return 1, output
    wiring = reports / f"{TENANTS[0]}-extensibility.json"
    to_create = len(json.loads(wiring.read_text(encoding="utf-8")).get("drift") or []) if wiring.is_file() else None
    if to_create != 1:
        say(f"UNEXPECTED: the audit should find the declared webhook missing on {TENANTS[0]} (not applied yet).")
        return 1, output
    say(f"audit finished: {DRIFT_TENANT} shows store drift (store view fr) and {len(drifted)} system configuration "
        f"settings that differ from the declaration; every environment lacks the declared webhook (applied below); "
        f"nothing was written (audit mode).")
    outputs = [output]
    say()
    say("== enforce the declared system configuration (twice) ==")
    enforce = env["workdir"] / "enforce_system_config.yml"
    enforce.write_text(ENFORCE_PLAYBOOK, encoding="utf-8")
    puts = []
    for attempt in (1, 2):
        before = {tenant: system_config_puts(env, tenant) for tenant in TENANTS}
        # their own folder: the fleet page keeps linking to the audit's reports
        rc, output, _stats = run_ansible(env, enforce, {"accs_audit_report_dir": str(reports / "enforce")}, "--diff")
        outputs.append(output)
        if rc != 0:
            say(f"enforce run {attempt} failed (exit {rc})")
            return rc, "".join(outputs)
        puts.append({tenant: system_config_puts(env, tenant) - before[tenant] for tenant in TENANTS})
    say()
    say("== demo summary ==")
    for attempt, counts in enumerate(puts, 1):
        say(f"enforce run {attempt}: PUTs of /V1/system/config per tenant: "
            + ", ".join(f"{tenant} {count}" for tenant, count in counts.items()))
    if puts[0] != {t: int(t == DRIFT_TENANT) for t in TENANTS} or any(puts[1].values()):
        say("UNEXPECTED: the first enforce run should write once to the drifted tenant and the second not at all.")
        return 1, "".join(outputs)
    say(f"the first enforce run wrote {DRIFT_TENANT}'s drift back in one PUT; the second found nothing to write.")
    say()
    say("== App Builder wiring: a webhook declared once for the fleet ==")
    rc, output = run_wiring(env)
    outputs.append(output)
    if rc == 0:
        say("Demo OK.")
    return rc, "".join(outputs)


def smoke_check(env: dict) -> int:
    """Without the audit playbook: read each Vault document, refresh at IMS, read store configs."""
    emulator = env["emulator"]
    vault = env["openbao"].client()
    expected = expected_store_configs()
    session = emulator.session()  # trusts the emulator's CA (and ignores REQUESTS_CA_BUNDLE)
    problems = 0
    for tenant in TENANTS:
        read = vault.secrets.kv.v2.read_secret_version(
            path=f"accs/{tenant}", mount_point=VAULT_MOUNT, raise_on_deleted_version=True
        )
        document, version = read["data"]["data"], read["data"]["metadata"]["version"]
        token = session.post(
            emulator.token_url,
            data={
                "grant_type": "refresh_token",
                "refresh_token": document["refresh_token"],
                "client_id": document["client_id"],
                "client_secret": document["client_secret"],
            },
            timeout=30,
        )
        if token.status_code != 200:
            say(f"  {tenant}: IMS refused the refresh ({token.status_code}, {token.json().get('error')})")
            problems += 1
            continue
        grant = token.json()
        # the refresh token rotates: store the new one at once, guarded by check-and-set
        vault.secrets.kv.v2.create_or_update_secret(
            path=f"accs/{tenant}",
            secret={**document, "refresh_token": grant["refresh_token"]},
            mount_point=VAULT_MOUNT,
            cas=version,
        )
        answer = session.get(
            emulator.accs_url(tenant) + "/V1/store/storeConfigs",
            headers={"Authorization": f"Bearer {grant['access_token']}", "x-api-key": document["client_id"]},
            timeout=30,
        )
        if answer.status_code != 200:
            say(f"  {tenant}: ACCS answered {answer.status_code}")
            problems += 1
            continue
        drift = [
            f"{config['code']}.{field}: {config.get(field)!r} (expected {want!r})"
            for config in answer.json()
            for field, want in expected.get(config["code"], {}).items()
            if config.get(field) != want
        ]
        if drift:
            say(f"  {tenant}: {len(drift)} drifted setting(s): " + "; ".join(drift))
        else:
            say(f"  {tenant}: store configs as expected")
        if bool(drift) != (tenant == DRIFT_TENANT):
            say(f"  {tenant}: UNEXPECTED: drift was {'found' if drift else 'not found'}")
            problems += 1
    return 1 if problems else 0


def check_no_secrets(env: dict, output: str = "") -> int:
    """Fail when a report (or the playbook output) holds a secret the servers know."""
    registry = SecretRegistry()
    registry.add_emulator(env["emulator"])
    registry.add_many(env["openbao"].issued)
    findings = [finding.describe() for finding in scan_tree(env["reports"], registry)]
    for kind, value in registry.items():
        if value in output:
            findings.append(f"ansible-playbook output: holds a secret: {kind}")
    if findings:
        say("SECRET CHECK FAILED:")
        for line in findings:
            say("  " + line)
        return 1
    say(f"secret check: none of the {len(registry)} known secrets is in the reports or the output.")
    return 0


def cmd_demo(args) -> int:
    with devenv(args.workdir) as env:
        say(f">> inventory: {_rel(env['inventory'])}")
        if AUDIT_PLAYBOOK.is_file():
            rc, output = run_audit(env)
            return check_no_secrets(env, output) or rc
        say()
        say(f"The audit playbook ({_rel(AUDIT_PLAYBOOK)}) is not there yet: running a smoke check instead")
        say("(Vault documents read through hvac, refresh at the emulated IMS, store configs from ACCS).")
        rc = smoke_check(env)
        rc = check_no_secrets(env) or rc
        say()
        say("== demo summary ==")
        say(f"smoke check {'passed' if rc == 0 else 'FAILED'}; drift on {DRIFT_TENANT} is expected.")
        say(f"reports will be written to {_rel(env['reports'])}/ by the audit playbook.")
        return rc


def cmd_up(args) -> int:
    with devenv(args.workdir) as env:
        openbao, emulator = env["openbao"], env["emulator"]
        say()
        say("OpenBao and the IMS/ACCS emulator are running. In another shell:")
        say()
        say("  " + _exports(openbao, env["collections"]))
        say(f"  # or: . {_rel(env['env_sh'])}")
        say()
        say(f"  emulator:  {emulator.url}   (CA: {emulator.ca_path}; control API: {emulator.url}/_control/)")
        say(f"  inventory: {env['inventory']}")
        say(f"  vault:     {VAULT_MOUNT}/accs/<tenant> for {', '.join(TENANTS)}")
        say(f"  reports:   pass -e accs_audit_report_dir={env['reports']}")
        say()
        say("Press Ctrl-C to stop both.")
        while True:
            time.sleep(1)
            if not openbao.is_running():
                say("OpenBao exited; stopping.")
                return 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("command", choices=("demo", "up"))
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="default: build/devenv")
    args = parser.parse_args(argv)
    args.workdir = args.workdir.resolve()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    try:
        return cmd_demo(args) if args.command == "demo" else cmd_up(args)
    except KeyboardInterrupt:
        say("\nstopped (Ctrl-C); OpenBao and the emulator are down.")
        return 0 if args.command == "up" else 130
    except _Terminated as exc:
        say("\nterminated; OpenBao and the emulator are down.")
        return int(exc.code or 1)


if __name__ == "__main__":
    sys.exit(main())
