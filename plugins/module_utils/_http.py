# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP policy shared by the IMS and ACCS clients: URL checks, retries, TLS, JSON bodies.

The retry policy (which statuses, which failures, how long to wait) lives here only.
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

try:
    import requests
    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - reported by the callers
    requests = None
    HAS_REQUESTS = False

RETRY_STATUSES = frozenset({429, 502, 503, 504})
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
    session = _NoNetrcSession()
    session.trust_env = True
    session.auth = _keep_headers
    return session


if HAS_REQUESTS:
    class _NoNetrcSession(requests.Session):
        def rebuild_auth(self, prepared_request, response):
            # requests' own version adds ~/.netrc credentials to a redirected request: only drop
            # the Authorization header when the redirect leaves the host.
            if "Authorization" in prepared_request.headers and self.should_strip_auth(
                    response.request.url, prepared_request.url):
                del prepared_request.headers["Authorization"]


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


class RetryPolicy:
    """Which answers are retried and how long to wait between attempts."""

    def __init__(self, retries=3, backoff=BACKOFF_BASE, backoff_cap=BACKOFF_CAP,
                 retry_after_cap=RETRY_AFTER_CAP, sleep=time.sleep):
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.retry_after_cap = retry_after_cap
        self.sleep = sleep

    def should_retry_status(self, status):
        return status in RETRY_STATUSES

    def delay(self, attempt, retry_after=None):
        waited = parse_retry_after(retry_after)
        if waited is not None:
            return min(waited, self.retry_after_cap)
        # Full jitter keeps many forks hitting one service from retrying in lockstep.
        return random.uniform(0, min(self.backoff_cap, self.backoff * (2 ** attempt)))


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

    def __init__(self, timeout=30, retries=3, validate_certs=True, ca_path=None, policy=None, warnings=None):
        if not HAS_REQUESTS:
            raise ConfigError(
                "The Python library 'requests' is missing on the host running this task: install it "
                "(pip install requests hvac) or set ansible_python_interpreter to the controller's Python.")
        self.timeout = timeout
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

    def request(self, method, url, service, idempotent=None, **kwargs):
        """Send with retries; returns the final response (possibly a retryable status once retries are spent)."""
        if idempotent is None:
            idempotent = method.upper() in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")
        host = urlsplit(url).netloc
        attempt = 0
        while True:
            try:
                response = self.session.request(
                    method, url, timeout=self.timeout, verify=self.verify, allow_redirects=False, **kwargs)
            except requests.exceptions.SSLError as exc:
                raise TransportError(
                    "TLS verification of %s at %s failed (%s): check the URL, or give the CA that signed its certificate with ca_path."
                    % (service, host, _ssl_reason(exc)))
            except requests.exceptions.ConnectTimeout:
                failure = "%s at %s did not accept a connection within %s s" % (service, host, self.timeout)
            except requests.exceptions.ReadTimeout:
                failure = "%s at %s did not answer within %s s" % (service, host, self.timeout)
                if not idempotent:
                    # The request reached the server: resending a single-use grant would burn it.
                    raise TransportError(failure + ": check the service's status, or raise timeout, and run again.")
            except requests.exceptions.ConnectionError:
                failure = "cannot connect to %s at %s" % (service, host)
            except requests.exceptions.RequestException as exc:
                raise TransportError("The request to %s at %s failed (%s): check the URL and options." % (service, host, type(exc).__name__))
            else:
                if self.policy.should_retry_status(response.status_code) and attempt < self.policy.retries:
                    self.policy.sleep(self.policy.delay(attempt, response.headers.get("Retry-After")))
                    attempt += 1
                    continue
                return response
            if attempt >= self.policy.retries:
                raise TransportError(
                    "%s%s: check that the URL is right and the service is up, then run again."
                    % (failure[0].upper() + failure[1:], _after(attempt)))
            self.policy.sleep(self.policy.delay(attempt))
            attempt += 1


def _after(retries):
    if not retries:
        return ""
    return " after %d %s" % (retries, "retry" if retries == 1 else "retries")


def debug_id(response):
    return response.headers.get("x-debug-id") or response.headers.get("X-Debug-Id")


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
