# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ims_token and accs_rest do, over typed options (_options): no AnsibleModule in the engine.

For internal collection use only. The modules call these in a module process (run_module); the
action plugins call them in the controller's worker, which spares a Python start-up and re-import
per task. An :class:`Operation` ties a module's spec, rules and typed options to its engine function.
"""

from __future__ import annotations

import re
import time
import traceback

from ansible_collections.adobe_commerce.accs.plugins.module_utils._accs import AccsClient, TokenSource
from ansible_collections.adobe_commerce.accs.plugins.module_utils._credential import format_time
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import INTERNAL_KIND, AccsError, ConfigError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._http import HttpClient
from ansible_collections.adobe_commerce.accs.plugins.module_utils._ims import ImsClient
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import (
    ACCS_REST_RULES,
    ACCS_REST_SPEC,
    IMS_TOKEN_RULES,
    IMS_TOKEN_SPEC,
    SECRET_OPTIONS,
    AccsRestOptions,
    ImsTokenOptions,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._token_manager import (
    TokenManager,
    TokenRequest,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._vault import TLS_OFF_WARNING, VaultStore, read_retry_policy

READ_ONLY_METHODS = ("GET", "HEAD")


def _check_common(options):
    values = dict(options.items())
    for name in SECRET_OPTIONS:
        value = values.get(name)
        if value is not None and isinstance(value, str) and not value.strip():
            raise ConfigError("Option %s is empty or blank: give its value, or leave the option out." % name)
    for name in ("timeout", "retries", "min_ttl", "vault_timeout"):
        value = values.get(name)
        if value is not None and value < 0:
            raise ConfigError("Option %s must not be negative." % name)
    for name in ("timeout", "vault_timeout"):
        if values.get(name) == 0:
            raise ConfigError("Option %s must be at least 1 second." % name)


def _token_manager(options, http, check_mode, warnings=None):
    store = None
    if options.vault.path:
        store = VaultStore(options.vault, read_policy=read_retry_policy(options.http.retries))
    ims = ImsClient(http, options.ims.ims_url, options.ims.ims_client_auth)
    return TokenManager(ims, store, check_mode=check_mode, recovery_dir=options.ims.recovery_dir,
                        warnings=warnings)


def _vault_warnings(options, warnings):
    if options.vault.path and options.vault.validate_certs is False:
        warnings.append(TLS_OFF_WARNING)


def run_ims_token(options, check_mode=False, warnings=None):
    """The ims_token result dict for ImsTokenOptions; raises AccsError subclasses with the user-facing sentence."""
    warnings = [] if warnings is None else warnings
    _check_common(options)
    _vault_warnings(options, warnings)
    if options.token.grant_type == "authorization_code" and options.ims.force_refresh:
        raise ConfigError("force_refresh does not apply to grant_type authorization_code: leave it out.")
    manager = _token_manager(options, HttpClient.from_options(options.http, warnings), check_mode, warnings)
    result = manager.token(TokenRequest.from_options(options))
    out = {"changed": result.changed, "refreshed": result.refreshed}
    if result.access_token:
        out.update(access_token=result.access_token, token_type=result.token_type,
                   expires_in=result.expires_in(), expires_at=format_time(result.expires_at))
    if result.refresh_token and not options.vault.path:
        out["refresh_token"] = result.refresh_token
    if options.vault.path:
        out["vault_path"] = options.vault.path
    return out


def run_accs_rest(options, check_mode=False, warnings=None):
    """The accs_rest result dict for AccsRestOptions; raises AccsError subclasses with the user-facing sentence."""
    warnings = [] if warnings is None else warnings
    _check_common(options)
    _vault_warnings(options, warnings)
    rest = options.rest
    method = rest.method.upper()
    if rest.paginate and method != "GET":
        raise ConfigError("paginate works with method GET only.")
    if rest.paginate and rest.page_size < 1:
        raise ConfigError("Option page_size must be a positive integer.")
    http = HttpClient.from_options(options.http, warnings)
    if check_mode and method not in READ_ONLY_METHODS:
        # Validate what can be validated offline, then report the change without sending it.
        AccsClient(http, rest.base_url, TokenSource(access_token="-")).url_for(rest.path)
        return {"changed": True, "msg": "Check mode: %s %s was not sent." % (method, rest.path)}
    client, tokens = accs_client(options, http, rest, store_code=rest.store_code, headers=_safe_headers(rest.headers),
                                 warnings=warnings)
    status_codes = tuple(rest.status_code)
    started = time.monotonic()
    if rest.paginate:
        body, pages = client.paginate(rest.path, rest.query, rest.page_size, status_codes)
        out = {"status": 200, "json": body, "pages": pages, "url": client.url_for(rest.path)}
    else:
        answer = client.request(method, rest.path, rest.query, rest.body, status_codes)
        out = {"status": answer.status, "json": answer.json, "url": answer.url, "headers": answer.headers}
    out["elapsed"] = round(time.monotonic() - started, 3)
    out["changed"] = method not in READ_ONLY_METHODS
    out.update(token_facts(tokens, client))
    return out


def accs_client(options, http, connection, store_code=None, headers=None, warnings=None):
    """The ACCS client of ``connection`` (base_url, access_token, api_key, org_id) with its token source.

    The token is fetched now, even in check mode (reading ACCS changes nothing), so the credential's
    client id and organization fill x-api-key and x-gw-ims-org-id when the task does not set them.
    """
    if connection.access_token:
        tokens = TokenSource(access_token=connection.access_token)
    else:
        manager = _token_manager(options, http, check_mode=False, warnings=warnings)
        tokens = TokenSource(manager, TokenRequest.from_options(options))
    client = AccsClient(http, connection.base_url, tokens, api_key=connection.api_key, org_id=connection.org_id,
                        store_code=store_code, headers=headers)
    client.check_headers()
    if tokens.renewable:
        tokens.current()
        credential = tokens.credential
        client.api_key = client.api_key or credential.client_id
        client.org_id = client.org_id or credential.org_id
    return client, tokens


def open_accs(options, warnings):
    """Common checks and the ACCS client of a resource module's task (ResourceOptions); (client, tokens)."""
    _check_common(options)
    _vault_warnings(options, warnings)
    return accs_client(options, HttpClient.from_options(options.http, warnings), options.accs, warnings=warnings)


def token_facts(tokens, client):
    """What a task says about the token it used (nothing for a bare access_token)."""
    if not (tokens.renewable and tokens.result is not None):
        return {}
    return {"token_refreshed": tokens.result.refreshed or client.refreshed_on_401,
            "token_expires_at": format_time(tokens.result.expires_at) if tokens.result.expires_at else None}


def _safe_headers(headers):
    headers = dict(headers or {})
    for name in list(headers):
        if name.lower() == "authorization":
            raise ConfigError("Do not pass an Authorization header: give access_token or vault_path and the module sets it.")
        headers[name] = str(headers[name])
    return headers


class Operation:
    """What a module or action plugin runs: its argument spec and rules, its typed options, the engine function."""

    def __init__(self, name, spec, rules, options, run):
        self.name = name            # fully qualified module name, for remote targets
        self.spec = spec
        self.rules = rules
        self.options = options      # an OperationOptions class
        self.run = run

    def __call__(self, params, check_mode=False, warnings=None):
        """Build the typed options from validated ``params`` and run the engine function."""
        return self.run(self.options.from_params(params.get, params), check_mode=check_mode, warnings=warnings)


IMS_TOKEN = Operation("adobe_commerce.accs.ims_token", IMS_TOKEN_SPEC, IMS_TOKEN_RULES, ImsTokenOptions, run_ims_token)
ACCS_REST = Operation("adobe_commerce.accs.accs_rest", ACCS_REST_SPEC, ACCS_REST_RULES, AccsRestOptions, run_accs_rest)


def run_module(module_class, operation):
    """The ``main()`` of a thin module: validate its options with ``module_class`` (AnsibleModule), run
    ``operation`` and exit with its result."""
    module = module_class(argument_spec=operation.spec, supports_check_mode=True, **operation.rules)
    run_in_module(module, operation)


def run_in_module(module, operation):
    """Run ``operation`` (an Operation) in an AnsibleModule and exit with its result (one-sentence failures)."""
    warnings = []
    try:
        result = operation(module.params, check_mode=module.check_mode, warnings=warnings)
    except AccsError as err:
        for warning in warnings:
            module.warn(warning)
        module.fail_json(msg=err.message, error_kind=err.kind, **err.details)
    except Exception as exc:  # a bug: still one sentence; the scrubbed traceback is shown at -vvv
        text = scrubbed_traceback(module.no_log_values)
        # ansible-core 2.19 keeps `exception` only with tracebacks enabled (ANSIBLE_DISPLAY_TRACEBACK):
        # TRACEBACK_KEY carries it to the action plugin, which shows it at -vvv
        module.fail_json(msg=unexpected_error_message(exc), error_kind=INTERNAL_KIND, exception=text,
                         **{TRACEBACK_KEY: text})
    for warning in warnings:
        module.warn(warning)
    module.exit_json(**result)


def unexpected_error_message(exc):
    return ("Unexpected internal error (%s) in adobe_commerce.accs: run again with -vvv and report it with the "
            "task's options, leaving out secrets." % type(exc).__name__)


# The key of a module's result that carries its traceback to the action plugin (popped there).
TRACEBACK_KEY = "accs_traceback"

# Runs of the token alphabets (base64, base64url, hex; the dots of a JWT split it into parts): masked
# when 16+ characters with digits and letters, or 32+ with upper and lower case letters. Python
# names (lower case, no digits) and paths (split by / and .) stay readable.
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_+=-]{16,}")
MASK = "********"


def _mask_token_like(match):
    text = match.group(0)
    digits = any(c.isdigit() for c in text)
    letters = any(c.isalpha() for c in text)
    mixed_case = any(c.isupper() for c in text) and any(c.islower() for c in text)
    return MASK if (digits and letters) or (len(text) >= 32 and mixed_case) else text


def scrubbed_traceback(hidden=()):
    """The traceback of the exception being handled, with every value of ``hidden`` (the no_log values)
    and every token-like string masked, for the result's ``exception`` key (shown at -vvv)."""
    text = traceback.format_exc()
    for value in sorted({str(v) for v in hidden if v}, key=len, reverse=True):
        text = text.replace(value, MASK)
    return _TOKEN_LIKE.sub(_mask_token_like, text)
