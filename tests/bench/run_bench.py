"""Benchmark: the collection's playbooks against a plain ``ansible.builtin.uri`` baseline (issue 6).

    python tests/bench/run_bench.py                       # the default cases at their sizes, 3 rounds
    python tests/bench/run_bench.py --sizes 10,200,1000 --cases fleet-cached
    python tests/bench/run_bench.py --sizes 10 --rounds 1 --cases audit-cached
    make bench BENCH_ARGS='--sizes 10,50 --rounds 3'

What one run of this script does
--------------------------------
1. Builds and installs the collection from its tarball (``tests/support/ansible_runner.py``), starts
   a real OpenBao dev server with a file audit device (declarative configuration: OpenBao refuses
   to enable audit devices through its API) and the IMS/ACCS emulator.
2. Seeds as many environments as the largest N: per environment one emulator client (its own client secret,
   refresh token and valid access token), one tenant with the emulator's clean default data that
   only answers the environment's IMS org, and one KV v2 document ``secret/bench/env-NNN`` in the
   shape the collection reads (client_id, client_secret, grant_type refresh_token, scopes,
   refresh_token, refresh_token_issued_at a day old, org_id, access_token, access_token_expires_at).  The
   inventory of size N lists
   the first N of them (group ``accs``, ``ansible_connection: local``, ``ansible_python_interpreter:
   "{{ ansible_playbook_python }}"``), with ``accs_expected_store_configs`` set so every check runs.
3. For each case and each of its N (``--sizes``, else the case's own), ``--rounds`` rounds; each round runs
   the collection's playbook and the baseline once, alternating which goes first.  Before every run of an
   ``*-expired`` case each document's ``access_token_expires_at`` is rewritten to the past (for both sides);
   before every run of a system configuration case or ``fleet-cached`` every tenant's system configuration is
   seeded with the same 5 drifts; before its first ``fleet-cached`` run each tenant gets the declared App Builder
   wiring, once.
   Per run it records: wall time of ``ansible-playbook``; CPU seconds of its whole process tree
   (``wait4`` rusage); peak memory of the process tree (a thread sums RSS and PSS over every
   process of the run's session every 50 ms); the requests made to IMS and ACCS (the emulator's
   counters, reset before the run); the requests made to Vault (the entries the run added to
   OpenBao's audit log: KV reads, KV writes, logins, anything else); for ``fleet-cached`` every ACCS request of
   the emulator's log by kind.  Every run must succeed, leave one report per environment and make the case's
   request minimum (its floor), else the benchmark stops (``--no-floor-stop``: a fleet run's floor is reported).
4. Prints one table per case and writes ``build/bench/results.json`` and ``build/bench/results.md``
   (medians, ratios, time per environment, request counts per environment, peak memory, and the
   targets of issues 6, 14 and 16 marked met, missed or not judged).  Playbook outputs are kept in
   ``build/bench/runs/``.

``--profile`` additionally runs the collection's playbook once per case at the largest N with a per-task timing
callback (``tests/bench/callback_plugins/bench_task_times.py``) and writes the slowest tasks to
``build/bench/profile-<case>-<N>.txt``; those runs are not part of the timed results.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.ansible_runner import (  # noqa: E402
    REPO_ROOT,
    build_and_install_collection,
    hermetic_env,
    installed_playbook,
    venv_tool,
)

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = REPO_ROOT / "build" / "bench"
PLAYBOOKS = REPO_ROOT / "playbooks"
SCOPES = ["AdobeID", "openid", "offline_access", "commerce.accs"]
GRANTS = ["refresh_token", "authorization_code"]
VAULT_MOUNT = "secret"
MIN_TTL = 600  # the collection's default min_ttl; the baseline uses the same
EXPECTED_FIELDS = ("locale", "base_currency_code", "default_display_currency_code", "timezone",
                   "weight_unit", "base_url", "secure_base_url")
ACCS_STORE_ENDPOINTS = ("storeConfigs", "storeViews", "websites", "storeGroups")
SAMPLE_INTERVAL = 0.05
RUN_TIMEOUT = 3600


@dataclass(frozen=True)
class Case:
    name: str
    collection_playbook: Path
    baseline_playbook: Path | None  # None: the case measures the collection only (no ratio)
    expired: bool
    accs_per_env: int  # ACCS GETs one environment needs
    report_suffixes: tuple  # report files per environment, to check the run did its work
    system_config: str | None = None  # "audit" or "enforce": the system configuration cases
    second_run: bool = False  # run the collection again after each timed run: it must write nothing
    fleet: bool = False  # the fleet audit: store + system configuration + App Builder wiring + credential health
    sizes: tuple | None = None  # the case's own default sizes (None: DEFAULT_SIZES)
    baseline_max_size: int | None = None  # above it the baseline runs only when --baseline-rounds names case:N


CASES = {
    "audit-cached": Case("audit-cached", PLAYBOOKS / "audit_store_config.yml", BENCH_DIR / "baseline_audit.yml",
                         False, 4, ("-store-config.json", "-store-config.junit.xml", "-store-config.md")),
    "audit-expired": Case("audit-expired", PLAYBOOKS / "audit_store_config.yml", BENCH_DIR / "baseline_audit.yml",
                          True, 4, ("-store-config.json", "-store-config.junit.xml", "-store-config.md")),
    "access-cached": Case("access-cached", PLAYBOOKS / "validate_access.yml", BENCH_DIR / "baseline_access.yml",
                          False, 1, ("-access-check.junit.xml",)),
    "access-expired": Case("access-expired", PLAYBOOKS / "validate_access.yml", BENCH_DIR / "baseline_access.yml",
                           True, 1, ("-access-check.junit.xml",)),
}
SYSTEM_CONFIG_REPORTS = ("-system-config.json", "-system-config.junit.xml", "-system-config.md")
CASES["system-config"] = Case("system-config", BENCH_DIR / "collection_system_config.yml",
                              BENCH_DIR / "baseline_system_config.yml", False, 3, SYSTEM_CONFIG_REPORTS,
                              system_config="audit")
CASES["config-enforce"] = Case("config-enforce", BENCH_DIR / "collection_system_config.yml", None, False, 3,
                               SYSTEM_CONFIG_REPORTS, system_config="enforce", second_run=True)
EXTENSIBILITY_REPORTS = ("-extensibility.json", "-extensibility.junit.xml", "-extensibility.md")
FLEET_PAGE = "fleet-audit.html"  # the one fleet page, in the report directory (both sides)
# issue 16 target 2: the fleet audit at N=10, 200 and 1000; the baseline (8-10 s per environment) never runs
# above N=200 unless --baseline-rounds names fleet-cached:N
CASES["fleet-cached"] = Case("fleet-cached", PLAYBOOKS / "audit_fleet.yml", BENCH_DIR / "baseline_fleet.yml", False,
                             4, ("-store-config.json", "-store-config.junit.xml", "-store-config.md")
                             + SYSTEM_CONFIG_REPORTS, fleet=True, sizes=(10, 200, 1000), baseline_max_size=200)
SIDES = ("collection", "baseline")
DEFAULT_CASES = "audit-cached,audit-expired,access-cached,system-config,config-enforce,fleet-cached"
DEFAULT_SIZES = (10, 50, 200)  # of every case without sizes of its own
# Where the default run measures the baseline (the ratio rows): 3 rounds of both sides at N=10 for every case
# with a baseline; everywhere else only the collection runs: scaling rows.  The N=50 ratios of audit-cached and
# system-config were the targets of issues 6 and 14, met and closed; fleet-cached's N=200 ratio (issue 16) costs
# about 30 minutes per baseline round, so it runs only when asked ('fleet-cached:200=3').  Keeps `make bench`
# under 45 minutes on 2 cores (tests/bench/README.md).
DEFAULT_BASELINE_ROUNDS = "50=0,200=0"

# ---- the system configuration cases (issue 14 "Performance", issue 16 target 3)
SC_SCOPES = (("default", None), ("website", "base"), ("store", "default"))  # the emulator tenant's codes
SC_PER_SCOPE = (17, 17, 16)  # 50 settings
SC_DRIFTED = (3, 11, 20, 30, 45)  # indexes (into the 50) of the settings each tenant holds differently
# accs_system_config's default sensitive_paths (plugins/module_utils/_system_config.py): the declaration leaves
# such paths out, so that both sides show every value (the module would show "(sensitive)")
MODULE_SENSITIVE_PATHS = ("*password*", "*passwd*", "*secret*", "*token*", "*api_key*", "*apikey*", "*api_secret*",
                          "*merchant_key*", "*merchant_id_key*", "*private_key*", "*encryption_key*", "*signature*",
                          "*access_key*", "*license_key*", "*credentials*")

# ---- the fleet case (issue 16 target 2): App Builder wiring every tenant holds exactly as declared (no drift),
# a non-default event provider that both subscriptions use, no secret (a masked value cannot be compared)
FLEET_PROVIDER_ID = "1902bc50-2d7e-41e8-955b-af4a96678b01"
FLEET_EXTENSIBILITY = {
    "webhooks": [
        {"webhook_method": "observer.checkout_cart_product_add_before", "webhook_type": "before",
         "batch_name": "bench_cart", "hook_name": "bench_validate", "url": "https://app.example/bench/validate",
         "timeout": 2000, "fields": [{"name": "sku", "source": "data.product.sku"}]},
        {"webhook_method": "plugin.sales.api.order_management.place", "webhook_type": "after",
         "batch_name": "bench_orders", "hook_name": "bench_notify", "url": "https://app.example/bench/notify"},
    ],
    "subscriptions": [
        {"name": "bench.observer.catalog_product_save_after", "parent": "observer.catalog_product_save_after",
         "fields": [{"name": "sku"}, {"name": "price"}], "provider_id": FLEET_PROVIDER_ID},
        {"name": "bench.observer.customer_login", "parent": "observer.customer_login",
         "fields": [{"name": "email"}], "provider_id": FLEET_PROVIDER_ID},
    ],
    "providers": [
        {"provider_id": FLEET_PROVIDER_ID, "instance_id": "bench-inst", "label": "Bench events",
         "description": "Events of the benchmark's App Builder app"},
    ],
}
# The list GET of each kind (path after the tenant's base URL): the floor is exactly one of each per environment
EXTENSIBILITY_LISTS = {"webhooks": "/V1/webhooks/list", "subscriptions": "/V1/eventing/getEventSubscriptions",
                       "providers": "/V1/eventing/eventProvider"}
REFRESH_TOKEN_AGE = 86400  # refresh_token_issued_at one day ago: credential health ok (warn after 5 days)


class BenchError(RuntimeError):
    pass


def say(message: str = "") -> None:
    print(message, flush=True)


# --------------------------------------------------------------------------- OpenBao with an audit log
AUDIT_HCL = """\
# written by tests/bench/run_bench.py: every request is logged (secrets HMAC'd) so the
# benchmark can count what each playbook asked Vault for.
audit "file" "bench" {{
  options {{
    file_path = "{path}"
  }}
}}
"""


@contextlib.contextmanager
def audited_openbao(workdir: Path):
    """``running_openbao`` with a file audit device; yields (server, audit log path)."""
    from tests.support.openbao import running_openbao

    workdir.mkdir(parents=True, exist_ok=True)
    audit_log = workdir / "vault-audit.log"
    config = workdir / "audit.hcl"
    config.write_text(AUDIT_HCL.format(path=audit_log), encoding="utf-8")
    with running_openbao(workdir / "openbao", config_files=(config,)) as server:
        if not audit_log.exists():
            raise BenchError("OpenBao started without the audit log: the -config audit block was not loaded")
        yield server, audit_log


def audit_offset(audit_log: Path) -> int:
    return audit_log.stat().st_size


def count_vault_requests(audit_log: Path, start: int, end: int | None = None) -> dict:
    """Request entries of the audit log between two offsets, by kind."""
    counts = {"read": 0, "write": 0, "login": 0, "other": 0, "total": 0, "other_paths": {}}
    with open(audit_log, "rb") as stream:
        stream.seek(start)
        data = stream.read() if end is None else stream.read(end - start)
    for line in data.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("type") != "request":
            continue
        request = entry.get("request") or {}
        path = request.get("path") or ""
        operation = request.get("operation")
        counts["total"] += 1
        if path.startswith(f"{VAULT_MOUNT}/data/") and operation == "read":
            counts["read"] += 1
        elif path.startswith(f"{VAULT_MOUNT}/data/") and operation in ("create", "update"):
            counts["write"] += 1
        elif path.startswith("auth/") and (path.endswith("/login") or "/login/" in path):
            counts["login"] += 1
        else:
            counts["other"] += 1
            key = f"{operation} {path}"
            counts["other_paths"][key] = counts["other_paths"].get(key, 0) + 1
    return counts


# --------------------------------------------------------------------------- seeding
@dataclass
class Environment:
    index: int
    client_id: str
    tenant: str
    org_id: str
    vault_path: str

    @property
    def host(self) -> str:
        return f"env-{self.index:03d}"


def expected_store_configs() -> dict:
    from tests.emulator import data

    return {c["code"]: {f: c[f] for f in EXPECTED_FIELDS} for c in data.default_store_configs()}


def seed(emulator, openbao, count: int, prefix: str = "bench") -> list[Environment]:
    """One emulator client + tenant + Vault document per environment; cached tokens valid.

    Each document also has refresh_token_issued_at (a day ago: the fleet audit's credential health is ok).
    One after the other: 1000 environments take about 4 s (threads saved 20%, not worth their code)."""
    vault = openbao.client()
    environments = []
    for index in range(count):
        env = Environment(
            index=index,
            client_id=f"{prefix}-client-{index:03d}",
            tenant=f"{prefix}-tenant-{index:03d}",
            org_id=f"{prefix.upper()}{index:03d}0000000000@AdobeOrg",
            vault_path=f"{prefix}/env-{index:03d}",
        )
        client_secret = "p8e-" + secrets.token_urlsafe(24)
        emulator.add_client(env.client_id, client_secrets=[client_secret], grants=GRANTS, scopes=SCOPES)
        emulator.set_tenant(env.tenant, required_org_id=env.org_id)
        expires_in = 86399
        document = {
            "client_id": env.client_id,
            "client_secret": client_secret,
            "grant_type": "refresh_token",
            "scopes": ",".join(SCOPES),
            "refresh_token": emulator.mint_refresh_token(env.client_id, SCOPES),
            "refresh_token_issued_at": _iso(time.time() - REFRESH_TOKEN_AGE),
            "org_id": env.org_id,
            "access_token": emulator.mint_access_token(env.client_id, SCOPES, expires_in=expires_in),
            "access_token_expires_at": _iso(time.time() + expires_in - 5),
        }
        vault.secrets.kv.v2.create_or_update_secret(path=env.vault_path, secret=document,
                                                    mount_point=VAULT_MOUNT)
        environments.append(env)
    return environments


def seed_extensibility(emulator, environments: list[Environment]) -> None:
    """Every tenant holds the fleet case's App Builder wiring exactly as declared (FLEET_EXTENSIBILITY)."""
    for env in environments:
        emulator.set_extensibility(env.tenant, **FLEET_EXTENSIBILITY)


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def system_config_declaration() -> list[dict]:
    """The 50 declared settings: 17 at default, 17 at website ``base``, 16 at store view ``default``.

    Real catalog paths that may be set at that scope (website-only paths for the website, store-view paths
    for the store view), not sensitive, with a plain value (no Jinja braces, no comma lists), each declared
    as Commerce's default value."""
    from tests.emulator.config_catalog import catalog_list

    catalog = [entry for entry in catalog_list()
               if not entry["sensitive"] and isinstance(entry["default"], str) and entry["default"]
               and not any(ch in entry["default"] for ch in "{},%")
               and not any(fnmatch.fnmatchcase(entry["path"], p) for p in MODULE_SENSITIVE_PATHS)]
    pools = {
        "default": [e for e in catalog if e["scopes"] == ["default"]],
        "website": [e for e in catalog if "website" in e["scopes"] and "store" not in e["scopes"]],
        "store": [e for e in catalog if "store" in e["scopes"]],
    }
    declared = []
    for (scope, code), count in zip(SC_SCOPES, SC_PER_SCOPE):
        pool = pools[scope]
        step = max(len(pool) // count, 1)
        for entry in pool[::step][:count]:
            item = {"path": entry["path"], "value": entry["default"], "scope": scope}
            if code is not None:
                item["scope_code"] = code
            declared.append(item)
    if len(declared) != sum(SC_PER_SCOPE):
        raise BenchError(f"the emulator's catalog gave {len(declared)} settings, not {sum(SC_PER_SCOPE)}")
    return declared


def _drifted_value(value: str) -> str:
    return {"0": "1", "1": "0"}.get(value, value + "-changed")


def seed_system_config(emulator, environments: list[Environment], declared: list[dict]) -> None:
    """Every tenant holds the declaration except SC_DRIFTED (replacing whatever earlier runs wrote)."""
    items = [dict(item, value=_drifted_value(item["value"])) if index in SC_DRIFTED else dict(item)
             for index, item in enumerate(declared)]
    for env in environments:
        emulator.set_system_config(env.tenant, items, replace=True)


def system_config_holds(emulator, env: Environment, declared: list[dict]) -> list[str]:
    """Declared settings the tenant does not hold (after an enforce run: none)."""
    stored = {(i["path"], i.get("scope") or "default", i.get("scope_code") or None): i.get("value")
              for i in emulator.system_config(env.tenant)}
    return [d["path"] for d in declared
            if stored.get((d["path"], d["scope"], d.get("scope_code"))) != d["value"]]


def system_config_requests(emulator, environments: list[Environment]) -> tuple[int, int, list[str]]:
    """(GETs, PUTs, problems) of /V1/system/config in the emulator's request log since it was cleared.

    The minimum: per environment one GET per scope and code of the declaration (SC_SCOPES), each once."""
    gets = puts = 0
    per_tenant: dict = {}
    for record in emulator.requests(key="accs.systemConfig"):
        if record.get("method") == "GET":
            gets += 1
            params = record.get("params") or {}
            scope = (params.get("scope") or ["default"])[0]
            code = (params.get("scopeCode") or params.get("scope_code") or [None])[0]
            per_tenant.setdefault(record.get("tenant"), []).append((scope, code))
        elif record.get("method") == "PUT":
            puts += 1
    problems = []
    for env in environments:
        seen = sorted(per_tenant.get(env.tenant, []), key=str)
        if seen != sorted(SC_SCOPES, key=str):
            problems.append(f"{env.host} read the system configuration as {seen}, not once per scope and code "
                            f"{list(SC_SCOPES)}")
            break
    return gets, puts, problems


FLEET_KINDS = ("store", "config_get", "config_put", "webhooks", "subscriptions", "providers", "other")


def fleet_requests(emulator, environments: list[Environment]) -> tuple[dict, list[str]]:
    """Every request of the emulator's log since it was cleared, by kind: ({kind: total}, floor problems).

    The floor per environment: the four store GETs (one each), one GET of /V1/system/config per scope and code,
    one list GET per App Builder kind (EXTENSIBILITY_LISTS), no IMS call, nothing else (no write)."""
    records = emulator.requests()
    totals = dict.fromkeys(FLEET_KINDS + ("ims",), 0)
    per_tenant: dict = {}
    others: list[str] = []
    lists = {path: kind for kind, path in EXTENSIBILITY_LISTS.items()}
    for record in records:
        if record.get("family") == "ims":
            totals["ims"] += 1
            continue
        empty = {"store": [], "config": [], "other": [], **{kind: 0 for kind in EXTENSIBILITY_LISTS}}
        tenant = per_tenant.setdefault(record.get("tenant"), empty)
        method, endpoint = record.get("method"), record.get("endpoint")
        match = re.match(r"^/[^/]+(/V1/.+?)/?$", record.get("path") or "")
        path = match.group(1) if match else record.get("path")
        if method == "GET" and endpoint in ACCS_STORE_ENDPOINTS:
            totals["store"] += 1
            tenant["store"].append(endpoint)
        elif method == "GET" and endpoint == "systemConfig":
            totals["config_get"] += 1
            params = record.get("params") or {}
            tenant["config"].append(((params.get("scope") or ["default"])[0],
                                     (params.get("scopeCode") or params.get("scope_code") or [None])[0]))
        elif method == "GET" and path in lists:
            totals[lists[path]] += 1
            tenant[lists[path]] += 1
        else:
            kind = "config_put" if endpoint == "systemConfig" and method == "PUT" else "other"
            totals[kind] += 1
            tenant["other"].append(f"{method} {path}")
            others.append(f"{method} {path}")
    problems = []
    if len(records) >= emulator_record_limit():
        problems.append(f"the emulator's request log is full ({len(records)} records): requests were not counted")
    if totals["ims"]:
        problems.append(f"{totals['ims']} IMS requests, not 0")
    if others:
        seen = sorted(set(others))
        problems.append(f"{len(others)} other ACCS requests (writes or extra reads), e.g. {', '.join(seen[:4])}")
    for env in environments:
        tenant = per_tenant.get(env.tenant) or {"store": [], "config": [], "other": [],
                                                **{kind: 0 for kind in EXTENSIBILITY_LISTS}}
        wrong = []
        if sorted(tenant["store"]) != sorted(ACCS_STORE_ENDPOINTS):
            wrong.append(f"store GETs {sorted(tenant['store'])}, not one of each of {sorted(ACCS_STORE_ENDPOINTS)}")
        if sorted(tenant["config"], key=str) != sorted(SC_SCOPES, key=str):
            wrong.append(f"system configuration GETs {sorted(tenant['config'], key=str)}, not one per scope and code "
                         f"{list(SC_SCOPES)}")
        listed = {kind: tenant[kind] for kind in EXTENSIBILITY_LISTS}
        if listed != dict.fromkeys(EXTENSIBILITY_LISTS, 1):
            wrong.append(f"App Builder list GETs {listed}, not 1 of each")
        if wrong:
            problems.append(f"{env.host}: {'; '.join(wrong)}")
            break  # one environment tells what the playbook does
    return totals, problems


def emulator_record_limit() -> int:
    from tests.emulator.server import MAX_RECORDS

    return MAX_RECORDS


def expire_cached_tokens(openbao, environments: list[Environment]) -> None:
    """Rewrite ``access_token_expires_at`` to the past in every document (the token stays in it)."""
    vault = openbao.client()
    past = _iso(time.time() - 3600)
    for env in environments:
        read = vault.secrets.kv.v2.read_secret_version(path=env.vault_path, mount_point=VAULT_MOUNT,
                                                       raise_on_deleted_version=True)
        document = dict(read["data"]["data"])
        document["access_token_expires_at"] = past
        vault.secrets.kv.v2.create_or_update_secret(path=env.vault_path, secret=document,
                                                    mount_point=VAULT_MOUNT,
                                                    cas=read["data"]["metadata"]["version"])


def vault_versions(openbao, environments: list[Environment]) -> dict[str, int]:
    vault = openbao.client()
    versions = {}
    for env in environments:
        meta = vault.secrets.kv.v2.read_secret_metadata(path=env.vault_path, mount_point=VAULT_MOUNT)
        versions[env.host] = int(meta["data"]["current_version"])
    return versions


def write_inventory(path: Path, environments: list[Environment], emulator, group_vars: dict | None = None) -> Path:
    import yaml

    hosts = {
        env.host: {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "accs_base_url": emulator.accs_url(env.tenant),
            "accs_vault_path": env.vault_path,
            "accs_ims_url": emulator.ims_url,
            "accs_ca_path": str(emulator.ca_path),
        }
        for env in environments
    }
    inventory = {"all": {"children": {"accs": {"hosts": hosts, "vars": {
        "accs_vault_mount": VAULT_MOUNT,
        "accs_expected_store_configs": expected_store_configs(),
        **(group_vars or {}),
    }}}}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# written by tests/bench/run_bench.py\n" + yaml.safe_dump(inventory, sort_keys=False),
                    encoding="utf-8")
    return path


# --------------------------------------------------------------------------- one playbook run
def _session_pids(sid: int) -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stream:
                stat = stream.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        # state ppid pgrp session ...
        if len(fields) > 3 and int(fields[3]) == sid:
            pids.append(int(name))
    return pids


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes of one process; (0, 0) when it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/statm", "rb") as stream:
            rss = int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        with open(f"/proc/{pid}/smaps_rollup", "rb") as stream:
            for line in stream:
                if line.startswith(b"Pss:"):
                    pss = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    return rss, pss


class TreeMemorySampler(threading.Thread):
    """Peak of the summed RSS and PSS of every process in one session (the playbook run)."""

    def __init__(self, sid: int, interval: float = SAMPLE_INTERVAL):
        super().__init__(daemon=True)
        self.sid = sid
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_processes = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            pids = _session_pids(self.sid)
            rss = pss = 0
            for pid in pids:
                r, p = _memory(pid)
                rss += r
                pss += p
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_processes = max(self.peak_processes, len(pids))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


@dataclass
class RunResult:
    case: str
    side: str
    size: int
    round: int
    order: int
    rc: int
    wall: float
    cpu: float
    peak_rss: int
    peak_pss: int
    maxrss_single: int
    peak_processes: int
    ims: int
    accs: int
    vault: dict
    vault_writes_seen: int
    output_dir: str
    emulator_counters: dict = field(default_factory=dict)
    load1: float = 0.0
    accs_put: int = 0  # PUT /V1/system/config (the system configuration cases)
    load_start: list = field(default_factory=list)  # os.getloadavg() (1, 5, 15 min) before the run
    load_end: list = field(default_factory=list)  # and after it
    second: dict = field(default_factory=dict)  # the untimed second run of config-enforce
    fleet: dict = field(default_factory=dict)  # fleet-cached: the emulator's requests by kind (FLEET_KINDS, ims)
    floor_missed: list = field(default_factory=list)  # fleet-cached with --no-floor-stop: what the run missed


class Runner:
    """Everything a run needs: servers, collection, environments, output folder."""

    def __init__(self, *, collections_path: Path, openbao, audit_log: Path, emulator, environments, out_dir: Path,
                 work_dir: Path, forks: int = 5, keep_outputs: bool = True, floor_stop: bool = True):
        self.collections_path = Path(collections_path)
        self.openbao = openbao
        self.audit_log = audit_log
        self.emulator = emulator
        self.environments = environments
        self.out_dir = Path(out_dir)
        self.work_dir = Path(work_dir)
        self.forks = forks
        self.keep_outputs = keep_outputs
        self.results: list[RunResult] = []
        self._declared: list[dict] | None = None
        # False (--no-floor-stop): a fleet run that misses the request floor (or leaves out a part of the audit)
        # is recorded with what it missed instead of stopping the benchmark
        self.floor_stop = floor_stop
        self._extensibility_seeded = 0  # the first environments whose tenants hold FLEET_EXTENSIBILITY

    @property
    def declared(self) -> list[dict]:
        """The system configuration cases' 50 settings (accs_system_config_common)."""
        if self._declared is None:
            self._declared = system_config_declaration()
        return self._declared

    def env(self, extra: dict | None = None) -> dict:
        return hermetic_env({
            **self.openbao.env(),
            "ANSIBLE_COLLECTIONS_PATH": str(self.collections_path),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "0",
            "ANSIBLE_HOME": str(self.work_dir / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(self.work_dir / "ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_HOST_KEY_CHECKING": "0",
            "ANSIBLE_DEPRECATION_WARNINGS": "0",
            "ANSIBLE_STDOUT_CALLBACK": "default",
            # both sides keep their recovery files out of the real home
            "ACCS_RECOVERY_DIR": str(self.work_dir / "recovery"),
            **(extra or {}),
        })

    def inventory(self, size: int, case: Case | None = None) -> Path:
        if case is not None and case.fleet:
            # everything the fleet audit reads, in group vars as a user keeps it: the system configuration (5
            # settings drift: reported, not failed), the App Builder wiring (held as declared: a drift would
            # fail), no Adobe I/O Events check (not part of the floor), credential health at its default ages
            path = self.work_dir / f"inventory-fleet-{size}.yml"
            group_vars = {"accs_system_config_common": self.declared, "accs_system_config_fail_on_drift": False,
                          "accs_extensibility_common": FLEET_EXTENSIBILITY,
                          "accs_extensibility_io_events_check": False, "accs_extensibility_fail_on_drift": True}
        elif case is not None and case.system_config:
            # the declaration in group vars, as a user keeps it; drift is reported, not failed, on both sides
            path = self.work_dir / f"inventory-system-config-{size}.yml"
            group_vars = {"accs_system_config_common": self.declared, "accs_system_config_fail_on_drift": False}
        else:
            path = self.work_dir / f"inventory-{size}.yml"
            group_vars = None
        if not path.exists():
            write_inventory(path, self.environments[:size], self.emulator, group_vars)
        return path

    def run(self, case: Case, side: str, size: int, round_no: int, order: int,
            extra_env: dict | None = None, label: str | None = None, wrap: list | None = None) -> RunResult:
        if side == "collection" and case.collection_playbook.parent == BENCH_DIR:
            # a playbook of the benchmark's own that runs an installed role
            playbook_arg = str(case.collection_playbook)
        elif side == "collection":
            # the playbook as installed from the tarball, like the roles and plugins it uses: the
            # working tree may change while a long benchmark runs
            installed = installed_playbook(self.collections_path, case.collection_playbook.name)
            if not installed.is_file():
                raise BenchError(f"the installed collection has no playbooks/{case.collection_playbook.name}: "
                                 f"the collection side of {case.name} cannot run")
            playbook_arg = "adobe_commerce.accs." + case.collection_playbook.stem
        else:
            if case.baseline_playbook is None or not case.baseline_playbook.is_file():
                raise BenchError(f"{case.baseline_playbook} does not exist: the baseline of {case.name} cannot run")
            playbook_arg = str(case.baseline_playbook)
        environments = self.environments[:size]
        if case.expired:
            expire_cached_tokens(self.openbao, environments)
        if case.system_config or case.fleet:
            seed_system_config(self.emulator, environments, self.declared)  # the same drift before every run
        if case.fleet and self._extensibility_seeded < size:
            # once per environment: the audit writes nothing (a write would show in the floor)
            seed_extensibility(self.emulator, self.environments[self._extensibility_seeded:size])
            self._extensibility_seeded = size
        versions_before = vault_versions(self.openbao, environments) if case.expired else None
        name = label or f"{case.name}-n{size}-{side}-r{round_no}"
        output_dir = self.out_dir / "runs" / name
        shutil.rmtree(output_dir, ignore_errors=True)
        output_dir.mkdir(parents=True)
        report_dir = self.work_dir / "reports" / name
        shutil.rmtree(report_dir, ignore_errors=True)
        report_dir.mkdir(parents=True)
        extra_vars = {"accs_audit_report_dir": str(report_dir), "accs_access_check_report_dir": str(report_dir)}
        if case.system_config:
            extra_vars["accs_system_config_mode"] = case.system_config
        cmd = list(wrap or []) + [venv_tool("ansible-playbook"), "-i", str(self.inventory(size, case)), "--forks",
                                  str(self.forks), "-e", json.dumps(extra_vars), playbook_arg]
        (output_dir / "command.txt").write_text(" ".join(cmd) + "\n", encoding="utf-8")

        load_start = list(os.getloadavg())
        wall, proc, usage, sampler = self._execute(cmd, output_dir, extra_env)
        result = self._measure(case, side, size, round_no, order, wall, proc, usage, sampler, output_dir,
                               environments, versions_before, load_start)
        problems = self._problems(case, result, report_dir, environments)
        if not problems and case.system_config:
            problems = self._system_config_problems(case, side, result, report_dir, environments)
        if not problems and case.fleet:
            problems = self._fleet_problems(result, report_dir, environments)
        if not problems and case.second_run and side == "collection":
            # the same playbook again, untimed for the medians: everything holds now, so nothing is written
            shutil.rmtree(report_dir, ignore_errors=True)
            report_dir.mkdir(parents=True)
            second_dir = output_dir / "second"
            second_dir.mkdir()
            second_wall, second_proc, second_usage, second_sampler = self._execute(cmd, second_dir, extra_env)
            second = self._measure(case, side, size, round_no, order, second_wall, second_proc, second_usage,
                                   second_sampler, second_dir, environments, None, list(os.getloadavg()))
            result.second = {"wall": second.wall, "cpu": second.cpu, "rc": second.rc, "accs": second.accs,
                             "accs_put": second.accs_put, "ims": second.ims, "vault": second.vault}
            problems = [f"second run: {p}" for p in self._problems(case, second, report_dir, environments)]
            if not problems:
                problems = [f"second run: {p}" for p in
                            self._system_config_problems(case, side, second, report_dir, environments, again=True)]
        if problems:
            tail = "\n".join((output_dir / "stdout.txt").read_text(errors="replace").splitlines()[-40:])
            raise BenchError(f"{name}: {'; '.join(problems)} (outputs in {output_dir})\n{tail}")
        if not self.keep_outputs:
            shutil.rmtree(output_dir, ignore_errors=True)
        shutil.rmtree(report_dir, ignore_errors=True)
        self.results.append(result)
        return result

    def _execute(self, cmd: list, output_dir: Path, extra_env: dict | None):
        """One ansible-playbook run; (wall, proc, rusage, memory sampler).  Counters and logs reset first."""
        self.emulator.reset_counters()
        self.emulator.clear_requests()
        self._audit_start = audit_offset(self.audit_log)
        with open(output_dir / "stdout.txt", "wb") as out, open(output_dir / "stderr.txt", "wb") as err:
            started = time.monotonic()
            proc = subprocess.Popen(cmd, cwd=self.work_dir, env=self.env(extra_env), stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err, start_new_session=True)
            sampler = TreeMemorySampler(proc.pid)
            sampler.start()
            deadline = started + RUN_TIMEOUT
            status = usage = None
            try:
                while True:
                    pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                    if pid == proc.pid:
                        break
                    if time.monotonic() > deadline:
                        os.killpg(proc.pid, signal.SIGKILL)
                        _pid, status, usage = os.wait4(proc.pid, 0)
                        break
                    time.sleep(0.01)
            except BaseException:  # interrupted: the playbook's whole session goes too
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.wait4(proc.pid, 0)
                sampler.stop()
                raise
            wall = time.monotonic() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
            sampler.stop()
        return wall, proc, usage, sampler

    def _measure(self, case: Case, side: str, size: int, round_no: int, order: int, wall: float, proc, usage,
                 sampler, output_dir: Path, environments, versions_before, load_start) -> RunResult:
        end_offset = audit_offset(self.audit_log)
        counters = self.emulator.counters()
        vault = count_vault_requests(self.audit_log, self._audit_start, end_offset)
        ims = counters.get("ims.token", 0)
        accs_put = 0
        self._sc_request_problems = []
        fleet: dict = {}
        self._fleet_request_problems = []
        if case.system_config:
            accs, accs_put, self._sc_request_problems = system_config_requests(self.emulator, environments)
        elif case.fleet:
            fleet, self._fleet_request_problems = fleet_requests(self.emulator, environments)
            accs, accs_put = fleet["store"], fleet["config_put"]
        else:
            accs = sum(counters.get(f"accs.{endpoint}", 0) for endpoint in ACCS_STORE_ENDPOINTS)
        writes_seen = 0
        if versions_before is not None:
            after = vault_versions(self.openbao, environments)
            writes_seen = sum(after[h] - versions_before[h] for h in after)
        result = RunResult(
            case=case.name, side=side, size=size, round=round_no, order=order, rc=proc.returncode, wall=wall,
            cpu=usage.ru_utime + usage.ru_stime, peak_rss=sampler.peak_rss, peak_pss=sampler.peak_pss,
            maxrss_single=usage.ru_maxrss * 1024, peak_processes=sampler.peak_processes, ims=ims, accs=accs,
            vault=vault, vault_writes_seen=writes_seen, output_dir=str(output_dir), emulator_counters=counters,
            load1=os.getloadavg()[0], accs_put=accs_put, load_start=load_start, load_end=list(os.getloadavg()),
            fleet=fleet,
        )
        return result

    def _system_config_problems(self, case: Case, side: str, result: RunResult, report_dir: Path, environments,
                                again: bool = False) -> list[str]:
        """The request minimum per environment, and reports (and, after enforce, ACCS) saying the work was done."""
        problems = list(self._sc_request_problems)
        size = len(environments)
        puts = size if case.system_config == "enforce" and not again else 0
        if result.accs != len(SC_SCOPES) * size or result.accs_put != puts:
            problems.append(f"{result.accs} GETs and {result.accs_put} PUTs of /V1/system/config, not "
                            f"{len(SC_SCOPES) * size} and {puts}")
        drifted = len(SC_DRIFTED)
        for env in environments:
            report = json.loads((report_dir / f"{env.host}-system-config.json").read_text())
            if report.get("settings") != len(self.declared):
                problems.append(f"{env.host}: the report counts {report.get('settings')} settings, "
                                f"not {len(self.declared)}")
            elif case.system_config == "audit" and (len(report.get("drift") or []) != drifted
                                                    or report.get("passed") is not False):
                problems.append(f"{env.host}: the audit found {len(report.get('drift') or [])} drifted settings, "
                                f"not the {drifted} seeded")
            elif case.system_config == "enforce" and len(report.get("changes") or []) != (0 if again else drifted):
                problems.append(f"{env.host}: the enforce run reports {len(report.get('changes') or [])} changes, "
                                f"not {0 if again else drifted}")
            if problems:
                break
        if not problems and case.system_config == "enforce":
            for env in environments:
                missing = system_config_holds(self.emulator, env, self.declared)
                if missing:
                    problems.append(f"{env.host} does not hold {missing} after the enforce run")
                    break
        return problems

    def _fleet_problems(self, result: RunResult, report_dir: Path, environments) -> list[str]:
        """What a fleet run must have done, beyond the store audit's reports (``_problems``).

        Stops the benchmark: the system configuration reports missing the 5 seeded drifts, a fleet page that does
        not name every environment.  The floor (requests) and the App Builder wiring reports (clean, as seeded)
        stop it too unless floor_stop is off; then they are kept in ``result.floor_missed``."""
        size = len(environments)
        problems = []
        for env in environments:
            report = json.loads((report_dir / f"{env.host}-system-config.json").read_text())
            if report.get("settings") != len(self.declared) or len(report.get("drift") or []) != len(SC_DRIFTED):
                problems.append(f"{env.host}: the system configuration audit found {len(report.get('drift') or [])} "
                                f"of {report.get('settings')} settings drifted, not {len(SC_DRIFTED)} of "
                                f"{len(self.declared)}")
                break
        page = report_dir / FLEET_PAGE
        if not page.is_file():
            problems.append(f"no fleet page {FLEET_PAGE}")
        else:
            text = page.read_text(errors="replace")
            missing = [env.host for env in environments if env.host not in text]
            if missing:
                problems.append(f"the fleet page names {size - len(missing)} of {size} environments "
                                f"(not {missing[0]})")
        if problems:
            return problems
        floor = list(self._fleet_request_problems)
        vault = result.vault
        if (vault["read"], vault["write"], vault["login"], vault["other"]) != (size, 0, 0, 0):
            floor.insert(0, f"Vault: {vault['read']} reads, {vault['write']} writes, {vault['login']} logins, "
                            f"{vault['other']} other, not {size}, 0, 0, 0"
                            + (f" ({vault['other_paths']})" if vault["other_paths"] else ""))
        for env in environments:
            missing = [suffix for suffix in EXTENSIBILITY_REPORTS if not (report_dir / f"{env.host}{suffix}").is_file()]
            if missing:
                floor.append(f"{env.host}: no App Builder wiring reports ({', '.join(env.host + m for m in missing)})")
                break
            wiring = json.loads((report_dir / f"{env.host}-extensibility.json").read_text())
            if wiring.get("passed") is not True or wiring.get("drift"):
                floor.append(f"{env.host}: the App Builder wiring audit did not pass on a tenant that holds it "
                             f"({len(wiring.get('drift') or [])} drift): {wiring.get('message')}")
                break
        result.floor_missed = floor
        return floor if self.floor_stop else []

    @staticmethod
    def _problems(case: Case, result: RunResult, report_dir: Path, environments) -> list[str]:
        problems = []
        if result.rc != 0:
            problems.append(f"ansible-playbook exited {result.rc}")
        for env in environments:
            for suffix in case.report_suffixes:
                report = report_dir / f"{env.host}{suffix}"
                if not report.is_file():
                    problems.append(f"no report {report.name}")
                    break
            else:
                continue
            break
        if not problems and "-store-config.json" in case.report_suffixes:
            failed = [env.host for env in environments
                      if json.loads((report_dir / f"{env.host}-store-config.json").read_text()).get("passed")
                      is not True]
            if failed:
                problems.append(f"the audit did not pass on {len(failed)} clean environment(s), e.g. {failed[0]}")
        return problems


# --------------------------------------------------------------------------- statistics and targets
def summarize(results: list[RunResult], sizes: list[int], cases: list[str]) -> dict:
    summary: dict = {}
    for case_name in cases:
        case = CASES[case_name]
        rows = {}
        for size in sizes:
            row = {}
            for side in SIDES:
                runs = [r for r in results if r.case == case_name and r.size == size and r.side == side]
                if not runs:
                    continue
                walls = [r.wall for r in runs]
                row[side] = {
                    "runs": len(runs),
                    "wall_median": statistics.median(walls),
                    "wall_min": min(walls),
                    "wall_max": max(walls),
                    "per_env": statistics.median(walls) / size,
                    "cpu_median": statistics.median(r.cpu for r in runs),
                    "load1_median": statistics.median(r.load1 for r in runs),
                    "ims": _same(r.ims for r in runs),
                    "accs": _same(r.accs for r in runs),
                    "vault_read": _same(r.vault["read"] for r in runs),
                    "vault_write": _same(r.vault["write"] for r in runs),
                    "vault_login": _same(r.vault["login"] for r in runs),
                    "vault_other": _same(r.vault["other"] for r in runs),
                    "vault_writes_seen": _same(r.vault_writes_seen for r in runs),
                    "accs_put": _same(r.accs_put for r in runs),
                    "load_start": [r.load_start for r in runs],
                    "load_end": [r.load_end for r in runs],
                    "peak_rss": max(r.peak_rss for r in runs),
                    "peak_pss": max(r.peak_pss for r in runs),
                    "maxrss_single": max(r.maxrss_single for r in runs),
                }
                if case.fleet:
                    for kind in FLEET_KINDS:
                        row[side][f"fleet_{kind}"] = _same(r.fleet.get(kind, 0) for r in runs)
                    row[side]["floor_missed"] = sum(1 for r in runs if r.floor_missed)
                    row[side]["floor_missed_example"] = next((r.floor_missed for r in runs if r.floor_missed), [])
                seconds = [r.second for r in runs if r.second]
                if seconds:
                    row[side]["second"] = {
                        "runs": len(seconds),
                        "wall_median": statistics.median(x["wall"] for x in seconds),
                        "accs": _same(x["accs"] for x in seconds),
                        "accs_put": _same(x["accs_put"] for x in seconds),
                    }
            if not row:
                continue  # nothing ran at this N (a partial or restricted run)
            if "collection" in row and "baseline" in row:
                row["ratio"] = row["collection"]["wall_median"] / row["baseline"]["wall_median"]
            row["limit"] = {
                "ims": size if case.expired else 0,
                "accs": case.accs_per_env * size,
                "vault_read": size,
                "vault_write": size if case.expired else 0,
                "vault_login": 0,
            }
            if case.system_config:
                row["limit"]["accs_put"] = size if case.system_config == "enforce" else 0
            if case.fleet:
                row["limit"].update({"accs_put": 0, "fleet_config_get": len(SC_SCOPES) * size, "fleet_other": 0,
                                     **{f"fleet_{kind}": size for kind in EXTENSIBILITY_LISTS}})
            rows[size] = row
        summary[case_name] = rows
    return summary


def _same(values):
    """The value when every run agrees, else the list (runs that differ are worth seeing)."""
    values = list(values)
    return values[0] if len(set(values)) == 1 else values


def at_limit(side_row: dict, limit: dict) -> bool:
    return all(side_row.get(key) == value for key, value in limit.items()) and side_row.get("vault_other") == 0


def targets(summary: dict, sizes: list[int]) -> list[dict]:
    """The targets of issue 6 that these results can judge."""
    found = []
    cached = summary.get("audit-cached", {})
    if 50 in cached and "ratio" in cached[50]:
        ratio = cached[50]["ratio"]
        found.append({"target": "cached audit at N=50: collection <= 0.25x the uri baseline",
                      "value": f"{ratio:.3f}x", "met": ratio <= 0.25})
    if 50 in cached and 200 in cached and "ratio" in cached[50] and "ratio" in cached[200]:
        r50, r200 = cached[50]["ratio"], cached[200]["ratio"]
        found.append({"target": "cached audit: ratio at N=200 not worse than at N=50",
                      "value": f"{r200:.3f}x at 200 vs {r50:.3f}x at 50", "met": r200 <= r50})
    for case_name, rows in summary.items():
        for size, row in rows.items():
            side = row.get("collection")
            if side is None:
                continue
            ok = at_limit(side, row["limit"])
            found.append({"target": f"{case_name} N={size}: requests at the limit",
                          "value": _requests_text(side, size, "accs_put" in row["limit"]), "met": ok})
    system = summary.get("system-config", {})
    if 50 in system and "ratio" in system[50]:
        ratio = system[50]["ratio"]
        found.append({"target": "system-config audit at N=50: collection <= 0.15x the uri baseline (issue 14)",
                      "value": f"{ratio:.3f}x", "met": ratio <= 0.15})
    enforce = summary.get("config-enforce", {})
    for size, row in enforce.items():
        side = row.get("collection") or {}
        second = side.get("second")
        if second:
            want = len(SC_SCOPES) * size
            found.append({"target": f"config-enforce N={size}: second run writes nothing (0 PUT, {len(SC_SCOPES)} "
                                    f"GETs per environment)",
                          "value": f"PUT {_per(second['accs_put'], size)}, GET {_per(second['accs'], size)} per env "
                                   f"({second['runs']} runs)",
                          "met": second["accs_put"] == 0 and second["accs"] == want})
        audit = (system.get(size) or {}).get("collection")
        if side and audit:
            a, e = audit["per_env"], side["per_env"]
            found.append({"target": f"config-enforce N={size}: time per environment <= 1.5x the system-config "
                                    f"audit's (issue 16)",
                          "value": f"{e:.3f} s vs {a:.3f} s ({e / a:.2f}x)", "met": e <= 1.5 * a})
    found += issue16_targets(summary)
    for case_name, rows in summary.items():
        measured = [n for n, row in rows.items() if "collection" in row]
        if not measured:
            continue
        # each case's own smallest and largest N (cases have their own sizes)
        small, large = min(measured), max(measured)
        if small != large and not CASES[case_name].fleet:  # fleet-cached: N=1000 against N=200 (issue16_targets)
            a, b = rows[small]["collection"]["per_env"], rows[large]["collection"]["per_env"]
            found.append({"target": f"{case_name}: time per environment at N={large} <= 1.2x that at N={small}",
                          "value": f"{b:.3f} s vs {a:.3f} s ({b / a:.2f}x)", "met": b <= 1.2 * a})
        peak = rows[large]["collection"]["peak_pss"]
        found.append({"target": f"{case_name}: controller peak memory at N={large} < 1 GiB",
                      "value": f"{peak / 2**20:.0f} MiB PSS ({rows[large]['collection']['peak_rss'] / 2**20:.0f} "
                               f"MiB summed RSS)", "met": peak < 2**30})
    return found


def issue16_targets(summary: dict) -> list[dict]:
    """Issue 16 targets 1 and 2 that the results can judge; a ratio with no baseline row is "not judged" (met None)."""
    found = []
    cached = summary.get("audit-cached", {}).get(200)
    if cached and "collection" in cached:
        per_env = cached["collection"]["per_env"]
        found.append({"target": "audit-cached: at most 0.10 s per environment at N=200 (issue 16.1)",
                      "value": f"{per_env:.3f} s", "met": per_env <= 0.10})
        found.append(_ratio_target("audit-cached", 200, cached, 0.03, "16.1"))
    fleet = summary.get("fleet-cached", {})
    for size in (10, 200):
        if size in fleet and "collection" in fleet[size]:
            found.append(_ratio_target("fleet-cached", size, fleet[size], 0.05, "16.2"))
    if 200 in fleet and 1000 in fleet and "collection" in fleet[200] and "collection" in fleet[1000]:
        a, b = fleet[200]["collection"]["per_env"], fleet[1000]["collection"]["per_env"]
        found.append({"target": "fleet-cached: time per environment at N=1000 <= 1.1x that at N=200 (issue 16.2)",
                      "value": f"{b:.3f} s vs {a:.3f} s ({b / a:.2f}x)", "met": b <= 1.1 * a})
    return found


def _ratio_target(case_name: str, size: int, row: dict, limit: float, issue: str) -> dict:
    target = f"{case_name}: collection <= {limit:.2f}x its uri baseline at N={size} (issue {issue})"
    if "ratio" not in row:
        return {"target": target, "value": "no baseline at this N (scaling only)", "met": None}
    return {"target": target, "value": f"{row['ratio']:.3f}x ({row['collection']['wall_median']:.1f} s vs "
                                       f"{row['baseline']['wall_median']:.1f} s)", "met": row["ratio"] <= limit}


def _met_text(met) -> str:
    return "met" if met else "not judged" if met is None else "MISSED"


def _per(value, size: int) -> str:
    if isinstance(value, list):
        return "/".join(str(v) for v in value)
    return f"{value / size:g}" if size else str(value)


def _requests_text(side: dict, size: int, with_put: bool = False) -> str:
    def per(value):
        return _per(value, size)

    text = (f"per env: IMS {per(side['ims'])}, Vault read {per(side['vault_read'])}, "
            f"write {per(side['vault_write'])}, login {per(side['vault_login'])}, other {per(side['vault_other'])}, "
            f"ACCS {per(side['accs'])}")
    if "fleet_webhooks" in side:
        return text + (f" store GET, {per(side['fleet_config_get'])} config GET, {per(side['accs_put'])} PUT, "
                       f"App Builder lists {per(side['fleet_webhooks'])}/{per(side['fleet_subscriptions'])}/"
                       f"{per(side['fleet_providers'])} (webhooks/subscriptions/providers), "
                       f"{per(side['fleet_other'])} other")
    return text + (f" GET, {per(side['accs_put'])} PUT" if with_put else "")


# --------------------------------------------------------------------------- output
def _fmt_count(value, size):
    if isinstance(value, list):
        return "/".join(str(v) for v in value) + " (varied)"
    return f"{value} ({value / size:g})"


def _cols(side: dict | None, size: int, with_put: bool = False) -> dict:
    """Formatted cells of one side of a row; dashes when that side did not run."""
    if not side:
        return {k: "-" for k in ("wall", "per_env", "cpu", "ims", "read", "write", "login", "accs", "mem", "runs",
                                 "load")}
    loads = [run[0] for key in ("load_start", "load_end") for run in side.get(key) or [] if run]
    return {
        "load": f"{min(loads):.1f}-{max(loads):.1f}" if loads else "?",
        "wall": f"{side['wall_median']:.1f}", "per_env": f"{side['per_env']:.3f}", "cpu": f"{side['cpu_median']:.0f}",
        "ims": _fmt_count(side["ims"], size), "read": _fmt_count(side["vault_read"], size),
        "write": _fmt_count(side["vault_write"], size), "login": f"{side['vault_login']}, {side['vault_other']}",
        "accs": _accs_cell(side, size, with_put),
        "mem": f"{side['peak_pss'] / 2**20:.0f}", "runs": str(side["runs"]),
    }


def _accs_cell(side: dict, size: int, with_put: bool) -> str:
    if "fleet_webhooks" in side:
        # fleet-cached: store GETs + system configuration GETs + the App Builder list GETs (webhooks, subscriptions,
        # providers) + anything else (writes, extra reads)
        ext = [side[f"fleet_{kind}"] for kind in EXTENSIBILITY_LISTS]
        per_env = (f" ({'/'.join(f'{v / size:g}' for v in ext)})" if not any(isinstance(v, list) for v in ext)
                   else " (varied)")
        ext_text = "/".join(str(v) for v in ext) + per_env
        return (f"{_fmt_count(side['accs'], size)} + {_fmt_count(side['fleet_config_get'], size)} config"
                f" + {ext_text} wh/sub/prov + {_fmt_count(side['accs_put'], size)} PUT"
                f" + {_fmt_count(side['fleet_other'], size)} other")
    return _fmt_count(side["accs"], size) + (f" + {_fmt_count(side['accs_put'], size)} PUT" if with_put else "")


def _source_text(source: dict | None) -> str:
    if not source:
        return "?"
    return (f"commit {source.get('commit')}{' plus uncommitted changes' if source.get('uncommitted_changes') else ''}"
            f" at {source.get('built_at')}")


def markdown(summary: dict, found: list[dict], meta: dict) -> str:
    load = meta.get("load_average") or (0, 0, 0)
    lines = [f"# Benchmark: collection vs uri baseline ({meta['date']})", "",
             f"Machine: {meta['cpus']} CPUs, Python {meta['python']}, ansible-core {meta['ansible']}; "
             f"forks {meta['forks']}; {meta['rounds']} rounds per case and N"
             f"{' (baseline rounds: ' + meta['baseline_rounds'] + ')' if meta.get('baseline_rounds') else ''}, "
             f"sides alternating; collection built from {_source_text(meta.get('source'))}; "
             f"total {meta['elapsed'] / 60:.1f} min; load average at the end "
             f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}{'' if meta.get('complete', True) else ' (PARTIAL)'}.",
             "",
             "Cells: median wall time of the ansible-playbook run (s); ratio = collection / baseline; s/env = "
             "median / N; CPU = user+sys seconds of the whole process tree; requests are totals per run with "
             "the per-environment figure in brackets (IMS token calls, Vault KV reads and writes, Vault logins "
             "and other Vault requests, ACCS GETs); peak memory = summed PSS of the process tree (MiB); "
             "runs = collection / baseline runs behind the medians; load = range of the 1-minute load average "
             "before and after those runs (other work on the machine); '-' on the baseline side: a scaling-only "
             "row (collection alone, no ratio).", ""]
    for case_name, rows in summary.items():
        lines += [f"## {case_name}", "",
                  "| N | collection s | baseline s | ratio | s/env coll / base | CPU s coll / base "
                  "| IMS coll / base | Vault read coll / base | Vault write coll / base | Vault login, other "
                  "| ACCS coll / base | peak MiB coll / base | runs | load 1-min coll / base |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        seconds = []
        for size, row in rows.items():
            with_put = "accs_put" in row["limit"]
            c, b = _cols(row.get("collection"), size, with_put), _cols(row.get("baseline"), size, with_put)
            second = (row.get("collection") or {}).get("second")
            if second:
                seconds.append(f"N={size}: median {second['wall_median']:.1f} s over {second['runs']} runs, "
                               f"{_fmt_count(second['accs'], size)} GET, {_fmt_count(second['accs_put'], size)} PUT")
            ratio = f"{row['ratio']:.3f}" if "ratio" in row else "-"
            lines.append(
                f"| {size} | {c['wall']} | {b['wall']} | {ratio} | {c['per_env']} / {b['per_env']} "
                f"| {c['cpu']} / {b['cpu']} | {c['ims']} / {b['ims']} | {c['read']} / {b['read']} "
                f"| {c['write']} / {b['write']} | {c['login']} / {b['login']} | {c['accs']} / {b['accs']} "
                f"| {c['mem']} / {b['mem']} | {c['runs']} / {b['runs']} | {c['load']} / {b['load']} |")
        lines.append("")
        missed = [f"N={size} {side}: {row[side]['floor_missed']} of {row[side]['runs']} runs "
                  f"({'; '.join(row[side]['floor_missed_example'])})"
                  for size, row in rows.items() for side in SIDES if (row.get(side) or {}).get("floor_missed")]
        if missed:
            lines += ["Runs that missed the floor (recorded with --no-floor-stop): " + "; ".join(missed) + ".", ""]
        if seconds:
            lines += ["Second run after each timed run (everything already held; untimed in the medians): "
                      + "; ".join(seconds) + ".", ""]
    lines += ["## Targets (issues 6, 14, 16)", "", "| target | value | met |", "| --- | --- | --- |"]
    met = {True: "yes", False: "**NO**", None: "not judged"}
    lines += [f"| {t['target']} | {t['value']} | {met[t['met']]} |" for t in found]
    lines.append("")
    return "\n".join(lines)


def print_tables(summary: dict) -> None:
    for case_name, rows in summary.items():
        say()
        say(f"== {case_name} ==")
        say(f"{'N':>4} {'coll s':>8} {'base s':>8} {'ratio':>6} {'s/env c':>8} {'s/env b':>8} "
            f"{'IMS c/b':>9} {'VR c/b':>9} {'VW c/b':>9} {'VL c/b':>7} {'ACCS c/b':>10} {'MiB c/b':>9}")
        for size, row in rows.items():
            c, b = row.get("collection") or {}, row.get("baseline") or {}

            def get(side, key, fmt):
                return format(side[key], fmt) if key in side else "-"

            say(f"{size:>4} {get(c, 'wall_median', '.1f'):>8} {get(b, 'wall_median', '.1f'):>8} "
                f"{format(row['ratio'], '.3f') if 'ratio' in row else '-':>6} "
                f"{get(c, 'per_env', '.3f'):>8} {get(b, 'per_env', '.3f'):>8} "
                f"{_pair(c.get('ims'), b.get('ims')):>9} {_pair(c.get('vault_read'), b.get('vault_read')):>9} "
                f"{_pair(c.get('vault_write'), b.get('vault_write')):>9} "
                f"{_pair(c.get('vault_login'), b.get('vault_login')):>7} {_pair(c.get('accs'), b.get('accs')):>10} "
                f"{(c.get('peak_pss') or 0) / 2**20:>4.0f}/{(b.get('peak_pss') or 0) / 2**20:<4.0f}"
                f"{_fleet_pair(c, b)}")


def _fleet_pair(c: dict, b: dict) -> str:
    """fleet-cached: the system configuration GETs, the App Builder list GETs and anything else, per side."""
    if "fleet_webhooks" not in c and "fleet_webhooks" not in b:
        return ""

    def one(side):
        if not side:
            return "-"
        values = [side["fleet_config_get"]] + [side[f"fleet_{kind}"] for kind in EXTENSIBILITY_LISTS] \
            + [side["fleet_other"]]
        return "~" if any(isinstance(v, list) for v in values) else "/".join(str(v) for v in values)

    return f"  config/wh/sub/prov/other {one(c)} | {one(b)}"


def _pair(a, b) -> str:
    def one(v):
        return "-" if v is None else "~" if isinstance(v, list) else str(v)

    return f"{one(a)}/{one(b)}"


# --------------------------------------------------------------------------- driver
def parse_baseline_rounds(spec: str | None) -> dict:
    """``"200=1,audit-expired:50=0"`` -> ``{(None, 200): 1, ("audit-expired", 50): 0}``.

    Fewer baseline rounds than ``--rounds`` for some N (0: the baseline does not run there): the
    baseline costs one module process per uri/template task and host, so at N=200 each run of it
    takes many minutes on 2 cores."""
    plan = {}
    for entry in (spec or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        case, _sep, rest = entry.rpartition(":")
        size, _sep, rounds = rest.partition("=")
        if case and case not in CASES:
            raise ValueError(f"unknown case {case!r} in --baseline-rounds")
        plan[(case or None, int(size))] = int(rounds)
    return plan


def baseline_rounds(plan: dict, case: str, size: int, default: int) -> int:
    if (case, size) in plan:
        return plan[(case, size)]
    cap = CASES[case].baseline_max_size if case in CASES else None
    if cap is not None and size > cap:
        return 0  # e.g. fleet-cached at N=1000: over an hour per baseline run; only when named as case:N
    return plan.get((None, size), default)


def case_sizes(cases: list[str], sizes: list[int] | None) -> dict[str, list[int]]:
    """The sizes of each case: ``sizes`` (--sizes) for all, else each case's own (Case.sizes, DEFAULT_SIZES)."""
    return {name: list(sizes) if sizes else list(CASES[name].sizes or DEFAULT_SIZES) for name in cases}


def run_benchmark(runner: Runner, cases: list[str], sizes, rounds: int, plan: dict | None = None,
                  progress=say, after_group=None) -> list[RunResult]:
    """Alternating runs, N by N; ``after_group()`` is called after each case and N (partial results).

    ``sizes``: a list of N for every case, or ``{case: [N, ...]}`` (case_sizes)."""
    by_case = sizes if isinstance(sizes, dict) else {name: list(sizes) for name in cases}
    order = 0
    for size in sorted({n for name in cases for n in by_case[name]}):
        # per N, the cases whose baseline runs fewer rounds first: when a long benchmark has to be
        # cut short, the expensive baseline runs are what is missing, not whole cases
        ordered = sorted((name for name in cases if size in by_case[name]),
                         key=lambda name: baseline_rounds(plan or {}, name, size, rounds))
        for case_name in ordered:
            case = CASES[case_name]
            base_rounds = baseline_rounds(plan or {}, case_name, size, rounds) if case.baseline_playbook else 0
            for round_no in range(1, max(rounds, base_rounds) + 1):
                sides = SIDES if (round_no + order) % 2 else tuple(reversed(SIDES))
                sides = tuple(s for s in sides if (s == "collection" and round_no <= rounds)
                              or (s == "baseline" and round_no <= base_rounds
                                  and case.baseline_playbook is not None))
                for side in sides:
                    order += 1
                    result = runner.run(case, side, size, round_no, order)
                    progress(f"  {case_name} N={size} round {round_no} {side:<10} {result.wall:7.1f} s  "
                             f"cpu {result.cpu:6.1f} s  IMS {result.ims}  Vault r/w/l/o "
                             f"{result.vault['read']}/{result.vault['write']}/{result.vault['login']}/"
                             f"{result.vault['other']}  ACCS {result.accs}"
                             f"{f' PUT {result.accs_put}' if CASES[case_name].system_config else ''}"
                             f"{_fleet_text(result)}"
                             f"{_second_text(result)}  PSS {result.peak_pss / 2**20:.0f} MiB  "
                             f"load {result.load1:.1f}")
            if after_group is not None:
                after_group()
    return runner.results


def _fleet_text(result: RunResult) -> str:
    if not result.fleet:
        return ""
    f = result.fleet
    text = (f" config {f['config_get']} lists {f['webhooks']}/{f['subscriptions']}/{f['providers']}"
            f" PUT {f['config_put']} other {f['other']}")
    if result.floor_missed:
        text += "  FLOOR MISSED: " + "; ".join(result.floor_missed)
    return text


def _second_text(result: RunResult) -> str:
    if not result.second:
        return ""
    return f"  (second run {result.second['wall']:.1f} s, GET {result.second['accs']} PUT {result.second['accs_put']})"


def profile(runner: Runner, cases: list[str], sizes: list[int], out_dir: Path) -> None:
    """One extra collection run per case and N with per-task timings (not part of the results)."""
    plugins = BENCH_DIR / "callback_plugins"
    for case_name in cases:
        case = CASES[case_name]
        for size in sizes:
            timings = runner.work_dir / f"task-times-{case_name}-{size}.json"
            extra = {"ANSIBLE_CALLBACK_PLUGINS": str(plugins), "ANSIBLE_CALLBACKS_ENABLED": "bench_task_times",
                     "BENCH_TASK_TIMES": str(timings)}
            runner.run(case, "collection", size, 0, 0, extra_env=extra, label=f"profile-{case_name}-n{size}")
            runner.results.pop()  # not part of the timed results
            text = task_time_report(json.loads(timings.read_text()), size)
            (out_dir / f"profile-{case_name}-n{size}.txt").write_text(text, encoding="utf-8")
            say(text)


SPY_RATE = 100  # samples per second per process


def cpu_profile(runner: Runner, cases: list[str], sizes: list[int], out_dir: Path) -> None:
    """One extra collection run per case and N under py-spy (every process, CPU only), grouped by
    tests/bench/cpu_profile.py into cpu-profile-<case>-n<N>.md (not part of the timed results)."""
    from tests.bench import cpu_profile as grouping

    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if not spy:
        raise BenchError("--cpu-profile needs py-spy (pip install py-spy): it is not a test dependency")
    for case_name in cases:
        for size in sizes:
            stacks = out_dir / f"cpu-stacks-{case_name}-n{size}.txt"
            wrap = [spy, "record", "--subprocesses", "--format", "raw", "-r", str(SPY_RATE), "-o", str(stacks), "--"]
            result = runner.run(CASES[case_name], "collection", size, 0, 0, label=f"cpu-profile-{case_name}-n{size}",
                                wrap=wrap)
            runner.results.pop()  # not part of the timed results
            text = (f"CPU profile of one collection run, {case_name} N={size}: {result.wall:.1f} s wall, "
                    f"{result.cpu:.1f} s CPU of the run's processes (py-spy at {SPY_RATE} Hz, every process; "
                    f"idle and waiting time not sampled)\n\n"
                    + grouping.table(grouping.summarize(stacks.read_text(encoding="utf-8")), size, SPY_RATE))
            (out_dir / f"cpu-profile-{case_name}-n{size}.md").write_text(text, encoding="utf-8")
            say(text)


def task_time_report(data: dict, size: int) -> str:
    lines = [f"per-task wall time (first host start to last host end) and summed host time, N={size}",
             f"{'wall s':>8} {'host-s':>8} {'per host ms':>11}  task"]
    total = 0.0
    for task in data["tasks"]:
        total += task["wall"]
        lines.append(f"{task['wall']:8.2f} {task['host_seconds']:8.2f} "
                     f"{1000 * task['host_seconds'] / max(task['hosts'], 1):11.1f}  {task['name']}")
    lines.append(f"{total:8.2f} {'':>8} {'':>11}  sum of task wall times; playbook wall {data['playbook_wall']:.2f} s")
    return "\n".join(lines) + "\n"


def write_results(out_dir: Path, results: list[RunResult], sizes: list[int], cases: list[str], meta: dict,
                  final: bool = True) -> tuple[dict, list[dict]]:
    """``results.json`` and ``results.md`` in ``out_dir``; returns (summary, targets)."""
    done_cases = [c for c in cases if any(r.case == c for r in results)]
    summary = summarize(results, sizes, done_cases)
    found = targets(summary, sizes)
    meta = dict(meta, complete=final)
    (out_dir / "results.json").write_text(json.dumps({
        "meta": meta, "summary": {c: {str(n): row for n, row in rows.items()} for c, rows in summary.items()},
        "targets": found, "runs": [asdict(r) for r in results]}, indent=2), encoding="utf-8")
    (out_dir / "results.md").write_text(markdown(summary, found, meta), encoding="utf-8")
    return summary, found


def rerender(path: Path) -> int:
    """Summaries, targets and results.md again from the runs kept in a results.json."""
    saved = json.loads(Path(path).read_text(encoding="utf-8"))
    results = [RunResult(**run) for run in saved["runs"]]
    meta = saved["meta"]
    sizes = meta.get("sizes") or sorted({r.size for r in results})
    cases = meta.get("cases") or list(dict.fromkeys(r.case for r in results))
    summary, found = write_results(Path(path).parent, results, sizes, cases, meta, final=meta.get("complete", True))
    print_tables(summary)
    for target in found:
        say(f"  [{_met_text(target['met'])}] {target['target']}: {target['value']}")
    return 0


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sizes", default=None,
                        help="comma-separated N for every case (default: each case's own, 10,50,200, fleet-cached "
                             "10,200,1000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per case and N (default 3)")
    parser.add_argument("--baseline-rounds", default=DEFAULT_BASELINE_ROUNDS,
                        help="baseline rounds per N or case:N, added to the defaults, e.g. 'fleet-cached:200=3' or "
                             f"'200=1'; '' for --rounds everywhere (default {DEFAULT_BASELINE_ROUNDS!r}: the baseline "
                             "only at N=10; fleet-cached's above N=200 only when named, e.g. 'fleet-cached:1000=1')")
    parser.add_argument("--cases", default=DEFAULT_CASES,
                        help=f"comma-separated, of {', '.join(CASES)} (default: all but access-expired)")
    parser.add_argument("--forks", type=int, default=5, help="ansible forks for both sides (default 5)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results folder (default build/bench)")
    parser.add_argument("--profile", action="store_true",
                        help="then time each task of the collection's playbook once per case at the largest N")
    parser.add_argument("--cpu-profile", action="store_true",
                        help="then run the collection's playbook once more per case at the largest N under py-spy and "
                             "say where its CPU goes (tests/bench/cpu_profile.py; needs py-spy)")
    parser.add_argument("--no-keep-outputs", action="store_true", help="delete each run's stdout/stderr")
    # record the runs that miss the floor instead of stopping (to see what a changed playbook makes)
    parser.add_argument("--no-floor-stop", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rerender", type=Path, metavar="RESULTS_JSON",
                        help="only rewrite results.md (and the tables) from an earlier results.json")
    args = parser.parse_args(argv)
    if args.rerender:
        return rerender(args.rerender)
    # stop cleanly (servers stopped, running playbook killed) on Ctrl-C, SIGTERM and SIGHUP, also
    # when started in the background, where SIGINT is ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    given = [int(s) for s in args.sizes.split(",") if s.strip()] if args.sizes is not None else None
    if unknown or given == [] or not cases or args.rounds < 1:
        parser.error(f"unknown case(s) {unknown}" if unknown else "need at least one case, one size and one round")
    by_case = case_sizes(cases, given)
    sizes = sorted({n for name in cases for n in by_case[name]})
    try:
        # entries given are added to the defaults (a case:N given wins over N); '' clears them: the baseline
        # everywhere (but fleet-cached above N=200, which runs only where named)
        if args.baseline_rounds and args.baseline_rounds != DEFAULT_BASELINE_ROUNDS:
            args.baseline_rounds = f"{DEFAULT_BASELINE_ROUNDS},{args.baseline_rounds}"
        plan = parse_baseline_rounds(args.baseline_rounds)
    except ValueError as exc:
        parser.error(str(exc))
    out_dir = args.out.resolve()
    shutil.rmtree(out_dir / "runs", ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    source: dict = {}

    def meta() -> dict:
        return bench_meta(args.forks, args.rounds, time.monotonic() - started,
                          baseline_rounds=args.baseline_rounds or None, cases=cases, sizes=sizes,
                          case_sizes=by_case, source=source)

    with tempfile.TemporaryDirectory(prefix="accs-bench-") as tmp:
        work = Path(tmp)
        from tests.emulator.control import running_emulator

        say(">> building and installing the collection")
        source.update(source_state())
        collections = build_and_install_collection(work / "collection")
        with contextlib.ExitStack() as stack:
            say(">> starting OpenBao (with a file audit device) and the IMS/ACCS emulator")
            openbao, audit_log = stack.enter_context(audited_openbao(work / "vault"))
            emulator = stack.enter_context(running_emulator(work / "emulator"))
            emulator.reset()
            say(f">> seeding {max(sizes)} environments")
            seeding = time.monotonic()
            environments = seed(emulator, openbao, max(sizes))
            say(f">> seeded in {time.monotonic() - seeding:.1f} s")
            runner = Runner(collections_path=collections, openbao=openbao, audit_log=audit_log, emulator=emulator,
                            environments=environments, out_dir=out_dir, work_dir=work,
                            forks=args.forks, keep_outputs=not args.no_keep_outputs,
                            floor_stop=not args.no_floor_stop)
            say(f">> running: cases {', '.join(f'{c} (N {by_case[c]})' for c in cases)}; {args.rounds} rounds"
                f"{'; baseline rounds ' + args.baseline_rounds if args.baseline_rounds else ''}; forks {args.forks}")
            results = run_benchmark(
                runner, cases, by_case, args.rounds, plan,
                after_group=lambda: write_results(out_dir, runner.results, sizes, cases, meta(), final=False))
            measured = time.monotonic() - started
            say(f">> the timed runs took {measured / 60:.1f} min (with the build and the seeding)")
            if args.profile:
                for case_name in cases:
                    profile(runner, [case_name], [max(by_case[case_name])], out_dir)
            if args.cpu_profile:
                for case_name in cases:
                    cpu_profile(runner, [case_name], [max(by_case[case_name])], out_dir)
    summary, found = write_results(out_dir, results, sizes, cases, meta())
    print_tables(summary)
    say()
    for target in found:
        say(f"  [{_met_text(target['met'])}] {target['target']}: {target['value']}")
    say(f"\nresults: {out_dir / 'results.md'} and results.json ({(time.monotonic() - started) / 60:.1f} min)")
    return 0


_ANSIBLE_VERSION: list = []


def bench_meta(forks: int, rounds: int, elapsed: float, **extra) -> dict:
    import platform

    if _ANSIBLE_VERSION:
        ansible_version = _ANSIBLE_VERSION[0]
    else:
        ansible_version = _ansible_version()
        _ANSIBLE_VERSION.append(ansible_version)
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
            "python": platform.python_version(), "ansible": ansible_version, "forks": forks, "rounds": rounds,
            "elapsed": elapsed, "load_average": os.getloadavg(), **extra}


def source_state() -> dict:
    """The commit the collection was built from, and whether its files differed from it."""
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                                  timeout=30, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = git("status", "--porcelain", "--", "roles", "playbooks", "plugins", "meta", "galaxy.yml")
    return {"commit": git("rev-parse", "--short", "HEAD") or "?", "uncommitted_changes": bool(changed),
            "built_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def _ansible_version() -> str:
    try:
        ansible_version = subprocess.run([venv_tool("ansible-playbook"), "--version"], capture_output=True,
                                         text=True, timeout=60, check=False).stdout.splitlines()[0]
        ansible_version = re.sub(r"^ansible-playbook \[core (.*)\]$", r"\1", ansible_version)
    except (OSError, IndexError, subprocess.SubprocessError):
        ansible_version = "?"
    return ansible_version


if __name__ == "__main__":
    sys.exit(main())
