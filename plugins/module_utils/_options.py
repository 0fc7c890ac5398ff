# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs, defined once per option group and shared by modules and action plugins.

The matching documentation lives in plugins/doc_fragments (vault.py, ims.py, http.py).
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.adobe_commerce.accs.plugins.module_utils._ims import DEFAULT_IMS_URL

VAULT_SPEC = dict(
    vault_url=dict(type="str", fallback=(env_fallback, ["VAULT_ADDR"])),
    vault_token=dict(type="str", no_log=True, fallback=(env_fallback, ["VAULT_TOKEN"])),
    vault_auth_method=dict(type="str", choices=["token", "approle", "jwt"],
                           fallback=(env_fallback, ["VAULT_AUTH_METHOD"])),
    vault_role_id=dict(type="str", fallback=(env_fallback, ["VAULT_ROLE_ID"])),
    vault_secret_id=dict(type="str", no_log=True, fallback=(env_fallback, ["VAULT_SECRET_ID"])),
    vault_role=dict(type="str", fallback=(env_fallback, ["VAULT_ROLE"])),
    vault_jwt=dict(type="str", no_log=True, fallback=(env_fallback, ["VAULT_JWT"])),
    vault_auth_mount=dict(type="str", fallback=(env_fallback, ["VAULT_AUTH_MOUNT"])),
    vault_namespace=dict(type="str", fallback=(env_fallback, ["VAULT_NAMESPACE"])),
    vault_mount=dict(type="str", default="secret"),
    vault_path=dict(type="str"),
    vault_ca_cert=dict(type="path", fallback=(env_fallback, ["VAULT_CACERT"])),
    vault_validate_certs=dict(type="bool", default=True),
    vault_timeout=dict(type="int", default=30),
)

IMS_SPEC = dict(
    ims_url=dict(type="str", default=DEFAULT_IMS_URL),
    client_id=dict(type="str"),
    client_secret=dict(type="str", no_log=True),
    scopes=dict(type="list", elements="str"),
    min_ttl=dict(type="int", default=600),
    force_refresh=dict(type="bool", default=False),
    ims_client_auth=dict(type="str", default="basic", choices=["basic", "post"]),
    recovery_dir=dict(type="path", fallback=(env_fallback, ["ACCS_RECOVERY_DIR"])),
)

HTTP_SPEC = dict(
    timeout=dict(type="int", default=30),
    retries=dict(type="int", default=3),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
)

IMS_TOKEN_SPEC = dict(
    grant_type=dict(type="str", choices=["authorization_code", "refresh_token", "client_credentials"]),
    refresh_token=dict(type="str", no_log=True),
    code=dict(type="str", no_log=True),
    code_verifier=dict(type="str", no_log=True),
    redirect_uri=dict(type="str"),
    refresh_token_max_age=dict(type="int", no_log=False),
    **VAULT_SPEC, **IMS_SPEC, **HTTP_SPEC
)
IMS_TOKEN_RULES = dict(
    required_if=[("grant_type", "authorization_code", ("code",))],
)

ACCS_REST_SPEC = dict(
    base_url=dict(type="str", required=True),
    path=dict(type="str", required=True),
    method=dict(type="str", default="GET", choices=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
    query=dict(type="dict"),
    body=dict(type="raw"),
    headers=dict(type="dict", default={}),
    store_code=dict(type="str"),
    status_code=dict(type="list", elements="int", default=[200]),
    access_token=dict(type="str", no_log=True),
    api_key=dict(type="str", no_log=False),
    org_id=dict(type="str"),
    paginate=dict(type="bool", default=False),
    page_size=dict(type="int", default=100),
    **VAULT_SPEC, **IMS_SPEC, **HTTP_SPEC
)
ACCS_REST_RULES = dict(
    mutually_exclusive=[("access_token", "vault_path"), ("access_token", "client_id")],
    required_one_of=[("access_token", "vault_path", "client_id")],
)

# Options whose value is a secret: blank values are refused rather than sent.
SECRET_OPTIONS = ("vault_token", "vault_secret_id", "vault_jwt", "client_secret", "refresh_token", "code",
                  "code_verifier", "access_token")
