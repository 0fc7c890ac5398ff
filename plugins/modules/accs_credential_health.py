#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: accs_credential_health
short_description: Health of the IMS credential of every environment, from Vault alone
version_added: 0.2.0
author:
  - adobe_commerce.accs maintainers (@adobe-commerce-accs)
description:
  - Reads the credential document of each host in O(hosts) (C(accs_vault_path) and C(accs_vault_mount) from
    C(hostvars)) once per credential - environments sharing a document share the read - and never calls IMS.
  - "Reports per environment: the grant type, the cached access token's expiry, the refresh token's age (from
    C(refresh_token_issued_at)) and the days left before its roughly 14-day lifetime ends, the last rotation, and
    a state: V(ok), V(warn) (the refresh token is older than O(warn_age): the rotation schedule is late) or
    V(critical) (older than O(critical_age) or past its lifetime, no refresh token where the grant needs one, or
    a document that cannot be read or used)."
  - A C(client_credentials) credential has no refresh token to rotate and is V(ok) when its document is usable.
  - A refresh token without C(refresh_token_issued_at) (stored by hand) is V(warn) - its age is unknown until the
    C(refresh_tokens) playbook rotates it.
  - Optionally writes a self-contained HTML page (O(report_path)) and a Prometheus text file (O(prometheus_path))
    for node_exporter's textfile collector, written atomically by the C(prometheus-client) library.
  - Nothing secret leaves Vault - results, page and metrics hold dates, ages, the grant type and the state only.
  - Runs on the controller inside the task's worker (an action plugin); use it once per play (C(run_once)).
  - Used by the role C(adobe_commerce.accs.credential_health).
extends_documentation_fragment:
  - adobe_commerce.accs.vault
options:
  hosts:
    description: Inventory host names, one environment each. Usually C({{ ansible_play_hosts }}).
    type: list
    elements: str
    required: true
  warn_age:
    description: Refresh token age in seconds above which the state is V(warn).
    type: int
    default: 432000
  critical_age:
    description: Refresh token age in seconds above which the state is V(critical). Must be above O(warn_age).
    type: int
    default: 864000
  refresh_token_lifetime:
    description: Lifetime of an IMS refresh token in seconds (about 14 days), for the days left.
    type: int
    default: 1209600
  report_path:
    description: The HTML page to write (its directory is created). None when omitted.
    type: path
  prometheus_path:
    description:
      - The Prometheus text file to write, for example C(/var/lib/node_exporter/textfile_collector/accs.prom)
        (the name must end in C(.prom) for node_exporter). None when omitted.
      - "Metrics, each with an C(environment) label: C(accs_credential_state) (label C(state): 1 for the current
        state, 0 for the others), C(accs_refresh_token_age_seconds), C(accs_refresh_token_expiry_timestamp_seconds),
        C(accs_access_token_expiry_timestamp_seconds), C(accs_credential_last_rotation_timestamp_seconds), and,
        where a store configuration audit result is found, C(accs_audit_passed) and C(accs_audit_drift_total);
        plus C(accs_credential_health_timestamp_seconds), when the check ran."
      - Needs the Python library C(prometheus-client) on the controller.
    type: path
  audit_fact:
    description: Host variable holding an audit result from the same run, for the audit metrics.
    type: str
    default: accs_store_config_audit
  audit_report_dir:
    description:
      - Directory of the audit's JSON reports, read for the audit metrics of environments without O(audit_fact)
        (an audit that ran earlier, in another job).
    type: path
  title:
    description: Title of the HTML page.
    type: str
    default: ACCS credential health
attributes:
  check_mode:
    support: full
    description: Reads Vault; writes no file in check mode.
  diff_mode:
    support: none
    description: Nothing to show.
  action:
    support: full
    description: An action plugin; it runs on the controller, in the worker of the task, whatever the host's connection.
  platform:
    support: full
    platforms: all
    description: Reads Vault and writes files from the controller only.
notes:
  - The Vault token needs only C(read) on the documents' data paths.
  - Not in the action group C(adobe_commerce.accs.accs) (it takes no IMS or HTTP option); set Vault options
    with C(module_defaults) for this module, or through the environment (C(VAULT_ADDR), C(VAULT_TOKEN), ...).
seealso:
  - module: adobe_commerce.accs.accs_fleet_report
"""

EXAMPLES = r"""
- name: Credential health of the play's environments
  adobe_commerce.accs.accs_credential_health:
    hosts: "{{ ansible_play_hosts }}"
    report_path: accs-reports/credential-health.html
    # for node_exporter: a file in its --collector.textfile.directory, like
    # /var/lib/node_exporter/textfile_collector/accs_credentials.prom
    prometheus_path: accs-reports/accs_credentials.prom
  run_once: true
  register: health

- name: Summary
  ansible.builtin.debug:
    msg: "{{ health.summary }}"
  run_once: true
"""

RETURN = r"""
environments:
  description:
    - Environment name to its health - C(state), C(reason) (one sentence), C(grant_type),
      C(access_token_expires_at), C(access_token_expires_in), C(refresh_token_issued_at),
      C(refresh_token_age_seconds), C(refresh_token_age_days), C(refresh_token_expires_at),
      C(refresh_token_days_left), C(last_rotation), C(checked_at), C(vault_path), C(vault_mount).
    - Times are ISO-8601 UTC; values that do not apply are null.
  returned: always
  type: dict
ok:
  description: Environments whose state is ok.
  returned: always
  type: list
  elements: str
warn:
  description: Environments whose state is warn.
  returned: always
  type: list
  elements: str
critical:
  description: Environments whose state is critical.
  returned: always
  type: list
  elements: str
vault_reads:
  description: Documents read from Vault (one per distinct credential).
  returned: always
  type: int
summary:
  description: Lines for the playbook output (counts, each environment that is not ok and why, files written).
  returned: always
  type: list
  elements: str
report_path:
  description: Absolute path of the HTML page.
  returned: when O(report_path) is set
  type: str
prometheus_path:
  description: Absolute path of the Prometheus text file.
  returned: when O(prometheus_path) is set
  type: str
"""
