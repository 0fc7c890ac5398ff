# Benchmark helper (tests/bench/run_bench.py --profile); not part of the collection.
"""Per-task timings of a playbook run, written as JSON to $BENCH_TASK_TIMES.

ansible-core ships no profile_tasks callback (it lives in ansible.posix).  This one records, per
task: wall time from the first host's start to the last host's result, the summed time of the
hosts (start to result, queueing included) and the number of hosts.
"""

from __future__ import annotations

DOCUMENTATION = """
name: bench_task_times
type: aggregate
short_description: per-task timings for the benchmark
description: Writes per-task wall and summed host times to the file named by BENCH_TASK_TIMES.
requirements:
  - enable in callbacks_enabled
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tasks = {}
        self._order = []
        self._starts = {}
        self._began = time.monotonic()

    def _task(self, task):
        key = task._uuid
        if key not in self._tasks:
            name = task.get_name()
            role = getattr(task, "_role", None)
            if role is not None and not name.startswith(role.get_name()):
                name = "%s : %s" % (role.get_name(), name)
            self._tasks[key] = {"name": name, "first": None, "last": None, "host_seconds": 0.0, "hosts": 0}
            self._order.append(key)
        return self._tasks[key]

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task(task)

    def v2_runner_on_start(self, host, task):
        now = time.monotonic()
        entry = self._task(task)
        self._starts[(host.get_name(), task._uuid)] = now
        if entry["first"] is None:
            entry["first"] = now

    def _done(self, result):
        now = time.monotonic()
        task = result._task
        entry = self._task(task)
        started = self._starts.pop((result._host.get_name(), task._uuid), None)
        if started is not None:
            entry["host_seconds"] += now - started
            entry["hosts"] += 1
        if entry["first"] is None:
            entry["first"] = now
        entry["last"] = now

    def v2_runner_on_ok(self, result):
        self._done(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._done(result)

    def v2_runner_on_skipped(self, result):
        self._done(result)

    def v2_runner_on_unreachable(self, result):
        self._done(result)

    def v2_playbook_on_stats(self, stats):
        tasks = []
        for key in self._order:
            entry = self._tasks[key]
            if entry["first"] is None:
                continue
            tasks.append({"name": entry["name"], "wall": (entry["last"] or entry["first"]) - entry["first"],
                          "host_seconds": entry["host_seconds"], "hosts": entry["hosts"]})
        target = os.environ.get("BENCH_TASK_TIMES")
        if target:
            with open(target, "w", encoding="utf-8") as stream:
                json.dump({"tasks": tasks, "playbook_wall": time.monotonic() - self._began}, stream, indent=1)
