# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write an environment's audit or access-check reports on the controller, in-process.

Documentation: plugins/modules/accs_report.py.
"""

from __future__ import annotations

import os

from ansible_collections.adobe_commerce.accs.plugins.plugin_utils import _reports as audit
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._report_action import ReportAction, write_files

SPEC = dict(
    kind=dict(type="str", required=True,
              choices=["store-config", "access-check", "system-config", "system-config-promotion", "extensibility"]),
    dest=dict(type="path", required=True),
    name=dict(type="str"),
    result=dict(type="dict", required=True),
    base_url=dict(type="str"),
)


class ActionModule(ReportAction):
    SPEC = SPEC

    def report(self, params, task_vars, result):
        name = params["name"] or task_vars.get("inventory_hostname") or "localhost"
        directory = os.path.abspath(params["dest"])
        kind = params["kind"]
        data = params["result"]
        paths = audit.report_paths(directory, name, kind)
        moment = audit.now_utc()
        texts = audit.render_reports(kind, name, data, params["base_url"], moment)
        result.update(files=paths, changed=True)
        if kind == "store-config" and data.get("drift") and self._task.diff:
            result["diff"] = audit.drift_diff(name, data)
        if self._task.check_mode:
            result["msg"] = "Check mode: the reports were not written to %s." % directory
            return result
        try:
            write_files({path: texts[key] for key, path in paths.items()})
        except OSError as exc:
            result.pop("diff", None)
            variable = {"store-config": "accs_audit_report_dir", "system-config": "accs_audit_report_dir",
                        "extensibility": "accs_audit_report_dir",
                        "system-config-promotion": "accs_promote_report_dir"}.get(kind, "accs_access_check_report_dir")
            result.update(failed=True, changed=False, msg=(
                "Cannot write the reports to %s (%s): point dest (%s in the role) at a writable directory."
                % (directory, exc.strerror or type(exc).__name__, variable)))
            return result
        result["msg"] = "Reports written to %s." % directory
        return result
