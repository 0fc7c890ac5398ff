# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Audit one ACCS environment in one task, in the controller's worker, whatever the host's connection.

Documentation: plugins/modules/accs_audit.py. The work is plugin_utils/_environment_audit.py.
"""

from __future__ import annotations

from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import (
    ACCS_AUDIT_SPEC,
    ACCS_CONNECTION_RULES,
)
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._engine_action import EngineAction
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._environment_audit import (
    PARTS,
    EnvironmentAudit,
    options_from_variables,
    plain,
)
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._report_action import write_files


class ActionModule(EngineAction):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(EngineAction, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)
        if args.get("variables"):
            def variable(name):
                return self._templar.template(task_vars[name]) if name in task_vars else None

            try:
                args = options_from_variables(args, variable, args.get("parts") or [p for p, _k, _r in PARTS])
            except ValueError as err:  # a declaration variable of the wrong shape: the roles' sentence
                result.update(failed=True, msg="%s: %s" % (task_vars.get("inventory_hostname", "localhost"), err))
                return result
        self._task.args = plain(args)  # validated below (a deep copy: fast over plain data)

        def audit(params, hidden, warnings):
            name = params["name"] or task_vars.get("inventory_hostname") or "localhost"
            check_mode = bool(self._task.check_mode)
            environment = EnvironmentAudit(params, name, check_mode, warnings)
            environment.prepare()
            hidden |= environment.hidden
            results = environment.run()
            token = results.pop("token", {})
            # changed: something differs from its declaration, as the resource modules say in check mode (so that
            # --diff shows it); nothing is written to ACCS
            out = dict(results, changed=any((results.get(key) or {}).get("drift")
                                            for key in ("store_config", "system_config", "extensibility")), **token)
            failures = environment.failures(results)
            if not check_mode:
                try:
                    write_files(environment.report_texts(results))
                except OSError as exc:  # the parts were audited, but nothing says so: each part is an error
                    unwritten = ("Cannot write the reports to %s (%s): point report_dir (accs_audit_report_dir) at a "
                                 "writable directory." % (environment.directory, exc.strerror or type(exc).__name__))
                    failures.append("%s: %s" % (name, unwritten))
                    for _part, key, kind in PARTS:
                        if kind and key in out:
                            out[key].update(passed=False, error=unwritten, message=unwritten, reports_written=False)
            out["failures"] = failures
            diff = environment.diff(results) if self._task.diff else []
            if diff:
                out["diff"] = diff
            out["msg"] = " ".join(failures) if failures else "%s: %s" % (name, _summary(results))
            if failures and params["fail"]:
                out["failed"] = True
            return out

        return self._run_in_process(result, ACCS_AUDIT_SPEC, ACCS_CONNECTION_RULES, audit)


def _summary(results):
    said = []
    if "store_config" in results:
        said.append("store configuration: " + results["store_config"]["message"])
    if "system_config" in results:
        said.append("system configuration: " + results["system_config"]["message"])
    if "extensibility" in results:
        said.append("App Builder wiring: " + results["extensibility"]["message"])
    if "credential_health" in results:
        said.append("credential %s: %s" % (results["credential_health"]["state"], results["credential_health"]["reason"]))
    return " ".join(part if part.endswith(".") else part + "." for part in said) or "nothing to audit was given."
