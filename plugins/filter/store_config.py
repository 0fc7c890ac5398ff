# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the audit roles.

store_config_drift: compare ACCS store answers with expected values and built-in rules.
accs_report_paths: where accs_report writes an environment's reports.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._drift import (
    AuditInputError,
    compute_drift,
    error_result,
)
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._reports import report_paths


def store_config_drift(answers, expected=None, rules=None, report_dir=None, name=None, error=None):
    """The audit result of one environment (see the filter's documentation)."""
    try:
        if error is not None:
            result = error_result(str(error))
        else:
            result = compute_drift(answers, expected=expected, rules=rules)
    except AuditInputError as err:
        raise AnsibleFilterError(str(err))
    if report_dir is not None:
        if not name:
            raise AnsibleFilterError("store_config_drift needs name (the inventory host name) with report_dir.")
        result["reports"] = accs_report_paths(report_dir, name, "store-config")
    return result


def accs_report_paths(directory, name, kind="store-config"):
    """Absolute paths of the reports accs_report writes for environment ``name`` in ``directory``."""
    if kind not in ("store-config", "access-check", "system-config", "system-config-promotion"):
        raise AnsibleFilterError("accs_report_paths: kind must be store-config, access-check, system-config or "
                                 "system-config-promotion.")
    if not directory or not name:
        raise AnsibleFilterError("accs_report_paths needs the report directory and the environment name.")
    return report_paths(os.path.abspath(os.path.expanduser(str(directory))), str(name), kind)


class FilterModule(object):
    def filters(self):
        return {"store_config_drift": store_config_drift, "accs_report_paths": accs_report_paths}
