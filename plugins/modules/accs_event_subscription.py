#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: accs_event_subscription
short_description: Hold ACCS event subscriptions (App Builder events) in a declared state
version_added: 0.2.0
description:
  - Subscribes, changes and unsubscribes Commerce events through C(/V1/eventing/getEventSubscriptions),
    C(eventSubscribe) and C(eventUnsubscribe).
  - A subscription is named by C(name), lower case (usually an alias C(<app>.<event code>) with C(parent) set to the
    event code). Names with upper case or hyphens are refused before any request.
  - Additive or value changes go through C(PUT eventSubscribe/{name}), which merges. Removing a field or rule, or
    changing a rule's field or operator, needs an unsubscribe and a subscribe (C(recreated) in RV(changes)).
  - C(provider_id) left out, C(default) and the default provider's id are one value. C(parent) left out, empty or
    equal to C(name) mean no parent. C(destination) is compared only when set.
  - Before a subscription is written its event code is checked against C(GET /V1/eventing/supportedList).
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
  subscriptions:
    description: The subscriptions, as C(POST /V1/eventing/eventSubscribe) takes its C(event), each with a O(subscriptions[].state).
    type: list
    elements: dict
    required: true
    suboptions:
      name: {description: "Subscription name (lower-case letters, digits, underscores, dots); start it with O(owner_prefix).", type: str, required: true}
      parent: {description: "The event code when O(subscriptions[].name) is an alias.", type: str}
      fields:
        description: Payload fields, each C(name) and optionally C(source) or C(converter).
        type: list
        elements: dict
        suboptions:
          name: {description: "Field name (C(*) for all).", type: str, required: true}
          source: {description: "Where the value comes from.", type: str}
          converter: {description: "Converter class.", type: str}
      rules:
        description: Conditions, each C(field), C(operator) and C(value).
        type: list
        elements: dict
        suboptions:
          field: {description: "Field the rule tests.", type: str, required: true}
          operator: {description: "greaterThan, lessThan, equal, regex, in or onChange.", type: str, required: true}
          value: {description: "Value to test against.", type: str}
      destination: {description: "Destination (compared only when set).", type: str}
      priority: {description: "Whether the event is sent with priority.", type: bool}
      hipaa_audit_required: {description: "Whether the event needs HIPAA auditing.", type: bool}
      provider_id: {description: "Event provider id (left out means the default provider).", type: str}
      state: {description: "Whether the subscription is enabled.", type: str, choices: [present, absent], default: present}
attributes:
  check_mode:
    support: full
    description: Lists and compares; sends no write.
  diff_mode:
    support: full
    description: Before and after of each subscription that differs, secrets masked.
requirements:
  - requests
  - hvac (with O(vault_path))
'''

EXAMPLES = r'''
- name: Declare the event subscriptions
  adobe_commerce.accs.accs_event_subscription:
    base_url: "{{ accs_base_url }}"
    vault_path: "{{ accs_vault_path }}"
    ims_url: "{{ accs_ims_url | default(omit) }}"
    ca_path: "{{ accs_ca_path | default(omit) }}"
    owner_prefix: orderapp.
    subscriptions:
      - name: orderapp.observer.sales_order_place_after
        parent: observer.sales_order_place_after
        fields:
          - name: entity_id
          - name: increment_id
        rules:
          - field: grand_total
            operator: greaterThan
            value: "100"
  register: wiring
'''

RETURN = r'''
changed:
  description: Whether anything was written (in check mode, whether it would be).
  returned: always
  type: bool
changes:
  description:
    - The event subscriptions that differ(ed), each with its identity, C(action) (C(created), C(updated), C(recreated), C(removed)),
      C(before) and C(after) (secrets shown as C((sensitive))).
  returned: always
  type: list
  elements: dict
unchanged:
  description: How many declared event subscriptions already held their state.
  returned: always
  type: int
rejected:
  description: The event subscriptions ACCS refused, each with its identity and Commerce's C(message) (the task then fails).
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

from ansible_collections.adobe_commerce.accs.plugins.module_utils._extensibility import EVENT_SUBSCRIPTIONS
from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import run_module


def main():
    run_module(AnsibleModule, EVENT_SUBSCRIPTIONS)


if __name__ == "__main__":
    main()
