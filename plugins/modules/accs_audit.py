#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: accs_audit
short_description: Audit one ACCS environment in one task (store and system configuration, App Builder wiring, credential)
version_added: 0.2.0
description:
  - Audits the parts of one ACCS environment that the task gives, in one task and without writing to ACCS, and writes
    each part's reports. It is what the playbooks C(adobe_commerce.accs.audit_store_config) and
    C(adobe_commerce.accs.audit_fleet) run once per environment.
  - Every part's declaration is checked first. Then the credential is read once (one Vault read; the cached access
    token, refreshed only when it expires within C(min_ttl)), and the parts are read over one pooled connection.
  - O(store) reads the four store endpoints and compares them with the expected values and rules, as the
    P(adobe_commerce.accs.store_config_audit#role) role does.
  - O(system_config) reads the declared settings (one C(GET) per scope and scope code) and compares them, as the
    P(adobe_commerce.accs.system_config#role) role does in audit mode.
  - O(extensibility) reads each declared kind's list once (webhooks, event subscriptions, event providers) and
    compares the declared items, as the P(adobe_commerce.accs.extensibility#role) role does in audit mode. The
    Adobe I/O Events check and the eventing configuration are left to that role.
  - O(credential_health) states the health of the credential just read (no other Vault read, no IMS call), as the
    P(adobe_commerce.accs.credential_health#role) role does for one environment.
  - Each part's result is the fact its role sets (RV(store_config) is C(accs_store_config_audit), and so on), so the
    P(adobe_commerce.accs.accs_fleet_report#module) reads either.
  - A part that cannot be read (a wrong declaration, an ACCS error) is reported as not audited; the other parts are
    still audited. When the credential cannot be read, every part says why.
author:
  - adobe_commerce.accs maintainers (@adobe-commerce-accs)
extends_documentation_fragment:
  - adobe_commerce.accs.accs
  - adobe_commerce.accs.vault
  - adobe_commerce.accs.ims
  - adobe_commerce.accs.http
options:
  store:
    description: Audit the store configuration. Left out, it is not audited.
    type: dict
    suboptions:
      expected:
        description: Store code -> {field -> expected value} (the role's C(accs_expected_store_configs)).
        type: dict
        default: {}
      rules:
        description: Built-in rules to switch on or off (the role's C(accs_audit_rules)); rules left out stay on.
        type: dict
        default: {}
        suboptions:
          secure_urls_https:
            description: Every C(secure_*) URL of every store config uses https.
            type: bool
            default: true
          store_view_has_config:
            description: Every store view (the admin view aside) has a store config.
            type: bool
            default: true
          config_website_known:
            description: Every store config's C(website_id) is a website listed by C(/V1/store/websites).
            type: bool
            default: true
      store_code:
        description: Store view code sent as the C(Store) header of the store reads.
        type: str
      fail_on_drift:
        description: Drift is a failure (RV(failures)), as the role's C(accs_audit_fail_on_drift).
        type: bool
        default: true
  system_config:
    description: Audit the system configuration. Left out, it is not audited.
    type: dict
    suboptions:
      settings:
        description:
          - The declared settings, as P(adobe_commerce.accs.accs_system_config#module)'s
            O(adobe_commerce.accs.accs_system_config#module:settings) (merge the
            group's and the host's with P(adobe_commerce.accs.system_config_merge#filter)).
        type: list
        elements: dict
        default: []
      sensitive_paths:
        description: As P(adobe_commerce.accs.accs_system_config#module)'s option of the same name.
        type: list
        elements: str
      extra_sensitive_paths:
        description: As P(adobe_commerce.accs.accs_system_config#module)'s option of the same name.
        type: list
        elements: str
      obscured_values:
        description: As P(adobe_commerce.accs.accs_system_config#module)'s option of the same name.
        type: str
        default: skip
        choices: [skip, write]
      fail_on_drift:
        description: Drift is a failure (RV(failures)), as the role's C(accs_system_config_fail_on_drift).
        type: bool
        default: true
  extensibility:
    description:
      - Audit the App Builder wiring. Left out, it is not audited. A kind with nothing declared (and no pruning) is
        not read.
    type: dict
    suboptions:
      webhooks:
        description: As P(adobe_commerce.accs.accs_webhook#module)'s O(adobe_commerce.accs.accs_webhook#module:webhooks).
        type: list
        elements: dict
        default: []
      subscriptions:
        description:
          - As P(adobe_commerce.accs.accs_event_subscription#module)'s
            O(adobe_commerce.accs.accs_event_subscription#module:subscriptions).
        type: list
        elements: dict
        default: []
      providers:
        description:
          - As P(adobe_commerce.accs.accs_event_provider#module)'s
            O(adobe_commerce.accs.accs_event_provider#module:providers).
        type: list
        elements: dict
        default: []
      sensitive_headers:
        description: As P(adobe_commerce.accs.accs_webhook#module)'s option of the same name.
        type: list
        elements: str
      owner_prefix:
        description:
          - A prefix for both kinds, or a dict with C(webhooks) and C(subscriptions) keys (the role's
            C(accs_extensibility_owner_prefix)). With O(extensibility.prune), the listed items that start with it and
            are not declared are reported as drift.
        type: raw
      prune:
        description: Report undeclared items under O(extensibility.owner_prefix) as drift (they would be removed).
        type: bool
        default: false
      fail_on_drift:
        description: Drift is a failure (RV(failures)), as the role's C(accs_extensibility_fail_on_drift).
        type: bool
        default: true
  credential_health:
    description: State the credential's health. Left out, it is not stated.
    type: dict
    suboptions:
      warn_age:
        description: Refresh token age in seconds above which the state is C(warn).
        type: int
        default: 432000
      critical_age:
        description: Refresh token age in seconds above which the state is C(critical).
        type: int
        default: 864000
      fail_on_critical:
        description: A critical credential is a failure (RV(failures)).
        type: bool
        default: true
  report_dir:
    description:
      - Directory of the reports (C(<name>-store-config.*), C(<name>-system-config.*), C(<name>-extensibility.*)),
        created when missing. A relative path is relative to the directory C(ansible-playbook) runs in.
    type: path
    default: accs-reports
  name:
    description: Environment name in the reports and messages.
    type: str
    default: the inventory host name
  variables:
    description:
      - Take what the task does not give from the roles' variables, as the playbooks do - C(base_url) from
        C(accs_base_url), C(vault_path) from C(accs_vault_path), C(vault_mount), C(ims_url), C(ca_path) and
        O(report_dir) from C(accs_vault_mount), C(accs_ims_url), C(accs_ca_path) and C(accs_audit_report_dir); the
        parts from the variables of the roles P(adobe_commerce.accs.store_config_audit#role) (C(accs_expected_store_configs),
        C(accs_audit_rules), C(accs_store_code), C(accs_audit_fail_on_drift)), P(adobe_commerce.accs.system_config#role)
        (C(accs_system_config_common) merged with C(accs_system_config), C(accs_system_config_sensitive_paths),
        C(accs_system_config_extra_sensitive_paths), C(accs_system_config_obscured_values),
        C(accs_system_config_fail_on_drift)), P(adobe_commerce.accs.extensibility#role) (C(accs_extensibility_common)
        merged with C(accs_extensibility), C(accs_extensibility_owner_prefix), C(accs_extensibility_prune),
        C(accs_extensibility_sensitive_headers), C(accs_extensibility_fail_on_drift)) and
        P(adobe_commerce.accs.credential_health#role) (C(accs_health_warn_age), C(accs_health_critical_age),
        C(accs_health_fail_on_critical)), with the roles' defaults.
      - The store and the credential are then audited always, the system configuration and the App Builder wiring
        when their variables declare something; O(parts) narrows that. A part the task gives is taken as given.
      - The task then has no argument template to compile in each environment's worker, which over many
        environments is much of an audit's cost.
    type: bool
    default: false
  parts:
    description: With O(variables), the parts to audit (default all four, as said there).
    type: list
    elements: str
    choices: [store, system_config, extensibility, credential_health]
  fail:
    description:
      - Fail the task when RV(failures) is not empty. With V(false) the task succeeds and a later task acts on
        RV(failures) (the playbooks fail such environments in their last play, after the fleet report).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: ACCS is read and compared as usual (reading changes nothing); the reports are not written.
  diff_mode:
    support: full
    description: Returns the store drift and each drifted setting or item as a diff; sensitive values are masked.
  action:
    support: full
    description: An action plugin; it runs on the controller, in the worker of the task, whatever the host's connection.
  platform:
    support: full
    platforms: all
    description: Runs on the controller only.
notes:
  - Nothing is written to ACCS, whatever the mode; to write, use the roles in enforce mode or the resource modules.
  - C(changed) is true when a part differs from its declaration, as the resource modules say in check mode, so that
    C(--diff) shows what differs.
  - The results hold identities and values, never a token or secret; sensitive settings and secret headers show as
    C((sensitive)).
seealso:
  - module: adobe_commerce.accs.accs_fleet_report
  - module: adobe_commerce.accs.accs_system_config
  - module: adobe_commerce.accs.accs_webhook
'''

EXAMPLES = r'''
- name: Audit the environment as the playbook audit_fleet does, every input from the roles' variables
  adobe_commerce.accs.accs_audit:
    variables: true
  register: audit_from_variables

- name: Audit the environment (store and system configuration, App Builder wiring, credential) in one task
  adobe_commerce.accs.accs_audit:
    base_url: "{{ accs_base_url }}"
    vault_path: "{{ accs_vault_path }}"
    store:
      expected: "{{ accs_expected_store_configs }}"
    system_config:
      settings:
        - path: general/locale/code
          value: en_US
        - path: currency/options/base
          value: USD
    extensibility:
      webhooks:
        - webhook_method: observer.checkout_cart_product_add_before
          webhook_type: before
          batch_name: orderapp_cart
          hook_name: orderapp_validate_stock
          url: https://1234-orderapp.adobeioruntime.net/api/v1/web/orderapp/validate-stock
    credential_health: {}
    report_dir: accs-reports
    fail: false  # act on the failures in a later task
  register: audit

- name: Say what was found
  ansible.builtin.debug:
    msg: "{{ audit.failures | default([audit.msg], true) }}"
'''

RETURN = r'''
store_config:
  description: The store configuration audit, as the role's C(accs_store_config_audit) fact, with C(reports).
  returned: when O(store) is given
  type: dict
system_config:
  description: The system configuration audit, as the role's C(accs_system_config_result) fact, with C(reports).
  returned: when O(system_config) is given
  type: dict
extensibility:
  description: The App Builder wiring audit, as the role's C(accs_extensibility_result) fact, with C(reports).
  returned: when O(extensibility) is given
  type: dict
credential_health:
  description: The credential's health (C(state) ok, warn or critical, C(reason), dates and ages; no secret).
  returned: when O(credential_health) is given
  type: dict
failures:
  description: One sentence per part that failed (drift where it counts as failure, a part not audited, a critical
    credential), each naming the environment.
  returned: always
  type: list
  elements: str
token_refreshed:
  description: Whether the access token was refreshed at IMS for this task.
  returned: when the credential comes from Vault or options and was read
  type: bool
token_expires_at:
  description: When the access token used expires (UTC, ISO 8601).
  returned: when the credential comes from Vault or options and was read
  type: str
diff:
  description: The store drift and the drifted settings and items, as Ansible diffs.
  returned: with --diff, when something differs
  type: list
  elements: dict
msg:
  description: The failures, or a one-line summary of every part.
  returned: always
  type: str
'''
