#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: accs_fleet_report
short_description: One HTML page with the store configuration audit of every environment
version_added: 0.1.0
author:
  - adobe_commerce.accs maintainers (@adobe-commerce-accs)
extends_documentation_fragment:
  - adobe_commerce.accs.attributes.report_writer
description:
  - Reads the audit result fact (O(fact)) of each host in O(hosts) from C(hostvars) and writes one
    self-contained HTML page on the controller, inside the controller's worker (an action plugin).
  - Environments are rows and checks are columns, so pass and fail show at a glance; each row's drift
    (store, field, expected, actual, rule), or why the environment was not audited, opens on demand.
  - The page has no scripts, fetches nothing and uses no external asset (inline CSS, and a
    Content-Security-Policy that forbids loading anything), so it can be archived or mailed as it is.
  - When any host has a system configuration result (O(system_config_fact), set by the
    P(adobe_commerce.accs.system_config#role) role), the page gains a System configuration column with the drift count
    (audit mode), changes made (enforce mode) and rejected items, with each setting on demand. Hosts where the
    role did not run show C(not run).
  - Also returns a short summary for the playbook output. In check mode nothing is written.
  - Used by the playbooks C(adobe_commerce.accs.audit_store_config) and C(adobe_commerce.accs.audit_fleet).
options:
  hosts:
    description: Inventory host names, one row each, in this order. Usually C({{ groups['accs'] }}).
    type: list
    elements: str
    required: true
  dest:
    description:
      - Path of the HTML file; its directory is created when missing. A relative path is relative to the
        directory C(ansible-playbook) runs in.
    type: path
    required: true
  fact:
    description: Name of the host variable holding each environment's audit result.
    type: str
    default: accs_store_config_audit
  title:
    description: Page title.
    type: str
    default: ACCS store configuration audit
  system_config_fact:
    description: Name of the host variable holding each environment's system configuration result.
    type: str
    default: accs_system_config_result
    version_added: 0.2.0
  extensibility_fact:
    description:
      - Name of the host variable holding each environment's App Builder wiring result (the
        P(adobe_commerce.accs.extensibility#role) role's). When any host has it, the page gains an
        C(App Builder wiring) column (in sync, drift, changed, rejected, error, or not run) and the items per row.
    type: str
    default: accs_extensibility_result
  health_fact:
    description:
      - Host variable holding the credential health of each environment (set by the role
        C(adobe_commerce.accs.credential_health) earlier in the same run). When any host has it, the page gets a
        column group with the credential's state, grant type, refresh token age and days left, last rotation and
        access token expiry; hosts without it read "not checked".
    type: str
    default: accs_credential_health
    version_added: 0.2.0
  audit_result:
    description:
      - Host variable holding each environment's registered P(adobe_commerce.accs.accs_audit#module) result (as the
        playbooks C(audit_store_config) and C(audit_fleet) register it). Its parts C(store_config),
        C(system_config), C(extensibility) and C(credential_health) are used where present, before the facts named
        by O(fact), O(system_config_fact), O(extensibility_fact) and O(health_fact).
      - A host whose result has C(failures) (or whose task failed) is listed in RV(failed_hosts).
    type: str
    default: accs_audit
    version_added: 0.2.0
attributes:
  diff_mode:
    support: none
    description: Nothing to show.
notes:
  - A host without the fact shows as not audited.
seealso:
  - module: adobe_commerce.accs.accs_report
"""

EXAMPLES = r"""
- name: Write the fleet report
  adobe_commerce.accs.accs_fleet_report:
    hosts: "{{ groups['accs'] }}"
    dest: accs-reports/fleet-store-config.html
  register: fleet
  run_once: true

- name: Summary
  ansible.builtin.debug:
    msg: "{{ fleet.summary }}"
"""

RETURN = r"""
path:
  description: Absolute path of the HTML page.
  returned: always
  type: str
total:
  description: Number of environments.
  returned: always
  type: int
passed:
  description: Environments without drift.
  returned: always
  type: list
  elements: str
drifted:
  description: Environments with drift.
  returned: always
  type: list
  elements: str
errors:
  description: Environments that could not be audited.
  returned: always
  type: list
  elements: str
system_config:
  description:
    - Host names by system configuration outcome, C(checked), C(in_sync), C(drifted), C(changed), C(rejected),
      C(errors) and C(not_run).
  returned: when any host has a system configuration result
  type: dict
  version_added: 0.2.0
failed_hosts:
  description:
    - Environments whose P(adobe_commerce.accs.accs_audit#module) result (O(audit_result)) has failures, or whose
      audit task failed; the playbooks fail them in their last play.
  returned: always
  type: list
  elements: str
  version_added: 0.2.0
summary:
  description: Lines for the playbook output (counts, drifted environments, report locations).
  returned: always
  type: list
  elements: str
"""
