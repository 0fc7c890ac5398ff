"""Shared state of the reliability suite: the matrix recorder, the secret knowledge, the
message checks and the playbook runner (see conftest.py for the fixtures built on them).

Kept out of conftest.py so test modules and helpers import one instance of it."""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ansible_runner import REPO_ROOT, run_ansible_playbook
from tests.support.openbao import free_port as closed_port  # a loopback port nothing listens on
from tests.support.secretscan import SecretRegistry, scan_tree

HERE = Path(__file__).resolve().parent
TEST_OUTPUT = REPO_ROOT / "build" / "test-output"
REL_OUTPUT = TEST_OUTPUT / "reliability"
MATRIX_DIR = REPO_ROOT / "build" / "reliability"
MATRIX_FILE = MATRIX_DIR / "matrix.json"
CALLBACK_DIR = HERE / "callback_plugins"
ACTION_DIR = HERE / "action_plugins"

CATEGORIES = (
    "IMS faults",
    "Vault faults",
    "ACCS faults",
    "Bad input",
    "Concurrency",
    "Secret hygiene",
)


# --------------------------------------------------------------------------- secrets
class _Secrets:
    """Everything the session knows as secret: the shared registry plus live sources."""

    def __init__(self):
        self.registry: SecretRegistry | None = None
        self.emulators: list = []
        self.servers: list = []
        self.lock = threading.Lock()

    def refresh(self) -> SecretRegistry:
        registry = self.registry if self.registry is not None else SecretRegistry()
        with self.lock:
            for emulator in self.emulators:
                try:
                    registry.add_emulator(emulator)
                except Exception:  # noqa: BLE001 - stopped emulator: harvested before
                    pass
            for server in self.servers:
                registry.add_many(server.issued)
        return registry

    def leaks(self, text) -> list[str]:
        if text is None:
            return []
        if not isinstance(text, str):
            text = json.dumps(text, default=str)
        found = []
        for kind, value in self.refresh().items():
            if value in text and kind not in found:
                found.append(kind)
        return found


SECRETS = _Secrets()


def leaks(text) -> list[str]:
    """Kinds of known secrets held by ``text`` (a string or anything JSON-able)."""
    return SECRETS.leaks(text)


# --------------------------------------------------------------------------- messages
_OPTION_WORDS = {"paginate", "path", "method", "query", "body", "headers", "timeout", "retries", "scopes", "code",
                 "grant_type", "force_refresh", "vault_path", "base_url", "ims_url"}
_SENTENCE_BREAK = re.compile(r"[.!?]\s+(?=[A-Z])")


def sentence_problems(msg, names=()) -> list[str]:
    """Why ``msg`` is not one clear sentence naming each of ``names`` (empty list: it is)."""
    if not isinstance(msg, str) or not msg.strip():
        return ["the failure has no msg"]
    problems = []
    if "\n" in msg or "\r" in msg:
        problems.append("msg spans several lines")
    if "Traceback" in msg or 'File "' in msg:
        problems.append("msg holds a traceback")
    if not msg.rstrip().endswith("."):
        problems.append("msg does not end with a period")
    first = msg.split(" ", 1)[0]
    if not msg[:1].isupper() and not (first in _OPTION_WORDS or "_" in first):
        problems.append("msg does not start with a capital letter (or an option name)")
    # a server's own words, quoted, may hold sentences of their own
    breaks = _SENTENCE_BREAK.findall(re.sub(r'"[^"]*"|\u201c[^\u201d]*\u201d', '""', msg))
    if breaks:
        problems.append("msg holds more than one sentence")
    low = msg.lower()
    for name in names:
        alternatives = name if isinstance(name, (tuple, list)) else (name,)
        if not any(alt.lower() in low for alt in alternatives):
            problems.append("msg does not name %s" % " or ".join(repr(a) for a in alternatives))
    kinds = leaks(msg)
    if kinds:
        problems.append("msg holds a secret: " + ", ".join(kinds))
    return problems


_NORMALIZERS = [
    (re.compile(r"(127\.0\.0\.1|localhost)([:_])\d{2,5}"), r"\1\2<port>"),
    (re.compile(r"x-debug-id [0-9a-fA-F-]{8,}"), "x-debug-id <id>"),
    (re.compile(r"webapi-[0-9a-f]+"), "webapi-<id>"),
    (re.compile(r"/tmp/pytest-of-[^/\s]+/pytest-\d+/[^/\s]+"), "<tmp>"),
    # Ansible prints this list from a set: its order changes from run to run
    (re.compile(r"Valid booleans include: [^|]*"), "Valid booleans include: <the boolean words>"),
]


def normalize(text: str, replacements: dict | None = None) -> str:
    """``text`` without what changes from run to run (ports, debug ids, temp folders)."""
    if text is None:
        return ""
    text = str(text)
    for literal, placeholder in sorted((replacements or {}).items(), key=lambda kv: -len(kv[0])):
        if literal:
            text = text.replace(literal, placeholder)
    for pattern, placeholder in _NORMALIZERS:
        text = pattern.sub(placeholder, text)
    return text


# --------------------------------------------------------------------------- matrix
@dataclass
class MatrixCase:
    category: str
    case: str
    fault: str
    expected: str
    observed: str
    result: str            # pass | fail | known engine bug
    note: str = ""
    nodeid: str = ""


class MatrixRecorder:
    def __init__(self):
        self.cases: list[MatrixCase] = []
        self.replacements: dict[str, str] = {}

    def add_replacement(self, literal: str, placeholder: str) -> None:
        self.replacements[str(literal)] = placeholder

    def normalize(self, text) -> str:
        return normalize(text, self.replacements)

    def record(self, category, case, fault, expected, observed, result, note="", nodeid=""):
        assert category in CATEGORIES, category
        entry = MatrixCase(category, case, fault, expected, self.normalize(observed), result,
                           self.normalize(note), nodeid)
        self.cases = [c for c in self.cases if not (c.category == category and c.case == case)]
        self.cases.append(entry)
        return entry

    def check(self, request, category, case, fault, expected, observed, problems):
        """Record a case; fail the calling test when ``problems`` lists anything."""
        marker = request.node.get_closest_marker("xfail") if request is not None else None
        if not problems:
            result = "pass"
            note = ""
        elif marker is not None:
            result = "known engine bug"
            note = marker.kwargs.get("reason", "") + " | " + "; ".join(problems)
        else:
            result = "fail"
            note = "; ".join(problems)
        self.record(category, case, fault, expected, observed, result, note,
                    request.node.nodeid if request is not None else "")
        if problems:
            raise AssertionError("%s / %s: %s\nobserved: %s" % (category, case, "; ".join(problems),
                                                                self.normalize(observed)))


MATRIX = MatrixRecorder()


# --------------------------------------------------------------------------- runner

TRAP_PORT = closed_port()
SCANNED_ROOTS: list[Path] = []


@dataclass
class RelResult:
    """One reliability playbook run."""

    raw: object
    name: str
    events: list
    leaks: list
    scanned_files: int
    scanned_bytes: int
    work_dir: Path
    home: Path
    output_dir: Path = field(default=None)

    @property
    def rc(self):
        return self.raw.rc

    @property
    def stdout(self):
        return self.raw.stdout

    @property
    def stderr(self):
        return self.raw.stderr

    def task_events(self, task: str, host: str | None = None) -> list[dict]:
        return [e for e in self.events if e["task"] == task and e["event"] in ("ok", "failed", "skipped", "unreachable")
                and (host is None or e["host"] == host)]

    def result(self, task: str, host: str = "localhost") -> dict | None:
        """The final result of ``task`` on ``host`` (with ``_event``: ok/failed/...), or None."""
        found = self.task_events(task, host)
        if not found:
            return None
        event = found[-1]
        out = dict(event["result"])
        out["_event"] = event["event"]
        return out

    def by_host(self, task: str) -> dict[str, dict]:
        out = {}
        for event in self.task_events(task):
            result = dict(event["result"])
            result["_event"] = event["event"]
            out[event["host"]] = result
        return out

    def tail(self, lines: int = 40) -> str:
        return "\n".join((self.stdout + "\n" + self.stderr).splitlines()[-lines:])


class RelRunner:
    """Runs playbooks for one test module or test; see the module docstring."""

    def __init__(self, name: str, work_root: Path, collections_path: Path, base_env: dict, recovery_dir: Path):
        self.name = name
        self.work_root = Path(work_root)
        self.output_root = REL_OUTPUT / name
        shutil.rmtree(self.output_root, ignore_errors=True)
        self.collections_path = collections_path
        self.base_env = dict(base_env)
        self.recovery_dir = Path(recovery_dir)
        self.count = 0
        self.lock = threading.Lock()
        self.results: list[RelResult] = []
        MATRIX.add_replacement(str(self.recovery_dir), "<recovery_dir>")
        MATRIX.add_replacement(str(self.work_root), "<work>")

    def _next(self) -> int:
        with self.lock:
            self.count += 1
            return self.count

    def run(self, playbook, label: str, inventory=None, extra_vars=None, env=None, forks=None, timeout=420,
            hygiene=True, quarantine=False) -> RelResult:
        """One run.  ``quarantine``: output kept outside build/test-output (for a run that
        demonstrates a known leak; the test checks that run's output itself)."""
        number = self._next()
        run_name = "run-%03d" % number
        work_dir = self.work_root / run_name
        output_dir = (self.work_root / "quarantine" / run_name) if quarantine else (self.output_root / run_name)
        home = work_dir / "home"
        home.mkdir(parents=True, exist_ok=True)
        output_dir.mkdir(parents=True, exist_ok=True)
        json_log = output_dir / "results.jsonl"
        trap = "http://127.0.0.1:%d" % TRAP_PORT
        run_env = {
            "HOME": str(home),
            "ACCS_RECOVERY_DIR": str(self.recovery_dir),
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
            "ANSIBLE_ACTION_PLUGINS": str(ACTION_DIR),
            "ANSIBLE_CALLBACKS_ENABLED": "reliability_json,ansible.builtin.junit",
            "RELIABILITY_JSON_LOG": str(json_log),
            "JUNIT_OUTPUT_DIR": str(output_dir / "junit"),
            # junit prints raw task arguments unless told not to (an Ansible behaviour, not the
            # collection's): tasks here pass secrets as options, so they are hidden
            "JUNIT_HIDE_TASK_ARGUMENTS": "true",
            "HTTP_PROXY": trap, "HTTPS_PROXY": trap, "ALL_PROXY": trap,
            "http_proxy": trap, "https_proxy": trap, "all_proxy": trap,
            "NO_PROXY": "127.0.0.1,localhost,::1", "no_proxy": "127.0.0.1,localhost,::1",
            "REQUESTS_CA_BUNDLE": None, "CURL_CA_BUNDLE": None, "SSL_CERT_FILE": None,
            "PYTHONWARNINGS": None,
        }
        run_env.update(env or {})
        raw = run_ansible_playbook(
            playbook,
            work_dir=work_dir,
            output_dir=output_dir,
            collections_path=self.collections_path,
            inventory=inventory,
            extra_vars=extra_vars,
            env=run_env,
            base_env=self.base_env,
            verbosity=4,
            json=True,
            timeout=timeout,
            forks=forks,
        )
        (output_dir / "label.txt").write_text(label + "\n", encoding="utf-8")
        events = []
        if json_log.exists():
            for line in json_log.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    events.append(json.loads(line))
        roots = [output_dir, home, work_dir / "ansible-home", work_dir / "ansible-tmp"]
        if not quarantine:
            SCANNED_ROOTS.extend(roots)
        registry = SECRETS.refresh()
        findings = []
        files = 0
        size = 0
        for root in roots:
            findings.extend(scan_tree(root, registry))
            for dirpath, _dirs, names in os.walk(root):
                for name in names:
                    files += 1
                    try:
                        size += os.path.getsize(os.path.join(dirpath, name))
                    except OSError:
                        pass
        result = RelResult(raw=raw, name=run_name, events=events, leaks=[f.describe() for f in findings],
                           scanned_files=files, scanned_bytes=size, work_dir=work_dir, home=home,
                           output_dir=output_dir)
        self.results.append(result)
        if hygiene:
            MATRIX.record(
                "Secret hygiene",
                "%s: %s" % (self.name, label),
                "playbook run '%s' at -vvvv (default callback as JSON, JSON-lines callback, junit, "
                "ANSIBLE_LOG_PATH)" % label,
                "no known secret in stdout, stderr, Ansible log, JSON results, junit report, HOME or Ansible tmp",
                "%d secret(s) found" % len(findings) if findings else "0 secrets found",
                "pass" if not findings else "fail",
                "; ".join(sorted({"%s in %s" % (f.kind, os.path.basename(f.path)) for f in findings})),
            )
        return result

    def start(self, *args, **kwargs) -> concurrent.futures.Future:
        """``run`` in a background thread; ``.result()`` gives the RelResult."""
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        future = pool.submit(self.run, *args, **kwargs)
        pool.shutdown(wait=False)
        return future
