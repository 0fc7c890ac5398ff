# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the system configuration role and playbooks (documentation: the .yml files beside this one).

system_config_merge: fleet-wide settings merged with one environment's (the environment wins).
system_config_result: the system_config role's result from a registered accs_system_config result.
system_config_scopes: every scope of an environment, as accs_system_config_info's config_scopes.
system_config_select: what an export or a promotion carries, and what it leaves out and why.
system_config_common: settings equal on every environment, split from each environment's own.
system_config_yaml: a variable file (host_vars or group_vars) holding settings, ready to commit.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._reports import report_paths
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._system_config_role import (
    SystemConfigInputError,
    common_settings,
    config_scopes,
    merge_settings,
    role_result,
    scope_parents,
    select_settings,
    settings_yaml,
)


def _guard(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except SystemConfigInputError as err:
        raise AnsibleFilterError(str(err))


def system_config_merge(common, host=None):
    """``common`` settings with ``host`` settings laid over (same path, scope and scope code: host wins)."""
    return _guard(merge_settings, common, host)


def system_config_result(answer, mode="audit", settings=None, check_mode=None, error=None, report_dir=None,
                         name=None):
    """The system_config role's result (see the filter's documentation)."""
    result = _guard(role_result, answer, mode=mode, settings=settings, check_mode=check_mode, error=error)
    if report_dir is not None:
        if not name:
            raise AnsibleFilterError("system_config_result needs name (the inventory host name) with report_dir.")
        result["reports"] = report_paths(os.path.abspath(os.path.expanduser(str(report_dir))), str(name),
                                         "system-config")
    return result


def system_config_scopes(websites, store_views=None):
    """``[{scope: default}, {scope: website, scope_code}, ..., {scope: store, scope_code}, ...]``."""
    return config_scopes(websites, store_views)


def system_config_select(settings, exclude=None, websites=None, store_views=None, target_websites=None,
                         target_store_views=None, sensitive_left_out=None):
    """``{settings, excluded}``: the settings to carry, and each one left out with its rule."""
    parents = scope_parents(websites, store_views) if websites is not None or store_views is not None else {}
    return _guard(select_settings, settings, exclude=exclude, parents=parents, target_websites=target_websites,
                  target_stores=target_store_views, sensitive_left_out=sensitive_left_out)


def system_config_common(per_host):
    """``{common, hosts}``: settings equal on every environment, and each environment's others."""
    return _guard(common_settings, per_host)


def system_config_yaml(settings, variable="accs_system_config", comments=None):
    """A YAML variable file defining ``variable`` as ``settings``, with ``comments`` on top."""
    return _guard(settings_yaml, settings, variable=variable, comments=comments)


class FilterModule(object):
    def filters(self):
        return {
            "system_config_merge": system_config_merge,
            "system_config_result": system_config_result,
            "system_config_scopes": system_config_scopes,
            "system_config_select": system_config_select,
            "system_config_common": system_config_common,
            "system_config_yaml": system_config_yaml,
        }
