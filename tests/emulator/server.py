"""HTTPS emulator of Adobe IMS and Adobe Commerce as a Cloud Service (ACCS) for tests.

Standard library only, plus ``trustme`` for a throw-away CA made at start-up.  One HTTPS
listener serves IMS (``/ims/...``), ACCS (``/<tenant-id>/V1/...``) and the control interface
(``/_control/...``); two more listeners serve the same application with broken TLS set-ups
(a certificate for the wrong host name, and a certificate from an unknown CA).

Behaviour follows ``shared/reference/ims-accs-facts.md``; see ``tests/emulator/README.md``.
Never logs token or secret values.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import math
import os
import re
import secrets as _secrets
import signal
import socket
import ssl
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from . import data as tenant_data
from . import extensibility as ext
from . import system_config as sysconf
from .config_catalog import CATALOG as CONFIG_CATALOG
from .config_catalog import catalog_list as config_catalog_list

# --------------------------------------------------------------------------------------------
# constants

DEFAULT_LIFETIMES = {
    "access_token": 86399,  # seconds; IMS answers expires_in 86399 (24 h)
    "refresh_token": 14 * 24 * 3600,  # about 14 days
    "code": 300,
}

KNOWN_GRANTS = ("authorization_code", "refresh_token", "client_credentials")
DEFAULT_GRANTS = ("authorization_code", "refresh_token")
ACCS_SCOPE = "commerce.accs"
OFFLINE_SCOPE = "offline_access"

DEFAULT_USER = {
    "sub": "0A1B2C3D4E5F60718293A4B5@AdobeID",
    "email": "emulated.user@example.com",
    "name": "Emulated User",
}

SENSITIVE_PARAMS = {
    "client_secret",
    "code",
    "refresh_token",
    "access_token",
    "token",
    "code_verifier",
    "id_token",
    "password",
    "assertion",
}

RECORDED_HEADERS = ("x-api-key", "Store", "x-gw-ims-org-id", "Content-Type")

FAULT_BODIES = ("html", "not_json", "json", "empty", "huge")

ACCS_STORE_ENDPOINTS = {
    "store/storeConfigs": "storeConfigs",
    "store/storeViews": "storeViews",
    "store/websites": "websites",
    "store/storeGroups": "storeGroups",
}

ACL_RESOURCES = {
    "storeConfigs": "Magento_Backend::store",
    "storeViews": "Magento_Backend::store",
    "websites": "Magento_Backend::store",
    "storeGroups": "Magento_Backend::store",
    "products": "Magento_Catalog::products",
    "systemConfig": "Magento_Config::config",
    "webhooks": "Magento_AdobeCommerceWebhooks::webhooks",
    "eventSubscriptions": "Magento_AdobeCommerceEventsClient::event_list",
    "eventProviders": "Magento_AdobeCommerceEventsClient::event_provider",
    "eventingConfig": "Magento_AdobeIoEventsClient::configuration_update",
    "ioEventsCheck": "Magento_AdobeIoEventsClient::configuration_check",
    "unknown": "Magento_Backend::admin",
}

PKCE_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
MAX_BODY = 16 * 1024 * 1024
MAX_RECORDS = 20000
MAX_ACCS_URL = 8192  # bytes of path + "?" + query an ACCS request may have (the CDN/gateway limit)
HUGE_TARGET_BYTES = 6 * 1024 * 1024

DROP = object()  # handler result: close the connection without answering


# Kubernetes TokenReview (what Vault's kubernetes auth method calls to check a pod's service-account token)
K8S_TOKENREVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews"
K8S_API_AUDIENCES = ["https://kubernetes.default.svc.cluster.local"]
K8S_ISSUER = "https://kubernetes.default.svc.cluster.local"
K8S_TOKEN_LIFETIME = 3600


EXT_ENDPOINTS = ("webhooks", "eventSubscriptions", "eventProviders", "eventingConfig", "ioEventsCheck")


def ext_endpoint(rest):
    """The endpoint key of an extensibility path (after /V1/), or None."""
    if rest.startswith("webhooks/"):
        return "webhooks"
    if rest == "eventing/updateConfiguration":
        return "eventingConfig"
    if rest == "adobe_io_events/check_configuration":
        return "ioEventsCheck"
    if rest in ("eventing/eventProvider", "eventing/getEventProviders") or rest.startswith("eventing/eventProvider/"):
        return "eventProviders"
    if rest.startswith("eventing/"):
        return "eventSubscriptions"
    return None


class Response:
    __slots__ = ("status", "body", "content_type", "headers")

    def __init__(self, status, body=b"", content_type="application/json", headers=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = dict(headers or {})


def json_response(status, obj, headers=None):
    return Response(status, json.dumps(obj).encode("utf-8"), "application/json", headers)


def ims_error(error, description, status=400, headers=None):
    return json_response(status, {"error": error, "error_description": description}, headers)


def commerce_error(status, message, parameters=None):
    body = {"message": message}
    if parameters is not None:
        body["parameters"] = parameters
    return json_response(status, body)


class Request:
    """What the application sees of one HTTP request."""

    def __init__(self, method, raw_path, headers, body, client_ip, base_url):
        self.method = method
        path, sep, query = raw_path.partition("?")
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.client_ip = client_ip
        self.base_url = base_url
        self._qs = None
        self._form = None

    def header(self, name):
        return self.headers.get(name)

    @property
    def qs(self):
        if self._qs is None:
            self._qs = parse_qs(self.query, keep_blank_values=True)
        return self._qs

    def is_form(self):
        ctype = (self.header("Content-Type") or "").split(";")[0].strip().lower()
        return ctype == "application/x-www-form-urlencoded"

    @property
    def form(self):
        if self._form is None:
            try:
                text = self.body.decode("utf-8")
            except UnicodeDecodeError:
                text = ""
            self._form = parse_qs(text, keep_blank_values=True) if self.is_form() else {}
        return self._form

    def bearer(self):
        auth = self.header("Authorization") or ""
        scheme, sep, value = auth.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return value.strip() or None


class BadParams(Exception):
    pass


def single(params, name):
    """One value of a parameter; repeated parameters are a request error (RFC 6749 3.1)."""
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadParams("parameter %s given more than once" % name)
    return values[0]


def parse_scopes(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = []
        for v in value:
            items.extend(parse_scopes(str(v)))
        value_items = items
    else:
        value_items = [s.strip() for s in re.split(r"[,\s]+", str(value))]
    out = []
    for s in value_items:
        if s and s not in out:
            out.append(s)
    return out


def redact_query(query):
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(k in SENSITIVE_PARAMS for k, v in pairs):
        return query
    return urlencode([(k, "[redacted]" if k in SENSITIVE_PARAMS else v) for k, v in pairs])


def redact_params(query):
    out = {}
    for k, v in parse_qsl(query, keep_blank_values=True):
        out.setdefault(k, []).append("[redacted]" if k in SENSITIVE_PARAMS else v)
    return out


def new_token(prefix):
    return prefix + _secrets.token_urlsafe(32)


def s256(verifier):
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


_HUGE_CACHE = []


def huge_body():
    if not _HUGE_CACHE:
        parts = []
        size = 2
        i = 0
        while size < HUGE_TARGET_BYTES:
            item = json.dumps(
                {"id": i, "code": "huge-%07d" % i, "name": "Huge answer item %d " % i + "x" * 96}
            )
            parts.append(item)
            size += len(item) + 2
            i += 1
        _HUGE_CACHE.append(("[" + ", ".join(parts) + "]").encode("utf-8"))
    return _HUGE_CACHE[0]


URI_TOO_LONG_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>414 Request-URI Too Large</title></head>\n"
    "<body><center><h1>414 Request-URI Too Large</h1></center>\n"
    "<hr><center>emulated gateway</center></body></html>\n"
)

HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>{status} Gateway Error</title></head>\n"
    "<body><center><h1>{status} Gateway Error</h1></center>\n"
    "<hr><center>emulated gateway</center></body></html>\n"
)


# --------------------------------------------------------------------------------------------
# application state and logic


class App:
    def __init__(self, verbose=False):
        self.verbose = verbose
        self.lock = threading.RLock()
        self.reset()

    # ---- state -------------------------------------------------------------------------

    def reset(self):
        with self.lock:
            self.clients = {}
            self.codes = {}
            self.access_tokens = {}
            self.refresh_tokens = {}
            self.tenants = {}
            self.faults = []
            self.counters = {}
            self.records = deque(maxlen=MAX_RECORDS)
            self.lifetimes = dict(DEFAULT_LIFETIMES)
            self.config_restrictions = {}  # IMS client id -> denied path globs (system config)
            self.service_accounts = {}  # service-account token -> {namespace, name, uid, audiences, reviewer, ...}
            self.secret_values = {
                "client_secrets": [],
                "codes": [],
                "code_verifiers": [],
                "refresh_tokens": [],
                "access_tokens": [],
                "id_tokens": [],
                "config_secrets": [],
                "service_account_tokens": [],
                **{kind: [] for kind in ext.SECRET_KINDS},
            }

    def _remember_secret(self, kind, value):
        if value and value not in self.secret_values[kind]:
            self.secret_values[kind].append(value)

    @staticmethod
    def _now():
        return time.monotonic()

    def _mint_access(self, client_id, scopes, sub, family, lifetime=None):
        lifetime = self.lifetimes["access_token"] if lifetime is None else lifetime
        token = new_token("at-")
        self.access_tokens[token] = {
            "client_id": client_id,
            "scopes": list(scopes),
            "sub": sub,
            "family": family,
            "expires_at": self._now() + float(lifetime),
            "revoked": False,
        }
        self._remember_secret("access_tokens", token)
        return token, int(lifetime)

    def _mint_refresh(self, client_id, scopes, sub, family):
        token = new_token("rt-")
        self.refresh_tokens[token] = {
            "client_id": client_id,
            "scopes": list(scopes),
            "sub": sub,
            "family": family,
            "expires_at": self._now() + float(self.lifetimes["refresh_token"]),
            "status": "valid",
        }
        self._remember_secret("refresh_tokens", token)
        return token

    def _access_status(self, token):
        rec = self.access_tokens.get(token) if token else None
        if rec is None:
            return "unknown", None
        if rec["revoked"]:
            return "revoked", rec
        if self._now() >= rec["expires_at"]:
            return "expired", rec
        return "valid", rec

    def _refresh_status(self, token):
        rec = self.refresh_tokens.get(token) if token else None
        if rec is None:
            return "unknown", None
        if rec["status"] != "valid":
            return rec["status"], rec
        if self._now() >= rec["expires_at"]:
            return "expired", rec
        return "valid", rec

    def _code_status(self, code):
        rec = self.codes.get(code) if code else None
        if rec is None:
            return "unknown", None
        if rec["revoked"]:
            return "revoked", rec
        if rec["used"]:
            return "used", rec
        if self._now() >= rec["expires_at"]:
            return "expired", rec
        return "valid", rec

    def _revoke_family(self, family):
        n = 0
        for rec in self.access_tokens.values():
            if rec["family"] == family and not rec["revoked"]:
                rec["revoked"] = True
                n += 1
        for rec in self.refresh_tokens.values():
            if rec["family"] == family and rec["status"] == "valid":
                rec["status"] = "revoked"
                n += 1
        return n

    # ---- dispatch ----------------------------------------------------------------------

    def handle(self, req):
        """Answer one request: a Response, or DROP."""
        if req.path == "/_control" or req.path.startswith("/_control/"):
            return self.control(req)
        route = self.route(req)
        if route is None:
            return json_response(404, {"message": "Request does not match any route."})
        keys, record, handler = route
        record.update(
            {
                "time": time.time(),
                "method": req.method,
                "key": keys[0] if keys else None,
                "keys": keys,
                "path": req.path,
                "query": redact_query(req.query),
                "params": redact_params(req.query),
                "headers": {h: req.header(h) for h in RECORDED_HEADERS},
                "authorization_present": req.header("Authorization") is not None,
                "authorization_scheme": (req.header("Authorization") or "").partition(" ")[0] or None,
                "status": None,
                "fault": False,
                "dropped": False,
            }
        )
        too_long = record.get("family") == "accs" and len(req.path) + 1 + len(req.query) > MAX_ACCS_URL
        with self.lock:
            for k in keys:
                self.counters[k] = self.counters.get(k, 0) + 1
            fault = None if too_long else self._take_fault(keys, req.path)
        try:
            if too_long:  # the gateway answers before Commerce (and before any fault)
                result = Response(414, URI_TOO_LONG_PAGE.encode(), "text/html; charset=utf-8")
            elif fault is not None:
                if fault.get("delay"):
                    time.sleep(float(fault["delay"]))
                if self._fault_is_delay_only(fault):
                    result = handler(req, record)
                else:
                    if fault.get("process"):
                        handler(req, record)
                    record["fault"] = True
                    result = DROP if fault.get("drop") else self._fault_response(fault, keys)
            else:
                result = handler(req, record)
        except BadParams as exc:
            if keys and keys[0].startswith("ims."):
                result = ims_error("invalid_request", str(exc))
            else:
                result = commerce_error(400, str(exc))
        if result is DROP:
            record["dropped"] = True
        else:
            record["status"] = result.status
        with self.lock:
            self.records.append(record)
        return result

    def route(self, req):
        path = req.path
        if path.startswith("/ims/"):
            return self._route_ims(req)
        if path.rstrip("/") == K8S_TOKENREVIEW_PATH:
            return ["k8s.tokenreview"], {"family": "k8s", "tenant": None}, self.k8s_tokenreview
        m = re.match(r"^/([^/]+)/V1/(.+?)/?$", path)
        if m and m.group(1) not in ("ims", "_control"):
            tenant = unquote(m.group(1))
            rest = m.group(2)
            endpoint = ACCS_STORE_ENDPOINTS.get(rest)
            sku = None
            if endpoint is None:
                if rest == "system/config":
                    endpoint = "systemConfig"
                elif ext_endpoint(rest):
                    endpoint = ext_endpoint(rest)
                elif rest == "products":
                    endpoint = "products"
                elif rest.startswith("products/") and "/" not in rest[len("products/"):]:
                    endpoint = "products"
                    sku = unquote(rest[len("products/"):])
                else:
                    endpoint = "unknown"
            keys = ["accs.%s" % endpoint, "accs.%s.%s" % (tenant, endpoint)]
            record = {"family": "accs", "tenant": tenant, "endpoint": endpoint}

            def handler(r, rec, tenant=tenant, endpoint=endpoint, sku=sku):
                return self.accs(r, rec, tenant, endpoint, sku)

            return keys, record, handler
        return None

    def _route_ims(self, req):
        path = req.path.rstrip("/")
        record = {"family": "ims", "tenant": None}
        if path == "/ims/.well-known/openid-configuration":
            return ["ims.discovery"], record, self.ims_discovery
        if path == "/ims/keys":
            return ["ims.keys"], record, self.ims_keys
        if path == "/ims/authorize/v2":
            q = req.qs
            record.update(
                {
                    "client_id": (q.get("client_id") or [None])[0],
                    "scope": (q.get("scope") or [None])[0],
                    "redirect_uri": (q.get("redirect_uri") or [None])[0],
                    "code_challenge_present": bool(q.get("code_challenge")),
                    "code_challenge_method": (q.get("code_challenge_method") or [None])[0],
                    "state_present": "state" in q,
                }
            )
            return ["ims.authorize"], record, self.ims_authorize
        if path == "/ims/token/v3":
            form = req.form
            grant = (form.get("grant_type") or [None])[0]
            auth_kind, client_id, _secret = self._client_credentials_of(req, strict=False)
            record.update(
                {
                    "grant_type": grant,
                    "client_auth": auth_kind,
                    "client_id": client_id,
                    "scope": (form.get("scope") or [None])[0],
                    "code_verifier_present": bool(form.get("code_verifier")),
                    "secret_in_query": "client_secret" in req.qs,
                }
            )
            keys = ["ims.token"]
            if grant and re.match(r"^[A-Za-z0-9_:.\-]+$", grant):
                keys.append("ims.token.%s" % grant)
            return keys, record, self.ims_token
        if path == "/ims/userinfo/v2":
            return ["ims.userinfo"], record, self.ims_userinfo
        if path == "/ims/validate_token/v1":
            form = req.form
            record.update(
                {
                    "client_id": (form.get("client_id") or req.qs.get("client_id") or [None])[0],
                    "token_type": (form.get("type") or req.qs.get("type") or [None])[0],
                }
            )
            return ["ims.validate"], record, self.ims_validate
        if path == "/ims/revoke":
            auth_kind, client_id, _secret = self._client_credentials_of(req, strict=False)
            record.update({"client_auth": auth_kind, "client_id": client_id})
            return ["ims.revoke"], record, self.ims_revoke
        return None

    # ---- faults ------------------------------------------------------------------------

    @staticmethod
    def _fault_is_delay_only(fault):
        return (
            not fault.get("drop")
            and fault.get("status") is None
            and fault.get("body") is None
            and fault.get("json") is None
            and fault.get("retry_after") is None
        )

    def _take_fault(self, keys, path):
        for i, fault in enumerate(self.faults):
            match = fault["match"]
            if match in keys:
                hit = True
            elif re.match(r"^(ims|accs)\.", match):
                hit = False
            else:
                hit = fault["_regex"].search(path) is not None
            if hit:
                fault["remaining"] -= 1
                if fault["remaining"] <= 0:
                    del self.faults[i]
                return fault
        return None

    def _fault_response(self, fault, keys):
        status = int(fault.get("status") or 500)
        kind = fault.get("body") or "json"
        headers = {}
        if fault.get("retry_after") is not None:
            headers["Retry-After"] = str(fault["retry_after"])
        ims = bool(keys) and keys[0].startswith("ims.")
        if kind == "html":
            return Response(status, HTML_PAGE.format(status=status).encode(), "text/html; charset=utf-8", headers)
        if kind == "not_json":
            return Response(status, b'{"message": "truncated answ<<not json>>', "application/json", headers)
        if kind == "empty":
            return Response(status, b"", "application/json", headers)
        if kind == "huge":
            return Response(status, huge_body(), "application/json", headers)
        if fault.get("json") is not None:
            return json_response(status, fault["json"], headers)
        if ims:
            if status == 429:
                body = {"error": "too_many_requests", "error_description": "Too many requests (emulated)"}
            elif status == 503:
                body = {"error": "temporarily_unavailable", "error_description": "Service unavailable (emulated)"}
            elif status >= 500:
                body = {"error": "server_error", "error_description": "Internal error (emulated)"}
            else:
                body = {"error": "invalid_request", "error_description": "Emulated fault"}
        else:
            if status == 429:
                body = {"message": "Too Many Requests"}
            elif status >= 500:
                body = {"message": "Internal Error. Details are available in Magento log file. Report ID: %1",
                        "parameters": ["webapi-" + uuid.uuid4().hex[:13]]}
            else:
                body = {"message": "Emulated fault %1", "parameters": [str(status)]}
        return json_response(status, body, headers)

    # ---- IMS ---------------------------------------------------------------------------

    def ims_discovery(self, req, record):
        base = req.base_url
        return json_response(
            200,
            {
                "issuer": base + "/ims",
                "authorization_endpoint": base + "/ims/authorize/v2",
                "token_endpoint": base + "/ims/token/v3",
                "userinfo_endpoint": base + "/ims/userinfo/v2",
                "revocation_endpoint": base + "/ims/revoke",
                "introspection_endpoint": base + "/ims/validate_token/v1",
                "jwks_uri": base + "/ims/keys",
                "response_types_supported": ["code"],
                "grant_types_supported": list(KNOWN_GRANTS),
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256", "plain"],
                "scopes_supported": [
                    "openid", "AdobeID", "email", "profile", "offline_access",
                    "additional_info.roles", "additional_info.projectedProductContext", ACCS_SCOPE,
                ],
            },
        )

    def ims_keys(self, req, record):
        return json_response(200, {"keys": []})

    @staticmethod
    def _redirect(uri, params):
        parts = urlsplit(uri)
        query = parse_qsl(parts.query, keep_blank_values=True)
        query.extend((k, v) for k, v in params.items() if v is not None)
        location = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
        return Response(302, b"", "text/plain", {"Location": location})

    def ims_authorize(self, req, record):
        if req.method not in ("GET", "POST"):
            return ims_error("invalid_request", "use GET", status=405)
        q = dict(req.qs)
        if req.method == "POST" and req.is_form():
            q.update(req.form)
        try:
            client_id = single(q, "client_id")
            redirect_uri = single(q, "redirect_uri")
            state = single(q, "state")
            scope = single(q, "scope")
            response_type = single(q, "response_type")
            prompt = single(q, "prompt")
            nonce = single(q, "nonce")
            challenge = single(q, "code_challenge")
            method = single(q, "code_challenge_method")
        except BadParams as exc:
            return ims_error("invalid_request", str(exc))
        with self.lock:
            if not client_id:
                return ims_error("invalid_request", "missing client_id parameter")
            client = self.clients.get(client_id)
            if client is None:
                # RFC 6749 4.1.2.1: never redirect to an unverified URI for an unknown client.
                return ims_error("invalid_client", "invalid client_id parameter")
            registered = client["redirect_uris"]
            if redirect_uri is None:
                if registered:
                    redirect_uri = registered[0]
                else:
                    return ims_error("invalid_request", "missing redirect_uri parameter")
            elif registered and redirect_uri not in registered:
                return ims_error("invalid_request", "redirect_uri does not match the client's configuration")
            parts = urlsplit(redirect_uri)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                return ims_error("invalid_request", "redirect_uri must be an absolute http(s) URI")

            def fail(error, description):
                return self._redirect(
                    redirect_uri, {"error": error, "error_description": description, "state": state}
                )

            if response_type != "code":
                return fail("unsupported_response_type", "response_type must be code")
            if state is not None and len(state) > 4096:
                return fail("invalid_request", "state longer than 4096 characters")
            if prompt is not None and prompt not in ("none", "login"):
                return fail("invalid_request", "prompt must be none or login")
            if "authorization_code" not in client["grants"]:
                return fail("unauthorized_client", "client is not allowed the authorization_code grant")
            scopes = parse_scopes(scope)
            if client["scopes"] is not None:
                bad = [s for s in scopes if s not in client["scopes"]]
                if bad:
                    return fail("invalid_scope", "scope not allowed for this client: %s" % ",".join(bad))
            if method is not None and challenge is None:
                return fail("invalid_request", "code_challenge_method without code_challenge")
            if challenge is not None:
                method = method or "plain"
                if method not in ("S256", "plain"):
                    return fail("invalid_request", "code_challenge_method must be S256 or plain")
                if not PKCE_RE.match(challenge):
                    return fail("invalid_request", "malformed code_challenge")
            elif client["public"]:
                return fail("invalid_request", "code_challenge is required for public clients (PKCE)")
            code = new_token("code-")
            self.codes[code] = {
                "client_id": client_id,
                "scopes": scopes,
                "redirect_uri": redirect_uri,
                "challenge": challenge,
                "method": method,
                "nonce": nonce,
                "sub": DEFAULT_USER["sub"],
                "expires_at": self._now() + float(self.lifetimes["code"]),
                "used": False,
                "revoked": False,
                "family": uuid.uuid4().hex,
            }
            self._remember_secret("codes", code)
            return self._redirect(redirect_uri, {"code": code, "state": state})

    def _client_credentials_of(self, req, strict=True):
        """(auth kind, client_id, secret) from Basic header or form body.

        With strict, raise _ClientAuthError on malformed or ambiguous authentication."""
        form = req.form
        auth = req.header("Authorization") or ""
        body_id = (form.get("client_id") or [None])[0]
        body_secret = (form.get("client_secret") or [None])[0]
        scheme, sep, value = auth.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                if strict:
                    raise _ClientAuthError("invalid_client", "malformed Basic authorization header")
                return "basic", None, None
            if ":" not in decoded:
                if strict:
                    raise _ClientAuthError("invalid_client", "malformed Basic authorization header")
                return "basic", None, None
            cid, sep, secret = decoded.partition(":")
            cid, secret = unquote(cid.replace("+", " ")), unquote(secret.replace("+", " "))
            if strict:
                if body_secret is not None:
                    raise _ClientAuthError("invalid_request", "client authenticated by more than one method")
                if body_id is not None and body_id != cid:
                    raise _ClientAuthError("invalid_request", "client_id does not match the Authorization header")
            return "basic", cid, secret
        if body_secret is not None:
            return "post", body_id, body_secret
        return "none", body_id, None

    def _authenticate_client(self, req):
        """The client record, or an error Response."""
        try:
            kind, client_id, secret = self._client_credentials_of(req)
        except _ClientAuthError as exc:
            return None, ims_error(exc.error, exc.description)
        if not client_id:
            return None, ims_error("invalid_request", "missing client_id parameter")
        client = self.clients.get(client_id)
        if client is None:
            return None, ims_error("invalid_client", "invalid client_id parameter")
        if client["public"]:
            if secret is not None:
                return None, ims_error("invalid_client", "public client must not send a client secret")
        else:
            if secret is None:
                return None, ims_error("invalid_client", "missing client_secret parameter")
            if not any(_secrets.compare_digest(secret.encode(), s.encode()) for s in client["secrets"]):
                return None, ims_error("invalid_client", "invalid client_secret parameter")
        return client, None

    def ims_token(self, req, record):
        if req.method != "POST":
            return ims_error("invalid_request", "token endpoint takes POST", status=405)
        if "client_secret" in req.qs:
            return ims_error("invalid_request", "client_secret must not be sent in the query string")
        if not req.is_form():
            return ims_error("invalid_request", "body must be application/x-www-form-urlencoded")
        form = req.form
        for name, values in form.items():
            if len(values) > 1:
                return ims_error("invalid_request", "parameter %s given more than once" % name)
        verifier = (form.get("code_verifier") or [None])[0]
        with self.lock:
            if verifier:
                self._remember_secret("code_verifiers", verifier)
            client, error = self._authenticate_client(req)
            if error is not None:
                return error
            grant = (form.get("grant_type") or [None])[0]
            if not grant:
                return ims_error("invalid_request", "missing grant_type parameter")
            if grant not in KNOWN_GRANTS:
                return ims_error("unsupported_grant_type", "grant_type %s is not supported" % grant)
            if grant not in client["grants"]:
                return ims_error("unauthorized_client", "client is not allowed the %s grant" % grant)
            if grant == "authorization_code":
                return self._grant_code(client, form)
            if grant == "refresh_token":
                return self._grant_refresh(client, form)
            return self._grant_client_credentials(client, form)

    def _grant_code(self, client, form):
        code = (form.get("code") or [None])[0]
        if not code:
            return ims_error("invalid_request", "missing code parameter")
        status, rec = self._code_status(code)
        if rec is not None and rec["client_id"] != client["client_id"]:
            return ims_error("invalid_grant", "code was issued to another client")
        if status != "valid":
            return ims_error("invalid_grant", "code is %s" % ("invalid" if status == "unknown" else status))
        rec["used"] = True  # any redemption attempt consumes the code
        redirect_uri = (form.get("redirect_uri") or [None])[0]
        if redirect_uri is not None and redirect_uri != rec["redirect_uri"]:
            return ims_error("invalid_grant", "redirect_uri does not match the authorization request")
        verifier = (form.get("code_verifier") or [None])[0]
        if rec["challenge"] is not None:
            if not verifier:
                return ims_error("invalid_grant", "missing code_verifier")
            if not PKCE_RE.match(verifier):
                return ims_error("invalid_grant", "malformed code_verifier")
            expected = s256(verifier) if rec["method"] == "S256" else verifier
            if not _secrets.compare_digest(expected.encode(), rec["challenge"].encode()):
                return ims_error("invalid_grant", "code_verifier does not match the code_challenge")
        elif verifier:
            return ims_error("invalid_grant", "code_verifier given but no code_challenge was sent")
        access, expires_in = self._mint_access(client["client_id"], rec["scopes"], rec["sub"], rec["family"])
        id_token = new_token("idt-")
        self._remember_secret("id_tokens", id_token)
        body = {"access_token": access}
        if OFFLINE_SCOPE in rec["scopes"]:
            body["refresh_token"] = self._mint_refresh(client["client_id"], rec["scopes"], rec["sub"], rec["family"])
        body.update({"sub": rec["sub"], "id_token": id_token, "token_type": "bearer", "expires_in": expires_in})
        return json_response(200, body)

    def _grant_refresh(self, client, form):
        token = (form.get("refresh_token") or [None])[0]
        if not token:
            return ims_error("invalid_request", "missing refresh_token parameter")
        status, rec = self._refresh_status(token)
        if rec is not None and rec["client_id"] != client["client_id"]:
            return ims_error("invalid_grant", "refresh token was issued to another client")
        if status != "valid":
            return ims_error(
                "invalid_grant", "refresh token is %s" % ("invalid" if status == "unknown" else status)
            )
        scopes = rec["scopes"]
        requested = (form.get("scope") or [None])[0]
        if requested is not None:
            wanted = parse_scopes(requested)
            if any(s not in rec["scopes"] for s in wanted):
                return ims_error("invalid_scope", "scope wider than the original grant")
            scopes = wanted
        rec["status"] = "used"  # strict single use
        access, expires_in = self._mint_access(client["client_id"], scopes, rec["sub"], rec["family"])
        new_refresh = self._mint_refresh(client["client_id"], rec["scopes"], rec["sub"], rec["family"])
        return json_response(
            200,
            {"access_token": access, "refresh_token": new_refresh, "expires_in": expires_in, "token_type": "bearer"},
        )

    def _grant_client_credentials(self, client, form):
        scope = (form.get("scope") or [None])[0]
        scopes = parse_scopes(scope)
        if not scopes:
            return ims_error("invalid_scope", "scope parameter is required for client_credentials")
        if client["scopes"] is not None:
            bad = [s for s in scopes if s not in client["scopes"]]
            if bad:
                return ims_error("invalid_scope", "scope not allowed for this client: %s" % ",".join(bad))
        sub = hashlib.sha1(client["client_id"].encode()).hexdigest()[:24].upper() + "@techacct.adobe.com"
        access, expires_in = self._mint_access(client["client_id"], scopes, sub, uuid.uuid4().hex)
        return json_response(200, {"access_token": access, "token_type": "bearer", "expires_in": expires_in})

    def ims_userinfo(self, req, record):
        token = req.bearer()
        with self.lock:
            status, rec = self._access_status(token)
            if status != "valid":
                return ims_error(
                    "invalid_token", "access token is %s" % ("invalid" if status == "unknown" else status),
                    status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            sub = rec["sub"]
        if sub == DEFAULT_USER["sub"]:
            return json_response(200, dict(DEFAULT_USER))
        return json_response(200, {"sub": sub, "email": sub, "name": "Technical Account"})

    def ims_validate(self, req, record):
        if req.method != "POST":
            return ims_error("invalid_request", "validate_token takes POST", status=405)
        params = dict(req.qs)
        params.update(req.form)
        params.pop("client_secret", None)
        ttype = single(params, "type")
        client_id = single(params, "client_id")
        token = single(params, "token")
        if not ttype or not client_id or not token:
            return ims_error("invalid_request", "type, client_id and token are required")
        with self.lock:
            if ttype == "access_token":
                status, rec = self._access_status(token)
            elif ttype == "refresh_token":
                status, rec = self._refresh_status(token)
            elif ttype == "authorization_code":
                status, rec = self._code_status(token)
            else:
                return ims_error("invalid_request", "unknown token type %s" % ttype)
            valid = status == "valid" and rec["client_id"] == client_id
        return json_response(200, {"valid": valid})

    def ims_revoke(self, req, record):
        if req.method != "POST":
            return ims_error("invalid_request", "revoke takes POST", status=405)
        if "client_secret" in req.qs:
            return ims_error("invalid_request", "client_secret must not be sent in the query string")
        if not req.is_form():
            return ims_error("invalid_request", "body must be application/x-www-form-urlencoded")
        token = (req.form.get("token") or [None])[0]
        with self.lock:
            client, error = self._authenticate_client(req)
            if error is not None:
                return error
            if not token:
                return ims_error("invalid_request", "missing token parameter")
            cid = client["client_id"]
            arec = self.access_tokens.get(token)
            if arec is not None and arec["client_id"] == cid:
                arec["revoked"] = True
            rrec = self.refresh_tokens.get(token)
            if rrec is not None and rrec["client_id"] == cid:
                # RFC 7009 2.1: revoking a refresh token also ends the access tokens of its grant.
                self._revoke_family(rrec["family"])
                if rrec["status"] == "valid":
                    rrec["status"] = "revoked"
            crec = self.codes.get(token)
            if crec is not None and crec["client_id"] == cid:
                crec["revoked"] = True
        return Response(200, b"", "text/plain")

    # ---- ACCS --------------------------------------------------------------------------

    def accs(self, req, record, tenant, endpoint, sku):
        token = req.bearer()
        with self.lock:
            status, rec = self._access_status(token)
            if status != "valid" or ACCS_SCOPE not in rec["scopes"]:
                return commerce_error(
                    401,
                    "The consumer isn't authorized to access %resources.",
                    {"resources": ACL_RESOURCES.get(endpoint, "Magento_Backend::admin")},
                )
            data = self.tenants.get(tenant)
            if data is None:
                return commerce_error(404, "Tenant %1 not found.", [tenant])
            required = data.get("required_org_id")
            if required:
                org = req.header("x-gw-ims-org-id")
                if org != required:
                    return commerce_error(
                        403,
                        "The organization %1 is not allowed to access tenant %2.",
                        [org or "", tenant],
                    )
            if endpoint in ACCS_STORE_ENDPOINTS.values():
                if req.method != "GET":
                    return commerce_error(404, "Request does not match any route.")
                items = data[endpoint]
                if endpoint == "storeConfigs":
                    codes = []
                    for k, values in req.qs.items():
                        if re.match(r"^storeCodes(\[\d*\])?$", k):
                            codes.extend(values)
                    if codes:
                        items = [i for i in items if i.get("code") in codes]
                return json_response(200, items)
            if endpoint == "products":
                return self._accs_products(req, data, sku)
            if endpoint == "systemConfig":
                return self._accs_system_config(req, record, data, rec["client_id"])
            if endpoint in EXT_ENDPOINTS:
                return self._accs_extensibility(req, record, data, endpoint, rec["client_id"])
            return commerce_error(404, "Request does not match any route.")

    def _accs_extensibility(self, req, record, data, endpoint, client_id):
        record["client_id"] = client_id
        state, mode = data["ext"], data["ext_mode"]
        rest = re.match(r"^/[^/]+/V1/(.+?)/?$", req.path).group(1)
        if endpoint == "webhooks":
            status, body, info = ext.webhooks(state, mode, req.method, rest[len("webhooks/"):], req.body)
        elif endpoint == "eventSubscriptions":
            status, body, info = ext.subscriptions(state, mode, req.method, rest[len("eventing/"):], req.body)
        elif endpoint == "eventProviders":
            status, body, info = ext.providers(state, mode, req.method, rest[len("eventing/"):], req.body)
        elif endpoint == "eventingConfig":
            status, body, info = ext.update_configuration(state, mode, req.method, req.body)
        else:
            status, body, info = ext.check_configuration(state, mode, req.method)
        for key in ("ext_action", "ext_identity", "ext_applied"):
            if key in info:
                record[key] = info[key]
        for kind, value in info["secrets"]:
            self._remember_secret(kind, value)
        return json_response(status, body)

    def _accs_system_config(self, req, record, data, client_id):
        globs = self.config_restrictions.get(client_id, [])
        record["client_id"] = client_id
        if req.method == "GET":
            status, body = sysconf.get(data, req.qs, globs)
            return json_response(status, body)
        if req.method == "PUT":
            status, body, info = sysconf.put(data, req.body, globs)
            record["config_items"] = info["items"]
            record["config_saved"] = info["saved"]
            record["config_rejected"] = info["rejected"]
            for value in info["secrets"]:
                self._remember_secret("config_secrets", value)
            return json_response(status, body)
        return commerce_error(404, "Request does not match any route.")

    def _remember_config_secrets(self, tenant):
        for (scope, code, path), value in tenant["system_config"].items():
            if CONFIG_CATALOG[path]["sensitive"] and value:
                self._remember_secret("config_secrets", value)

    @staticmethod
    def _product_at(data, index):
        count = data["products_count"]
        if data.get("products") is not None:
            base = data["products"]
            if index < len(base):
                return base[index]
            return data["created"][index - len(base)]
        if index < count:
            return tenant_data.make_product(index + 1)
        return data["created"][index - count]

    @staticmethod
    def _product_total(data):
        base = len(data["products"]) if data.get("products") is not None else data["products_count"]
        return base + len(data["created"])

    def _find_sku(self, data, sku):
        for i in range(self._product_total(data)):
            p = self._product_at(data, i)
            if p.get("sku") == sku:
                return p
        return None

    def _accs_products(self, req, data, sku):
        method = req.method
        if method == "GET" and sku is None:
            return self._accs_product_search(req, data)
        if method == "GET":
            p = self._find_sku(data, sku)
            if p is None:
                return commerce_error(
                    404, "The product that was requested doesn't exist. Verify the product and try again."
                )
            return json_response(200, p)
        if method in ("POST", "PUT"):
            try:
                payload = json.loads(req.body.decode("utf-8") or "null")
            except (UnicodeDecodeError, ValueError) as exc:
                return commerce_error(400, "Decoding error: %1", [str(exc)])
            if not isinstance(payload, dict) or not isinstance(payload.get("product"), dict):
                return commerce_error(400, '"%fieldName" is required. Enter and try again.', {"fieldName": "product"})
            product = dict(payload["product"])
            if sku is not None:
                product.setdefault("sku", sku)
            if not product.get("sku"):
                return commerce_error(400, '"%fieldName" is required. Enter and try again.', {"fieldName": "sku"})
            existing = self._find_sku(data, product["sku"])
            if existing is not None:
                product.setdefault("id", existing.get("id"))
            else:
                product.setdefault("id", self._product_total(data) + 1)
            product.setdefault("name", product["sku"])
            product.setdefault("price", 0)
            product.setdefault("status", 1)
            product.setdefault("type_id", "simple")
            if existing is None:
                data["created"].append(product)
            return json_response(200, product)
        if method == "DELETE":
            return json_response(200, True)
        return commerce_error(404, "Request does not match any route.")

    def _accs_product_search(self, req, data):
        q = req.qs

        def int_param(name, default):
            raw = (q.get("searchCriteria[%s]" % name) or [None])[0]
            if raw is None or raw == "":
                return default, False
            try:
                return int(raw), True
            except ValueError:
                raise BadParams('Invalid value of "%s" provided for the %s field.' % (raw, name))

        try:
            page_size, ps_given = int_param("pageSize", tenant_data.DEFAULT_PAGE_SIZE)
            current, cp_given = int_param("currentPage", 1)
        except BadParams as exc:
            return commerce_error(400, str(exc))
        total = self._product_total(data)
        criteria = {"filter_groups": []}
        if ps_given:
            criteria["page_size"] = page_size
        if cp_given:
            criteria["current_page"] = current
        if page_size <= 0:
            start, end = 0, total
        else:
            page = max(current, 1)
            last_page = max(1, math.ceil(total / page_size))
            if page > last_page and data.get("repeat_last_page"):
                page = last_page
            start = (page - 1) * page_size
            end = min(start + page_size, total)
        items = [self._product_at(data, i) for i in range(start, end)] if start < total else []
        return json_response(200, {"items": items, "search_criteria": criteria, "total_count": total})

    # ---- Kubernetes TokenReview ------------------------------------------------------------

    @staticmethod
    def _k8s_status(code, reason, message, details=None):
        """A Kubernetes ``Status`` failure, as the API server answers an unauthenticated or forbidden call."""
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
                "reason": reason, "code": code}
        if details:
            body["details"] = details
        return json_response(code, body)

    def _k8s_account(self, token):
        """The service account a token belongs to, or None (unknown, deleted or expired)."""
        account = self.service_accounts.get(token) if token else None
        if account is None or account["deleted"] or time.time() >= account["exp"]:
            return None
        return account

    @staticmethod
    def _k8s_username(account):
        return "system:serviceaccount:%s:%s" % (account["namespace"], account["name"])

    def k8s_tokenreview(self, req, record):
        """``POST /apis/authentication.k8s.io/v1/tokenreviews``: the caller (the reviewer) must be a valid
        service account bound to ``system:auth-delegator``; the answer's ``status`` says who the reviewed
        token belongs to, as kube-apiserver does (201 Created, ``authenticated``, ``user``, ``audiences``)."""
        record.update({"reviewer": None, "reviewed": None, "authenticated": None, "audiences": None})
        if req.method != "POST":
            return self._k8s_status(405, "MethodNotAllowed", "the server does not allow this method on the "
                                    "requested resource")
        with self.lock:
            reviewer = self._k8s_account(req.bearer())
        if reviewer is None:
            return self._k8s_status(401, "Unauthorized", "Unauthorized")
        record["reviewer"] = self._k8s_username(reviewer)
        if not reviewer["reviewer"]:
            return self._k8s_status(
                403, "Forbidden",
                'tokenreviews.authentication.k8s.io is forbidden: User "%s" cannot create resource "tokenreviews" '
                'in API group "authentication.k8s.io" at the cluster scope' % record["reviewer"],
                {"group": "authentication.k8s.io", "kind": "tokenreviews"})
        try:
            review = json.loads(req.body.decode("utf-8"))
            spec = review["spec"]
            token = spec["token"]
            wanted = spec.get("audiences") or []
            if not isinstance(token, str) or not isinstance(wanted, list):
                raise TypeError
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            return self._k8s_status(400, "BadRequest", "the body is not a TokenReview with spec.token")
        with self.lock:
            account = self._k8s_account(token)
        answer = {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
                  "metadata": {"creationTimestamp": None}, "spec": spec}
        audiences = [aud for aud in (wanted or K8S_API_AUDIENCES) if account and aud in account["audiences"]]
        if account is None:
            answer["status"] = {"user": {}, "error": "[invalid bearer token, service account token is not valid]"}
        elif not audiences:
            answer["status"] = {"user": {}, "error": "[invalid bearer token, token audiences %s is invalid for the "
                                "target audiences %s]" % (json.dumps(account["audiences"]), json.dumps(wanted))}
        else:
            namespace = account["namespace"]
            answer["status"] = {
                "authenticated": True,
                "user": {"username": self._k8s_username(account), "uid": account["uid"],
                         "groups": ["system:serviceaccounts", "system:serviceaccounts:" + namespace,
                                    "system:authenticated"]},
                "audiences": audiences,
            }
            record["reviewed"] = {"namespace": namespace, "name": account["name"], "uid": account["uid"]}
        record["authenticated"] = bool(answer["status"].get("authenticated"))
        record["audiences"] = list(wanted)
        return json_response(201, answer)

    def _k8s_signing_key(self):
        """The emulated cluster's service-account signing key (RS256), made on first use."""
        if getattr(self, "_k8s_key", None) is None:
            from cryptography.hazmat.primitives.asymmetric import rsa  # trustme's own dependency

            self._k8s_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self._k8s_key

    def _k8s_mint(self, namespace, name, uid, audiences):
        """A projected service-account token (RS256 JWT) with the claims kubelet mounts into a pod."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        def b64(data):
            return base64.urlsafe_b64encode(data).rstrip(b"=")

        now = int(time.time())
        claims = {"aud": audiences, "exp": now + K8S_TOKEN_LIFETIME, "iat": now, "nbf": now, "iss": K8S_ISSUER,
                  "sub": "system:serviceaccount:%s:%s" % (namespace, name),
                  "kubernetes.io": {"namespace": namespace,
                                    "pod": {"name": name + "-pod", "uid": str(uuid.uuid4())},
                                    "serviceaccount": {"name": name, "uid": uid}}}
        header = {"alg": "RS256", "kid": "emulator-cluster"}
        signing_input = b64(json.dumps(header).encode()) + b"." + b64(json.dumps(claims).encode())
        signature = self._k8s_signing_key().sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return (signing_input + b"." + b64(signature)).decode("ascii"), claims["exp"]

    def _control_service_account(self, m, body):
        """``POST``: register a service-account token (``token`` given, or one minted) for
        ``namespace``/``name``; ``reviewer: true`` binds the account to ``system:auth-delegator``.
        ``DELETE``: the account's tokens (by ``namespace``/``name``, or one ``token``) stop validating."""
        if m == "POST":
            namespace, name = _need_str(body, "namespace"), _need_str(body, "name")
            audiences = body.get("audiences") or list(K8S_API_AUDIENCES)
            if not isinstance(audiences, list) or not all(isinstance(a, str) and a for a in audiences):
                raise _ControlError("audiences must be a list of strings")
            uid = body.get("uid") or str(uuid.uuid4())
            token = body.get("token")
            expires = time.time() + K8S_TOKEN_LIFETIME
            if token is None:
                token, expires = self._k8s_mint(namespace, name, uid, audiences)
            elif not isinstance(token, str) or not token:
                raise _ControlError("token must be a non-empty string")
            self.service_accounts[token] = {"namespace": namespace, "name": name, "uid": uid,
                                            "audiences": audiences, "reviewer": bool(body.get("reviewer")),
                                            "exp": expires, "deleted": False}
            self._remember_secret("service_account_tokens", token)
            return json_response(200, {"token": token, "namespace": namespace, "name": name, "uid": uid,
                                       "username": "system:serviceaccount:%s:%s" % (namespace, name)})
        if m == "DELETE":
            n = 0
            for token, account in self.service_accounts.items():
                if token == body.get("token") or (account["namespace"], account["name"]) == (
                        body.get("namespace"), body.get("name")):
                    account["deleted"] = True
                    n += 1
            return json_response(200, {"deleted": n})
        raise _ControlError("service accounts take POST or DELETE")

    # ---- control -----------------------------------------------------------------------

    def control(self, req):
        if not (req.client_ip.startswith("127.") or req.client_ip in ("::1", "::ffff:127.0.0.1")):
            return json_response(403, {"error": "control interface is loopback only"})
        if req.body:
            try:
                body = json.loads(req.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return json_response(400, {"error": "body must be JSON"})
        else:
            body = {}
        if body is None:
            body = {}
        if not isinstance(body, dict):
            return json_response(400, {"error": "body must be a JSON object"})
        path = req.path[len("/_control"):].rstrip("/") or "/"
        m = req.method
        try:
            with self.lock:
                return self._control(m, path, body, req)
        except _ControlError as exc:
            return json_response(400, {"error": str(exc)})

    def _control(self, m, path, body, req):
        if path == "/health" and m == "GET":
            return json_response(200, {"ok": True})
        if path == "/reset" and m == "POST":
            self.reset()
            return json_response(200, {"ok": True})
        if path == "/clients" and m == "POST":
            return self._control_add_client(body)
        if path == "/clients" and m == "GET":
            return json_response(
                200,
                [
                    {k: v for k, v in c.items() if k != "secrets"} | {"grants": sorted(c["grants"])}
                    for c in self.clients.values()
                ],
            )
        if path == "/tokens/refresh" and m == "POST":
            client_id = _need_str(body, "client_id")
            scopes = parse_scopes(body.get("scopes"))
            token = self._mint_refresh(client_id, scopes, body.get("sub") or DEFAULT_USER["sub"], uuid.uuid4().hex)
            return json_response(200, {"refresh_token": token})
        if path == "/tokens/access" and m == "POST":
            client_id = _need_str(body, "client_id")
            scopes = parse_scopes(body.get("scopes"))
            lifetime = body.get("expires_in")
            if lifetime is not None and not isinstance(lifetime, (int, float)):
                raise _ControlError("expires_in must be a number")
            token, expires_in = self._mint_access(
                client_id, scopes, body.get("sub") or DEFAULT_USER["sub"], uuid.uuid4().hex, lifetime
            )
            return json_response(200, {"access_token": token, "expires_in": expires_in})
        if path == "/lifetimes":
            if m == "POST":
                for k, v in body.items():
                    if k not in DEFAULT_LIFETIMES:
                        raise _ControlError("unknown lifetime %s" % k)
                    if not isinstance(v, (int, float)) or isinstance(v, bool):
                        raise _ControlError("lifetime %s must be a number of seconds" % k)
                    self.lifetimes[k] = v
            return json_response(200, dict(self.lifetimes))
        if path == "/revoke" and m == "POST":
            return json_response(200, {"revoked": self._control_revoke(body)})
        if path == "/expire" and m == "POST":
            token = _need_str(body, "token")
            now = self._now() - 0.001
            n = 0
            for table in (self.access_tokens, self.refresh_tokens, self.codes):
                if token in table:
                    table[token]["expires_at"] = now
                    n += 1
            return json_response(200, {"expired": n})
        if path == "/check_refresh_token" and m == "POST":
            token = _need_str(body, "refresh_token")
            status, _rec = self._refresh_status(token)
            return json_response(200, {"valid": status == "valid", "status": status})
        mt = re.match(r"^/refresh_tokens/(.+)$", path)
        if mt and m == "GET":
            client_id = unquote(mt.group(1))
            out = {"valid": [], "used": [], "revoked": [], "expired": []}
            for token, rec in self.refresh_tokens.items():
                if rec["client_id"] == client_id:
                    status, token_rec = self._refresh_status(token)
                    out[status].append(token)
            return json_response(200, out)
        mt = re.match(r"^/tenants/([^/]+)/(system_config|system_config_mode)$", path)
        if mt:
            return self._control_system_config(m, unquote(mt.group(1)), mt.group(2), body)
        mt = re.match(r"^/tenants/([^/]+)/(extensibility|extensibility_mode|supported)$", path)
        if mt:
            return self._control_extensibility(m, unquote(mt.group(1)), mt.group(2), body)
        if path == "/system_config/catalog" and m == "GET":
            return json_response(200, config_catalog_list())
        if path == "/system_config/restrictions":
            if m == "POST":
                client_id = _need_str(body, "client_id")
                globs = body.get("denied_globs")
                if not isinstance(globs, list) or not all(isinstance(g, str) and g for g in globs):
                    raise _ControlError("denied_globs must be a list of glob strings")
                if globs:
                    self.config_restrictions[client_id] = list(globs)
                else:
                    self.config_restrictions.pop(client_id, None)
                return json_response(200, dict(self.config_restrictions))
            if m == "GET":
                return json_response(200, dict(self.config_restrictions))
        mt = re.match(r"^/tenants/([^/]+)$", path)
        if mt:
            tenant = unquote(mt.group(1))
            if m == "POST":
                self.tenants[tenant] = self._build_tenant(body)
                self._remember_config_secrets(self.tenants[tenant])
                return json_response(200, self._tenant_view(tenant))
            if m == "GET":
                if tenant not in self.tenants:
                    return json_response(404, {"error": "no tenant %s" % tenant})
                return json_response(200, self._tenant_view(tenant))
            if m == "DELETE":
                existed = self.tenants.pop(tenant, None) is not None
                return json_response(200, {"deleted": existed})
        if path == "/tenants" and m == "GET":
            return json_response(200, sorted(self.tenants))
        if path == "/kubernetes/serviceaccounts":
            return self._control_service_account(m, body)
        if path == "/faults":
            if m == "POST":
                self.faults.append(self._build_fault(body))
                return json_response(200, {"queued": len(self.faults)})
            if m == "DELETE":
                self.faults = []
                return json_response(200, {"ok": True})
            if m == "GET":
                return json_response(200, [{k: v for k, v in f.items() if k != "_regex"} for f in self.faults])
        if path == "/counters" and m == "GET":
            return json_response(200, dict(self.counters))
        if path == "/counters/reset" and m == "POST":
            self.counters = {}
            return json_response(200, {"ok": True})
        if path == "/requests":
            if m == "GET":
                key = (req.qs.get("key") or [None])[0]
                tenant = (req.qs.get("tenant") or [None])[0]
                out = [
                    r for r in self.records
                    if (key is None or key in r["keys"]) and (tenant is None or r.get("tenant") == tenant)
                ]
                return json_response(200, out)
            if m == "DELETE":
                self.records.clear()
                return json_response(200, {"ok": True})
        if path == "/secrets" and m == "GET":
            out = {k: list(v) for k, v in self.secret_values.items()}
            for c in self.clients.values():
                for s in c["secrets"]:
                    if s not in out["client_secrets"]:
                        out["client_secrets"].append(s)
            flat = []
            for values in out.values():
                flat.extend(v for v in values if v not in flat)
            out["all"] = flat
            return json_response(200, out)
        return json_response(404, {"error": "no control endpoint %s %s" % (m, req.path)})

    def _control_system_config(self, m, tenant, what, body):
        data = self.tenants.get(tenant)
        if data is None:
            return json_response(404, {"error": "no tenant %s" % tenant})
        if what == "system_config":
            if m == "POST":
                replace = body.get("replace", True)
                if not isinstance(replace, bool):
                    raise _ControlError("replace must be a boolean")
                unknown = set(body) - {"items", "replace"}
                if unknown:
                    raise _ControlError("unknown fields: %s" % ", ".join(sorted(unknown)))
                try:
                    secrets_list = sysconf.apply_control_items(data, body.get("items"), replace)
                except ValueError as exc:
                    raise _ControlError(str(exc))
                for value in secrets_list:
                    self._remember_secret("config_secrets", value)
            elif m != "GET":
                return json_response(404, {"error": "no control endpoint %s system_config" % m})
            return json_response(200, sysconf.stored_list(data))
        if m == "POST":
            try:
                data["system_config_mode"] = sysconf.build_mode(body, data["system_config_mode"])
            except ValueError as exc:
                raise _ControlError(str(exc))
        elif m != "GET":
            return json_response(404, {"error": "no control endpoint %s system_config_mode" % m})
        return json_response(200, dict(data["system_config_mode"]))

    def _control_extensibility(self, m, tenant, what, body):
        data = self.tenants.get(tenant)
        if data is None:
            return json_response(404, {"error": "no tenant %s" % tenant})
        if m not in ("GET", "POST"):
            return json_response(404, {"error": "no control endpoint %s %s" % (m, what)})
        state = data["ext"]
        try:
            if what == "extensibility":
                if m == "POST":
                    unknown = set(body) - {"webhooks", "subscriptions", "providers", "default_provider"}
                    if unknown:
                        raise _ControlError("unknown fields: %s" % ", ".join(sorted(unknown)))
                    for kind, value in ext.control_set(state, **body):
                        self._remember_secret(kind, value)
                return json_response(200, ext.control_view(state))
            if what == "extensibility_mode":
                if m == "POST":
                    data["ext_mode"] = ext.build_mode(body, data["ext_mode"])
                return json_response(200, dict(data["ext_mode"]))
            if m == "POST":
                unknown = set(body) - {"webhooks", "events"}
                if unknown:
                    raise _ControlError("unknown fields: %s" % ", ".join(sorted(unknown)))
                return json_response(200, ext.control_supported(state, body.get("webhooks"), body.get("events")))
            return json_response(200, ext.control_supported(state))
        except ValueError as exc:
            raise _ControlError(str(exc))

    def _control_add_client(self, body):
        client_id = _need_str(body, "client_id")
        public = body.get("public", False)
        if not isinstance(public, bool):
            raise _ControlError("public must be a boolean")
        secrets_list = body.get("client_secrets")
        if secrets_list is None and body.get("client_secret") is not None:
            secrets_list = [body["client_secret"]]
        secrets_list = list(secrets_list or [])
        if not all(isinstance(s, str) and s for s in secrets_list):
            raise _ControlError("client_secrets must be non-empty strings")
        if not public and not secrets_list:
            raise _ControlError("a confidential client needs at least one client secret")
        grants = body.get("grants")
        grants = list(DEFAULT_GRANTS) if grants is None else list(grants)
        for g in grants:
            if g not in KNOWN_GRANTS:
                raise _ControlError("unknown grant %s" % g)
        scopes = body.get("scopes")
        scopes = None if scopes is None else parse_scopes(scopes)
        redirect_uris = body.get("redirect_uris")
        if redirect_uris is not None and not isinstance(redirect_uris, list):
            raise _ControlError("redirect_uris must be a list")
        self.clients[client_id] = {
            "client_id": client_id,
            "secrets": secrets_list,
            "grants": set(grants),
            "scopes": scopes,
            "public": public,
            "redirect_uris": list(redirect_uris or []),
        }
        for s in secrets_list:
            self._remember_secret("client_secrets", s)
        return json_response(200, {"client_id": client_id, "grants": sorted(grants), "scopes": scopes,
                                   "public": public})

    def _control_revoke(self, body):
        token = body.get("token")
        client_id = body.get("client_id")
        if not token and not client_id:
            raise _ControlError("give token or client_id")
        n = 0
        if token:
            if token in self.access_tokens and not self.access_tokens[token]["revoked"]:
                self.access_tokens[token]["revoked"] = True
                n += 1
            if token in self.refresh_tokens and self.refresh_tokens[token]["status"] == "valid":
                self.refresh_tokens[token]["status"] = "revoked"
                n += 1
            if token in self.codes and not self.codes[token]["revoked"]:
                self.codes[token]["revoked"] = True
                n += 1
        if client_id:
            for rec in self.access_tokens.values():
                if rec["client_id"] == client_id and not rec["revoked"]:
                    rec["revoked"] = True
                    n += 1
            for rec in self.refresh_tokens.values():
                if rec["client_id"] == client_id and rec["status"] == "valid":
                    rec["status"] = "revoked"
                    n += 1
            for rec in self.codes.values():
                if rec["client_id"] == client_id and not rec["revoked"]:
                    rec["revoked"] = True
                    n += 1
        return n

    @staticmethod
    def _build_tenant(body):
        t = tenant_data.default_tenant()
        for name in ("storeConfigs", "storeViews", "websites", "storeGroups"):
            if name in body:
                value = body[name]
                if not isinstance(value, list):
                    raise _ControlError("%s must be a list" % name)
                t[name] = value
        if "products_count" in body:
            count = body["products_count"]
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise _ControlError("products_count must be a non-negative integer")
            t["products_count"] = count
        if "products" in body:
            if not isinstance(body["products"], list):
                raise _ControlError("products must be a list")
            t["products"] = body["products"]
        if "repeat_last_page" in body:
            t["repeat_last_page"] = bool(body["repeat_last_page"])
        if "required_org_id" in body:
            org = body["required_org_id"]
            if org is not None and not isinstance(org, str):
                raise _ControlError("required_org_id must be a string or null")
            t["required_org_id"] = org
        unknown = set(body) - {
            "storeConfigs", "storeViews", "websites", "storeGroups", "products_count", "products",
            "repeat_last_page", "required_org_id", "system_config", "system_config_mode", "extensibility_mode",
        }
        if unknown:
            raise _ControlError("unknown tenant fields: %s" % ", ".join(sorted(unknown)))
        t["created"] = []
        t["ext"] = ext.new_state()
        try:
            t["ext_mode"] = ext.build_mode(body.get("extensibility_mode") or {})
        except ValueError as exc:
            raise _ControlError(str(exc))
        # system configuration: after websites and store views, whose codes it is checked against
        t["system_config"] = {}
        try:
            t["system_config_mode"] = sysconf.build_mode(body.get("system_config_mode") or {})
            if "system_config" in body:
                sysconf.apply_control_items(t, body["system_config"], True)
            else:  # the fresh-installation values whose scope codes this tenant has
                websites, stores = sysconf.website_codes(t), sysconf.store_codes(t)
                seed = [
                    i for i in tenant_data.default_system_config()
                    if i["scope"] == "default"
                    or i.get("scope_code") in (websites if i["scope"] == "website" else stores)
                ]
                sysconf.apply_control_items(t, seed, True)
        except ValueError as exc:
            raise _ControlError(str(exc))
        return t

    def _tenant_view(self, tenant):
        t = self.tenants[tenant]
        out = {k: v for k, v in t.items() if k not in ("created", "system_config", "ext", "ext_mode")}
        out["extensibility_mode"] = dict(t["ext_mode"])
        out["created_products"] = list(t["created"])
        out["system_config"] = sysconf.stored_list(t)
        return out

    @staticmethod
    def _build_fault(body):
        match = body.get("match")
        if not isinstance(match, str) or not match:
            raise _ControlError("match is required")
        fault = {"match": match}
        if not re.match(r"^(ims|accs)\.", match):
            try:
                fault["_regex"] = re.compile(match)
            except re.error as exc:
                raise _ControlError("match is neither an endpoint key nor a valid regex: %s" % exc)
        times = body.get("times", 1)
        if not isinstance(times, int) or isinstance(times, bool) or times < 1:
            raise _ControlError("times must be a positive integer")
        fault["times"] = times
        fault["remaining"] = times
        status = body.get("status")
        if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
            raise _ControlError("status must be an HTTP status code")
        fault["status"] = status
        kind = body.get("body")
        if kind is not None and kind not in FAULT_BODIES:
            raise _ControlError("body must be one of %s" % ", ".join(FAULT_BODIES))
        if body.get("json") is not None and kind not in (None, "json"):
            raise _ControlError("json goes with body json")
        fault["body"] = "json" if (kind is None and body.get("json") is not None) else kind
        fault["json"] = body.get("json")
        retry_after = body.get("retry_after")
        fault["retry_after"] = None if retry_after is None else str(retry_after)
        delay = body.get("delay")
        if delay is not None and (not isinstance(delay, (int, float)) or delay < 0):
            raise _ControlError("delay must be a non-negative number")
        fault["delay"] = delay
        fault["drop"] = bool(body.get("drop", False))
        fault["process"] = bool(body.get("process", False))
        unknown = set(body) - {"match", "times", "status", "body", "json", "retry_after", "delay", "drop", "process"}
        if unknown:
            raise _ControlError("unknown fault fields: %s" % ", ".join(sorted(unknown)))
        return fault


class _ClientAuthError(Exception):
    def __init__(self, error, description):
        super().__init__(description)
        self.error = error
        self.description = description


class _ControlError(Exception):
    pass


def _need_str(body, name):
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise _ControlError("%s is required" % name)
    return value


# --------------------------------------------------------------------------------------------
# HTTP plumbing


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "accs-emulator"
    sys_version = ""
    timeout = 60

    def version_string(self):
        return self.server_version

    def setup(self):
        self.request.settimeout(self.timeout)
        self.request.do_handshake()
        super().setup()

    def log_message(self, format, *args):  # noqa: A002 - base class signature
        pass

    def log_request(self, code="-", size="-"):
        pass

    def send_error(self, code, message=None, explain=None):
        body = json.dumps({"error": "bad_request", "error_description": message or ""}).encode()
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-debug-id", uuid.uuid4().hex)
            self.send_header("Connection", "close")
            self.end_headers()
            if getattr(self, "command", None) != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        finally:
            self.close_connection = True

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        n = int(length)
        if n < 0 or n > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n)

    def _dispatch(self):
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.send_error(400, "unreadable body")
            return
        srv = self.server
        req = Request(self.command, self.path, self.headers, body, self.client_address[0], srv.base_url)
        try:
            result = srv.app.handle(req)
        except Exception as exc:  # a bug in the emulator: answer 500, log without values
            if srv.app.verbose:
                traceback.print_exc()
            else:
                tb = traceback.extract_tb(exc.__traceback__)[-1]
                sys.stderr.write(
                    "accs-emulator: internal error %s at %s:%s\n" % (type(exc).__name__, tb.filename, tb.lineno)
                )
            result = json_response(500, {"message": "Internal emulator error"})
        if srv.app.verbose:
            status = "drop" if result is DROP else result.status
            sys.stderr.write("accs-emulator: %s %s -> %s\n" % (self.command, req.path, status))
        if result is DROP:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(result.status)
        self.send_header("Content-Type", result.content_type)
        self.send_header("Content-Length", str(len(result.body)))
        self.send_header("x-debug-id", uuid.uuid4().hex)
        for name, value in result.headers.items():
            self.send_header(name, value)
        # headers and body in one write (no delayed-ACK stalls on kept-alive connections)
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(result.body)
        self.flush_headers()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _dispatch


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, ssl_context, app, verbose=False):
        self.ssl_context = ssl_context
        self.app = app
        self.verbose = verbose
        super().__init__(address, Handler)
        host, port = self.server_address[:2]
        self.base_url = "https://%s:%d" % (host, port)

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # The TLS handshake runs in the connection's own thread (Handler.setup), so a stalled
        # client cannot block the accept loop.
        return self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        if self.verbose:
            exc = sys.exc_info()[1]
            sys.stderr.write("accs-emulator: connection error: %s\n" % type(exc).__name__)


def _server_context(leaf):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    leaf.configure_cert(ctx)
    return ctx


def _write_atomic(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def main(argv=None):
    import trustme  # only the server process needs it

    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--state-file", required=True, help="where to write the JSON state once ready")
    parser.add_argument("--port", type=int, default=0, help="main HTTPS port (0: pick a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback only)")
    parser.add_argument("--wrong-host-port", type=int, default=0)
    parser.add_argument("--unknown-ca-port", type=int, default=0)
    parser.add_argument("--ca-file", help="where to write the CA PEM (default: beside the state file)")
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    parser.add_argument("--verbose", action="store_true", help="log requests (never token values)")
    args = parser.parse_args(argv)

    if not (args.host.startswith("127.") or args.host in ("localhost", "::1")):
        parser.error("the emulator listens on loopback only")

    state_path = os.path.abspath(args.state_file)
    ca_path = os.path.abspath(args.ca_file) if args.ca_file else os.path.splitext(state_path)[0] + "-ca.pem"

    os.makedirs(os.path.dirname(state_path), exist_ok=True)
    os.makedirs(os.path.dirname(ca_path), exist_ok=True)
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    wrong_leaf = ca.issue_cert("wrong-host.invalid")
    other_ca = trustme.CA()
    other_leaf = other_ca.issue_cert("127.0.0.1", "localhost")

    app = App(verbose=args.verbose)
    servers = [
        TLSServer((args.host, args.port), _server_context(leaf), app, args.verbose),
        TLSServer((args.host, args.wrong_host_port), _server_context(wrong_leaf), app, args.verbose),
        TLSServer((args.host, args.unknown_ca_port), _server_context(other_leaf), app, args.verbose),
    ]
    ca.cert_pem.write_to_path(ca_path)
    threads = []
    for srv in servers:
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        t.start()
        threads.append(t)

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    state = {
        "url": servers[0].base_url,
        "ca_path": ca_path,
        "wrong_host_url": servers[1].base_url,
        "unknown_ca_url": servers[2].base_url,
        "pid": os.getpid(),
    }
    _write_atomic(state_path, json.dumps(state, indent=2) + "\n")
    if args.verbose:
        sys.stderr.write("accs-emulator: ready at %s\n" % state["url"])

    try:
        while not stop.wait(0.5):
            if args.parent_pid:
                try:
                    os.kill(args.parent_pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
    finally:
        for srv in servers:
            srv.shutdown()
            srv.server_close()
        try:
            with open(state_path, encoding="utf-8") as fh:
                if json.load(fh).get("pid") == os.getpid():
                    os.unlink(state_path)
        except (OSError, ValueError):
            pass
    return 0
