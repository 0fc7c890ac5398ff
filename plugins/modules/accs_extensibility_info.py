#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: accs_extensibility_info
short_description: Read ACCS webhooks, event subscriptions and providers in the shapes the modules take
version_added: 0.2.0
description:
  - Lists webhooks, event subscriptions and extra event providers (one list call each), the supported webhook methods
    and event codes, and the Adobe I/O Events check.
  - RV(webhooks), RV(subscriptions) and RV(providers) are in the shapes M(adobe_commerce.accs.accs_webhook),
    M(adobe_commerce.accs.accs_event_subscription) and M(adobe_commerce.accs.accs_event_provider) take. Secrets
    cannot be exported, since ACCS masks them; a webhook's C(developer_console_oauth.client_secret) and a
    provider's C(workspace_configuration) are left out and must be added from Vault before applying elsewhere.
author:
  - adobe_commerce.accs maintainers (@adobe-commerce-accs)
extends_documentation_fragment:
  - adobe_commerce.accs.accs
  - adobe_commerce.accs.vault
  - adobe_commerce.accs.ims
  - adobe_commerce.accs.http
options:
  gather:
    description: What to read (everything when left out).
    type: list
    elements: str
    choices: [webhooks, subscriptions, providers, supported, check]
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
'''

EXAMPLES = r'''
- name: Export the App Builder wiring of an environment
  adobe_commerce.accs.accs_extensibility_info:
    base_url: "{{ accs_base_url }}"
    vault_path: "{{ accs_vault_path }}"
    ims_url: "{{ accs_ims_url | default(omit) }}"
    ca_path: "{{ accs_ca_path | default(omit) }}"
    gather: [webhooks, subscriptions, providers]
  register: wiring
'''

RETURN = r'''
webhooks:
  description: Registered webhooks, without the OAuth client secret.
  returned: when gathered
  type: list
  elements: dict
subscriptions:
  description: Enabled event subscriptions.
  returned: when gathered
  type: list
  elements: dict
providers:
  description: Extra event providers (not the default one), without workspace configuration.
  returned: when gathered
  type: list
  elements: dict
supported_webhooks:
  description: Webhook methods ACCS supports.
  returned: when C(supported) is gathered
  type: list
  elements: str
supported_events:
  description: Event codes ACCS supports.
  returned: when C(supported) is gathered
  type: list
  elements: str
check:
  description: The answer of C(GET /V1/adobe_io_events/check_configuration).
  returned: when gathered
  type: dict
requests:
  description: Requests sent to ACCS, by HTTP method.
  returned: always
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.adobe_commerce.accs.plugins.module_utils._extensibility import EXTENSIBILITY_INFO
from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import run_module


def main():
    run_module(AnsibleModule, EXTENSIBILITY_INFO)


if __name__ == "__main__":
    main()
