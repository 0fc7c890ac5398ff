# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ims_token and accs_rest do, over plain validated options: no AnsibleModule here.

The modules call these in a module process; the action plugins call them in the
controller's worker, which spares a Python start-up and re-import per task.
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
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import SECRET_OPTIONS
from ansible_collections.adobe_commerce.accs.plugins.module_utils._token_manager import (
    TokenManager,
    TokenRequest,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._vault import VaultSettings, VaultStore

READ_ONLY_METHODS = ("GET", "HEAD")


def _check_common(params):
    for name in SECRET_OPTIONS:
        value = params.get(name)
        if value is not None and isinstance(value, str) and not value.strip():
            raise ConfigError("Option %s is empty or blank: give its value, or leave the option out." % name)
    for name in ("timeout", "retries", "min_ttl", "vault_timeout"):
        value = params.get(name)
        if value is not None and value < 0:
            raise ConfigError("Option %s must not be negative." % name)
    for name in ("timeout", "vault_timeout"):
        if params.get(name) == 0:
            raise ConfigError("Option %s must be at least 1 second." % name)


def _token_manager(params, http, check_mode, warnings=None):
    store = None
    if params.get("vault_path"):
        store = VaultStore(VaultSettings.from_options(params.get))
    ims = ImsClient(http, params.get("ims_url"), params.get("ims_client_auth") or "basic")
    return TokenManager(ims, store, check_mode=check_mode, recovery_dir=params.get("recovery_dir"),
                        warnings=warnings)


def _token_request(params):
    return TokenRequest(
        grant_type=params.get("grant_type"), client_id=params.get("client_id"),
        client_secret=params.get("client_secret"), scopes=params.get("scopes"),
        refresh_token=params.get("refresh_token"), code=params.get("code"),
        code_verifier=params.get("code_verifier"), redirect_uri=params.get("redirect_uri"),
        vault_path=params.get("vault_path"), min_ttl=params.get("min_ttl"),
        force_refresh=params.get("force_refresh"), refresh_token_max_age=params.get("refresh_token_max_age"))


def _http(params, warnings):
    return HttpClient(timeout=params.get("timeout") or 30, retries=params.get("retries", 3),
                      validate_certs=params.get("validate_certs", True), ca_path=params.get("ca_path"),
                      warnings=warnings)


def _vault_warnings(params, warnings):
    if params.get("vault_path") and params.get("vault_validate_certs") is False:
        warnings.append("TLS certificate verification of Vault is off (vault_validate_certs: false): turn it back on and set vault_ca_cert instead.")


def run_ims_token(params, check_mode=False, warnings=None):
    """The ims_token result dict; raises AccsError subclasses with the user-facing sentence."""
    warnings = [] if warnings is None else warnings
    _check_common(params)
    _vault_warnings(params, warnings)
    if params.get("grant_type") == "authorization_code" and params.get("force_refresh"):
        raise ConfigError("force_refresh does not apply to grant_type authorization_code: leave it out.")
    manager = _token_manager(params, _http(params, warnings), check_mode, warnings)
    result = manager.token(_token_request(params))
    out = {"changed": result.changed, "refreshed": result.refreshed}
    if result.access_token:
        out.update(access_token=result.access_token, token_type=result.token_type,
                   expires_in=result.expires_in(), expires_at=format_time(result.expires_at))
    if result.refresh_token and not params.get("vault_path"):
        out["refresh_token"] = result.refresh_token
    if params.get("vault_path"):
        out["vault_path"] = params["vault_path"]
    return out


def run_accs_rest(params, check_mode=False, warnings=None):
    """The accs_rest result dict; raises AccsError subclasses with the user-facing sentence."""
    warnings = [] if warnings is None else warnings
    _check_common(params)
    _vault_warnings(params, warnings)
    method = params.get("method", "GET").upper()
    if params.get("paginate") and method != "GET":
        raise ConfigError("paginate works with method GET only.")
    if params.get("paginate") and (params.get("page_size") or 0) < 1:
        raise ConfigError("Option page_size must be a positive integer.")
    http = _http(params, warnings)
    if check_mode and method not in READ_ONLY_METHODS:
        # Validate what can be validated offline, then report the change without sending it.
        AccsClient(http, params["base_url"], TokenSource(access_token="-")).url_for(params["path"])
        return {"changed": True, "msg": "Check mode: %s %s was not sent." % (method, params["path"])}
    if params.get("access_token"):
        tokens = TokenSource(access_token=params["access_token"])
    else:
        # Reading ACCS changes nothing, so the token is fetched even in check mode.
        manager = _token_manager(params, http, check_mode=False, warnings=warnings)
        tokens = TokenSource(manager, _token_request(params))
    client = AccsClient(http, params["base_url"], tokens, api_key=params.get("api_key"),
                        org_id=params.get("org_id"), store_code=params.get("store_code"),
                        headers=_safe_headers(params.get("headers")))
    client.check_headers()
    if tokens.renewable:
        tokens.current()
        credential = tokens.credential
        client.api_key = client.api_key or credential.client_id
        client.org_id = client.org_id or credential.org_id
    status_codes = tuple(params.get("status_code") or [200])
    started = time.monotonic()
    if params.get("paginate"):
        body, pages = client.paginate(params["path"], params.get("query"), params.get("page_size") or 100, status_codes)
        out = {"status": 200, "json": body, "pages": pages, "url": client.url_for(params["path"])}
    else:
        answer = client.request(method, params["path"], params.get("query"), params.get("body"), status_codes)
        out = {"status": answer.status, "json": answer.json, "url": answer.url, "headers": answer.headers}
    out["elapsed"] = round(time.monotonic() - started, 3)
    out["changed"] = method not in READ_ONLY_METHODS
    if tokens.renewable and tokens.result is not None:
        out["token_refreshed"] = tokens.result.refreshed or client.refreshed_on_401
        out["token_expires_at"] = format_time(tokens.result.expires_at) if tokens.result.expires_at else None
    return out


def _safe_headers(headers):
    headers = dict(headers or {})
    for name in list(headers):
        if name.lower() == "authorization":
            raise ConfigError("Do not pass an Authorization header: give access_token or vault_path and the module sets it.")
        headers[name] = str(headers[name])
    return headers


def run_in_module(module, operation):
    """Run ``operation`` in an AnsibleModule and exit with its result (one-sentence failures)."""
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
