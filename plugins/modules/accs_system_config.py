#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: accs_system_config
short_description: Hold ACCS system configuration (Stores > Configuration) in a declared state
version_added: 0.2.0
description:
  - Declares values of the Admin's Stores > Configuration tree (store information, locale, currency, shipping, tax,
    payment, B2B) through ACCS's C(GET) and C(PUT /V1/system/config), at default, website or store view scope.
  - Reads the current values with one C(in)-filtered C(GET) per scope and scope code, compares after normalising,
    and writes only the settings that differ, in one C(PUT) (batches of 500). A second run writes nothing.
  - ACCS answers HTTP 200 even when it rejects some settings. The module reads the answer's C(errors); the task then
    fails naming every rejected setting with Commerce's reason, and says that the other settings were saved.
  - A C(PUT) that fails in a way that leaves unknown whether it was saved (HTTP 5xx, a dropped connection) is never
    sent again blindly. The module reads the settings back and writes only what still differs, once.
  - A website or store view code that does not exist in the environment fails before anything is written.
  - Values of O(sensitive_paths) are compared but never shown. The task needs no C(no_log).
  - With a local connection the work runs in the controller's worker process (an action plugin).
author:
  - adobe_commerce.accs maintainers (@adobe-commerce-accs)
extends_documentation_fragment:
  - adobe_commerce.accs.accs
  - adobe_commerce.accs.accs.sensitive_paths
  - adobe_commerce.accs.vault
  - adobe_commerce.accs.ims
  - adobe_commerce.accs.http
options:
  settings:
    description:
      - The settings to hold. The same path, scope and scope code twice with different values is refused before any
        request.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Configuration path, for example C(general/locale/code).
        type: str
        required: true
      value:
        description:
          - The value. A string is written as it is; a number as its text; a boolean as Commerce stores it,
            C("1") or C("0"); a list joined with commas (and compared as a set).
          - Null is refused, as the API cannot remove a value (there is no "use default").
          - Numbers are compared as numbers, so C(5) matches a stored C(5.00).
        type: raw
        required: true
      scope:
        description: Where the value applies.
        type: str
        choices: [default, website, store]
        default: default
      scope_code:
        description: The website code (O(settings[].scope=website)) or store view code (O(settings[].scope=store)).
        type: str
  obscured_values:
    description:
      - ACCS may read a stored credential back as asterisks, which cannot be compared.
      - V(skip) leaves such a sensitive setting as it is, lists it in RV(unverifiable) and warns.
      - V(write) sends it on every run (the task then always reports a change for it).
    type: str
    choices: [skip, write]
    default: skip
attributes:
  check_mode:
    support: full
    description: The settings are read and compared; no C(PUT) is sent. RV(changed) says whether one would be.
  diff_mode:
    support: full
    description: Before and after of each setting that differs (sensitive values masked).
notes:
  - Reads at website or store scope are compared with what the API returns there. Adobe does not document whether
    that is the inherited (effective) value or only a value stored at that scope. If it is the effective value, a
    declared value equal to the inherited one is not written; if only stored values are returned, it is written.
    Both hold the declared effective value. See the user guide, "Configuration as code".
  - A path the API does not return (unknown, not visible at that scope, or not allowed for the credential's role) is
    treated like an unset one and written; ACCS then rejects it with its own reason.
requirements:
  - requests
  - hvac (with O(vault_path))
seealso:
  - module: adobe_commerce.accs.accs_system_config_info
'''

EXAMPLES = r'''
- name: Hold locale, currency and flat-rate shipping
  adobe_commerce.accs.accs_system_config:
    base_url: "{{ accs_base_url }}"
    vault_path: "{{ accs_vault_path }}"
    ims_url: "{{ accs_ims_url | default(omit) }}"
    ca_path: "{{ accs_ca_path | default(omit) }}"
    settings:
      - path: general/locale/code
        value: en_US
      - path: general/country/allow
        value: [US, CA, MX]
      - path: currency/options/base
        value: USD
      - path: carriers/flatrate/active
        value: true
        scope: website
        scope_code: base
      - path: carriers/flatrate/price
        value: 5
        scope: website
        scope_code: base
  register: system_config

- name: Say what was written
  ansible.builtin.debug:
    msg: "{{ system_config.changes | length }} changed, {{ system_config.unchanged }} already held"
'''

RETURN = r'''
changed:
  description: Whether settings were written (in check mode, whether they would be).
  returned: always
  type: bool
changes:
  description: The settings that differ(ed), with C(before) (null when unset) and C(after). Sensitive values read C((sensitive)).
  returned: always
  type: list
  elements: dict
  sample: [{"path": "general/locale/code", "scope": "default", "scope_code": null, "action": "updated",
            "before": "fr_FR", "after": "en_US"}]
unchanged:
  description: How many declared settings already held their value.
  returned: always
  type: int
rejected:
  description: The settings ACCS refused, with Commerce's reason (the task fails when there are any).
  returned: always
  type: list
  elements: dict
  sample: [{"path": "fictional/path", "scope": "default", "scope_code": null,
            "message": "Configuration path \"fictional/path\" was not found, is not visible for this scope, or is not allowed."}]
unverifiable:
  description: Sensitive settings ACCS reads back as asterisks, left as they are (O(obscured_values=skip)).
  returned: when there are any
  type: list
  elements: dict
requests:
  description: Requests sent to ACCS, by HTTP method.
  returned: always
  type: dict
  sample: {"GET": 2, "PUT": 1}
diff:
  description: Before and after of each changed setting, shown by C(--diff).
  returned: always
  type: list
  elements: dict
token_refreshed:
  description: Whether IMS was asked for a token during this task.
  returned: with O(vault_path) or O(client_id)
  type: bool
token_expires_at:
  description: Expiry of the access token used, ISO-8601 UTC.
  returned: with O(vault_path) or O(client_id)
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.adobe_commerce.accs.plugins.module_utils._system_config import SYSTEM_CONFIG
from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import run_module


def main():
    run_module(AnsibleModule, SYSTEM_CONFIG)


if __name__ == "__main__":
    main()
