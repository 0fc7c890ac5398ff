#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: accs_report
short_description: Write the audit, system configuration or access check reports of one environment
version_added: 0.1.0
author:
  - adobe_commerce.accs maintainers (@adobe-commerce-accs)
extends_documentation_fragment:
  - adobe_commerce.accs.attributes.report_writer
description:
  - Writes report files for one ACCS environment on the Ansible controller, inside the controller's worker
    (an action plugin, so no module process runs, whatever the connection of the host).
  - For O(kind=store-config), from an audit result of the P(adobe_commerce.accs.store_config_drift#filter) filter,
    three files in O(dest) named after the environment, C(<name>-store-config.json),
    C(<name>-store-config.junit.xml) (one test case per check, one failure per drift) and
    C(<name>-store-config.md) (a table to read at a glance).
  - For O(kind=access-check), from the C(accs_access_check) fact of the
    P(adobe_commerce.accs.access_check#role) role, C(<name>-access-check.junit.xml).
  - For O(kind=system-config), from the C(accs_system_config_result) fact of the
    P(adobe_commerce.accs.system_config#role) role (made by the P(adobe_commerce.accs.system_config_result#filter)
    filter), C(<name>-system-config.json), C(<name>-system-config.junit.xml) (one test case per declared setting,
    one failure per drifted or rejected one) and C(<name>-system-config.md).
  - For O(kind=system-config-promotion), from the promotion result of the playbook
    C(adobe_commerce.accs.promote_system_config), C(<name>-promotion.json) and C(<name>-promotion.md).
  - With C(--diff), returns the drift as a diff of the expected against the actual values.
  - In check mode nothing is written; the paths the files would have are returned.
  - Used by the roles P(adobe_commerce.accs.store_config_audit#role) and P(adobe_commerce.accs.access_check#role).
options:
  kind:
    description: Which reports to write.
    type: str
    required: true
    choices: [store-config, access-check, system-config, system-config-promotion]
  dest:
    description:
      - Directory of the reports, created when missing. A relative path is relative to the directory
        C(ansible-playbook) runs in.
    type: path
    required: true
  name:
    description: Environment name used in the file names and reports (unsafe characters become C(_)).
    type: str
    default: the inventory host name
  result:
    description:
      - The audit result (O(kind=store-config)) or the access check result (O(kind=access-check)). An C(error)
        key makes the audit report an error report.
    type: dict
    required: true
  base_url:
    description: The environment's ACCS base URL, shown in the reports.
    type: str
attributes:
  diff_mode:
    support: full
    description: With C(--diff), drift shows as expected (before) against actual (after) values, one diff per store.
notes:
  - The reports hold store and system configuration values, never a token or secret; sensitive system
    configuration values arrive masked (C((sensitive))) from M(adobe_commerce.accs.accs_system_config).
  - C(changed) is true whenever the reports are written (or would be, in check mode); ACCS itself is never changed.
seealso:
  - module: adobe_commerce.accs.accs_fleet_report
"""

EXAMPLES = r"""
- name: Write the store configuration reports
  adobe_commerce.accs.accs_report:
    kind: store-config
    dest: accs-reports
    result: "{{ accs_store_config_audit }}"
    base_url: "{{ accs_base_url }}"
  register: report

- name: Show where they are
  ansible.builtin.debug:
    msg: "{{ report.files.markdown }}"
"""

RETURN = r"""
files:
  description: Absolute paths of the reports (written, or that would be written in check mode).
  returned: always
  type: dict
  contains:
    json:
      description: The JSON report.
      type: str
      returned: O(kind=store-config), O(kind=system-config), O(kind=system-config-promotion)
    junit:
      description: The JUnit XML report.
      type: str
      returned: O(kind=store-config), O(kind=system-config), O(kind=access-check)
    markdown:
      description: The Markdown report.
      type: str
      returned: O(kind=store-config), O(kind=system-config), O(kind=system-config-promotion)
  sample: {"json": "/srv/audit/accs-reports/prod-store-config.json"}
diff:
  description: One C(before) (expected) / C(after) (actual) entry per drifted store.
  returned: with --diff, when there is drift
  type: list
  elements: dict
msg:
  description: Where the reports went.
  returned: always
  type: str
"""
