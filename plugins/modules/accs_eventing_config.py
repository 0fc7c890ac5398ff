#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: accs_eventing_config
short_description: Set up ACCS eventing (the default event provider) and run the Adobe I/O Events check
version_added: 0.2.0
description:
  - Sends C(PUT /V1/eventing/updateConfiguration) when the default event provider is missing or has no workspace
    configuration, or always with O(force=true). Nothing reads this configuration back, so that is the only way to
    stay idempotent (the same rule Adobe's SDK follows).
  - Without O(force), a default provider that exists keeps its provider and instance ids, merchant and environment;
    only a missing workspace configuration is added.
  - Then reads C(GET /V1/adobe_io_events/check_configuration) into RV(check); with O(require_ok=true) the task fails
    with a sentence naming each failed check.
author:
  - adobe_commerce.accs maintainers (@adobe-commerce-accs)
extends_documentation_fragment:
  - adobe_commerce.accs.accs
  - adobe_commerce.accs.vault
  - adobe_commerce.accs.ims
  - adobe_commerce.accs.http
options:
  enabled:
    description: Whether eventing is on.
    type: bool
    default: true
  merchant_id:
    description: Merchant id (letters, digits, underscores).
    type: str
  environment_id:
    description: Environment id (letters, digits, underscores).
    type: str
  provider_id:
    description: The default provider's Adobe I/O id.
    type: str
  instance_id:
    description: The default provider's instance id.
    type: str
  workspace_configuration:
    description: The Developer Console workspace configuration (JSON text or a dictionary); secret, never shown.
    type: raw
  force:
    description: Send the configuration even when the default provider is set up.
    type: bool
    default: false
  check:
    description: Run the Adobe I/O Events check.
    type: bool
    default: true
  require_ok:
    description: Fail when the check reports a failure.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reads the default provider and runs the check; sends no configuration.
  diff_mode:
    support: none
    description: Nothing can be read back to compare.
requirements:
  - requests
  - hvac (with O(vault_path))
'''

EXAMPLES = r'''
- name: Set up eventing once and require a working Adobe I/O Events connection
  adobe_commerce.accs.accs_eventing_config:
    base_url: "{{ accs_base_url }}"
    vault_path: "{{ accs_vault_path }}"
    ims_url: "{{ accs_ims_url | default(omit) }}"
    ca_path: "{{ accs_ca_path | default(omit) }}"
    merchant_id: acme
    environment_id: production
    provider_id: ad667bc6-2d7e-41e8-955b-af4a9667823f
    instance_id: acme-production
    workspace_configuration: "{{ acme_workspace_json }}"
    require_ok: true
'''

RETURN = r'''
changed:
  description: Whether the configuration was (in check mode, would be) sent.
  returned: always
  type: bool
sent:
  description: The names of the configuration keys sent (never their values).
  returned: always
  type: list
  elements: str
check:
  description: The answer of C(GET /V1/adobe_io_events/check_configuration).
  returned: with O(check=true)
  type: dict
requests:
  description: Requests sent to ACCS, by HTTP method.
  returned: always
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.adobe_commerce.accs.plugins.module_utils._extensibility import EVENTING_CONFIG
from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import run_module


def main():
    run_module(AnsibleModule, EVENTING_CONFIG)


if __name__ == "__main__":
    main()
