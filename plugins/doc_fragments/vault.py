# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Vault connection and auth options: the same names in every plugin of the collection.
    DOCUMENTATION = r'''
options:
  vault_url:
    description:
      - Address of Vault (or OpenBao), for example C(https://vault.example.com:8200).
      - Falls back to the E(VAULT_ADDR) environment variable.
    type: str
  vault_token:
    description:
      - Vault token for O(vault_auth_method=token).
      - Falls back to E(VAULT_TOKEN), then to the file C(~/.vault-token).
    type: str
  vault_auth_method:
    description:
      - How to log in to Vault. The login happens once per task (loop items share it).
      - V(jwt) suits CI pipelines that hold an OIDC token (GitLab C(id_tokens), GitHub Actions OIDC).
      - Falls back to E(VAULT_AUTH_METHOD).
    type: str
    choices: [token, approle, jwt]
    default: token
  vault_role_id:
    description: AppRole role id (O(vault_auth_method=approle)). Falls back to E(VAULT_ROLE_ID).
    type: str
  vault_secret_id:
    description: AppRole secret id (O(vault_auth_method=approle)). Falls back to E(VAULT_SECRET_ID).
    type: str
  vault_role:
    description: Role to log in as with O(vault_auth_method=jwt). Falls back to E(VAULT_ROLE).
    type: str
  vault_jwt:
    description: The JWT (pipeline OIDC token) for O(vault_auth_method=jwt). Falls back to E(VAULT_JWT).
    type: str
  vault_auth_mount:
    description: Mount path of the auth method; defaults to V(approle) or V(jwt). Falls back to E(VAULT_AUTH_MOUNT).
    type: str
  vault_namespace:
    description: Vault Enterprise / OpenBao namespace. Falls back to E(VAULT_NAMESPACE).
    type: str
  vault_mount:
    description: Mount point of the KV version 2 secrets engine that holds the credential documents.
    type: str
    default: secret
  vault_ca_cert:
    description: CA bundle to verify Vault's TLS certificate. Falls back to E(VAULT_CACERT).
    type: path
  vault_validate_certs:
    description: Verify Vault's TLS certificate. Turning it off warns.
    type: bool
    default: true
  vault_timeout:
    description: Seconds to wait for Vault to accept a connection and for each answer.
    type: int
    default: 30
'''

    # For lookups: where get_option finds each value besides the keyword arguments.
    PLUGINS = r'''
options:
  vault_url:
    env:
      - name: VAULT_ADDR
  vault_token:
    env:
      - name: VAULT_TOKEN
  vault_auth_method:
    env:
      - name: VAULT_AUTH_METHOD
  vault_role_id:
    env:
      - name: VAULT_ROLE_ID
  vault_secret_id:
    env:
      - name: VAULT_SECRET_ID
  vault_role:
    env:
      - name: VAULT_ROLE
  vault_jwt:
    env:
      - name: VAULT_JWT
  vault_auth_mount:
    env:
      - name: VAULT_AUTH_MOUNT
  vault_namespace:
    env:
      - name: VAULT_NAMESPACE
  vault_ca_cert:
    env:
      - name: VAULT_CACERT
'''
