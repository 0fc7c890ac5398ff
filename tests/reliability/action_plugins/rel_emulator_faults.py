# -*- coding: utf-8 -*-
"""Test-only action: set the emulator's fault queue from inside a play, right before a case.

    - rel_emulator_faults:
        url: "{{ emu_url }}"
        ca: "{{ emu_ca }}"
        faults: [{match: ims.token, status: 429, retry_after: 1}]

Clears the queue first, so a case that consumed fewer faults than planned cannot shift the
faults of the cases after it.  Runs in the controller (no module process): it costs
milliseconds.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        import requests

        result = super().run(tmp, task_vars)
        args = self._task.args
        base = str(args["url"]).rstrip("/") + "/_control"
        ca = args.get("ca")
        session = requests.Session()
        session.trust_env = False
        try:
            answer = session.delete(base + "/faults", verify=ca, timeout=10)
            answer.raise_for_status()
            for fault in args.get("faults") or []:
                answer = session.post(base + "/faults", json=dict(fault), verify=ca, timeout=10)
                answer.raise_for_status()
        except requests.RequestException as exc:
            raise AnsibleActionFail("emulator control failed: %s" % type(exc).__name__)
        result.update(changed=False, queued=len(args.get("faults") or []))
        return result
