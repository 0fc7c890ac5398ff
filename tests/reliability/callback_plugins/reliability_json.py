# -*- coding: utf-8 -*-
"""Test-only notification callback: every task result as one JSON line.

ansible-core 2.19-2.21 ships no JSON stdout callback (ansible.posix.json is not installed
here), so the reliability suite enables this one beside the default callback.  It writes
one line per event to the file named by ``RELIABILITY_JSON_LOG``:

    {"event": "ok|failed|skipped|unreachable|item_ok|item_failed|item_skipped",
     "host": ..., "task": ..., "ignore_errors": bool, "result": {...}}

The result is what stdout callbacks print (internal keys stripped, no_log results censored
by Ansible), so this file is one more output the secret scan reads.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: reliability_json
    type: notification
    short_description: task results as JSON lines (adobe_commerce.accs reliability suite)
    description:
      - Writes every task result as one JSON line to the file named by RELIABILITY_JSON_LOG.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "reliability_json"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("RELIABILITY_JSON_LOG")

    def _write(self, event, result):
        if not self._path:
            return
        raw = result._result  # 2.19-2.21
        try:
            text = self._dump_results(raw, indent=None)
            data = json.loads(text)
        except Exception as exc:  # noqa: BLE001 - keep the event, say why the result is missing
            data = {"_unserializable": type(exc).__name__}
        task = result._task
        line = {
            "event": event,
            "host": result._host.get_name(),
            "task": task.get_name(),
            "ignore_errors": bool(getattr(task, "ignore_errors", False)),
            "result": data,
        }
        with open(self._path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(line, sort_keys=True) + "\n")

    def v2_runner_on_ok(self, result, *args, **kwargs):
        self._write("ok", result)

    def v2_runner_on_failed(self, result, *args, **kwargs):
        self._write("failed", result)

    def v2_runner_on_skipped(self, result, *args, **kwargs):
        self._write("skipped", result)

    def v2_runner_on_unreachable(self, result, *args, **kwargs):
        self._write("unreachable", result)

    def v2_runner_item_on_ok(self, result, *args, **kwargs):
        self._write("item_ok", result)

    def v2_runner_item_on_failed(self, result, *args, **kwargs):
        self._write("item_failed", result)

    def v2_runner_item_on_skipped(self, result, *args, **kwargs):
        self._write("item_skipped", result)
