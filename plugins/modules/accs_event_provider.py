#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: accs_event_provider
short_description: Hold ACCS event providers in a declared state
version_added: 0.2.0
description:
  - Adds, changes and removes the extra Adobe I/O event providers of an ACCS instance through
    C(/V1/eventing/eventProvider).
  - A provider is named by C(provider_id). C(label), C(description) and C(instance_id) are compared when set and
    changed with a C(PUT).
  - C(workspace_configuration) is write-only and secret, since ACCS echoes it masked. It is sent when the provider is
    created, or on every run with O(update_workspace_configuration=always), and never shown.
  - The default provider lives in the eventing configuration; declaring it is refused (use
    M(adobe_commerce.accs.accs_eventing_config) when it exists in this collection, or the Admin).
  - Removing a provider that enabled subscriptions still use is refused by ACCS, naming them; remove those
    subscriptions first (the C(extensibility) role orders it so).
author:
  - adobe_commerce.accs maintainers (@adobe-commerce-accs)
extends_documentation_fragment:
  - adobe_commerce.accs.accs
  - adobe_commerce.accs.resource_results
  - adobe_commerce.accs.vault
  - adobe_commerce.accs.ims
  - adobe_commerce.accs.http
options:
  providers:
    description: The providers, each with a O(providers[].state).
    type: list
    elements: dict
    required: true
    suboptions:
      provider_id: {description: "The Adobe I/O provider id (it must exist in Adobe I/O Events).", type: str, required: true}
      instance_id: {description: "Instance id (required by ACCS on create).", type: str}
      label: {description: "Label.", type: str}
      description: {description: "Description.", type: str}
      workspace_configuration: {description: "The Developer Console workspace configuration (JSON text or a dictionary); secret.", type: raw}
      state: {description: "Whether the provider exists.", type: str, choices: [present, absent], default: present}
  update_workspace_configuration:
    description: When O(providers[].workspace_configuration) is sent (it cannot be compared).
    type: str
    choices: [on_create, always]
    default: on_create
attributes:
  check_mode:
    support: full
    description: Lists and compares; sends no write.
  diff_mode:
    support: full
    description: Before and after of each provider that differs, secrets masked.
requirements:
  - requests
  - hvac (with O(vault_path))
'''

EXAMPLES = r'''
- name: Declare the event providers
  adobe_commerce.accs.accs_event_provider:
    base_url: "{{ accs_base_url }}"
    vault_path: "{{ accs_vault_path }}"
    ims_url: "{{ accs_ims_url | default(omit) }}"
    ca_path: "{{ accs_ca_path | default(omit) }}"
    providers:
      - provider_id: 1902bc50-2d7e-41e8-955b-af4a9667823f
        instance_id: orderapp-production
        label: Order app events
        workspace_configuration: "{{ lookup('ansible.builtin.file', 'workspace.json') }}"
  register: wiring
'''

RETURN = r'''
changed:
  description: Whether anything was written (in check mode, whether it would be).
  returned: always
  type: bool
changes:
  description:
    - The event providers that differ(ed), each with its identity, C(action) (C(created), C(updated), C(recreated), C(removed)),
      C(before) and C(after) (secrets shown as C((sensitive))).
  returned: always
  type: list
  elements: dict
unchanged:
  description: How many declared event providers already held their state.
  returned: always
  type: int
rejected:
  description: The event providers ACCS refused, each with its identity and Commerce's C(message) (the task then fails).
  returned: always
  type: list
  elements: dict
requests:
  description: Requests sent to ACCS, by HTTP method.
  returned: always
  type: dict
diff:
  description: Before and after of each change, shown by C(--diff).
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.adobe_commerce.accs.plugins.module_utils._extensibility import EVENT_PROVIDERS
from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import run_module


def main():
    run_module(AnsibleModule, EVENT_PROVIDERS)


if __name__ == "__main__":
    main()
