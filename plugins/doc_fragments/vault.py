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
      - Falls back to E(VAULT_TOKEN), then to the file O(vault_token_file).
    type: str
  vault_token_file:
    description:
      - File holding the Vault token for O(vault_auth_method=token) when O(vault_token) is not set.
      - The default is the file C(vault login) writes; it may be absent. A file named otherwise must exist.
      - Falls back to E(VAULT_TOKEN_FILE).
    type: path
    default: ~/.vault-token
  vault_auth_method:
    description:
      - How to log in to Vault. The login happens once per task (loop items share it).
      - V(jwt) suits CI pipelines that hold an OIDC token (GitLab C(id_tokens), GitHub Actions OIDC).
      - V(kubernetes) suits AWX and Ansible Automation Platform on Kubernetes or OpenShift (the pod's service account).
      - V(cert) logs in with a TLS client certificate (O(vault_client_cert)); V(userpass) with a person's user name
        and password (for example to run the bootstrap).
      - Falls back to E(VAULT_AUTH_METHOD).
    type: str
    choices: [token, approle, jwt, kubernetes, cert, userpass]
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
  vault_kubernetes_role:
    description:
      - Vault role to log in as with O(vault_auth_method=kubernetes); it binds the pod's service account and namespace.
      - Falls back to E(VAULT_KUBERNETES_ROLE).
    type: str
  vault_kubernetes_token_path:
    description:
      - File holding the pod's service-account token (a JWT) for O(vault_auth_method=kubernetes).
      - Falls back to E(VAULT_KUBERNETES_TOKEN_PATH).
    type: path
    default: /var/run/secrets/kubernetes.io/serviceaccount/token
  vault_client_cert:
    description:
      - PEM client certificate for O(vault_auth_method=cert) (it may hold the key too). Needs an C(https) O(vault_url).
      - Falls back to E(VAULT_CLIENT_CERT).
    type: path
  vault_client_key:
    description:
      - PEM private key of O(vault_client_cert), unless the key is in that file. Falls back to E(VAULT_CLIENT_KEY).
    type: path
  vault_cert_role:
    description:
      - Certificate role to log in as with O(vault_auth_method=cert); without it Vault tries every role of the mount.
      - Falls back to E(VAULT_CERT_ROLE).
    type: str
  vault_username:
    description: User name for O(vault_auth_method=userpass). Falls back to E(VAULT_USERNAME).
    type: str
  vault_password:
    description: Password for O(vault_auth_method=userpass). Falls back to E(VAULT_PASSWORD).
    type: str
  vault_auth_mount:
    description:
      - Mount path of the auth method; defaults to the method's name (V(approle), V(jwt), V(kubernetes), V(cert),
        V(userpass)). Falls back to E(VAULT_AUTH_MOUNT).
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
    description:
      - Verify Vault's TLS certificate. Turning it off warns.
      - Falls back to the negation of E(VAULT_SKIP_VERIFY) (as the Vault CLI reads it), so C(VAULT_SKIP_VERIFY=true)
        means V(false).
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
  vault_token_file:
    env:
      - name: VAULT_TOKEN_FILE
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
  vault_kubernetes_role:
    env:
      - name: VAULT_KUBERNETES_ROLE
  vault_kubernetes_token_path:
    env:
      - name: VAULT_KUBERNETES_TOKEN_PATH
  vault_client_cert:
    env:
      - name: VAULT_CLIENT_CERT
  vault_client_key:
    env:
      - name: VAULT_CLIENT_KEY
  vault_cert_role:
    env:
      - name: VAULT_CERT_ROLE
  vault_username:
    env:
      - name: VAULT_USERNAME
  vault_password:
    env:
      - name: VAULT_PASSWORD
  vault_auth_mount:
    env:
      - name: VAULT_AUTH_MOUNT
  vault_namespace:
    env:
      - name: VAULT_NAMESPACE
  vault_ca_cert:
    env:
      - name: VAULT_CACERT
  # vault_validate_certs: VAULT_SKIP_VERIFY is its negation, which env cannot say; plugin_utils/_vault_options
  # applies the spec's fallback (module_utils/_options.inverted_bool_env_fallback) when the option is not given.
'''
