# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the action plugins that write report files on the controller (accs_report, accs_fleet_report).

For internal collection use only. No module runs: the reports are rendered by _reports.py and
written here, in the controller's worker, whatever the host's connection.
"""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

from ansible_collections.adobe_commerce.accs.plugins.module_utils._files import atomic_write


class ReportAction(ActionBase):
    SPEC = None  # the action's argument spec (documented in plugins/modules/<name>.py)

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, params = self.validate_argument_spec(argument_spec=self.SPEC)
        return self.report(params, task_vars or {}, result)

    def report(self, params, task_vars, result):
        """Fill ``result`` (and write the files unless in check mode); returns it."""
        raise NotImplementedError


def write_files(texts):
    """Write ``{path: text}``, each atomically, creating the folders; raises OSError."""
    for path, text in texts.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write(path, text)


def host_variables(hostvars, host, names):
    """``{name: value}`` of ``host``'s variables ``names``; an undefined or untemplatable one reads as None.

    ``hostvars[host]`` computes all of the host's variables on every access: read it once per host (a fleet
    report over a thousand hosts would otherwise compute them several thousand times)."""
    try:
        variables = hostvars[host]
    except Exception:  # an unknown host
        return dict.fromkeys(names)
    out = {}
    for name in names:
        try:
            out[name] = variables.get(name)
        except Exception:  # an undefined or untemplatable variable reads as absent
            out[name] = None
    return out
