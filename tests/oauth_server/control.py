"""Start the django-oauth-toolkit server and talk to it: ``running_oauth_server(workdir)`` and
``OAuthServer`` (its control API, and a person at a browser: Django's login form and DOT's
consent form, driven with requests)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60


class OAuthServerError(RuntimeError):
    pass


class _Forms(HTMLParser):
    """Every form of a page: ``{id or index: {"action", "fields": {name: value}, "submits": {name: value}}}``."""

    def __init__(self):
        super().__init__()
        self.forms = {}
        self._current = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {"action": attrs.get("action") or "", "fields": {}, "submits": {}}
            self.forms[attrs.get("id") or str(len(self.forms))] = self._current
        elif tag == "input" and self._current is not None and attrs.get("name"):
            kind = (attrs.get("type") or "text").lower()
            target = self._current["submits"] if kind == "submit" else self._current["fields"]
            target[attrs["name"]] = attrs.get("value") or ""
        elif tag in ("textarea", "select") and self._current is not None and attrs.get("name"):
            self._current["fields"].setdefault(attrs["name"], "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def page_forms(html: str) -> dict:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class OAuthServer:
    def __init__(self, url, ca_path, username, password, pid=None, workdir=None):
        self.url = url
        self.ca_path = ca_path
        self.username = username
        self.password = password
        self.pid = pid
        self.workdir = workdir

    # the collection's option ims_url is the base: IMS's paths are below it
    @property
    def ims_url(self):
        return self.url

    @property
    def token_url(self):
        return self.url + "/ims/token/v3"

    @property
    def authorize_url(self):
        return self.url + "/ims/authorize/v2"

    @property
    def revoke_url(self):
        return self.url + "/ims/revoke"

    def session(self) -> requests.Session:
        """A requests session that trusts the server's CA only (no netrc, no proxies)."""
        session = requests.Session()
        session.trust_env = False
        session.verify = self.ca_path
        return session

    def _call(self, method, path, body=None):
        with self.session() as session:
            answer = session.request(method, self.url + "/_control/" + path, json=body, timeout=30)
        if answer.status_code >= 400:
            raise OAuthServerError("control %s %s: %s %s" % (method, path, answer.status_code, answer.text))
        return answer.json()

    def add_client(self, client_id, client_secret=None, grant="authorization_code", redirect_uris=()):
        return self._call("POST", "clients", {"client_id": client_id, "client_secret": client_secret,
                                              "grant": grant, "redirect_uris": list(redirect_uris)})

    def add_latency(self, path, seconds, times=1):
        """The next ``times`` requests to ``path`` wait ``seconds`` before the server sees them."""
        return self._call("POST", "latency", {"path": path, "seconds": seconds, "times": times})

    def refresh_tokens(self, client_id) -> dict:
        """``{"valid": [...], "revoked": [...]}``: the client's refresh tokens, oldest first."""
        return self._call("GET", "refresh_tokens/" + client_id)

    def token_status(self, token) -> str:
        """``valid``, ``revoked``, ``expired`` or ``unknown`` (DOT deletes revoked access tokens)."""
        return self._call("POST", "token_status", {"token": token})["status"]

    def requests(self, path=None, client_id=None) -> list:
        records = self._call("GET", "requests")
        return [r for r in records if (path is None or r["path"] == path)
                and (client_id is None or r["client_id"] == client_id)]

    def token_requests(self, client_id, grant_type=None) -> list:
        return [r for r in self.requests("/ims/token/v3", client_id)
                if grant_type is None or r["grant_type"] == grant_type]

    def secrets_by_kind(self) -> dict:
        data = self._call("GET", "secrets")
        data["all"] = [value for values in data.values() for value in values]
        return data

    def secrets(self) -> list:
        return self.secrets_by_kind()["all"]

    # ------------------------------------------------------------------ the person at the browser
    def sign_in_and_consent(self, url, allow=True) -> str:
        """Open an authorize URL as a browser would: sign in with Django's login form, submit DOT's
        consent form (Authorize, or Cancel when ``allow`` is false); return the redirect's Location."""
        with self.session() as browser:
            answer = browser.get(url, allow_redirects=False, timeout=30)
            if answer.status_code == 302 and urlsplit(answer.headers["Location"]).path.startswith("/accounts/login"):
                login_url = urljoin(url, answer.headers["Location"])
                page = browser.get(login_url, timeout=30)
                form = page_forms(page.text).get("loginForm")
                if form is None:
                    raise OAuthServerError("no login form at %s" % login_url)
                fields = dict(form["fields"], username=self.username, password=self.password)
                answer = browser.post(urljoin(login_url, form["action"]), data=fields, allow_redirects=False,
                                      headers={"Referer": login_url}, timeout=30)
                if answer.status_code != 302:
                    raise OAuthServerError("login refused: HTTP %s" % answer.status_code)
                url = urljoin(login_url, answer.headers["Location"])
                answer = browser.get(url, allow_redirects=False, timeout=30)
            if answer.status_code == 302:
                return answer.headers["Location"]  # an error redirect, or no consent needed
            form = page_forms(answer.text).get("authorizationForm")
            if form is None:
                raise OAuthServerError("no consent form (HTTP %s): %s" % (answer.status_code, answer.text[:500]))
            fields = dict(form["fields"])
            if allow:
                fields["allow"] = form["submits"].get("allow", "Authorize")
            answer = browser.post(urljoin(url, form["action"] or url), data=fields, allow_redirects=False,
                                  headers={"Referer": url}, timeout=30)
            if answer.status_code != 302:
                raise OAuthServerError("consent answered HTTP %s: %s" % (answer.status_code, answer.text[:500]))
            return answer.headers["Location"]

    def authorize(self, client_id, redirect_uri, scope, state, code_challenge, method="S256") -> dict:
        """The redirect's query after sign-in and consent (``code`` and ``state``, or ``error``)."""
        url = self.authorize_url + "?" + urlencode({
            "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope, "response_type": "code",
            "state": state, "code_challenge": code_challenge, "code_challenge_method": method})
        location = self.sign_in_and_consent(url)
        return {k: v[-1] for k, v in parse_qs(urlsplit(location).query, keep_blank_values=True).items()}

    @classmethod
    def from_state_file(cls, path, workdir=None):
        state = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(state["url"], state["ca_path"], state["username"], state["password"], state.get("pid"), workdir)


@contextlib.contextmanager
def running_oauth_server(workdir):
    """``python -m tests.oauth_server`` in a subprocess; yield an OAuthServer; always stop it."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    state_file = workdir / "oauth-server-state.json"
    state_file.unlink(missing_ok=True)
    log_path = workdir / "oauth-server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    log = open(log_path, "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "tests.oauth_server", "--workdir", str(workdir), "--state-file", str(state_file),
         "--parent-pid", str(os.getpid())],
        cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        server = None
        while time.monotonic() < deadline and proc.poll() is None:
            if state_file.exists():
                server = OAuthServer.from_state_file(state_file, workdir)
                break
            time.sleep(0.1)
        if server is None:
            log.flush()
            raise OAuthServerError("the OAuth server did not start within %s s (exit code %s):\n%s"
                                   % (START_TIMEOUT, proc.poll(), log_path.read_text(errors="replace")[-4000:]))
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
