#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: ims_token
short_description: Get an Adobe IMS access token, cached and rotated in Vault
version_added: 0.1.0
description:
  - Exchanges an authorization code, refreshes a refresh token, or gets a server-to-server
    (C(client_credentials)) token from Adobe IMS.
  - With O(vault_path) the IMS credential lives in a HashiCorp Vault (or OpenBao) KV version 2 document. A cached
    access token that stays valid for O(min_ttl) more seconds is returned with no IMS call. Otherwise the module asks
    IMS once and writes the new access token, its expiry and the rotated refresh token back with check-and-set on the
    version it read.
  - Safe when many hosts or pipelines refresh one credential at once. IMS refresh tokens are single-use, so when the
    check-and-set write loses, or IMS answers C(invalid_grant) because another writer already rotated the token, the
    module re-reads the document and uses the winner's token.
  - A rotated refresh token is never dropped. If Vault still refuses the write after retries, the task fails and
    names a 0600 file under O(recovery_dir) that holds the token, and the next run stores it in Vault by itself.
  - With a local connection the work runs in the controller's worker process (an action plugin), with no module
    start-up cost.
author:
  - adobe_commerce.accs maintainers (@adobe-commerce-accs)
extends_documentation_fragment:
  - adobe_commerce.accs.vault
  - adobe_commerce.accs.ims
  - adobe_commerce.accs.http
options:
  grant_type:
    description:
      - V(refresh_token) is the default when the credential has a refresh token. Without one, a credential given
        as options (no O(vault_path)) with a client secret defaults to V(client_credentials); a Vault document
        with a client secret must name C(grant_type) itself, else the task fails asking for the bootstrap (a user
        credential that has no refresh token yet) or for C(grant_type=client_credentials).
      - V(authorization_code) exchanges O(code); with O(vault_path) the new refresh token is stored in the document
        (created if missing, other fields kept) with the O(client_id) and O(client_secret) given, which replace
        different stored ones with a warning.
    type: str
    choices: [authorization_code, refresh_token, client_credentials]
  refresh_token:
    description:
      - Refresh token to use instead of the document's. Without O(vault_path) the rotated one is returned, and you
        must store it yourself.
    type: str
  code:
    description: Authorization code from the IMS redirect (O(grant_type=authorization_code)).
    type: str
  code_verifier:
    description: PKCE verifier matching the C(code_challenge) of the authorize request.
    type: str
  redirect_uri:
    description: The redirect URI used in the authorize request, when IMS needs it repeated.
    type: str
  refresh_token_max_age:
    description:
      - Rotate the refresh token when it is older than this many seconds (from C(refresh_token_issued_at) in the
        document), even if the cached access token is still valid. Scheduled jobs use this to keep refresh tokens
        far from their 14-day expiry.
    type: int
attributes:
  check_mode:
    support: full
    description: No IMS token call and no Vault write. A valid cached token is still returned; otherwise C(changed=true) and no token.
  diff_mode:
    support: none
    description: Nothing to show.
notes:
  - The result holds the access token, so the module hides it from every callback's output, as C(no_log=true) would;
    C(register) still gets it whole. Failures hold no secret and stay readable, which they would not under C(no_log=true).
  - "Showing the registered variable (for example with M(ansible.builtin.debug)) prints the token: use its
    C(expires_at) and C(refreshed) keys instead."
  - Errors name the Vault path, the IMS error code, HTTP status and C(x-debug-id), never a secret.
requirements:
  - requests
  - hvac (with O(vault_path))
'''

EXAMPLES = r'''
- name: Get a token for the prod environment (cached in Vault, refreshed when needed)
  adobe_commerce.accs.ims_token:
    vault_path: accs/prod
    ims_url: "{{ accs_ims_url | default(omit) }}"
    ca_path: "{{ accs_ca_path | default(omit) }}"
  register: prod_token

- name: Use it
  ansible.builtin.debug:
    msg: "Token valid until {{ prod_token.expires_at }}"

- name: Server-to-server token without Vault
  adobe_commerce.accs.ims_token:
    grant_type: client_credentials
    client_id: "{{ accs_client_id }}"
    client_secret: "{{ accs_client_secret }}"
    scopes: [openid, AdobeID, commerce.accs]
    ims_url: "{{ accs_ims_url | default(omit) }}"
    ca_path: "{{ accs_ca_path | default(omit) }}"
  register: s2s_token
  when: accs_client_secret is defined

- name: Keep refresh tokens far from their 14-day expiry (scheduled job)
  adobe_commerce.accs.ims_token:
    vault_path: accs/prod
    refresh_token_max_age: 259200
    ims_url: "{{ accs_ims_url | default(omit) }}"
    ca_path: "{{ accs_ca_path | default(omit) }}"
'''

RETURN = r'''
access_token:
  description: The access token. Absent in check mode when no valid cached token exists.
  returned: success
  type: str
token_type:
  description: Token type, C(bearer).
  returned: success
  type: str
expires_in:
  description: Seconds the access token stays valid from now.
  returned: success
  type: int
expires_at:
  description: Expiry of the access token, ISO-8601 UTC.
  returned: success
  type: str
  sample: "2026-11-29T13:00:00Z"
refreshed:
  description: Whether IMS issued a token in this run.
  returned: always
  type: bool
refresh_token:
  description: The rotated refresh token, only without O(vault_path) (with it, the token goes to Vault).
  returned: when IMS issued one and O(vault_path) is not set
  type: str
vault_path:
  description: The credential's path.
  returned: with O(vault_path)
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
    - C(internal) an unexpected error (a bug); its traceback, secrets masked, is in C(exception), shown at C(-vvv).
  returned: on failure, except for option errors reported by Ansible's argument validation
  type: str
  sample: vault_deleted
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import IMS_TOKEN, run_module


def main():
    run_module(AnsibleModule, IMS_TOKEN)


if __name__ == "__main__":
    main()
