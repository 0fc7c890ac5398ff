# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transport shared by the IMS, ACCS and Vault clients: URL checks, the retry policy, TLS, JSON bodies.

For internal collection use only. The retry policy (which statuses, which failures, how long to
wait, whether a request may be re-sent) lives here only: RetryPolicy.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import math
import random
import re
import time
import warnings as python_warnings
from urllib.parse import urlsplit

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import (
    ConfigError,
    TransportError,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import HTTP_SPEC, option_default

try:
    import requests
    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - reported by the callers
    requests = None
    HAS_REQUESTS = False

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Vault reads, as community.hashi_vault retries them (412: a standby not yet consistent).
VAULT_READ_STATUSES = frozenset({412, 429, 500, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
IDEMPOTENT_METHODS = SAFE_METHODS | {"PUT", "DELETE"}
RETRY_AFTER_CAP = 60.0
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
USER_AGENT = "adobe_commerce.accs/0.1.0"

# One session per process and TLS setting: a task's loop items and the token
# calls made for them share connections.
_SESSIONS = {}


def _keep_headers(request):
    """A requests auth that changes nothing: as a session's auth it stops requests reading ~/.netrc."""
    return request


def new_session():
    """A requests session that uses the environment's proxies (HTTPS_PROXY, NO_PROXY) and CA bundle
    (REQUESTS_CA_BUNDLE) but never ~/.netrc (or $NETRC) credentials, which would replace the
    Authorization header the caller set and send the netrc password to the service."""
    return NoNetrcSession()


if HAS_REQUESTS:
    class NoNetrcSession(requests.Session):
        """See new_session; a base for sessions that add behaviour (Vault's retrying one)."""

        def __init__(self):
            super().__init__()
            self.trust_env = True
            self.auth = _keep_headers

        def rebuild_auth(self, prepared_request, response):
            # requests' own version adds ~/.netrc credentials to a redirected request: only drop
            # the Authorization header when the redirect leaves the host.
            if "Authorization" in prepared_request.headers and self.should_strip_auth(
                    response.request.url, prepared_request.url):
                del prepared_request.headers["Authorization"]
else:  # pragma: no cover - without requests, HttpClient and VaultStore say what to install
    NoNetrcSession = None


def silence_unverified_tls_warnings():
    """Drop urllib3's InsecureRequestWarning, which it prints on stderr for every request.

    Callers turning verification off add one Ansible warning instead, which says what to do.
    """
    try:
        from urllib3.exceptions import InsecureRequestWarning
    except ImportError:  # pragma: no cover - urllib3 comes with requests
        return
    python_warnings.filterwarnings("ignore", category=InsecureRequestWarning)


def is_loopback(host):
    if not host:
        return False
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url, option):
    """Return ``url`` without a trailing slash; refuse anything but https (or http on loopback)."""
    if not isinstance(url, str) or not url.strip():
        raise ConfigError("Option %s is empty: set it to the service's https:// URL." % option)
    url = url.strip()
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigError("Option %s is not a valid URL: set it to the service's https:// URL." % option)
    if parts.scheme not in ("https", "http") or not hostname:
        raise ConfigError("Option %s is not an http(s) URL: set it to the service's https:// URL." % option)
    if parts.username or parts.password:
        raise ConfigError("Option %s holds credentials in the URL: remove them and pass credentials through their own options." % option)
    if parts.query or parts.fragment:
        raise ConfigError("Option %s must not carry a query string or fragment: give the base URL only." % option)
    if parts.scheme == "http" and not is_loopback(hostname):
        raise ConfigError(
            "Option %s uses plain http:// for host %s: use https:// (plain http is allowed for loopback addresses only)."
            % (option, hostname))
    return url.rstrip("/")


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


# What became of a request that got no answer; the re-send decision depends on it.
NOT_CONNECTED = "not connected"   # no connection was made: the server never saw the request
TIMED_OUT = "timed out"           # sent, and no answer within the timeout
DROPPED = "dropped"               # the connection broke, possibly after the request was sent


def failure_kind(exc):
    """NOT_CONNECTED, TIMED_OUT or DROPPED for a requests exception worth retrying; None for the others (TLS, bad URL)."""
    if requests is None or isinstance(exc, requests.exceptions.SSLError):
        return None
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return NOT_CONNECTED
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return TIMED_OUT
    if isinstance(exc, requests.exceptions.ConnectionError):
        return NOT_CONNECTED if _never_connected(exc) else DROPPED
    return None


def _never_connected(exc):
    # requests wraps urllib3's MaxRetryError, whose reason says whether the connection was ever made.
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    try:
        from urllib3.exceptions import NewConnectionError
    except ImportError:  # pragma: no cover - urllib3 comes with requests
        return False
    return isinstance(reason, NewConnectionError)


class GaveUp(Exception):
    """A failure the policy will not retry (any more): ``cause`` is the exception, ``retries`` the re-sends made,
    ``resendable`` False when the request was not re-sent because the server may have processed it."""

    def __init__(self, cause, kind, retries, resendable):
        super().__init__(str(cause))
        self.cause = cause
        self.kind = kind
        self.retries = retries
        self.resendable = resendable


class RetryPolicy:
    """The one retry policy: which answers and failures are retried, how long to wait, what may be re-sent.

    ``idempotent`` flags a request: True, it may be re-sent after any retryable answer or failure;
    False, only when the server cannot have processed it (HTTP 429, or no connection was made), never
    after a read timeout, a connection dropped after sending, or 502/503/504. None (an unflagged
    POST or PATCH) keeps what the collection always did: re-sent, except after a read timeout.
    """

    def __init__(self, retries=None, statuses=RETRY_STATUSES, methods=None, backoff=BACKOFF_BASE,
                 backoff_cap=BACKOFF_CAP, jitter=True, retry_after_cap=RETRY_AFTER_CAP, sleep=time.sleep):
        self.retries = max(0, int(option_default(HTTP_SPEC, "retries") if retries is None else retries))
        self.statuses = frozenset(statuses)
        self.methods = None if methods is None else frozenset(m.upper() for m in methods)
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.jitter = jitter
        self.retry_after_cap = retry_after_cap
        self.sleep = sleep

    # -- decisions --------------------------------------------------------------------------------

    def should_retry_status(self, status):
        return status in self.statuses

    @staticmethod
    def flag_for(method, idempotent=None):
        """The request's flag: the caller's, else True for GET, HEAD, OPTIONS, PUT and DELETE."""
        if idempotent is not None:
            return bool(idempotent)
        return True if method.upper() in IDEMPOTENT_METHODS else None

    @staticmethod
    def may_resend(idempotent, outcome):
        """Whether a request flagged ``idempotent`` may be sent again after ``outcome`` (a status or a failure kind)."""
        if idempotent:
            return True
        if outcome == 429 or outcome == NOT_CONNECTED:
            return True  # the server refused it unprocessed, or never saw it
        if idempotent is None:
            return outcome != TIMED_OUT  # it reached the server: a single-use grant would be burnt
        return False

    def applies_to(self, method):
        return self.methods is None or method.upper() in self.methods

    def delay(self, attempt, retry_after=None):
        waited = parse_retry_after(retry_after)
        if waited is not None:
            return min(waited, self.retry_after_cap)
        ceiling = min(self.backoff_cap, self.backoff * (2 ** attempt))
        # Full jitter keeps many forks hitting one service from retrying in lockstep.
        return random.uniform(0, ceiling) if self.jitter else ceiling

    # -- the loop ---------------------------------------------------------------------------------

    def send(self, method, send_once, idempotent=None):
        """``send_once()`` until its answer is final.

        Returns the last response (a retryable status is given back once retries are spent or a
        re-send is not allowed); raises GaveUp around the last requests exception.
        """
        flag = self.flag_for(method, idempotent)
        retries = self.retries if self.applies_to(method) else 0
        attempt = 0
        while True:
            try:
                response = send_once()
            except Exception as exc:
                kind = failure_kind(exc)
                if kind is None:
                    raise GaveUp(exc, None, attempt, True)
                resendable = self.may_resend(flag, kind)
                if attempt >= retries or not resendable:
                    raise GaveUp(exc, kind, attempt, resendable)
                self.sleep(self.delay(attempt))
            else:
                status = response.status_code
                if (not self.should_retry_status(status) or attempt >= retries
                        or not self.may_resend(flag, status)):
                    return response
                self.sleep(self.delay(attempt, response.headers.get("Retry-After")))
            attempt += 1


def _ssl_reason(exc):
    text = str(exc)
    match = re.search(r"certificate verify failed: ([^(\"]+)", text)
    if match:
        return match.group(1).strip().rstrip(".")
    match = re.search(r"\[SSL: ([A-Z_]+)\]", text)
    if match:
        return match.group(1).lower().replace("_", " ")
    return "the TLS handshake failed"


class HttpClient:
    """One requests session with the retry policy and readable failures."""

    def __init__(self, timeout=None, retries=None, validate_certs=True, ca_path=None, policy=None, warnings=None):
        if not HAS_REQUESTS:
            raise ConfigError(
                "The Python library 'requests' is missing on the host running this task: install it "
                "(pip install requests hvac) or set ansible_python_interpreter to the controller's Python.")
        self.timeout = option_default(HTTP_SPEC, "timeout") if timeout is None else timeout
        self.policy = policy or RetryPolicy(retries=retries)
        if ca_path:
            self.verify = ca_path
        else:
            self.verify = bool(validate_certs)
        if self.verify is False:
            silence_unverified_tls_warnings()
            if warnings is not None:
                warnings.append("TLS certificate verification is off (validate_certs: false): anyone on the network "
                                "path can read the tokens; turn it back on and set ca_path instead.")
        key = str(self.verify)
        session = _SESSIONS.get(key)
        if session is None:
            # Proxies and CA bundles from the environment still apply; .netrc must not add auth.
            session = new_session()
            session.headers["User-Agent"] = USER_AGENT
            _SESSIONS[key] = session
        self.session = session

    @classmethod
    def from_options(cls, options, warnings=None):
        """A client for HttpOptions (timeout, retries, validate_certs, ca_path)."""
        return cls(timeout=options.timeout, retries=options.retries, validate_certs=options.validate_certs,
                   ca_path=options.ca_path, warnings=warnings)

    def request(self, method, url, service, idempotent=None, **kwargs):
        """Send with the retry policy; returns the final response (possibly a retryable status once retries are spent).

        ``idempotent``: see RetryPolicy; None decides by method.
        """
        host = urlsplit(url).netloc

        def send_once():
            return self.session.request(
                method, url, timeout=self.timeout, verify=self.verify, allow_redirects=False, **kwargs)

        try:
            return self.policy.send(method, send_once, idempotent)
        except GaveUp as gave_up:
            if not isinstance(gave_up.cause, requests.exceptions.RequestException):
                raise gave_up.cause
            raise TransportError(self._failure(gave_up, service, host))

    def _failure(self, gave_up, service, host):
        exc = gave_up.cause
        if requests is not None and isinstance(exc, requests.exceptions.SSLError):
            return ("TLS verification of %s at %s failed (%s): check the URL, or give the CA that signed its "
                    "certificate with ca_path." % (service, host, _ssl_reason(exc)))
        if gave_up.kind is None:
            return "The request to %s at %s failed (%s): check the URL and options." % (service, host, type(exc).__name__)
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            failure = "%s at %s did not accept a connection within %s s" % (service, host, self.timeout)
        elif gave_up.kind == TIMED_OUT:
            failure = "%s at %s did not answer within %s s" % (service, host, self.timeout)
        else:
            failure = "cannot connect to %s at %s" % (service, host)
        if not gave_up.resendable:
            # The request may have been processed: sending it again could repeat it.
            if gave_up.kind == DROPPED:
                return ("The connection to %s at %s broke after the request was sent, so it was not sent again: "
                        "check whether it took effect, then run again." % (service, host))
            return failure + ": check the service's status, or raise timeout, and run again."
        return ("%s%s: check that the URL is right and the service is up, then run again."
                % (failure[0].upper() + failure[1:], _after(gave_up.retries)))


def _after(retries):
    if not retries:
        return ""
    return " after %d %s" % (retries, "retry" if retries == 1 else "retries")


def debug_id(response):
    return response.headers.get("x-debug-id") or response.headers.get("X-Debug-Id")


def debug_ref(dbg):
    """The support reference for a message, appended to what the service said: ", x-debug-id <id>", or ""."""
    return ", x-debug-id %s" % dbg if dbg else ""


def describe_body(response):
    """A short, secret-free description of why a body is not the expected JSON."""
    ctype = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    text = response.text[:512].lstrip().lower() if response.content else ""
    if not response.content:
        return "an empty body"
    if ctype == "text/html" or text.startswith("<!doctype html") or text.startswith("<html"):
        return "an HTML error page from a gateway or proxy"
    return "a body that is not JSON, of type %s" % (ctype or "unknown")


def json_body(response):
    """Parsed JSON body, or raise ValueError."""
    if not response.content:
        raise ValueError("empty")
    return json.loads(response.content)
