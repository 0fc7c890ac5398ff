"""Build and install the collection, run ``ansible-playbook`` and read its output.

Used by the pytest fixtures in ``tests/conftest.py`` and by ``tests/support/devenv.py``.

ansible-core 2.19-2.21 ships no JSON stdout callback (that one lives in ansible.posix,
which is not installed here).  ``run_playbook(..., json=True)`` therefore runs the
built-in ``default`` callback with ``result_format=json`` and one-line results at
verbosity >= 1, and :func:`parse_default_output` turns that output into a document
shaped like ansible.posix.json's::

    {"plays": [{"play": {"name": ...},
                "tasks": [{"task": {"name": ..., "handler": bool},
                           "hosts": {"<host>": {<result>}}}]}],
     "stats": {"<host>": {"ok": N, "changed": N, "unreachable": N, "failed": N,
                          "skipped": N, "rescued": N, "ignored": N}}}

Every host result carries ``changed``, ``failed``, ``skipped`` and ``unreachable``
(booleans, from the status word the callback printed) and ``ignored`` (True when
the failure was ignored).  Loop tasks give ``{"results": [<item result>, ...]}``
plus those booleans.  Results the callback hides (fact gathering) are ``{}`` plus
the booleans.  no_log results are shown censored, exactly as Ansible prints them.
"""

from __future__ import annotations

import json as _json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTION_NAMESPACE = "adobe_commerce"
COLLECTION_NAME = "accs"

DEFAULT_INVENTORY: dict = {
    "all": {
        "hosts": {
            "localhost": {
                "ansible_connection": "local",
                "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            }
        }
    }
}


class AnsibleRunError(RuntimeError):
    pass


def venv_tool(name: str) -> str:
    """A console script of the running interpreter's environment (``.venv/bin``), else PATH."""
    for candidate in (Path(sys.executable).parent / name, Path(sys.prefix) / "bin" / name):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise AnsibleRunError(f"{name} not found next to {sys.executable} nor on PATH: run `make venv`")


def hermetic_env(extra: dict[str, str | None] | None = None) -> dict[str, str]:
    """The current environment without ANSIBLE_*, VAULT_*, BAO_* and PYTHONPATH, plus ``extra``.

    A value of ``None`` in ``extra`` removes that variable.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ANSIBLE_", "VAULT_", "BAO_")) and key not in ("PYTHONPATH",)
    }
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


# --------------------------------------------------------------------------- collection
def build_and_install_collection(workdir: Path, repo_root: Path = REPO_ROOT, timeout: int = 300) -> Path:
    """``ansible-galaxy collection build`` the repo and install the tarball.

    Returns the collections path (``<workdir>/collections``) to use as
    ANSIBLE_COLLECTIONS_PATH.  The tarball is left in ``<workdir>/dist``.
    """
    workdir = Path(workdir)
    dist = workdir / "dist"
    collections = workdir / "collections"
    shutil.rmtree(dist, ignore_errors=True)
    shutil.rmtree(collections, ignore_errors=True)
    dist.mkdir(parents=True)
    galaxy = venv_tool("ansible-galaxy")
    env = hermetic_env({"ANSIBLE_HOME": str(workdir / "ansible-home"), "ANSIBLE_NOCOLOR": "1"})

    def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
        proc = subprocess.run(  # noqa: S603
            [galaxy, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if proc.returncode != 0:
            raise AnsibleRunError(
                f"ansible-galaxy {' '.join(args)} failed (rc {proc.returncode})\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc

    run(["collection", "build", "--force", "--output-path", str(dist), str(repo_root)], cwd=repo_root)
    tarballs = sorted(dist.glob(f"{COLLECTION_NAMESPACE}-{COLLECTION_NAME}-*.tar.gz"))
    if len(tarballs) != 1:
        raise AnsibleRunError(f"expected one collection tarball in {dist}, found {tarballs}")
    run(["collection", "install", "--force", "-p", str(collections), str(tarballs[0])], cwd=workdir)
    installed = collections / "ansible_collections" / COLLECTION_NAMESPACE / COLLECTION_NAME
    if not (installed / "MANIFEST.json").is_file():
        raise AnsibleRunError(f"collection not installed at {installed}")
    return collections


def installed_playbook(collections_path: Path, name: str) -> Path:
    """``playbooks/<name>`` of the collection as installed from its tarball (it may not exist)."""
    return (Path(collections_path) / "ansible_collections" / COLLECTION_NAMESPACE / COLLECTION_NAME
            / "playbooks" / name)


def collection_tarball(collections_workdir: Path) -> Path:
    """The tarball made by :func:`build_and_install_collection` in ``collections_workdir``."""
    return next(Path(collections_workdir, "dist").glob(f"{COLLECTION_NAMESPACE}-{COLLECTION_NAME}-*.tar.gz"))


# --------------------------------------------------------------------------- output parsing
_BANNER_RE = re.compile(r"^(?P<kind>PLAY|TASK|RUNNING HANDLER|PLAY RECAP)(?: \[(?P<name>.*)\])?(?P<check> \[CHECK MODE\])? \*{3,}$")
_RESULT_RE = re.compile(r"^(?P<status>ok|changed|fatal|failed|skipping): \[(?P<host>[^\]]+)\](?P<rest>.*)$")
_RECAP_RE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:[a-z]+=\d+\s*)+)$")


def _find_json(rest: str) -> dict | None:
    start = 0
    while True:
        index = rest.find("=> {", start)
        if index < 0:
            return None
        try:
            value = _json.loads(rest[index + 3 :])
        except ValueError:
            start = index + 1
            continue
        return value if isinstance(value, dict) else None


def parse_default_output(stdout: str) -> dict:
    """Parse the default callback's output (result_format=json, one line per result)."""
    plays: list[dict] = []
    stats: dict[str, dict[str, int]] = {}
    play: dict | None = None
    task: dict | None = None
    last_result: dict | None = None
    in_recap = False
    for raw in stdout.splitlines():
        line = raw.rstrip()
        banner = _BANNER_RE.match(line)
        if banner:
            kind = banner.group("kind")
            last_result = None
            if kind == "PLAY RECAP":
                in_recap = True
                continue
            in_recap = False
            if kind == "PLAY":
                play = {"play": {"name": banner.group("name") or ""}, "tasks": []}
                plays.append(play)
                task = None
            else:
                if play is None:
                    play = {"play": {"name": ""}, "tasks": []}
                    plays.append(play)
                task = {"task": {"name": banner.group("name") or "", "handler": kind == "RUNNING HANDLER"}, "hosts": {}}
                play["tasks"].append(task)
            continue
        if in_recap:
            recap = _RECAP_RE.match(line)
            if recap:
                counts = dict(pair.split("=", 1) for pair in recap.group("counts").split())
                stats[recap.group("host")] = {key: int(value) for key, value in counts.items()}
            continue
        if line == "...ignoring" and last_result is not None:
            last_result["ignored"] = True
            continue
        match = _RESULT_RE.match(line)
        if not match or task is None:
            continue
        status = match.group("status")
        host = match.group("host").split(" -> ", 1)[0]
        rest = match.group("rest")
        result = _find_json(rest) or {}
        is_item = rest.startswith(" => (item=") or rest.startswith(" (item=")
        flags = {
            "changed": status == "changed",
            "failed": status in ("fatal", "failed") and "UNREACHABLE!" not in rest[:20],
            "skipped": status == "skipping",
            "unreachable": rest.startswith(": UNREACHABLE!"),
        }
        if is_item:
            for key, value in flags.items():
                result.setdefault(key, value)
            aggregate = task["hosts"].setdefault(
                host, {"results": [], "changed": False, "failed": False, "skipped": False, "unreachable": False}
            )
            aggregate.setdefault("results", []).append(result)
            aggregate["changed"] = aggregate["changed"] or flags["changed"]
            aggregate["failed"] = aggregate["failed"] or flags["failed"]
            aggregate["skipped"] = all(item.get("skipped") for item in aggregate["results"])
            last_result = aggregate
        else:
            existing = task["hosts"].get(host)
            if existing is not None and "results" in existing and not result:
                # closing line of a loop (e.g. "skipping: [h]" after skipped items)
                for key, value in flags.items():
                    existing[key] = existing.get(key) or value
                last_result = existing
                continue
            for key, value in flags.items():
                result.setdefault(key, value)
            task["hosts"][host] = result
            last_result = result
    return {"plays": plays, "stats": stats}


# --------------------------------------------------------------------------- results
@dataclass
class PlaybookResult:
    """What one ``ansible-playbook`` run left behind."""

    rc: int
    stdout: str
    stderr: str
    log: str
    json: dict | None
    cmd: list[str]
    output_dir: Path
    duration: float
    timed_out: bool = False
    _parsed: dict | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def parsed(self) -> dict:
        """The parsed output (the ``json`` document when asked for; else what the
        output shows: play/task names and the recap, results without detail)."""
        if self.json is not None:
            return self.json
        if self._parsed is None:
            self._parsed = parse_default_output(self.stdout)
        return self._parsed

    @property
    def stats(self) -> dict[str, dict[str, int]]:
        """The PLAY RECAP: ``{host: {"ok": N, "changed": N, "failed": N, ...}}``."""
        return self.parsed["stats"]

    def task_names(self) -> list[str]:
        return [task["task"]["name"] for play in self.parsed["plays"] for task in play["tasks"]]

    def _matching(self, task_name: str) -> list[dict]:
        found = []
        for play in self.parsed["plays"]:
            for task in play["tasks"]:
                name = task["task"]["name"]
                if name == task_name or name.endswith(" : " + task_name):
                    found.append(task)
        return found

    def task_results(self, task_name: str) -> dict[str, dict]:
        """``{host: result}`` of the task named ``task_name`` (last run of it).

        ``task_name`` is the name Ansible prints; a role task also matches by its
        bare name (``"role : name"`` matches ``"name"``).  Needs ``json=True``.
        Raises KeyError listing the task names seen when there is no such task.
        """
        return self.task_results_all(task_name)[-1]

    def task_results_all(self, task_name: str) -> list[dict[str, dict]]:
        """Every run of the task named ``task_name``, in order: ``[{host: result}, ...]``."""
        if self.json is None:
            raise ValueError("task_results needs run_playbook(..., json=True)")
        found = self._matching(task_name)
        if not found:
            raise KeyError(f"no task named {task_name!r}; tasks seen: {self.task_names()}")
        return [task["hosts"] for task in found]

    def assert_rc(self, expected: int = 0) -> "PlaybookResult":
        """Fail with the tail of the output unless the exit code is ``expected``."""
        if self.rc != expected:
            raise AssertionError(
                f"ansible-playbook exited {self.rc}, expected {expected} (outputs kept in {self.output_dir})\n"
                f"--- stdout (tail) ---\n{_tail(self.stdout)}\n--- stderr (tail) ---\n{_tail(self.stderr)}"
            )
        return self


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------- runner
def _dump_yaml(data: Any) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def _is_path(value: Any) -> bool:
    if isinstance(value, Path):
        return True
    return isinstance(value, str) and "\n" not in value and value.endswith((".yml", ".yaml")) and os.path.exists(value)


def run_ansible_playbook(
    playbook: Any,
    *,
    work_dir: Path,
    output_dir: Path,
    collections_path: Path | str,
    inventory: Any = None,
    extra_vars: dict | None = None,
    env: dict[str, str | None] | None = None,
    base_env: dict[str, str] | None = None,
    check: bool = False,
    diff: bool = False,
    verbosity: int = 0,
    json: bool = False,
    timeout: float = 600,
    forks: int | None = None,
    extra_args: list[str] | None = None,
) -> PlaybookResult:
    """Run ``ansible-playbook`` once.

    ``playbook``: a path, YAML text, or a list of plays.  ``inventory``: None (one
    local ``localhost``), a dict, YAML/INI text, or a path.  Inputs are written to
    ``work_dir`` (not kept); stdout, stderr and the Ansible log go to
    ``output_dir`` (kept, secret-scanned).  ``base_env`` then ``env`` are laid over
    a hermetic copy of the environment; a ``None`` value removes a variable.
    """
    work_dir = Path(work_dir)
    output_dir = Path(output_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    output_dir.mkdir(parents=True, exist_ok=True)

    if _is_path(playbook):
        playbook_path = Path(playbook).resolve()
    else:
        playbook_path = work_dir / "playbook.yml"
        playbook_path.write_text(playbook if isinstance(playbook, str) else _dump_yaml(playbook), encoding="utf-8")

    if inventory is None:
        inventory = DEFAULT_INVENTORY
    if isinstance(inventory, Path) or (isinstance(inventory, str) and "\n" not in inventory and os.path.exists(inventory)):
        inventory_path = Path(inventory).resolve()
    elif isinstance(inventory, dict):
        inventory_path = work_dir / "inventory.yml"
        inventory_path.write_text(_dump_yaml(inventory), encoding="utf-8")
    else:
        import yaml

        try:
            is_yaml = isinstance(yaml.safe_load(inventory), dict)
        except yaml.YAMLError:
            is_yaml = False
        inventory_path = work_dir / ("inventory.yml" if is_yaml else "inventory.ini")
        inventory_path.write_text(inventory, encoding="utf-8")

    cmd = [venv_tool("ansible-playbook"), "-i", str(inventory_path)]
    if extra_vars:
        vars_path = work_dir / "extra_vars.json"
        vars_path.write_text(_json.dumps(extra_vars), encoding="utf-8")
        cmd += ["-e", f"@{vars_path}"]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if forks:
        cmd += ["--forks", str(forks)]
    if json:
        verbosity = max(verbosity, 1)
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    cmd += list(extra_args or [])
    cmd.append(str(playbook_path))

    log_path = output_dir / "ansible.log"
    run_env = {
        "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "0",
        "ANSIBLE_HOME": str(work_dir / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(work_dir / "ansible-tmp"),
        "ANSIBLE_LOG_PATH": str(log_path),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_HOST_KEY_CHECKING": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "ANSIBLE_STDOUT_CALLBACK": "default",
    }
    if json:
        run_env.update(
            ANSIBLE_CALLBACK_RESULT_FORMAT="json",
            ANSIBLE_CALLBACK_FORMAT_PRETTY="0",
            ANSIBLE_DISPLAY_FAILED_STDERR="0",
            ANSIBLE_DISPLAY_OK_HOSTS="1",
            ANSIBLE_DISPLAY_SKIPPED_HOSTS="1",
            ANSIBLE_SHOW_PER_HOST_START="0",
        )
    run_env.update(base_env or {})
    full_env = hermetic_env({**run_env, **(env or {})})

    (output_dir / "command.txt").write_text(" ".join(cmd) + "\n", encoding="utf-8")
    started = time.monotonic()
    timed_out = False
    proc = subprocess.Popen(  # noqa: S603
        cmd,
        cwd=work_dir,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # so a timeout can end the whole process group
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        out, err = proc.communicate()
    except BaseException:
        _kill_group(proc)
        proc.communicate()
        raise
    duration = time.monotonic() - started
    stdout = out.decode("utf-8", errors="replace")
    stderr = err.decode("utf-8", errors="replace")
    if timed_out:
        stderr += f"\n[run_playbook] TIMEOUT: killed after {timeout} s\n"
    (output_dir / "stdout.txt").write_bytes(out)
    (output_dir / "stderr.txt").write_bytes(err)
    try:
        log = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        log = ""
    parsed = parse_default_output(stdout) if json else None
    if parsed is not None:
        (output_dir / "result.json").write_text(_json.dumps(parsed, indent=2), encoding="utf-8")
    return PlaybookResult(
        rc=proc.returncode if not timed_out else -signal.SIGKILL,
        stdout=stdout,
        stderr=stderr,
        log=log,
        json=parsed,
        cmd=cmd,
        output_dir=output_dir,
        duration=duration,
        timed_out=timed_out,
    )


def _kill_group(proc: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue
