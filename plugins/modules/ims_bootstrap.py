#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: ims_bootstrap
short_description: Sign in to Adobe once and store the IMS refresh token in Vault
version_added: 0.1.0
description:
  - The one human step of the collection. Builds the IMS authorize URL (the scopes always include C(offline_access),
    a random C(state), PKCE with C(S256)), prints it on a line of its own, gets the authorization code back from
    the browser, exchanges it with IMS and stores the refresh token (and the first access token) in the Vault KV
    version 2 document at O(vault_path). The document is created when missing; its other fields are kept.
  - The client the code was issued to is stored with the refresh token. A O(client_id) or O(client_secret) that
    differs from the document's replaces it, with a warning naming the key; a replaced C(client_id) takes the
    old client's C(client_secret) and C(client_secrets) with it.
  - Runs entirely on the controller, whatever the host's connection, in the worker process of the task (an action
    plugin). The state, the PKCE verifier and the code never appear in task results.
  - O(step=listen) does it all in one task. It waits on a loopback listener (V(http://127.0.0.1:<port>/callback))
    for the browser's redirect, for at most O(wait_timeout) seconds. A redirect whose C(state) differs is refused
    (the browser gets an error page and the task fails, as this may be cross-site request forgery). An IMS C(error) in
    the redirect fails the task with IMS's C(error) and C(error_description).
  - Where no loopback listener can work (the browser runs on another machine than Ansible), use two tasks.
    O(step=authorize) prints the URL and returns a C(session) handle; the state and verifier stay in a 0600 file
    named by that handle under O(session_dir). O(step=exchange) takes the address the browser was sent to
    (O(redirect_url)), checks its state against the file, deletes the file and exchanges the code. Put
    C(no_log=true) on the exchange task and on the task that reads the pasted address.
  - The playbook C(adobe_commerce.accs.bootstrap_refresh_token) wraps both modes; see C(docs/bootstrap.md).
author:
  - adobe_commerce.accs maintainers (@adobe-commerce-accs)
extends_documentation_fragment:
  - adobe_commerce.accs.vault
  - adobe_commerce.accs.http
options:
  step:
    description:
      - V(listen) prints the URL, waits for the browser on the loopback listener and stores the refresh token.
      - V(authorize) prints the URL and returns a C(session) handle (paste mode, first task).
      - V(exchange) reads O(redirect_url), checks it against O(session) and stores the refresh token (paste mode,
        second task).
    type: str
    choices: [listen, authorize, exchange]
    default: listen
  vault_path:
    description:
      - Path of the credential document inside O(vault_mount), for example C(accs/prod). Required with
        O(step=listen) and O(step=authorize); with O(step=exchange) the session's path is used.
      - Vault is read before the URL is printed, so a wrong address, token or permission fails before anyone signs in.
    type: str
  client_id:
    description:
      - IMS client id (API key) of the credential. With O(step=listen) and O(step=authorize) it defaults to the
        document's C(client_id) (required when the document has none); with O(step=exchange) the session's client
        id is used (a different value fails).
    type: str
  client_secret:
    description:
      - Client secret of a confidential client, used for the code exchange. Public clients use PKCE only and leave
        it out. When not given, the document's C(client_secret) or C(client_secrets) are used.
      - Stored in the document, replacing a different stored C(client_secret) (with a warning).
    type: str
  scopes:
    description:
      - Scopes to request. C(offline_access) is added when missing, since IMS issues a refresh token only with it.
    type: list
    elements: str
    default: [AdobeID, openid, offline_access, additional_info.roles, commerce.accs]
  ims_url:
    description: Base URL of Adobe IMS. Plain C(http://) is refused unless the host is a loopback address.
    type: str
    default: https://ims-na1.adobelogin.com
  ims_client_auth:
    description: How a confidential client authenticates at the token endpoint (C(client_secret_basic) or C(client_secret_post)).
    type: str
    choices: [basic, post]
    default: basic
  redirect_port:
    description:
      - Port of the redirect URI C(http://127.0.0.1:<port>/callback). The credential in the Adobe Developer Console
        must allow that redirect URI (its redirect URI pattern).
      - V(0) lets the listener pick a free port (O(step=listen) only; the pattern must then allow any port).
    type: int
    default: 8765
  wait_timeout:
    description:
      - Seconds to wait for the browser (O(step=listen)), or how long the session of O(step=authorize) stays usable
        by O(step=exchange).
    type: int
    default: 300
  session:
    description: The C(session) handle O(step=authorize) returned. Required with O(step=exchange).
    type: str
  redirect_url:
    description:
      - The whole address the browser was sent to after sign-in (C(http://127.0.0.1:8765/callback?code=...&state=...)),
        or its query string. Required with O(step=exchange). It holds the authorization code.
    type: str
  session_dir:
    description:
      - Folder of the paste-mode session files (created with mode 0700; each file 0600, deleted by the exchange,
        expired ones removed by the next O(step=authorize)).
      - Falls back to E(ACCS_BOOTSTRAP_DIR); defaults to C(~/.ansible/adobe_commerce_accs/bootstrap).
    type: path
  recovery_dir:
    description:
      - Where the new refresh token is saved (a 0600 file) if IMS issued it but Vault refused the write.
      - Falls back to E(ACCS_RECOVERY_DIR); defaults to C(~/.ansible/adobe_commerce_accs/recovery).
    type: path
attributes:
  check_mode:
    support: none
    description: The task is skipped in check mode; a code exchange cannot be previewed.
  diff_mode:
    support: none
    description: Nothing to show.
notes:
  - The authorize URL is printed with the task's output, alone on its line. It holds the C(state) and the PKCE
    challenge (never the verifier); the code and tokens are never printed.
  - The listener binds 127.0.0.1 only and answers the browser with a small page; it never logs request lines.
  - Errors are one sentence saying what failed and what to do next.
  - One sign-in per task run. Run it for one host (the playbook uses C(localhost)); a loop or several hosts in listen
    mode need C(throttle=1) and distinct credentials, since all share the redirect port.
requirements:
  - requests
  - hvac
'''

EXAMPLES = r'''
- name: Sign in with a browser on this machine and store the refresh token
  adobe_commerce.accs.ims_bootstrap:
    vault_path: accs/prod
    client_id: "{{ accs_client_id }}"
    ims_url: "{{ accs_ims_url | default(omit) }}"

# Paste mode: the browser runs elsewhere
- name: Print the sign-in URL
  adobe_commerce.accs.ims_bootstrap:
    step: authorize
    vault_path: accs/prod
    client_id: "{{ accs_client_id }}"
  register: authorize

- name: Read the address the browser was sent to
  ansible.builtin.pause:
    prompt: Paste the whole address from the browser's address bar
    echo: false
  register: pasted
  no_log: true

- name: Exchange the code and store the refresh token
  adobe_commerce.accs.ims_bootstrap:
    step: exchange
    session: "{{ authorize.session }}"
    redirect_url: "{{ pasted.user_input }}"
    client_secret: "{{ accs_client_secret | default(omit) }}"
  no_log: true
'''

RETURN = r'''
vault_path:
  description: The credential's path inside the mount.
  returned: success
  type: str
  sample: accs/prod
expires_at:
  description: Expiry of the access token the exchange stored with the refresh token, ISO-8601 UTC.
  returned: with O(step=listen) and O(step=exchange)
  type: str
  sample: "2026-11-29T13:00:00Z"
authorize_url:
  description: The URL to open in a browser (it holds the state and the PKCE challenge, not the verifier).
  returned: with O(step=authorize)
  type: str
redirect_uri:
  description: The redirect URI the browser comes back to.
  returned: with O(step=authorize)
  type: str
  sample: http://127.0.0.1:8765/callback
session:
  description: Handle of the pending authorization, for O(step=exchange). Not a secret; the session file is private.
  returned: with O(step=authorize)
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
    - C(bootstrap) no redirect arrived, or IMS issued no refresh token; C(bootstrap_state_mismatch) the redirect's
      state is not the one sent (possible CSRF); C(bootstrap_not_a_redirect) the pasted text is not the redirect;
      C(ims_authorization_denied) IMS redirected back with an error.
    - C(internal) an unexpected error (a bug); its traceback, secrets masked, is in C(exception), shown at C(-vvv).
  returned: on failure, except for option errors reported by Ansible's argument validation
  type: str
  sample: vault_deleted
'''
