"""Client of the IMS/ACCS emulator's control interface, and a context manager that runs it.

    from tests.emulator.control import running_emulator

    with running_emulator(tmp_path) as emu:
        emu.reset()
        emu.add_client("cid", client_secrets=["s1"], grants=["client_credentials"],
                       scopes=["openid", "commerce.accs"])
        emu.set_tenant("tenant1")
        requests.get(emu.accs_url("tenant1") + "/V1/store/websites", verify=emu.ca_path, ...)

Only ``requests`` and the standard library are needed here.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0

__all__ = ["EmulatorControl", "EmulatorError", "running_emulator", "pkce_pair", "REPO_ROOT"]


class EmulatorError(RuntimeError):
    pass


def pkce_pair(method="S256"):
    """A fresh (code_verifier, code_challenge) pair."""
    verifier = secrets.token_urlsafe(48)
    if method == "plain":
        return verifier, verifier
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class EmulatorControl:
    """One method per control endpoint.  Every call raises EmulatorError on a non-2xx answer."""

    def __init__(self, url, ca_path, wrong_host_url=None, unknown_ca_url=None, pid=None, timeout=30):
        self.url = url.rstrip("/")
        self.ca_path = str(ca_path)
        self.wrong_host_url = wrong_host_url
        self.unknown_ca_url = unknown_ca_url
        self.pid = pid
        self.timeout = timeout
        self._session = self.session()

    @classmethod
    def from_state_file(cls, path):
        with open(path, encoding="utf-8") as fh:
            state = json.load(fh)
        return cls(
            state["url"],
            state["ca_path"],
            wrong_host_url=state.get("wrong_host_url"),
            unknown_ca_url=state.get("unknown_ca_url"),
            pid=state.get("pid"),
        )

    # ---- URLs --------------------------------------------------------------------------

    @property
    def ims_url(self):
        """IMS host base (paths /ims/... follow)."""
        return self.url

    @property
    def token_url(self):
        return self.url + "/ims/token/v3"

    @property
    def authorize_url(self):
        return self.url + "/ims/authorize/v2"

    def accs_url(self, tenant):
        """ACCS base URL of a tenant: ``<url>/<tenant>``; endpoints ``/V1/...`` follow."""
        return "%s/%s" % (self.url, tenant)

    def session(self):
        """A new requests.Session that trusts the emulator's CA.

        trust_env is off: with it on, REQUESTS_CA_BUNDLE (set on some machines) silently
        overrides Session.verify, and proxy variables could divert loopback traffic."""
        s = requests.Session()
        s.verify = self.ca_path
        s.trust_env = False
        return s

    # ---- plumbing ----------------------------------------------------------------------

    def _call(self, method, path, body=None, params=None):
        resp = self._session.request(
            method, self.url + "/_control" + path, json=body, params=params, timeout=self.timeout,
            verify=self.ca_path,
        )
        if not 200 <= resp.status_code < 300:
            raise EmulatorError("control %s %s answered %s: %s" % (method, path, resp.status_code, resp.text))
        return resp.json()

    # ---- control endpoints -------------------------------------------------------------

    def health(self):
        return self._call("GET", "/health")

    def reset(self):
        """Forget all clients, tokens, tenants, faults, counters, recorded requests, lifetimes."""
        return self._call("POST", "/reset")

    def add_client(self, client_id, client_secrets=None, grants=None, scopes=None, public=False,
                   redirect_uris=None):
        """Register (or replace) a client.

        grants default to ["authorization_code", "refresh_token"]; scopes None allows any scope."""
        body = {"client_id": client_id, "client_secrets": list(client_secrets or []), "public": public}
        if grants is not None:
            body["grants"] = list(grants)
        if scopes is not None:
            body["scopes"] = list(scopes)
        if redirect_uris is not None:
            body["redirect_uris"] = list(redirect_uris)
        return self._call("POST", "/clients", body)

    def clients(self):
        return self._call("GET", "/clients")

    def mint_refresh_token(self, client_id, scopes):
        """A refresh token minted directly (seeding); returns the token string."""
        return self._call("POST", "/tokens/refresh", {"client_id": client_id, "scopes": list(scopes)})[
            "refresh_token"
        ]

    def mint_access_token(self, client_id, scopes, expires_in=None):
        """An access token minted directly; returns the token string.  expires_in <= 0: already expired."""
        body = {"client_id": client_id, "scopes": list(scopes)}
        if expires_in is not None:
            body["expires_in"] = expires_in
        return self._call("POST", "/tokens/access", body)["access_token"]

    def set_lifetimes(self, access_token=None, refresh_token=None, code=None):
        """Lifetimes (seconds, floats allowed) of tokens minted from now on; returns all lifetimes."""
        body = {}
        for name, value in (("access_token", access_token), ("refresh_token", refresh_token), ("code", code)):
            if value is not None:
                body[name] = value
        return self._call("POST", "/lifetimes", body)

    def lifetimes(self):
        return self._call("GET", "/lifetimes")

    def revoke(self, token=None, client_id=None):
        """Revoke one token (access, refresh or code), or every token of a client; returns the count."""
        body = {}
        if token is not None:
            body["token"] = token
        if client_id is not None:
            body["client_id"] = client_id
        return self._call("POST", "/revoke", body)["revoked"]

    def expire(self, token):
        """Make a token (access, refresh or code) expired now."""
        return self._call("POST", "/expire", {"token": token})["expired"]

    def check_refresh_token(self, refresh_token):
        """Whether a refresh token would still be accepted, without consuming it."""
        return self._call("POST", "/check_refresh_token", {"refresh_token": refresh_token})["valid"]

    def refresh_token_status(self, refresh_token):
        """'valid', 'used', 'revoked', 'expired' or 'unknown', without consuming it."""
        return self._call("POST", "/check_refresh_token", {"refresh_token": refresh_token})["status"]

    def refresh_tokens(self, client_id):
        """{'valid': [...], 'used': [...], 'revoked': [...], 'expired': [...]} of a client."""
        return self._call("GET", "/refresh_tokens/" + client_id)

    def set_tenant(self, tenant, **data):
        """(Re)create a tenant: default data overlaid with data (storeConfigs, storeViews, websites,
        storeGroups, products_count, products, repeat_last_page, required_org_id, system_config,
        system_config_mode, extensibility_mode).  system_config (list of {path, value, scope,
        scope_code}) replaces the fresh-installation values; system_config_mode ({inherit,
        unknown_paths, echo_scope_code, obscured}) and extensibility_mode (README, "Extensibility")
        overlay the default switches."""
        return self._call("POST", "/tenants/" + tenant, data)

    def get_tenant(self, tenant):
        return self._call("GET", "/tenants/" + tenant)

    def delete_tenant(self, tenant):
        return self._call("DELETE", "/tenants/" + tenant)

    # ---- system configuration (/V1/system/config) ------------------------------------------

    def set_system_config(self, tenant, items, replace=True):
        """Store configuration values of a tenant: items is a list of {path, value, scope,
        scope_code} (scope default "default"; value a string, number or boolean, stored as
        Commerce does, or None to remove the stored value).  replace=True forgets every value
        stored before, False merges.  Paths must be in the catalog and settable at that scope,
        scope codes must exist.  Returns the stored list (as system_config())."""
        return self._call("POST", "/tenants/%s/system_config" % tenant, {"items": list(items), "replace": replace})

    def system_config(self, tenant):
        """What the tenant stores: [{path, value, scope[, scope_code]}] sorted by scope (default,
        website, store), scope code, path.  Values in plain text (sensitive ones too)."""
        return self._call("GET", "/tenants/%s/system_config" % tenant)

    def set_system_config_mode(self, tenant, inherit=None, unknown_paths=None, echo_scope_code=None,
                               obscured=None):
        """Set the read switches of a tenant (None leaves one as it is); returns all four.

        inherit (False): reads at website/store scope return the inherited value;
        unknown_paths ("omit"): "omit" | "null" for asked-for paths unknown, not visible or denied;
        echo_scope_code (True): items read at website/store scope carry scope_code;
        obscured ("mask"): "mask" ("******") | "plain" | "null" for sensitive paths."""
        body = {}
        for name, value in (("inherit", inherit), ("unknown_paths", unknown_paths),
                            ("echo_scope_code", echo_scope_code), ("obscured", obscured)):
            if value is not None:
                body[name] = value
        return self._call("POST", "/tenants/%s/system_config_mode" % tenant, body)

    def system_config_mode(self, tenant):
        """The tenant's read switches: {inherit, unknown_paths, echo_scope_code, obscured}."""
        return self._call("GET", "/tenants/%s/system_config_mode" % tenant)

    def restrict_system_config(self, client_id, denied_globs):
        """Paths (fnmatch globs, case-sensitive, * also matches /) the IMS client id's tokens may
        neither read nor write, in every tenant; replaces that client's list ([] lifts it).
        Returns every restriction {client_id: globs}."""
        globs = denied_globs if isinstance(denied_globs, str) else list(denied_globs)  # a str: the server says no
        return self._call("POST", "/system_config/restrictions", {"client_id": client_id, "denied_globs": globs})

    def system_config_restrictions(self):
        return self._call("GET", "/system_config/restrictions")

    def system_config_catalog(self):
        """[{path, scopes, default, sensitive}] sorted by path: every path the emulator knows."""
        return self._call("GET", "/system_config/catalog")

    # ---- extensibility (webhooks, event subscriptions, providers, eventing config) --------------

    def set_extensibility(self, tenant, webhooks=None, subscriptions=None, providers=None, default_provider=None):
        """Seed a tenant's extensibility state; each part given replaces what was stored (None:
        left as it is).  Items in the API's input shapes: webhooks as ``webhooks/subscribe``'s
        ``webhook`` (validated and normalised as a subscribe is, but not against the supported
        list), subscriptions as ``eventSubscribe``'s ``event`` plus optional ``enabled`` (True),
        providers as ``eventProvider``'s ``eventProvider`` (optional integer ``id``; assigned when
        absent), default_provider ``{provider_id, instance_id, workspace_configuration, label,
        description}`` (``{}``: no default provider).  Returns extensibility(tenant)."""
        body = {}
        for name, value in (("webhooks", webhooks), ("subscriptions", subscriptions), ("providers", providers),
                            ("default_provider", default_provider)):
            if value is not None:
                body[name] = value
        return self._call("POST", "/tenants/%s/extensibility" % tenant, body)

    def extensibility(self, tenant):
        """What the tenant stores: {"webhooks": [...], "subscriptions": [... with "enabled"],
        "providers": [... the default one first (``default: true``, no ``id``), then the others
        (``default: false``, integer ``id``)], "eventing_config": {...}}; secrets in plain text."""
        return self._call("GET", "/tenants/%s/extensibility" % tenant)

    def set_extensibility_mode(self, tenant, **switches):
        """Set extensibility switches of a tenant (see README, "Extensibility"); a value None
        leaves a switch as it is.  Returns every switch."""
        return self._call("POST", "/tenants/%s/extensibility_mode" % tenant, switches)

    def extensibility_mode(self, tenant):
        return self._call("GET", "/tenants/%s/extensibility_mode" % tenant)

    def set_supported(self, tenant, webhooks=None, events=None):
        """Replace the tenant's supported webhook and/or event names (lists of strings; None:
        unchanged).  Returns {"webhooks": [...], "events": [...]}."""
        body = {}
        for name, value in (("webhooks", webhooks), ("events", events)):
            if value is not None:
                body[name] = value if isinstance(value, str) else list(value)  # a str: the server says no
        return self._call("POST", "/tenants/%s/supported" % tenant, body)

    def supported(self, tenant):
        """{"webhooks": [...], "events": [...]}: the tenant's supported lists."""
        return self._call("GET", "/tenants/%s/supported" % tenant)

    def add_fault(self, match, times=1, status=None, retry_after=None, body=None, json=None, delay=None,
                  drop=False, process=False):
        """Queue a fault for an endpoint key (e.g. 'ims.token', 'ims.token.refresh_token',
        'accs.products', 'accs.<tenant>.storeConfigs') or a regex searched in the path.

        body: 'html' | 'not_json' | 'json' | 'empty' | 'huge'.  Only delay given: delay, then the
        normal answer.  process=True: the real handler runs first (its state changes stick), then
        its answer is replaced by the fault."""
        spec = {"match": match, "times": times}
        for name, value in (("status", status), ("retry_after", retry_after), ("body", body),
                            ("json", json), ("delay", delay)):
            if value is not None:
                spec[name] = value
        if drop:
            spec["drop"] = True
        if process:
            spec["process"] = True
        return self._call("POST", "/faults", spec)

    def faults(self):
        return self._call("GET", "/faults")

    def clear_faults(self):
        return self._call("DELETE", "/faults")

    def counters(self):
        return self._call("GET", "/counters")

    def reset_counters(self):
        return self._call("POST", "/counters/reset")

    def requests(self, key=None, tenant=None):
        params = {}
        if key is not None:
            params["key"] = key
        if tenant is not None:
            params["tenant"] = tenant
        return self._call("GET", "/requests", params=params or None)

    def clear_requests(self):
        return self._call("DELETE", "/requests")

    def add_service_account(self, namespace, name, reviewer=False, audiences=None, token=None, uid=None):
        """A Kubernetes service account whose token the TokenReview endpoint accepts.

        Returns ``{"token", "namespace", "name", "uid", "username"}``: the token is a projected
        service-account JWT minted by the emulated cluster unless ``token`` is given.  ``reviewer``
        binds the account to ``system:auth-delegator`` (it may call TokenReview, as Vault's reviewer)."""
        body = {"namespace": namespace, "name": name, "reviewer": reviewer}
        for key, value in (("audiences", audiences), ("token", token), ("uid", uid)):
            if value is not None:
                body[key] = list(value) if key == "audiences" else value
        return self._call("POST", "/kubernetes/serviceaccounts", body)

    def delete_service_account(self, namespace=None, name=None, token=None):
        """Delete a service account (its tokens stop validating); returns how many tokens it had."""
        body = {"namespace": namespace, "name": name, "token": token}
        return self._call("DELETE", "/kubernetes/serviceaccounts", {k: v for k, v in body.items() if v})["deleted"]

    def token_reviews(self):
        """The TokenReview requests the emulator answered (reviewer, reviewed account, outcome; no token)."""
        return self.requests(key="k8s.tokenreview")

    def secrets(self):
        """Flat list of every secret the emulator issued or was given."""
        return self._call("GET", "/secrets")["all"]

    def secrets_by_kind(self):
        """{'client_secrets', 'codes', 'code_verifiers', 'refresh_tokens', 'access_tokens',
        'id_tokens', 'config_secrets', 'webhook_client_secrets', 'webhook_header_values',
        'workspace_configurations', 'service_account_tokens', 'all'} -> lists.  config_secrets: every value a tenant
        stored at a sensitive configuration path (seeded or PUT); the webhook and workspace kinds:
        every value given to the extensibility endpoints or seeded."""
        return self._call("GET", "/secrets")

    # ---- helpers for tests -------------------------------------------------------------

    def authorize(self, client_id, redirect_uri=None, scope=None, state=None, code_challenge=None,
                  code_challenge_method=None, response_type="code", **extra):
        """Run the (auto-approving) authorize step headlessly; returns the redirect's query
        parameters as a dict of single values (``code`` and ``state``, or ``error`` ...), or raises
        EmulatorError when IMS answers without a redirect."""
        params = {"client_id": client_id, "response_type": response_type}
        for name, value in (("redirect_uri", redirect_uri), ("scope", scope), ("state", state),
                            ("code_challenge", code_challenge),
                            ("code_challenge_method", code_challenge_method)):
            if value is not None:
                params[name] = value
        params.update(extra)
        resp = self._session.get(
            self.authorize_url, params=params, allow_redirects=False, timeout=self.timeout, verify=self.ca_path
        )
        if resp.status_code != 302:
            raise EmulatorError("authorize answered %s: %s" % (resp.status_code, resp.text))
        query = parse_qs(urlsplit(resp.headers["Location"]).query, keep_blank_values=True)
        return {k: v[-1] for k, v in query.items()}


@contextlib.contextmanager
def running_emulator(workdir, verbose=False, extra_args=()):
    """Start ``python -m tests.emulator`` in a subprocess; yield an EmulatorControl; always stop it.

    The state file, CA PEM and the emulator's stderr (emulator.log) go to workdir."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    state_file = workdir / "emulator-state.json"
    if state_file.exists():
        state_file.unlink()
    log_path = workdir / "emulator.log"
    cmd = [sys.executable, "-m", "tests.emulator", "--state-file", str(state_file),
           "--parent-pid", str(os.getpid())]
    if verbose:
        cmd.append("--verbose")
    cmd.extend(extra_args)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    log = open(log_path, "ab")
    proc = subprocess.Popen(cmd, cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        control = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if state_file.exists():
                try:
                    control = EmulatorControl.from_state_file(state_file)
                    break
                except (ValueError, KeyError, OSError):
                    pass
            time.sleep(0.05)
        if control is None:
            log.flush()
            tail = log_path.read_text(errors="replace")[-4000:]
            raise EmulatorError(
                "emulator did not start within %ss (exit code %s):\n%s" % (START_TIMEOUT, proc.poll(), tail)
            )
        yield control
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
