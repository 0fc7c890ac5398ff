# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option specs, one per option group, and the typed options built from them.

For internal collection use only. Every option and every default is written here once; the
argument specs of the modules and action plugins, the typed objects the engine takes
(:class:`VaultOptions`, :class:`ImsOptions`, :class:`HttpOptions`, ...) and the defaults the
clients fall back to are all derived from these specs. The matching documentation lives in
plugins/doc_fragments (vault.py, ims.py, http.py) and the modules' DOCUMENTATION.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, ClassVar, Optional

from ansible.module_utils.basic import AnsibleFallbackNotFound, env_fallback
from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE


def inverted_bool_env_fallback(*names):
    """An argument spec fallback: the negation of the first set boolean environment variable of ``names``.

    ``VAULT_SKIP_VERIFY=true`` means ``vault_validate_certs: false``, which ``env_fallback`` cannot say.
    A value that is not a boolean is handed on as it is, so the option's bool check refuses it.
    """
    for name in names:
        raw = os.environ.get(name)
        if raw is None or not raw.strip():
            continue
        value = raw.strip().lower()
        if value in BOOLEANS_TRUE:
            return False
        if value in BOOLEANS_FALSE:
            return True
        return raw
    raise AnsibleFallbackNotFound


HTTP_SPEC = dict(
    timeout=dict(type="int", default=30),
    retries=dict(type="int", default=3),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
)

VAULT_AUTH_METHODS = ["token", "approle", "jwt", "kubernetes", "cert", "userpass"]
KUBERNETES_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"

VAULT_SPEC = dict(
    vault_url=dict(type="str", fallback=(env_fallback, ["VAULT_ADDR"])),
    vault_token=dict(type="str", no_log=True, fallback=(env_fallback, ["VAULT_TOKEN"])),
    vault_token_file=dict(type="path", default="~/.vault-token", fallback=(env_fallback, ["VAULT_TOKEN_FILE"])),
    vault_auth_method=dict(type="str", choices=list(VAULT_AUTH_METHODS), default="token",
                           fallback=(env_fallback, ["VAULT_AUTH_METHOD"])),
    vault_role_id=dict(type="str", fallback=(env_fallback, ["VAULT_ROLE_ID"])),
    vault_secret_id=dict(type="str", no_log=True, fallback=(env_fallback, ["VAULT_SECRET_ID"])),
    vault_role=dict(type="str", fallback=(env_fallback, ["VAULT_ROLE"])),
    vault_jwt=dict(type="str", no_log=True, fallback=(env_fallback, ["VAULT_JWT"])),
    vault_kubernetes_role=dict(type="str", fallback=(env_fallback, ["VAULT_KUBERNETES_ROLE"])),
    vault_kubernetes_token_path=dict(type="path", default=KUBERNETES_TOKEN_PATH,
                                     fallback=(env_fallback, ["VAULT_KUBERNETES_TOKEN_PATH"])),
    vault_client_cert=dict(type="path", fallback=(env_fallback, ["VAULT_CLIENT_CERT"])),
    vault_client_key=dict(type="path", no_log=False, fallback=(env_fallback, ["VAULT_CLIENT_KEY"])),
    vault_cert_role=dict(type="str", fallback=(env_fallback, ["VAULT_CERT_ROLE"])),
    vault_username=dict(type="str", fallback=(env_fallback, ["VAULT_USERNAME"])),
    vault_password=dict(type="str", no_log=True, fallback=(env_fallback, ["VAULT_PASSWORD"])),
    vault_auth_mount=dict(type="str", fallback=(env_fallback, ["VAULT_AUTH_MOUNT"])),
    vault_namespace=dict(type="str", fallback=(env_fallback, ["VAULT_NAMESPACE"])),
    vault_mount=dict(type="str", default="secret"),
    vault_path=dict(type="str"),
    vault_ca_cert=dict(type="path", fallback=(env_fallback, ["VAULT_CACERT"])),
    # VAULT_SKIP_VERIFY=true is vault_validate_certs: false (still warned about)
    vault_validate_certs=dict(type="bool", default=True, fallback=(inverted_bool_env_fallback, ["VAULT_SKIP_VERIFY"])),
    # Vault waits as long as IMS and ACCS.
    vault_timeout=dict(type="int", default=HTTP_SPEC["timeout"]["default"]),
)

IMS_SPEC = dict(
    ims_url=dict(type="str", default="https://ims-na1.adobelogin.com"),
    client_id=dict(type="str"),
    client_secret=dict(type="str", no_log=True),
    scopes=dict(type="list", elements="str"),
    min_ttl=dict(type="int", default=600),
    force_refresh=dict(type="bool", default=False),
    ims_client_auth=dict(type="str", default="basic", choices=["basic", "post"]),
    recovery_dir=dict(type="path", fallback=(env_fallback, ["ACCS_RECOVERY_DIR"])),
)

TOKEN_SPEC = dict(
    grant_type=dict(type="str", choices=["authorization_code", "refresh_token", "client_credentials"]),
    refresh_token=dict(type="str", no_log=True),
    code=dict(type="str", no_log=True),
    code_verifier=dict(type="str", no_log=True),
    redirect_uri=dict(type="str"),
    refresh_token_max_age=dict(type="int", no_log=False),
)
IMS_TOKEN_SPEC = dict(**TOKEN_SPEC, **VAULT_SPEC, **IMS_SPEC, **HTTP_SPEC)
IMS_TOKEN_RULES = dict(
    required_if=[("grant_type", "authorization_code", ("code",))],
)

# The ACCS instance a task talks to, and how it is authenticated (a bare token, or the credential options).
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

REST_SPEC = dict(
    path=dict(type="str", required=True),
    method=dict(type="str", default="GET", choices=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
    query=dict(type="dict"),
    body=dict(type="raw"),
    headers=dict(type="dict", default={}),
    store_code=dict(type="str"),
    status_code=dict(type="list", elements="int", default=[200]),
    paginate=dict(type="bool", default=False),
    page_size=dict(type="int", default=100),
    **ACCS_CONNECTION_SPEC
)
# What every task that calls ACCS takes besides its own options.
ACCS_TASK_SPEC = dict(**ACCS_CONNECTION_SPEC, **VAULT_SPEC, **IMS_SPEC, **HTTP_SPEC)
ACCS_REST_SPEC = dict(**REST_SPEC, **VAULT_SPEC, **IMS_SPEC, **HTTP_SPEC)
ACCS_REST_RULES = ACCS_CONNECTION_RULES

BOOTSTRAP_DEFAULT_SCOPES = ["AdobeID", "openid", "offline_access", "additional_info.roles", "commerce.accs"]
# The options of the ims_bootstrap action (documented in plugins/modules/ims_bootstrap.py).
BOOTSTRAP_SPEC = dict(
    step=dict(type="str", default="listen", choices=["listen", "authorize", "exchange"]),
    client_id=IMS_SPEC["client_id"],
    client_secret=IMS_SPEC["client_secret"],
    scopes=dict(type="list", elements="str", default=list(BOOTSTRAP_DEFAULT_SCOPES)),
    ims_url=IMS_SPEC["ims_url"],
    ims_client_auth=IMS_SPEC["ims_client_auth"],
    redirect_port=dict(type="int", default=8765),
    wait_timeout=dict(type="int", default=300),
    session=dict(type="str"),
    redirect_url=dict(type="str", no_log=True),
    session_dir=dict(type="path", fallback=(env_fallback, ["ACCS_BOOTSTRAP_DIR"])),
    recovery_dir=IMS_SPEC["recovery_dir"],
    **VAULT_SPEC, **HTTP_SPEC
)
BOOTSTRAP_RULES = dict(
    required_if=[("step", "listen", ("vault_path",)),
                 ("step", "authorize", ("vault_path",)),
                 ("step", "exchange", ("session", "redirect_url"))],
)

# Options whose value is a secret: blank values are refused rather than sent.

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
    **SENSITIVE_PATHS_SPEC, **ACCS_TASK_SPEC
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
    **SENSITIVE_PATHS_SPEC, **ACCS_TASK_SPEC
)
SYSTEM_CONFIG_INFO_RULES = dict(
    required_one_of=ACCS_CONNECTION_RULES["required_one_of"],
    mutually_exclusive=(ACCS_CONNECTION_RULES["mutually_exclusive"]
                        + [("scope", "config_scopes"), ("scope_code", "config_scopes")]),
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
    **OWNERSHIP_SPEC, **ACCS_TASK_SPEC
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
    **OWNERSHIP_SPEC, **ACCS_TASK_SPEC
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
    **ACCS_TASK_SPEC
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
    **ACCS_TASK_SPEC
)

EXTENSIBILITY_INFO_SPEC = dict(
    gather=dict(type="list", elements="str", choices=["webhooks", "subscriptions", "providers", "supported", "check"]),
    **ACCS_TASK_SPEC
)

# accs_audit (controller only): one environment audited in one task. Each part given is audited; its declaration
# is validated again against the spec of the module that holds it (SYSTEM_CONFIG_SPEC, WEBHOOK_SPEC, ...).
_FAIL_ON_DRIFT = dict(type="bool", default=True)
ACCS_AUDIT_SPEC = dict(
    store=dict(type="dict", options=dict(
        expected=dict(type="dict", default={}),
        rules=dict(type="dict", default={}, options=dict(
            secure_urls_https=dict(type="bool", default=True),
            store_view_has_config=dict(type="bool", default=True),
            config_website_known=dict(type="bool", default=True),
        )),
        store_code=dict(type="str"),
        fail_on_drift=_FAIL_ON_DRIFT,
    )),
    system_config=dict(type="dict", options=dict(
        settings=dict(type="list", elements="dict", default=[]),
        obscured_values=SYSTEM_CONFIG_SPEC["obscured_values"],
        fail_on_drift=_FAIL_ON_DRIFT,
        **SENSITIVE_PATHS_SPEC
    )),
    extensibility=dict(type="dict", options=dict(
        webhooks=dict(type="list", elements="dict", default=[]),
        subscriptions=dict(type="list", elements="dict", default=[]),
        providers=dict(type="list", elements="dict", default=[]),
        sensitive_headers=WEBHOOK_SPEC["sensitive_headers"],
        owner_prefix=dict(type="raw"),
        prune=dict(type="bool", default=False),
        fail_on_drift=_FAIL_ON_DRIFT,
    )),
    credential_health=dict(type="dict", options=dict(
        warn_age=dict(type="int", default=432000),
        critical_age=dict(type="int", default=864000),
        fail_on_critical=dict(type="bool", default=True),
    )),
    report_dir=dict(type="path", default="accs-reports"),
    name=dict(type="str"),
    fail=dict(type="bool", default=True),
    variables=dict(type="bool", default=False),
    parts=dict(type="list", elements="str", choices=["store", "system_config", "extensibility", "credential_health"]),
    **ACCS_TASK_SPEC
)

SECRET_OPTIONS = tuple(name for name, option in dict(IMS_TOKEN_SPEC, **ACCS_REST_SPEC).items()
                       if option.get("no_log"))


def option_default(spec, name):
    """The default ``spec`` gives option ``name`` (a copy, so callers cannot change the spec's)."""
    value = spec[name].get("default")
    return list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value


def _unset(option, value):
    # For an option with a default, an empty string or container counts as not given too, as the
    # callers' `value or default` always did; 0 and False are values.
    if value is None:
        return True
    return "default" in option and isinstance(value, (str, list, dict)) and len(value) == 0


class OptionGroup:
    """Base of the typed option groups: frozen dataclasses whose field ``x`` is option ``PREFIX + x``."""

    SPEC: ClassVar[dict] = {}
    PREFIX: ClassVar[str] = ""

    @classmethod
    def option_name(cls, field):
        return cls.PREFIX + field

    @classmethod
    def from_params(cls, get):
        """The group from validated options: ``get(name)`` is ``params.get`` or a plugin's option getter.

        An option that is not given (None, or empty) takes the spec's default.
        """
        values = {}
        for field in dataclasses.fields(cls):
            name = cls.option_name(field.name)
            value = get(name)
            values[field.name] = option_default(cls.SPEC, name) if _unset(cls.SPEC[name], value) else value
        return cls(**values)

    @classmethod
    def defaults(cls):
        return cls.from_params(lambda name: None)

    def items(self):
        """(option name, value) pairs, for checks that speak of options by name."""
        return [(self.option_name(field.name), getattr(self, field.name)) for field in dataclasses.fields(self)]


@dataclasses.dataclass(frozen=True)
class VaultOptions(OptionGroup):
    """How to reach the Vault (or OpenBao) KV v2 store and log in."""

    SPEC: ClassVar[dict] = VAULT_SPEC
    PREFIX: ClassVar[str] = "vault_"

    url: Optional[str]
    token: Optional[str]
    token_file: str
    auth_method: str
    role_id: Optional[str]
    secret_id: Optional[str]
    role: Optional[str]
    jwt: Optional[str]
    kubernetes_role: Optional[str]
    kubernetes_token_path: str
    client_cert: Optional[str]
    client_key: Optional[str]
    cert_role: Optional[str]
    username: Optional[str]
    password: Optional[str]
    auth_mount: Optional[str]
    namespace: Optional[str]
    mount: str
    path: Optional[str]
    ca_cert: Optional[str]
    validate_certs: bool
    timeout: int


@dataclasses.dataclass(frozen=True)
class ImsOptions(OptionGroup):
    """The IMS host, client and token cache settings."""

    SPEC: ClassVar[dict] = IMS_SPEC

    ims_url: str
    client_id: Optional[str]
    client_secret: Optional[str]
    scopes: Optional[list]
    min_ttl: int
    force_refresh: bool
    ims_client_auth: str
    recovery_dir: Optional[str]


@dataclasses.dataclass(frozen=True)
class HttpOptions(OptionGroup):
    """Timeouts, retries and TLS towards IMS and ACCS."""

    SPEC: ClassVar[dict] = HTTP_SPEC

    timeout: int
    retries: int
    validate_certs: bool
    ca_path: Optional[str]


@dataclasses.dataclass(frozen=True)
class TokenOptions(OptionGroup):
    """ims_token's own options: which grant and its inputs."""

    SPEC: ClassVar[dict] = TOKEN_SPEC

    grant_type: Optional[str]
    refresh_token: Optional[str]
    code: Optional[str]
    code_verifier: Optional[str]
    redirect_uri: Optional[str]
    refresh_token_max_age: Optional[int]


@dataclasses.dataclass(frozen=True)
class RestOptions(OptionGroup):
    """accs_rest's own options: the request."""

    SPEC: ClassVar[dict] = REST_SPEC

    base_url: str
    path: str
    method: str
    query: Optional[dict]
    body: Any
    headers: dict
    store_code: Optional[str]
    status_code: list
    access_token: Optional[str]
    api_key: Optional[str]
    org_id: Optional[str]
    paginate: bool
    page_size: int


class OperationOptions:
    """Base of an operation's whole options: one attribute per group, each built from the same params."""

    GROUPS: ClassVar[dict] = {}

    @classmethod
    def from_params(cls, get, params=None):
        return cls(**{attribute: group.from_params(get) for attribute, group in cls.GROUPS.items()})

    def items(self):
        return [pair for attribute in self.GROUPS for pair in getattr(self, attribute).items()]


@dataclasses.dataclass(frozen=True)
class _CredentialOptions(OperationOptions):
    """What every operation that needs a token takes: where the credential is, IMS, and HTTP."""

    GROUPS: ClassVar[dict] = dict(vault=VaultOptions, ims=ImsOptions, http=HttpOptions)

    vault: VaultOptions
    ims: ImsOptions
    http: HttpOptions


@dataclasses.dataclass(frozen=True)
class ImsTokenOptions(_CredentialOptions):
    """Everything ims_token takes."""

    GROUPS: ClassVar[dict] = dict(_CredentialOptions.GROUPS, token=TokenOptions)

    token: TokenOptions


@dataclasses.dataclass(frozen=True)
class AccsRestOptions(_CredentialOptions):
    """Everything accs_rest takes."""

    GROUPS: ClassVar[dict] = dict(_CredentialOptions.GROUPS, rest=RestOptions)

    rest: RestOptions


@dataclasses.dataclass(frozen=True)
class AccsConnectionOptions(OptionGroup):
    """The ACCS instance of a resource module."""

    SPEC: ClassVar[dict] = ACCS_CONNECTION_SPEC

    base_url: str
    access_token: Optional[str]
    api_key: Optional[str]
    org_id: Optional[str]


@dataclasses.dataclass(frozen=True)
class ResourceOptions(_CredentialOptions):
    """Everything a resource module takes: the credential groups, the ACCS connection, and in ``resource``
    its own options (the declaration), as validated against its spec."""

    GROUPS: ClassVar[dict] = dict(_CredentialOptions.GROUPS, accs=AccsConnectionOptions)
    OWN: ClassVar[frozenset] = frozenset()

    accs: AccsConnectionOptions
    resource: dict

    @classmethod
    def from_params(cls, get, params=None):
        groups = {attribute: group.from_params(get) for attribute, group in cls.GROUPS.items()}
        grouped = {group.option_name(f.name) for group in cls.GROUPS.values() for f in dataclasses.fields(group)}
        own = {name: value for name, value in (params or {}).items() if name not in grouped}
        return cls(resource=own, **groups)
