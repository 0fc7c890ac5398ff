# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the extensibility role.

extensibility_merge: the fleet's and the environment's App Builder wiring, the environment winning.
extensibility_result: the role's fact from the registered answers of its steps.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._reports import report_paths
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._extensibility_role import WiringError, merge, role_result


def extensibility_merge(common, host=None):
    """{webhooks, subscriptions, providers} of ``common`` with ``host``'s items replacing those of the same identity."""
    try:
        return merge(common, host)
    except WiringError as err:
        raise AnsibleFilterError(str(err))


def extensibility_result(answers, mode="audit", check_mode=False, declared=None, error=None, require_io_ok=False,
                         name=None, base_url=None, fail_on_drift=True, report_dir=None):
    """The role's result (see the filter's documentation)."""
    if mode not in ("audit", "enforce"):
        raise AnsibleFilterError("extensibility_result: mode must be audit or enforce, not %r." % (mode,))
    if not isinstance(answers, dict):
        raise AnsibleFilterError("extensibility_result takes a dictionary of the steps' registered results.")
    try:
        result = role_result(answers, mode=mode, check_mode=bool(check_mode), declared=declared, error=error,
                             require_io_ok=bool(require_io_ok), name=name, base_url=base_url,
                             fail_on_drift=bool(fail_on_drift))
    except WiringError as err:
        raise AnsibleFilterError(str(err))
    if report_dir is not None:
        if not name:
            raise AnsibleFilterError("extensibility_result needs name (the inventory host name) with report_dir.")
        result["reports"] = report_paths(os.path.abspath(os.path.expanduser(str(report_dir))), str(name),
                                         "extensibility")
    return result


class FilterModule(object):
    def filters(self):
        return {"extensibility_merge": extensibility_merge, "extensibility_result": extensibility_result}
