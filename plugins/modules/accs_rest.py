#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: accs_rest
short_description: Call the Adobe Commerce as a Cloud Service (ACCS) REST API with IMS tokens handled for you
version_added: 0.1.0
description:
  - Sends one authenticated request to an ACCS REST endpoint, or walks all pages of a search endpoint.
  - Give the credential's O(vault_path) and the module gets, reuses and refreshes the IMS access token itself, with
    the same logic as M(adobe_commerce.accs.ims_token). On HTTP 401 it forces one refresh and retries once.
  - Within one task (its loop items included) the credential is read from Vault once and one HTTP session is reused.
  - Retries HTTP 429, 502, 503, 504 and connection failures with backoff, honouring C(Retry-After) up to 60 seconds.
  - With a local connection the work runs in the controller's worker process (an action plugin).
author:
  - adobe_commerce.accs maintainers (@adobe-commerce-accs)
extends_documentation_fragment:
  - adobe_commerce.accs.accs
  - adobe_commerce.accs.vault
  - adobe_commerce.accs.ims
  - adobe_commerce.accs.http
options:
  path:
    description: Endpoint path below O(base_url), for example C(/V1/store/storeConfigs).
    type: str
    required: true
  method:
    description: HTTP method.
    type: str
    default: GET
    choices: [GET, HEAD, POST, PUT, PATCH, DELETE]
  query:
    description:
      - Query parameters. Nested dicts and lists are encoded the way Commerce reads them, for example
        C(searchCriteria[filter_groups][0][filters][0][field]=sku); a list of plain values becomes C(key[]=a&key[]=b).
    type: dict
  body:
    description: Request body; a dict or list is sent as JSON, a string as it is.
    type: raw
  headers:
    description: Extra request headers. C(Authorization) is refused; the module sets it.
    type: dict
    default: {}
  store_code:
    description: Store scope, sent as the C(Store) header (V(all), V(default) or a store view code).
    type: str
  status_code:
    description: Statuses that count as success.
    type: list
    elements: int
    default: [200]
  paginate:
    description:
      - Walk C(searchCriteria[currentPage]) from 1 with C(searchCriteria[pageSize]=page_size), stop on
        C(total_count), detect a server that repeats its last page, and return every item once.
    type: bool
    default: false
  page_size:
    description: Page size when O(paginate=true).
    type: int
    default: 100
attributes:
  check_mode:
    support: full
    description:
      - GET and HEAD run, as they change nothing in ACCS; other methods are not sent and report C(changed=true).
      - To read, the task still gets a token, so an expired one is refreshed and its rotation stored in Vault.
  diff_mode:
    support: none
    description: Nothing to show.
notes:
  - C(changed) is false for GET and HEAD, true for other methods.
  - No Authorization header, token or token request body appears in results, failures or warnings.
requirements:
  - requests
  - hvac (with O(vault_path))
'''

EXAMPLES = r'''
- name: Read the store configurations
  adobe_commerce.accs.accs_rest:
    base_url: "{{ accs_base_url }}"
    path: /V1/store/storeConfigs
    vault_path: "{{ accs_vault_path }}"
    ims_url: "{{ accs_ims_url | default(omit) }}"
    ca_path: "{{ accs_ca_path | default(omit) }}"
  register: store_configs

- name: Read the French store view's configuration only
  adobe_commerce.accs.accs_rest:
    base_url: "{{ accs_base_url }}"
    path: /V1/store/storeConfigs
    query:
      storeCodes: [fr]
    store_code: fr
    vault_path: "{{ accs_vault_path }}"
    ims_url: "{{ accs_ims_url | default(omit) }}"
    ca_path: "{{ accs_ca_path | default(omit) }}"

- name: All enabled products, every page
  adobe_commerce.accs.accs_rest:
    base_url: "{{ accs_base_url }}"
    path: /V1/products
    paginate: true
    page_size: 50
    query:
      searchCriteria:
        filter_groups:
          - filters:
              - field: status
                value: 1
                condition_type: eq
    vault_path: "{{ accs_vault_path }}"
    ims_url: "{{ accs_ims_url | default(omit) }}"
    ca_path: "{{ accs_ca_path | default(omit) }}"
  register: products
'''

RETURN = r'''
status:
  description: HTTP status of the (last) answer.
  returned: success
  type: int
json:
  description: Parsed JSON body, or null. With O(paginate), C(items) holds every item once and C(total_count) the total.
  returned: success
  type: raw
url:
  description: The URL requested (no secrets in it).
  returned: success
  type: str
elapsed:
  description: Seconds the request took, retries and a token refresh included.
  returned: success
  type: float
pages:
  description: Number of pages fetched.
  returned: with O(paginate=true)
  type: int
headers:
  description: Response headers that carry no secret (content type, x-debug-id, rate-limit and cache headers).
  returned: success, without O(paginate)
  type: dict
token_refreshed:
  description: Whether IMS was asked for a token during this task.
  returned: with O(vault_path) or O(client_id)
  type: bool
token_expires_at:
  description: Expiry of the access token used, ISO-8601 UTC.
  returned: with O(vault_path) or O(client_id)
  type: str
error_kind:
  description:
    - Why the task failed, as a stable word to branch on (the C(msg) sentence may be reworded).
    - C(config) the options or the credential document are unusable; C(transport) no usable answer (connection,
      TLS, timeout, body); C(ims) IMS refused the token request; C(ims_invalid_grant) the code or refresh token
      is expired, used or revoked; C(ims_invalid_client) IMS refused the client id or secret.
    - C(vault_unavailable) Vault is unreachable, sealed or failing; C(vault_denied) permission denied or login
      refused; C(vault_not_found) no document at the path; C(vault_kv1) the mount is a KV version 1 engine;
      C(vault_deleted) the document's current version is deleted; C(vault_write) IMS issued a token that Vault did
      not store (a rotated refresh token is in C(recovery_file)); C(vault_conflict) concurrent writers kept
      changing the document; C(vault) another Vault failure.
    - C(accs_api) ACCS answered a status not in O(status_code) (C(status) holds it).
    - C(internal) an unexpected error (a bug); its traceback, secrets masked, is in C(exception), shown at C(-vvv).
  returned: on failure, except for option errors reported by Ansible's argument validation
  type: str
  sample: vault_deleted
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import ACCS_REST, run_module


def main():
    run_module(AnsibleModule, ACCS_REST)


if __name__ == "__main__":
    main()
