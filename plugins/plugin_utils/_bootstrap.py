# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one human step: an IMS authorization (code flow with PKCE) turned into a refresh token in Vault.

Engine-style (no AnsibleModule): the action plugin ``ims_bootstrap`` drives it.

- :class:`Authorization` holds what one authorize request needs: a random ``state``, the PKCE
  verifier and its S256 challenge, the loopback ``redirect_uri`` and the URL the person opens.
- :class:`CallbackListener` is the loopback HTTP listener that receives the browser's redirect. It
  answers the browser with a small page, refuses a wrong ``state`` (possible CSRF), and never logs
  the request line (it holds the code).
- :func:`parse_callback` reads a redirect (the listener's request, or the address a person pasted):
  state first, then ``error``/``error_description``, then ``code``.
- :class:`SessionStore` keeps ``state`` and verifier between the two tasks of the paste mode: a
  0600 file under ``~/.ansible/adobe_commerce_accs/bootstrap`` named by a random id, read and
  deleted by the exchange, removed by later bootstraps once expired. Nothing secret goes in task
  results.
"""

from __future__ import annotations

import errno
import hmac
import html
import json
import os
import re
import secrets
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


from ansible_collections.adobe_commerce.accs.plugins.module_utils._credential import format_time, split_scopes
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import AccsError, ConfigError, one_line
from ansible_collections.adobe_commerce.accs.plugins.module_utils._ims import DEFAULT_IMS_URL, ImsClient, pkce_pair
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import (
    BOOTSTRAP_DEFAULT_SCOPES,
    BOOTSTRAP_SPEC,
    option_default,
)

DEFAULT_SCOPES = BOOTSTRAP_DEFAULT_SCOPES
OFFLINE_ACCESS = "offline_access"
LOOPBACK_HOST = "127.0.0.1"
CALLBACK_PATH = "/callback"
DEFAULT_PORT = option_default(BOOTSTRAP_SPEC, "redirect_port")
DEFAULT_SESSION_DIR = "~/.ansible/adobe_commerce_accs/bootstrap"
STALE_SESSION_AGE = 86400          # unreadable session files older than this are removed
_SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
_ERROR_CODE_RE = re.compile(r"[^A-Za-z0-9_.:-]+")

STATE_MISMATCH = (
    "The state in the redirect did not match the one this bootstrap sent, so its code was not used (possible "
    "cross-site request forgery): start the bootstrap again and open only the URL it prints.")


class BootstrapError(AccsError):
    """The authorization did not produce a code (no callback, refused, forged)."""

    kind = "bootstrap"


class StateMismatchError(BootstrapError):
    """The redirect's state is not the one sent: possible CSRF."""

    kind = "bootstrap_state_mismatch"

    def __init__(self):
        super().__init__(STATE_MISMATCH)


class AuthorizationDeniedError(BootstrapError):
    """IMS redirected back with ``error`` instead of a code."""

    kind = "ims_authorization_denied"


class NotARedirectError(BootstrapError):
    """The text holds neither a code nor an error."""

    kind = "bootstrap_not_a_redirect"


def bootstrap_scopes(scopes):
    """The scopes to request: the given ones (list or comma string) plus offline_access when missing.

    Without offline_access IMS issues no refresh token, and there would be nothing to store."""
    wanted = split_scopes(scopes if scopes else list(DEFAULT_SCOPES), "Option scopes")
    if OFFLINE_ACCESS not in wanted:
        wanted.append(OFFLINE_ACCESS)
    return wanted


def new_state():
    """A random, unguessable state for one authorize request (CSRF protection)."""
    return secrets.token_urlsafe(32)


def redirect_uri_for(port, host=LOOPBACK_HOST, path=CALLBACK_PATH):
    """The loopback redirect URI the credential must allow: http://127.0.0.1:<port>/callback."""
    return "http://%s:%d%s" % (host, port, path)


def check_port(port):
    if port is None or not 0 <= int(port) <= 65535:
        raise ConfigError("Option redirect_port must be a TCP port from 1 to 65535, or 0 to pick a free one.")
    return int(port)


class Authorization:
    """One authorize request: state, PKCE pair, redirect URI and the URL to open."""

    def __init__(self, ims_url, client_id, scopes, redirect_uri, state=None, code_verifier=None):
        if not client_id or not str(client_id).strip():
            raise ConfigError("Option client_id is empty: give the IMS client id of the credential.")
        self.ims_url = ims_url or DEFAULT_IMS_URL
        self.client_id = str(client_id).strip()
        self.scopes = bootstrap_scopes(scopes)
        self.redirect_uri = redirect_uri
        self.state = state or new_state()
        if code_verifier is None:
            self.code_verifier, self.code_challenge = pkce_pair()
        else:
            self.code_verifier, self.code_challenge = code_verifier, None
        # ImsClient checks ims_url (https, or http on loopback) and builds the authorize URL;
        # building a URL sends nothing, so it needs no HTTP client.
        self._ims = ImsClient(None, self.ims_url)

    @property
    def url(self):
        if self.code_challenge is None:
            raise ValueError("a restored authorization has no challenge")
        return self._ims.authorize_url(self.client_id, self.redirect_uri, self.scopes, self.state,
                                       code_challenge=self.code_challenge)

    def code_from(self, text):
        """The code of a pasted redirect address or callback query (see :func:`parse_callback`)."""
        return parse_callback(text, self.state, self.redirect_uri)


def _single(params, name):
    values = params.get(name)
    if not values:
        return None
    if len(values) != 1:
        raise NotARedirectError(
            "The redirect holds parameter %s more than once, so it is not one IMS sent: start the bootstrap again."
            % name)
    return values[0]


def parse_callback(text, expected_state, redirect_uri=None):
    """The authorization code in a redirect address (or its query string), after checking ``state``.

    Raises NotARedirectError when the text holds neither ``code`` nor ``error``, StateMismatchError
    when ``state`` is missing or differs, AuthorizationDeniedError for ``error=...``."""
    text = (text or "").strip().strip("'\"<>").strip()
    if "://" in text or text.startswith("/"):
        parts = urlsplit(text)
        query = parts.query or parts.fragment
    else:
        query = text[1:] if text.startswith("?") else text
    try:
        params = parse_qs(query, keep_blank_values=True, strict_parsing=False, max_num_fields=50)
    except ValueError:
        params = {}
    if not params.get("code") and not params.get("error"):
        raise NotARedirectError(
            "The text is not the redirect address: after signing in, copy the whole address the browser was sent "
            "to (it starts with %s?code=), and start the bootstrap again." % (redirect_uri or "the redirect URI"))
    state = _single(params, "state")
    if state is None or not hmac.compare_digest(state.encode("utf-8"), str(expected_state).encode("utf-8")):
        raise StateMismatchError()
    error = _single(params, "error")
    if error is not None:
        code_name = one_line(_ERROR_CODE_RE.sub("_", error), 64) or "error"
        description = one_line(_single(params, "error_description"))
        raise AuthorizationDeniedError(
            "IMS did not authorize the request (%s%s): fix what IMS names (the client id, the scopes, or the redirect "
            "URI allowed for the credential in the Adobe Developer Console) or approve the consent, then start the "
            "bootstrap again." % (code_name, ": " + description if description else ""), error=code_name)
    code = _single(params, "code")
    if not code or not code.strip():
        raise NotARedirectError("The redirect holds an empty code: start the bootstrap again.")
    return code.strip()


# --------------------------------------------------------------------------------------------------
# loopback listener

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%(title)s</title>
<style>body{font-family:sans-serif;max-width:40em;margin:4em auto;line-height:1.5}</style></head>
<body><h1>%(title)s</h1><p>%(text)s</p></body></html>
"""


def _page(title, text):
    return (_PAGE % {"title": html.escape(title), "text": html.escape(text)}).encode("utf-8")


PAGE_DONE = _page("Adobe sign-in received",
                  "The bootstrap got the authorization and is storing the refresh token in Vault. You can close "
                  "this tab and go back to the terminal.")
PAGE_FORGED = _page("Request refused",
                    "This response does not belong to the bootstrap that is running (the state did not match), so "
                    "it was not used. Start the bootstrap again and open only the URL it prints.")
PAGE_NOT_REDIRECT = _page("Not an authorization response",
                          "This address expects the redirect from Adobe IMS after sign-in. Open the URL the "
                          "bootstrap printed in the terminal.")
PAGE_FINISHED = _page("Bootstrap already finished",
                      "This bootstrap already received a response. See the terminal.")
PAGE_NOT_FOUND = _page("Not found", "Nothing here.")


def _page_denied(error):
    return _page("Authorization failed",
                 "Adobe IMS did not authorize the request (%s). See the terminal for what to do next." % error)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    listener = None

    def server_bind(self):
        # HTTPServer.server_bind asks reverse DNS for the host name (slow on some hosts): not needed here.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class _Handler(BaseHTTPRequestHandler):
    server_version = "adobe_commerce.accs-bootstrap"
    sys_version = ""
    protocol_version = "HTTP/1.0"
    timeout = 15  # an idle connection (browser pre-connect) must not hold a thread forever

    def log_message(self, format, *args):  # noqa: A002 - the request line holds the code: never log it
        pass

    def log_error(self, format, *args):  # noqa: A002
        pass

    def _answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server naming
        status, body = self.server.listener._handle(self.path)
        self._answer(status, body)

    def do_HEAD(self):  # noqa: N802
        self._answer(405, PAGE_NOT_FOUND)

    def _not_allowed(self):
        self._answer(405, PAGE_NOT_FOUND)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed


class CallbackListener:
    """A loopback HTTP listener for one authorization's redirect.

    ``wait(timeout)`` returns the code once the browser arrived with the right state, or raises the
    BootstrapError that explains the outcome (timeout, wrong state, IMS error)."""

    def __init__(self, expected_state, port=None, host=LOOPBACK_HOST, path=CALLBACK_PATH):
        self.expected_state = expected_state
        port = DEFAULT_PORT if port is None else port
        self.path = path
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._code = None
        self._error = None
        try:
            self._server = _Server((host, check_port(port)), _Handler)
        except OSError as exc:
            reason = "the port is in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or type(exc).__name__)
            raise BootstrapError(
                "Cannot listen for the browser's redirect on %s:%s (%s): free the port, or set accs_redirect_port to "
                "another port the credential allows as redirect URI (0 picks a free one), or use accs_bootstrap_mode "
                "paste." % (host, port, reason))
        self._server.listener = self
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="accs-bootstrap-listener", daemon=True)
        self._thread.start()

    @property
    def redirect_uri(self):
        return redirect_uri_for(self.port, self.host, self.path)

    def _finish(self, code=None, error=None):
        self._code, self._error = code, error
        self._done.set()

    def _handle(self, raw_path):
        """(status, page) for one GET; records the outcome of the first real redirect."""
        parts = urlsplit(raw_path)
        if parts.path != self.path:
            return 404, PAGE_NOT_FOUND
        with self._lock:
            if self._done.is_set():
                return 410, PAGE_FINISHED
            try:
                code = parse_callback(parts.query, self.expected_state)
            except NotARedirectError:
                return 400, PAGE_NOT_REDIRECT
            except StateMismatchError as err:
                self._finish(error=err)
                return 400, PAGE_FORGED
            except AuthorizationDeniedError as err:
                self._finish(error=err)
                return 400, _page_denied(err.details.get("error", "error"))
            self._finish(code=code)
            return 200, PAGE_DONE

    def wait(self, timeout):
        if not self._done.wait(timeout):
            raise BootstrapError(
                "No browser redirect reached %s within %d s: open the URL printed above in a browser on this machine "
                "and sign in (or use accs_bootstrap_mode paste when the browser runs elsewhere), then start again."
                % (self.redirect_uri, timeout))
        if self._error is not None:
            raise self._error
        return self._code

    def close(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# --------------------------------------------------------------------------------------------------
# paste mode: the state and verifier between the authorize and the exchange task

class SessionStore:
    """One 0600 JSON file per pending authorization, named by a random id, in a 0700 directory.

    The file holds the state and the PKCE verifier (and the non-secret client id, redirect URI, IMS
    URL, scopes and Vault path). ``take`` reads and deletes it; ``save`` first removes expired ones."""

    def __init__(self, directory=None, clock=time.time):
        self.directory = os.path.expanduser(directory or DEFAULT_SESSION_DIR)
        self.clock = clock

    def _ensure_directory(self):
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            info = os.stat(self.directory)
            if info.st_mode & 0o077:
                os.chmod(self.directory, 0o700)
        except OSError as exc:
            raise ConfigError("Cannot create the bootstrap session directory %s (%s): make it writable for this user "
                              "or set session_dir (ACCS_BOOTSTRAP_DIR)." % (self.directory, exc.strerror or exc))

    def file_for(self, session_id):
        if not isinstance(session_id, str) or not _SESSION_ID_RE.match(session_id):
            raise ConfigError("The bootstrap session handle is malformed: pass the session value the authorize step "
                              "returned, or start the bootstrap again.")
        return os.path.join(self.directory, session_id + ".json")

    def save(self, authorization, lifetime, vault_path, vault_mount):
        self._ensure_directory()
        self.purge_expired()
        session_id = secrets.token_urlsafe(24)
        now = self.clock()
        record = {
            "state": authorization.state,
            "code_verifier": authorization.code_verifier,
            "client_id": authorization.client_id,
            "redirect_uri": authorization.redirect_uri,
            "ims_url": authorization.ims_url,
            "scopes": authorization.scopes,
            "vault_path": vault_path,
            "vault_mount": vault_mount,
            "created_at": format_time(now),
            "expires_at": now + lifetime,
        }
        target = self.file_for(session_id)
        try:
            handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(record, stream)
        except OSError as exc:
            raise ConfigError("Cannot write the bootstrap session file in %s (%s): make the directory writable or "
                              "set session_dir (ACCS_BOOTSTRAP_DIR)." % (self.directory, exc.strerror or exc))
        return session_id

    def take(self, session_id):
        """The session's record; the file is deleted whatever happens next (one use only)."""
        target = self.file_for(session_id)
        try:
            handle = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            raise ConfigError(
                "No pending bootstrap session %s in %s: it was already used, or expired and was removed, or was started "
                "on another machine; start the bootstrap again." % (session_id, self.directory))
        try:
            with os.fdopen(handle, encoding="utf-8") as stream:
                record = json.load(stream)
        except (OSError, ValueError):
            record = None
        finally:
            try:
                os.unlink(target)
            except OSError:
                pass
        if not isinstance(record, dict) or not all(isinstance(record.get(k), str) for k in
                                                   ("state", "code_verifier", "client_id", "redirect_uri")):
            raise ConfigError("The bootstrap session file %s was unreadable and is removed: start the bootstrap "
                              "again." % target)
        expires_at = record.get("expires_at")
        if not isinstance(expires_at, (int, float)) or self.clock() > expires_at:
            raise BootstrapError(
                "The bootstrap session expired before the redirect address was given (it lasts wait_timeout "
                "seconds, accs_bootstrap_timeout in the playbook): start the bootstrap again and paste the address "
                "sooner, or raise the timeout.")
        return record

    def purge_expired(self):
        """Remove expired session files (and unreadable ones older than a day)."""
        now = self.clock()
        try:
            names = os.listdir(self.directory)
        except OSError:
            return 0
        removed = 0
        for name in names:
            if not name.endswith(".json") or not _SESSION_ID_RE.match(name[:-5]):
                continue
            path = os.path.join(self.directory, name)
            try:
                with open(path, encoding="utf-8") as stream:
                    expires_at = json.load(stream).get("expires_at")
                expired = not isinstance(expires_at, (int, float)) or now > expires_at
            except (OSError, ValueError, AttributeError):
                try:
                    expired = now - os.stat(path).st_mtime > STALE_SESSION_AGE
                except OSError:
                    continue
            if expired:
                try:
                    os.unlink(path)
                    removed += 1
                except OSError:
                    pass
        return removed
