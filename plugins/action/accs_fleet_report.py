# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One self-contained HTML page for a whole audit run, from every environment's fact in hostvars.

Runs inside the controller's worker. Documentation: plugins/modules/accs_fleet_report.py.
"""

from __future__ import annotations

import os

from ansible_collections.adobe_commerce.accs.plugins.plugin_utils import _reports as audit
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._report_action import (
    ReportAction,
    host_variables,
    write_files,
)

SPEC = dict(
    hosts=dict(type="list", elements="str", required=True),
    dest=dict(type="path", required=True),
    fact=dict(type="str", default="accs_store_config_audit"),
    title=dict(type="str", default="ACCS store configuration audit"),
    system_config_fact=dict(type="str", default="accs_system_config_result"),
    extensibility_fact=dict(type="str", default="accs_extensibility_result"),
    health_fact=dict(type="str", default="accs_credential_health"),
    audit_result=dict(type="str", default="accs_audit"),
)
# the parts of a registered accs_audit result, and the fact option each one stands for
AUDIT_PARTS = (("store_config", "fact"), ("system_config", "system_config_fact"),
               ("extensibility", "extensibility_fact"), ("credential_health", "health_fact"))


def _system_config_lines(rows, summary):
    sc = summary.get("system_config")
    if not sc:
        return []
    by_name = {row["name"]: row["system_config"] for row in rows if row.get("system_config")}
    checked = len(sc["checked"])
    lines = ["%d of %d environment%s checked hold%s the declared system configuration." % (
        len(sc["in_sync"]), checked, "" if checked == 1 else "s", "s" if checked == 1 and len(sc["in_sync"]) == 1
        else "")]
    if sc["drifted"]:
        lines.append("System configuration drifted: %s." % ", ".join(
            "%s (%d setting%s)" % (n, len(by_name[n]["drift"]), "" if len(by_name[n]["drift"]) == 1 else "s")
            for n in sc["drifted"]))
    if sc["changed"]:
        lines.append("System configuration %s: %s." % (
            "to change" if any(by_name[n].get("check_mode") for n in sc["changed"]) else "changed", ", ".join(
                "%s (%d setting%s)" % (n, len(by_name[n]["changes"]), "" if len(by_name[n]["changes"]) == 1 else "s")
                for n in sc["changed"])))
    if sc["rejected"]:
        lines.append("System configuration rejected items: %s." % ", ".join(
            "%s (%d)" % (n, len(by_name[n]["rejected"])) for n in sc["rejected"]))
    if sc["errors"]:
        lines.append("System configuration not checked: %s." % ", ".join(sc["errors"]))
    return lines


class ActionModule(ReportAction):
    SPEC = SPEC

    def report(self, params, task_vars, result):
        hostvars = task_vars.get("hostvars") or {}
        dest = os.path.abspath(params["dest"])
        rows = []
        failed_hosts = []  # whose accs_audit result has failures: the playbooks fail them in their last play
        for host in params["hosts"]:
            if host not in hostvars:
                rows.append(audit.fleet_row(host, None))
                continue
            names = [params["audit_result"], "accs_base_url"] + [params[option] for _key, option in AUDIT_PARTS]
            variables = host_variables(hostvars, host, names)
            audited = variables[params["audit_result"]]
            audited = audited if isinstance(audited, dict) else {}
            if audited.get("failures") or audited.get("failed"):
                failed_hosts.append(host)
            # a part accs_audit returned, else the fact its role set
            part = {option: audited[key] if isinstance(audited.get(key), dict) else variables[params[option]]
                    for key, option in AUDIT_PARTS}
            part = {option: value if isinstance(value, dict) else None for option, value in part.items()}
            if audited.get("failed") and not any(part.values()):  # the task itself failed (e.g. a bad option)
                part["fact"] = audit.error_result(audited.get("msg") or "The audit of this environment failed.")
            rows.append(audit.fleet_row(host, part["fact"], base_url=variables["accs_base_url"],
                                        system_config=part["system_config_fact"],
                                        extensibility=part["extensibility_fact"]))
            # the credential health column group, when accs_audit or the credential_health role ran earlier
            if part["health_fact"] is not None:
                rows[-1]["credential_health"] = part["health_fact"]
        summary = audit.fleet_summary(rows)
        text = audit.render_fleet_html(rows, title=params["title"], html_dir=os.path.dirname(dest))
        lines = ["%d of %d environment%s passed the store configuration audit." % (
            len(summary["passed"]), summary["total"], "" if summary["total"] == 1 else "s")]
        if summary["drifted"]:
            lines.append("Drifted: %s." % ", ".join(
                "%s (%d drift%s)" % (row["name"], len(row["result"].get("drift") or []),
                                     "" if len(row["result"].get("drift") or []) == 1 else "s")
                for row in rows if row["name"] in summary["drifted"]))
        if summary["errors"]:
            lines.append("Not audited: %s." % ", ".join(summary["errors"]))
        lines.extend(_system_config_lines(rows, summary))
        directories = sorted(set(os.path.dirname(path) for row in rows
                                 for path in (row["reports"] or {}).values() if path))
        if directories:
            lines.append("Per-environment reports (json, junit.xml, md): %s" % ", ".join(directories))
        result.update(changed=True, path=dest, total=summary["total"], passed=summary["passed"],
                      drifted=summary["drifted"], errors=summary["errors"], failed_hosts=failed_hosts)
        if summary.get("system_config"):
            result["system_config"] = summary["system_config"]
        if self._task.check_mode:
            lines.append("Check mode: no fleet report was written (it would be %s)." % dest)
            result.update(summary=lines, msg=lines[-1])
            return result
        try:
            write_files({dest: text})
        except OSError as exc:
            result.update(failed=True, changed=False, summary=lines, msg=(
                "Cannot write the fleet report %s (%s): set accs_fleet_report_path to a writable location."
                % (dest, exc.strerror or type(exc).__name__)))
            return result
        lines.append("Fleet report: %s" % dest)
        result.update(summary=lines, msg="Fleet report written to %s." % dest)
        return result
