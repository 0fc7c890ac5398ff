"""WSGI layers around Django: IMS's scope dialect, a record of what was asked and issued, and a
small JSON control API for the tests (``/_control/...``, loopback only, never recorded).

``ImsDialect``: IMS separates scopes with commas (``openid,AdobeID,offline_access``); OAuth 2
and django-oauth-toolkit with spaces.  Commas in ``scope`` of the query string and of
form bodies under ``/ims/`` become spaces before DOT reads them: the one adaptation to IMS's
wire format.  Everything else is DOT as it ships.

``Recorder``: an optional latency per path (``/_control/latency``: the network between a
client and IMS, so that concurrent callers overlap as they do across a slow link), then every
``/ims/`` request is kept (method, path, grant_type, client_id, how the
client authenticated, status, the ``error`` of a JSON error body); every token and code the
server hands out is kept for the tests' secret scans (rotated-out access tokens are deleted
from DOT's tables, so the database alone would forget them).
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

SECRETS_LOCK = threading.Lock()
ISSUED = {"client_secrets": [], "access_tokens": [], "refresh_tokens": [], "codes": [], "user_passwords": []}
REQUESTS: list[dict] = []
# test-only network latency: {path: [seconds, requests left]}, slept before Django sees the request
LATENCY: dict[str, list] = {}


def note_secret(kind: str, value) -> None:
    if isinstance(value, str) and value:
        with SECRETS_LOCK:
            if value not in ISSUED[kind]:
                ISSUED[kind].append(value)


def _commas_to_spaces(query: str) -> str:
    pairs = parse_qs(query, keep_blank_values=True)
    if "scope" not in pairs:
        return query
    pairs["scope"] = [" ".join(part for part in value.replace(",", " ").split()) for value in pairs["scope"]]
    return urlencode(pairs, doseq=True)


def _read_body(environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _set_body(environ, body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


class ImsDialect:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/ims/"):
            environ["QUERY_STRING"] = _commas_to_spaces(environ.get("QUERY_STRING", ""))
            if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
                body = _read_body(environ)
                _set_body(environ, _commas_to_spaces(body.decode("utf-8")).encode("utf-8"))
        return self.app(environ, start_response)


def _client_auth(environ, form) -> tuple[str, str | None]:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("basic "):
        try:
            client_id = base64.b64decode(header[6:]).decode("utf-8").split(":", 1)[0]
        except ValueError:
            client_id = None
        return "basic", client_id
    if form.get("client_secret"):
        return "post", form.get("client_id")
    return "none", form.get("client_id")


class Recorder:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(("/ims/", "/accounts/")):
            return self.app(environ, start_response)
        form = {}
        if environ.get("REQUEST_METHOD") == "POST" and path.startswith("/ims/"):
            body = _read_body(environ)
            _set_body(environ, body)
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        auth, client_id = _client_auth(environ, form)
        record = {"time": time.time(), "method": environ.get("REQUEST_METHOD"), "path": path,
                  "grant_type": form.get("grant_type"), "client_id": client_id or query.get("client_id"),
                  "client_auth": auth, "code_verifier_present": bool(form.get("code_verifier")),
                  "code_challenge_present": bool(query.get("code_challenge")), "status": None, "error": None}
        if path.startswith("/accounts/") and form.get("password"):
            note_secret("user_passwords", form["password"])
        with SECRETS_LOCK:
            delay = LATENCY.get(path)
            if delay and delay[1] > 0:
                delay[1] -= 1
            else:
                delay = None
        if delay:
            time.sleep(delay[0])
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = int(status.split()[0])
            captured["headers"] = headers
            return start_response(status, headers, exc_info)

        chunks = list(self.app(environ, capture))
        body = b"".join(chunks)
        record["status"] = captured.get("status")
        for name, value in captured.get("headers", []):
            if name.lower() == "location":
                code = parse_qs(urlsplit(value).query).get("code")
                if code:
                    note_secret("codes", code[-1])
        if path.startswith("/ims/") and body[:1] == b"{":
            try:
                answer = json.loads(body)
            except ValueError:
                answer = {}
            if isinstance(answer, dict):
                record["error"] = answer.get("error")
                note_secret("access_tokens", answer.get("access_token"))
                note_secret("refresh_tokens", answer.get("refresh_token"))
        with SECRETS_LOCK:
            REQUESTS.append(record)
        return [body]


# --------------------------------------------------------------------------- control API
def _json(start_response, status, data):
    body = json.dumps(data).encode("utf-8")
    start_response("%d %s" % (status, "OK" if status < 400 else "Error"),
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _add_client(data):
    from oauth2_provider.models import Application

    grant = data.get("grant", "authorization_code")
    secret = data.get("client_secret")
    app = Application(
        name=data["client_id"], client_id=data["client_id"],
        client_type=Application.CLIENT_PUBLIC if secret is None else Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type={"authorization_code": Application.GRANT_AUTHORIZATION_CODE,
                                  "client_credentials": Application.GRANT_CLIENT_CREDENTIALS}[grant],
        redirect_uris=" ".join(data.get("redirect_uris") or []), skip_authorization=False, algorithm="")
    if secret is not None:
        app.client_secret = secret  # DOT hashes it on save
        note_secret("client_secrets", secret)
    Application.objects.filter(client_id=data["client_id"]).delete()
    app.save()
    return {"client_id": app.client_id}


def _refresh_tokens(client_id):
    from oauth2_provider.models import RefreshToken

    out = {"valid": [], "revoked": []}
    for token in RefreshToken.objects.filter(application__client_id=client_id).order_by("id"):
        out["revoked" if token.revoked else "valid"].append(token.token)
    return out


def _token_status(token):
    from django.utils import timezone
    from oauth2_provider.models import AccessToken, RefreshToken

    refresh = RefreshToken.objects.filter(token=token).order_by("-id").first()
    if refresh is not None:
        return {"kind": "refresh_token", "status": "revoked" if refresh.revoked else "valid"}
    access = AccessToken.objects.filter(token=token).first()
    if access is not None:
        return {"kind": "access_token", "status": "expired" if access.expires <= timezone.now() else "valid"}
    return {"kind": None, "status": "unknown"}


class Control:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_control/"):
            return self.app(environ, start_response)
        from django.db import close_old_connections

        try:
            method = environ.get("REQUEST_METHOD")
            body = _read_body(environ)
            data = json.loads(body) if body else {}
            if path == "/_control/health":
                return _json(start_response, 200, {"ok": True})
            if path == "/_control/clients" and method == "POST":
                return _json(start_response, 200, _add_client(data))
            if path.startswith("/_control/refresh_tokens/"):
                return _json(start_response, 200, _refresh_tokens(path.rsplit("/", 1)[1]))
            if path == "/_control/token_status" and method == "POST":
                return _json(start_response, 200, _token_status(data["token"]))
            if path == "/_control/latency" and method == "POST":
                with SECRETS_LOCK:
                    LATENCY[data["path"]] = [float(data["seconds"]), int(data.get("times", 1))]
                return _json(start_response, 200, {"ok": True})
            if path == "/_control/requests":
                with SECRETS_LOCK:
                    return _json(start_response, 200, list(REQUESTS))
            if path == "/_control/secrets":
                with SECRETS_LOCK:
                    return _json(start_response, 200, {k: list(v) for k, v in ISSUED.items()})
            return _json(start_response, 404, {"error": "no such control path"})
        except Exception as exc:  # noqa: BLE001 - the test sees the error
            return _json(start_response, 400, {"error": "%s: %s" % (type(exc).__name__, exc)})
        finally:
            close_old_connections()


def application():
    from django.core.wsgi import get_wsgi_application

    return Control(Recorder(ImsDialect(get_wsgi_application())))
