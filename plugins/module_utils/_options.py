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

# The ACCS connection of the resource modules (accs_rest has its own, with headers and store_code).
ACCS_CONNECTION_SPEC = dict(
    base_url=dict(type="str", required=True),
    access_token=dict(type="str", no_log=True),
    api_key=dict(type="str", no_log=False),
    org_id=dict(type="str"),
)
ACCS_CONNECTION_RULES = dict(
    mutually_exclusive=[("access_token", "vault_path"), ("access_token", "client_id")],
    required_one_of=[("access_token", "vault_path", "client_id")],
)

SENSITIVE_PATHS_SPEC = dict(
    sensitive_paths=dict(type="list", elements="str", no_log=False),
    extra_sensitive_paths=dict(type="list", elements="str", no_log=False),
)

SYSTEM_CONFIG_SPEC = dict(
    settings=dict(type="list", elements="dict", required=True, options=dict(
        path=dict(type="str", required=True),
        value=dict(type="raw", required=True),
        scope=dict(type="str", default="default", choices=["default", "website", "store"]),
        scope_code=dict(type="str"),
    )),
    obscured_values=dict(type="str", default="skip", choices=["skip", "write"]),
    **SENSITIVE_PATHS_SPEC, **ACCS_CONNECTION_SPEC, **VAULT_SPEC, **IMS_SPEC, **HTTP_SPEC
)

SYSTEM_CONFIG_INFO_SPEC = dict(
    paths=dict(type="list", elements="str"),
    scope=dict(type="str", choices=["default", "website", "store"]),
    scope_code=dict(type="str"),
    config_scopes=dict(type="list", elements="dict", options=dict(
        scope=dict(type="str", default="default", choices=["default", "website", "store"]),
        scope_code=dict(type="str"),
    )),
    include=dict(type="list", elements="str"),
    exclude=dict(type="list", elements="str"),
    reveal_sensitive=dict(type="bool", default=False),
    **SENSITIVE_PATHS_SPEC, **ACCS_CONNECTION_SPEC, **VAULT_SPEC, **IMS_SPEC, **HTTP_SPEC
)
SYSTEM_CONFIG_INFO_RULES = dict(
    ACCS_CONNECTION_RULES,
    mutually_exclusive=ACCS_CONNECTION_RULES["mutually_exclusive"] + [("scope", "config_scopes"), ("scope_code", "config_scopes")],
)

OWNERSHIP_SPEC = dict(
    prune=dict(type="bool", default=False),
    owner_prefix=dict(type="str"),
)
_STATE = dict(type="str", default="present", choices=["present", "absent"])
_RULES = dict(type="list", elements="dict", options=dict(
    field=dict(type="str", required=True),
    operator=dict(type="str", required=True),
    value=dict(type="str"),
))

WEBHOOK_SPEC = dict(
    webhooks=dict(type="list", elements="dict", required=True, options=dict(
        webhook_method=dict(type="str", required=True),
        webhook_type=dict(type="str", required=True, choices=["before", "after"]),
        batch_name=dict(type="str", required=True),
        hook_name=dict(type="str", required=True),
        url=dict(type="str"),
        method=dict(type="str"),
        priority=dict(type="int"),
        required=dict(type="bool"),
        soft_timeout=dict(type="int"),
        timeout=dict(type="int"),
        ttl=dict(type="int"),
        fallback_error_message=dict(type="str"),
        batch_order=dict(type="int"),
        fields=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            source=dict(type="str"),
        )),
        rules=_RULES,
        headers=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            value=dict(type="str", required=True),
        )),
        developer_console_oauth=dict(type="dict", options=dict(
            client_id=dict(type="str", required=True),
            client_secret=dict(type="str", required=True, no_log=True),
            org_id=dict(type="str", required=True),
            environment=dict(type="str", choices=["production", "staging"]),
        )),
        state=_STATE,
    )),
    sensitive_headers=dict(type="list", elements="str", no_log=False),
    **OWNERSHIP_SPEC, **ACCS_CONNECTION_SPEC, **VAULT_SPEC, **IMS_SPEC, **HTTP_SPEC
)

EVENT_SUBSCRIPTION_SPEC = dict(
    subscriptions=dict(type="list", elements="dict", required=True, options=dict(
        name=dict(type="str", required=True),
        parent=dict(type="str"),
        fields=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            source=dict(type="str"),
            converter=dict(type="str"),
        )),
        rules=_RULES,
        destination=dict(type="str"),
        priority=dict(type="bool"),
        hipaa_audit_required=dict(type="bool"),
        provider_id=dict(type="str"),
        state=_STATE,
    )),
    **OWNERSHIP_SPEC, **ACCS_CONNECTION_SPEC, **VAULT_SPEC, **IMS_SPEC, **HTTP_SPEC
)

EVENT_PROVIDER_SPEC = dict(
    providers=dict(type="list", elements="dict", required=True, options=dict(
        provider_id=dict(type="str", required=True),
        instance_id=dict(type="str"),
        label=dict(type="str"),
        description=dict(type="str"),
        workspace_configuration=dict(type="raw", no_log=True),
        state=_STATE,
    )),
    update_workspace_configuration=dict(type="str", default="on_create", choices=["on_create", "always"]),
    **ACCS_CONNECTION_SPEC, **VAULT_SPEC, **IMS_SPEC, **HTTP_SPEC
)

EVENTING_CONFIG_SPEC = dict(
    enabled=dict(type="bool", default=True),
    merchant_id=dict(type="str"),
    environment_id=dict(type="str"),
    provider_id=dict(type="str"),
    instance_id=dict(type="str"),
    workspace_configuration=dict(type="raw", no_log=True),
    force=dict(type="bool", default=False),
    check=dict(type="bool", default=True),
    require_ok=dict(type="bool", default=False),
    **ACCS_CONNECTION_SPEC, **VAULT_SPEC, **IMS_SPEC, **HTTP_SPEC
)

EXTENSIBILITY_INFO_SPEC = dict(
    gather=dict(type="list", elements="str", choices=["webhooks", "subscriptions", "providers", "supported", "check"]),
    **ACCS_CONNECTION_SPEC, **VAULT_SPEC, **IMS_SPEC, **HTTP_SPEC
)
