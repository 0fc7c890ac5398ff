#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: accs_system_config_info
short_description: Read ACCS system configuration in the shape accs_system_config takes
version_added: 0.2.0
description:
  - Reads values of the Admin's Stores > Configuration tree through ACCS's C(GET /V1/system/config).
  - Given O(paths), one filtered C(GET) per scope and scope code; without, every path visible to the credential,
    paged (500 per page) until C(total_count).
  - Returns RV(settings) in exactly the shape M(adobe_commerce.accs.accs_system_config) takes, so an export from one
    environment can be applied to another unchanged.
  - Values of O(sensitive_paths) are left out of RV(settings) and listed in RV(sensitive_left_out), unless
    O(reveal_sensitive=true). Unset values (null) are left out too, since they cannot be written.
author:
  - adobe_commerce.accs maintainers (@adobe-commerce-accs)
extends_documentation_fragment:
  - adobe_commerce.accs.accs
  - adobe_commerce.accs.accs.sensitive_paths
  - adobe_commerce.accs.vault
  - adobe_commerce.accs.ims
  - adobe_commerce.accs.http
options:
  paths:
    description: Exact configuration paths to read. Leave out to read every visible path.
    type: list
    elements: str
  scope:
    description: The scope to read (V(default) when neither this nor O(config_scopes) is given).
    type: str
    choices: [default, website, store]
  scope_code:
    description: Website code or store view code for O(scope).
    type: str
  config_scopes:
    description: Several scopes to read, each a O(scope) and O(scope_code).
    type: list
    elements: dict
    suboptions:
      scope:
        description: The scope.
        type: str
        choices: [default, website, store]
        default: default
      scope_code:
        description: Website code or store view code.
        type: str
  include:
    description: Glob patterns of paths to keep (all when left out), applied after reading.
    type: list
    elements: str
  exclude:
    description: Glob patterns of paths to drop, applied after reading.
    type: list
    elements: str
  reveal_sensitive:
    description:
      - Return the values of O(sensitive_paths) too. The whole result is then hidden from output and logs, as if the
        task had C(no_log), while C(register) still gets it.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Nothing to show.
requirements:
  - requests
  - hvac (with O(vault_path))
seealso:
  - module: adobe_commerce.accs.accs_system_config
'''

EXAMPLES = r'''
- name: Read the locale and currency settings of the default scope and the base website
  adobe_commerce.accs.accs_system_config_info:
    base_url: "{{ accs_base_url }}"
    vault_path: "{{ accs_vault_path }}"
    ims_url: "{{ accs_ims_url | default(omit) }}"
    ca_path: "{{ accs_ca_path | default(omit) }}"
    config_scopes:
      - scope: default
      - scope: website
        scope_code: base
    include: ["general/locale/*", "currency/*"]
  register: exported

- name: Apply the export to another environment unchanged
  adobe_commerce.accs.accs_system_config:
    base_url: "{{ accs_base_url }}"
    vault_path: "{{ accs_vault_path }}"
    ims_url: "{{ accs_ims_url | default(omit) }}"
    ca_path: "{{ accs_ca_path | default(omit) }}"
    settings: "{{ exported.settings }}"
  check_mode: true
'''

RETURN = r'''
settings:
  description: The values read, each C(path), C(value), C(scope) and (except at default scope) C(scope_code).
  returned: always
  type: list
  elements: dict
  sample: [{"path": "general/locale/code", "value": "en_US", "scope": "default"}]
sensitive_left_out:
  description: Sensitive settings whose values were not returned (path, scope, scope_code).
  returned: always
  type: list
  elements: dict
unset:
  description: How many paths read as unset (null) and were left out.
  returned: always
  type: int
revealed_sensitive:
  description: How many sensitive values RV(settings) holds (non-zero only with O(reveal_sensitive=true)).
  returned: always
  type: int
requests:
  description: Requests sent to ACCS, by HTTP method.
  returned: always
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.adobe_commerce.accs.plugins.module_utils._system_config import SYSTEM_CONFIG_INFO
from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import run_module


def main():
    run_module(AnsibleModule, SYSTEM_CONFIG_INFO)


if __name__ == "__main__":
    main()
