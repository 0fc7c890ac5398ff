"""Batched cases: many faults in one playbook run, each case checked and recorded on its own.

A :class:`Case` contributes tasks to one play (the checked task is named ``case:<id>``,
``ignore_errors: true``); emulator faults the case needs are queued in case order before
the run (the emulator answers each endpoint's faults first in, first out).  ``check`` gets
an :class:`Observation` and returns ``(observed, problems)``: what happened, in words, and
what broke a promise (empty: the case survived).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from tests.reliability.harness import leaks, sentence_problems


def task_name(case_id: str) -> str:
    return "case:" + case_id


@dataclass
class Case:
    id: str
    category: str
    fault: str
    expected: str
    task: dict                       # the module call: {"adobe_commerce.accs.ims_token": {...}}, plus keywords
    check: Callable[["Observation"], tuple[str, list[str]]]
    faults: list = field(default_factory=list)
    ims_requests: int | None = None  # IMS token requests the case makes (the FIFO guard adds them up)
    bug: str | None = None           # a known engine bug: the test is xfail(strict=True)
    before: list = field(default_factory=list)   # tasks before the checked one
    after: list = field(default_factory=list)    # tasks after it (e.g. a summary of a no_log result)
    data: dict = field(default_factory=dict)     # anything the check needs
    secret_result: bool | None = None            # None: True for ims_token cases expected to succeed

    def __post_init__(self):
        if self.secret_result is None:
            self.secret_result = ("adobe_commerce.accs.ims_token" in self.task
                                  and getattr(self.check, "expects_success", False))

    @property
    def register(self) -> str:
        return "result_" + self.id.replace("-", "_")

    def tasks(self, emulator_faults=True) -> list[dict]:
        """The case's tasks; first (``emulator_faults``) one that sets the emulator's fault queue
        to exactly this case's faults (play vars ``emu_url`` and ``emu_ca``)."""
        checked = dict(self.task)
        if "block" not in checked:
            checked.setdefault("name", task_name(self.id))
            checked.setdefault("ignore_errors", True)
            checked.setdefault("register", self.register)
        after = list(self.after)
        if self.secret_result:
            # The documented use of ims_token: no_log on the task (its result holds the access
            # token).  What the case checks is shown by a second task, without the tokens.
            checked["no_log"] = True
            after.insert(0, {"name": "show:" + self.id, "ansible.builtin.debug": {"msg": (
                "{{ (%s | dict2items | rejectattr('key', 'in', ['access_token', 'refresh_token']) | items2dict)"
                " | combine({'has_access_token': (%s.access_token | default('') | length) > 20}) }}"
                % (self.register, self.register))}})
        head = []
        if emulator_faults:
            # the fault specs come from extra vars (see fault_vars): Ansible 2.19 shows the playbook
            # lines around a failed task, so no value that may be secret is written in the playbook
            head.append({"name": "faults:" + self.id, "rel_emulator_faults": {
                "url": "{{ emu_url }}", "ca": "{{ emu_ca }}", "faults": "{{ rel_faults[%r] }}" % self.id}})
        return head + list(self.before) + [checked] + after

    def param(self):
        marks = [pytest.mark.xfail(strict=True, reason=self.bug)] if self.bug else []
        return pytest.param(self, marks=marks, id=self.id)


@dataclass
class Observation:
    case: Case
    run: Any            # RelResult
    result: dict | None
    context: dict

    def other(self, name: str) -> dict | None:
        return self.run.result(name)


def params(cases):
    return [case.param() for case in cases]


def play(cases, name="reliability", module_defaults=None, hosts="localhost", extra_tasks=None, vars=None,
         emulator_faults=True):
    tasks = []
    for case in cases:
        tasks.extend(case.tasks(emulator_faults))
    tasks.extend(extra_tasks or [])
    out = {"name": name, "hosts": hosts, "gather_facts": False, "tasks": tasks}
    if module_defaults:
        out["module_defaults"] = module_defaults
    if vars:
        out["vars"] = vars
    return [out]


def fault_vars(cases) -> dict:
    """Extra vars holding each case's emulator faults (``rel_faults``)."""
    return {"rel_faults": {case.id: [dict(f) for f in case.faults] for case in cases}}


def summary(result: dict | None) -> str:
    """A short, secret-free description of a successful result."""
    if result is None:
        return "the task did not run"
    parts = []
    for key in ("status", "changed", "refreshed", "token_refreshed", "pages"):
        if key in result:
            parts.append("%s=%s" % (key, json.dumps(result[key])))
    if isinstance(result.get("expires_in"), int):
        parts.append("expires_in>0" if result["expires_in"] > 0 else "expires_in=%d" % result["expires_in"])
    if isinstance(result.get("json"), list):
        parts.append("%d items" % len(result["json"]))
    if result.get("warnings"):
        parts.append("warning: " + " ".join(result["warnings"]))
    return "succeeded" + (" (" + ", ".join(parts) + ")" if parts else "")


def _result_leaks(result) -> list[str]:
    kinds = leaks(result)
    return ["the result holds a secret: " + ", ".join(kinds)] if kinds else []


def fails(*names, extra: Callable[[Observation], list[str]] | None = None):
    """The task must fail with one clear sentence naming each of ``names`` (a tuple: any of them)."""

    def check(obs: Observation):
        r = obs.result
        if r is None:
            return "the task did not run", ["the task did not run"]
        if r["_event"] != "failed":
            return summary(r), ["the task did not fail (silent success)"]
        msg = r.get("msg")
        problems = sentence_problems(msg, names) + _result_leaks(r)
        if extra:
            problems += extra(obs)
        return "failed: " + str(msg), problems

    return check


def succeeds(predicate: Callable[[Observation], list[str]] | None = None):
    """The task must succeed; ``predicate`` lists further problems."""

    def check(obs: Observation):
        r = obs.result
        if r is None:
            return "the task did not run", ["the task did not run"]
        if r["_event"] != "ok":
            return "failed: " + str(r.get("msg")), ["the task failed"]
        problems = _result_leaks(r)
        if predicate:
            problems += predicate(obs)
        return summary(r), problems

    check.expects_success = True
    return check


def warns(text):
    """A warning holding ``text``: in the result, or shown by Ansible (2.19 to 2.21 move result
    warnings to the display)."""

    def check(obs):
        warnings = obs.result.get("warnings") or []
        if any(text in w for w in warnings):
            return []
        shown = [line for line in (obs.run.stdout + obs.run.stderr).splitlines()
                 if "[WARNING]" in line and text in line]
        return [] if shown else ["no warning containing %r" % text]

    return check


def output_lacks(text):
    """No line of the run's stdout or stderr holds ``text``."""

    def check(obs):
        found = [line for line in (obs.run.stdout + obs.run.stderr).splitlines() if text in line]
        return ["the run's output holds %r" % text] if found else []

    return check


def run_case(case: Case, run, matrix, request, context=None):
    """Check one case against a finished run and record it in the matrix."""
    result = run.result(task_name(case.id))
    if case.secret_result and result is not None:
        shown = run.result("show:" + case.id)
        event = result["_event"]
        result = dict((shown or {}).get("msg") or {})
        result["_event"] = event
    obs = Observation(case, run, result, context or {})
    observed, problems = case.check(obs)
    matrix.check(request, case.category, case.id, case.fault, case.expected, observed, problems)
