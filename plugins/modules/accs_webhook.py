#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: accs_webhook
short_description: Hold ACCS webhooks (App Builder) in a declared state
version_added: 0.2.0
description:
  - Registers, changes and removes Commerce webhooks through C(/V1/webhooks/list), C(subscribe) and C(unsubscribe).
  - A webhook is named by C(webhook_method) (with C(plugin.magento.) read as C(plugin.), as Commerce stores it),
    C(webhook_type), C(batch_name) and C(hook_name). The API has no update, so a changed webhook is unsubscribed and
    subscribed again (C(recreated) in RV(changes)).
  - Only the keys a declaration sets are compared; C(fields), C(rules) and C(headers) are compared as sets.
  - C(developer_console_oauth.client_secret) is write-only, since ACCS echoes it masked. It is never compared, it is
    sent when the webhook is created or recreated, and never shown. Values of O(sensitive_headers) are compared but
    never shown.
  - Before a webhook is created or recreated its C(webhook_method) is checked against
    C(GET /V1/webhooks/supportedList); an unknown one is refused before any write, naming near matches.
author:
  - adobe_commerce.accs maintainers (@adobe-commerce-accs)
extends_documentation_fragment:
  - adobe_commerce.accs.accs
  - adobe_commerce.accs.ownership
  - adobe_commerce.accs.resource_results
  - adobe_commerce.accs.vault
  - adobe_commerce.accs.ims
  - adobe_commerce.accs.http
options:
  webhooks:
    description: The webhooks, as C(POST /V1/webhooks/subscribe) takes them, each with a O(webhooks[].state).
    type: list
    elements: dict
    required: true
    suboptions:
      webhook_method:
        description:
          - Commerce method, like C(observer.checkout_cart_product_add_before) or
            C(plugin.magento.catalog.api.product_repository.save).
        type: str
        required: true
      webhook_type: {description: "When the hook runs.", type: str, required: true, choices: [before, after]}
      batch_name: {description: "Batch name (letters, digits, underscores); start it with O(owner_prefix).", type: str, required: true}
      hook_name: {description: "Hook name: letters, digits and underscores, at most 128.", type: str, required: true}
      url: {description: "The App Builder action's URL (required unless O(webhooks[].state=absent)).", type: str}
      method: {description: "HTTP method Commerce calls the URL with.", type: str}
      priority: {description: "Order of the hook in its batch.", type: int}
      required: {description: "Whether Commerce stops when the hook fails.", type: bool}
      soft_timeout: {description: "Milliseconds after which Commerce logs a slow hook.", type: int}
      timeout: {description: "Milliseconds Commerce waits.", type: int}
      ttl: {description: "Milliseconds Commerce caches the answer.", type: int}
      fallback_error_message: {description: "Message shown when the hook fails.", type: str}
      batch_order: {description: "Order of the batch (applies to every hook of the batch).", type: int}
      fields:
        description: Payload fields, each C(name) and C(source).
        type: list
        elements: dict
        suboptions:
          name: {description: "Field name.", type: str, required: true}
          source: {description: "Where the value comes from.", type: str}
      rules:
        description: Conditions, each C(field), C(operator) and C(value).
        type: list
        elements: dict
        suboptions:
          field: {description: "Field the rule tests.", type: str, required: true}
          operator: {description: "greaterThan, lessThan, equal, notEqual, regex, in, isEmpty or notEmpty.", type: str, required: true}
          value: {description: "Value to test against.", type: str}
      headers:
        description: Headers Commerce sends, each C(name) and C(value).
        type: list
        elements: dict
        suboptions:
          name: {description: "Header name.", type: str, required: true}
          value: {description: "Header value (hidden when the name is in O(sensitive_headers)).", type: str, required: true}
      developer_console_oauth:
        description: Developer Console OAuth credential Commerce signs calls with.
        type: dict
        suboptions:
          client_id: {description: "OAuth client id.", type: str, required: true}
          client_secret: {description: "OAuth client secret (write-only, never compared or shown).", type: str, required: true}
          org_id: {description: "IMS organization id.", type: str, required: true}
          environment: {description: "IMS environment (ACCS's default: production).", type: str, choices: [production, staging]}
      state: {description: "Whether the webhook is registered.", type: str, choices: [present, absent], default: present}
  sensitive_headers:
    description: Header names (case-insensitive) whose values are never shown. Default C(Authorization), C(Proxy-Authorization), C(X-Api-Key), C(Cookie).
    type: list
    elements: str
attributes:
  check_mode:
    support: full
    description: Lists and compares; sends no write.
  diff_mode:
    support: full
    description: Before and after of each webhook that differs, secrets masked.
requirements:
  - requests
  - hvac (with O(vault_path))
'''

EXAMPLES = r'''
- name: Declare the webhooks
  adobe_commerce.accs.accs_webhook:
    base_url: "{{ accs_base_url }}"
    vault_path: "{{ accs_vault_path }}"
    ims_url: "{{ accs_ims_url | default(omit) }}"
    ca_path: "{{ accs_ca_path | default(omit) }}"
    owner_prefix: orderapp_
    prune: true
    webhooks:
      - webhook_method: observer.checkout_cart_product_add_before
        webhook_type: before
        batch_name: orderapp_cart
        hook_name: orderapp_validate_stock
        url: https://1234-orderapp.adobeioruntime.net/api/v1/web/orderapp/validate-stock
        timeout: 2000
        soft_timeout: 1000
        required: true
        fields:
          - name: product.sku
            source: data.product.sku
        headers:
          - name: Authorization
            value: "Bearer {{ orderapp_webhook_secret }}"
  register: wiring
'''

RETURN = r'''
changed:
  description: Whether anything was written (in check mode, whether it would be).
  returned: always
  type: bool
changes:
  description:
    - The webhooks that differ(ed), each with its identity, C(action) (C(created), C(updated), C(recreated), C(removed)),
      C(before) and C(after) (secrets shown as C((sensitive))).
  returned: always
  type: list
  elements: dict
unchanged:
  description: How many declared webhooks already held their state.
  returned: always
  type: int
rejected:
  description: The webhooks ACCS refused, each with its identity and Commerce's C(message) (the task then fails).
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

from ansible_collections.adobe_commerce.accs.plugins.module_utils._extensibility import WEBHOOKS
from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import run_module


def main():
    run_module(AnsibleModule, WEBHOOKS)


if __name__ == "__main__":
    main()
