"""Reliability and security suite: playbook runner, matrix recorder, message and secret checks.

The suite runs real playbooks (the collection built and installed from its tarball) against
the real OpenBao dev server and the IMS/ACCS emulator, with every fault and abuse the issue
lists, and records each case in a matrix:

    {category, case, fault or input, expected behaviour, observed behaviour, result}

At the end of a session that ran these tests the matrix goes to ``build/reliability/matrix.json``
(``tests/reliability/render_matrix.py`` turns it into ``tests/RELIABILITY.md``; ``make
reliability-matrix`` does both).

Fixtures and helpers
--------------------
``rel_runner_factory(name)`` (session)
    A :class:`RelRunner` whose runs go to ``build/test-output/reliability/<name>/run-NNN``.
    Every run is ``-vvvv`` with ``ANSIBLE_LOG_PATH``, the default callback in JSON result
    format, the test-only JSON-lines callback (``callback_plugins/reliability_json.py``) and
    the junit callback; HOME is a fresh folder; proxies point at a closed loopback port, so
    a URL that is not loopback can never leave the machine.  After each run every byte of
    its output, log, reports, HOME and Ansible tmp is searched for every secret known at that
    moment; the run's hygiene is a matrix case of its own.
``matrix`` (session)
    The :class:`MatrixRecorder`: ``matrix.check(request, category, case, fault, expected,
    observed, problems)`` records one case and fails the test when ``problems`` is not empty
    (a test marked ``xfail`` is recorded as a known engine bug).
``sentence_problems(msg, names)``
    What makes ``msg`` not "one clear sentence naming the failing part".
``leaks(text)``
    Kinds of the known secrets that ``text`` holds (never the values).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.reliability.harness import (
    CATEGORIES,
    HERE,
    MATRIX,
    MATRIX_DIR,
    MATRIX_FILE,
    REPO_ROOT,
    SCANNED_ROOTS,
    SECRETS,
    MatrixRecorder,
    RelRunner,
    scan_tree,
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.path)).is_relative_to(HERE):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def matrix() -> MatrixRecorder:
    return MATRIX


@pytest.fixture(scope="session")
def rel_secrets(secret_registry, emulator, openbao):
    SECRETS.registry = secret_registry
    if emulator not in SECRETS.emulators:
        SECRETS.emulators.append(emulator)
    if openbao not in SECRETS.servers:
        SECRETS.servers.append(openbao)
    return SECRETS


@pytest.fixture(scope="session")
def rel_runner_factory(tmp_path_factory, collection_path, openbao, rel_secrets):
    def make(name: str, recovery_dir: Path | None = None) -> RelRunner:
        work = tmp_path_factory.mktemp("rel-" + name)
        return RelRunner(name, work / "runs", collection_path, openbao.env(),
                         recovery_dir or (work / "recovery"))

    return make


@pytest.fixture
def private_openbao(openbao_factory, rel_secrets):
    """``openbao_factory`` whose servers' secrets the per-run scans know too."""

    def start(port=None):
        server = openbao_factory(port)
        SECRETS.servers.append(server)
        return server

    return start


# --------------------------------------------------------------------------- session end
_STATE = {"started": time.monotonic(), "collected": 0, "deselected": 0, "ran": 0, "items": set()}


def pytest_collection_finish(session):
    _STATE["items"] = {item.nodeid for item in session.items if Path(str(item.path)).is_relative_to(HERE)}
    _STATE["collected"] = len(_STATE["items"])


def pytest_deselected(items):
    _STATE["deselected"] += sum(1 for item in items if Path(str(item.path)).is_relative_to(HERE))


def pytest_runtest_logreport(report):
    if report.when == "call" and report.nodeid in _STATE["items"]:
        _STATE["ran"] += 1


def _worker_id(config):
    return getattr(config, "workerinput", {}).get("workerid")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    worker = _worker_id(config)
    parts = MATRIX_DIR / "parts"
    if MATRIX.cases and SECRETS.registry is not None:
        # every kept output of the suite, rescanned with every secret the session learned
        registry = SECRETS.refresh()
        findings = []
        for root in dict.fromkeys(SCANNED_ROOTS):
            findings.extend(scan_tree(root, registry))
        MATRIX.record(
            "Secret hygiene",
            "whole suite, rescanned at the end" + (" (%s)" % worker if worker else ""),
            "every output, log, report, HOME and Ansible tmp of every run of the suite, searched again "
            "for every secret the emulator and OpenBao issued or were given (plain, URL- and JSON-encoded)",
            "0 secrets found (the recovery files, the one documented exception, are kept elsewhere)",
            "%d finding(s)" % len(findings) if findings else "0 secrets found",
            "pass" if not findings else "fail",
            "; ".join(sorted({f.describe() for f in findings})),
        )
    data = {
        "cases": [vars(c) for c in MATRIX.cases],
        "collected": _STATE["collected"],
        "deselected": _STATE["deselected"],
        "ran": _STATE["ran"],
        "runtime_seconds": round(time.monotonic() - _STATE["started"], 1),
        "filtered": bool(config.option.keyword or config.option.markexpr or _STATE["deselected"]
                         or getattr(config.option, "lf", False) or getattr(config.option, "maxfail", 0)),
    }
    if worker:
        if MATRIX.cases:
            parts.mkdir(parents=True, exist_ok=True)
            (parts / ("%s.json" % worker)).write_text(json.dumps(data), encoding="utf-8")
        return
    merged = data
    if parts.is_dir():
        for part in sorted(parts.glob("*.json")):
            other = json.loads(part.read_text(encoding="utf-8"))
            merged["cases"].extend(other["cases"])
            for key in ("ran",):
                merged[key] += other.get(key, 0)
            merged["filtered"] = merged["filtered"] or other.get("filtered", False)
            part.unlink()
    if not merged["cases"]:
        return
    merged["complete"] = (not merged["filtered"] and merged["ran"] >= merged["collected"] > 0
                          and session.testscollected > 0)
    order = {name: index for index, name in enumerate(CATEGORIES)}
    # stable sort: cases keep the order they ran in, except the per-run hygiene cases, whose
    # runs may end in any order when started at once: those go by name, the session's rescan last
    merged["cases"].sort(key=lambda c: (order.get(c["category"], 99),
                                        (c["case"].startswith("whole suite"), c["case"])
                                        if c["category"] == "Secret hygiene" else (False, "")))
    totals = {
        "faults_tried": len(merged["cases"]),
        "survived": sum(1 for c in merged["cases"] if c["result"] == "pass"),
        "failed": sum(1 for c in merged["cases"] if c["result"] == "fail"),
        "known_engine_bugs": sum(1 for c in merged["cases"] if c["result"] == "known engine bug"),
        "secrets_found": sum(
            int(re.match(r"(\d+)", c["observed"]).group(1)) if re.match(r"\d+ (secret|finding)", c["observed"]) else 0
            for c in merged["cases"]
            if c["category"] == "Secret hygiene" and c["case"].startswith("whole suite")
        ),
    }
    merged["totals"] = totals
    MATRIX_DIR.mkdir(parents=True, exist_ok=True)
    MATRIX_FILE.write_text(json.dumps(merged, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    line = ("reliability matrix: %(faults_tried)d cases, %(survived)d survived, %(failed)d failed, "
            "%(known_engine_bugs)d known engine bugs, secrets found: %(secrets_found)d" % totals)
    line += " (%s s; %s)" % (merged["runtime_seconds"], MATRIX_FILE.relative_to(REPO_ROOT))
    if reporter is not None:
        reporter.write_line(line)
