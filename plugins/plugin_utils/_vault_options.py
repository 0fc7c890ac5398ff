# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Vault options of a controller plugin that documents them with the ``vault`` doc fragment
(the lookup, an inventory plugin), as modules get them from VAULT_SPEC.

For internal collection use only. A plugin's options come from its documentation: keyword
arguments, then the ``env`` entries of ``adobe_commerce.accs.vault.plugins``. What ``env`` cannot
say, the spec's own fallback adds for an option left at its default: ``VAULT_SKIP_VERIFY=true`` is
``vault_validate_certs: false``.
"""

from __future__ import annotations

from ansible.errors import AnsibleOptionsError
from ansible.module_utils.basic import AnsibleFallbackNotFound, env_fallback

from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import VAULT_SPEC, VaultOptions


def plugin_option(plugin, name):
    """The value of option ``name`` of ``plugin`` (an AnsiblePlugin whose options are set), None when it has none."""
    try:
        value, origin = plugin.get_option_and_origin(name)
    except KeyError:
        return None
    strategy, *arguments = VAULT_SPEC.get(name, {}).get("fallback", (None,))
    if origin != "default" or strategy in (None, env_fallback):
        return value
    try:
        fallback = strategy(*(arguments[0] if arguments else ()))
    except AnsibleFallbackNotFound:
        return value
    if VAULT_SPEC[name].get("type") == "bool" and not isinstance(fallback, bool):
        raise AnsibleOptionsError("Option %s got %r from the environment (%s), which is not a boolean: use true or "
                                  "false." % (name, fallback, ", ".join(arguments[0])))
    return fallback


def vault_options(plugin):
    """The plugin's VaultOptions (defaults from the spec, as for modules)."""
    return VaultOptions.from_params(lambda name: plugin_option(plugin, name))
