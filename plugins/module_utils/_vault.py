# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vault (KV v2) credential store: one login per process, retried reads, check-and-set writes.

For internal collection use only. Takes _options.VaultOptions.

Each hvac/requests failure maps to its own message naming the path, never a value.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import (
    AccsError,
    ConfigError,
    VaultAccessError,
    VaultConflictError,
    VaultDeletedError,
    VaultError,
    VaultKvVersionError,
    VaultPathError,
    VaultUnavailableError,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._http import (
    SAFE_METHODS,
    VAULT_READ_STATUSES,
    GaveUp,
    RetryPolicy,
    check_url,
    silence_unverified_tls_warnings,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import VAULT_SPEC
from ansible_collections.adobe_commerce.accs.plugins.module_utils._vault_auth import authenticator
from ansible_collections.adobe_commerce.accs.plugins.module_utils import (
    _vault_auth_approle,
    _vault_auth_cert,
    _vault_auth_jwt,
    _vault_auth_kubernetes,
    _vault_auth_token,
    _vault_auth_userpass,
)

try:
    import hvac
    import hvac.exceptions as hvac_exc
    import requests
    HAS_HVAC = True
except ImportError:  # pragma: no cover - reported when used
    hvac = None
    hvac_exc = None
    HAS_HVAC = False

AUTH_METHODS = tuple(VAULT_SPEC["vault_auth_method"]["choices"])
# One file per auth method; each registers its authenticator when imported, and being imported here
# makes AnsiballZ ship them all with every module.
AUTH_METHOD_MODULES = (_vault_auth_token, _vault_auth_approle, _vault_auth_jwt, _vault_auth_kubernetes,
                       _vault_auth_cert, _vault_auth_userpass)

# Said by every plugin that reads Vault with vault_validate_certs false (the modules, the lookup, the inventory).
UNVERIFIED_TLS_WARNING = ("TLS certificate verification of Vault is off (vault_validate_certs: false): turn it back on "
                          "and set vault_ca_cert instead.")

# Authenticated clients per process: the items of a loop (and a lookup templated many
# times) log in once.
_CLIENTS = {}


def validated(options):
    """``options`` (VaultOptions) checked, with the URL and mount normalised; raises ConfigError."""
    if not options.url:
        raise ConfigError("No Vault address: set vault_url or the VAULT_ADDR environment variable.")
    # The Vault token travels with every request: plain http only on loopback.
    url = check_url(options.url, "vault_url")
    if options.auth_method not in AUTH_METHODS:
        raise ConfigError("Option vault_auth_method must be one of %s." % ", ".join(AUTH_METHODS))
    options = dataclasses.replace(options, url=url, mount=options.mount.strip("/"))
    authenticator(options).check()  # the method's own inputs
    return options


def identity(options):
    """A key for the client cache that tells logins apart without holding a secret."""
    material = "\0".join(str(x) for x in authenticator(options).material())
    return (options.url, options.namespace, options.auth_method, options.auth_mount, options.ca_cert,
            options.validate_certs, hashlib.sha256(material.encode("utf-8")).hexdigest())


def read_retry_policy(retries=None):
    """Vault reads are retried as community.hashi_vault does; writes are not (the token manager decides).

    ``retries``: the task's retries option (None: its default).
    """
    return RetryPolicy(retries=retries, statuses=VAULT_READ_STATUSES, methods=SAFE_METHODS)


if HAS_HVAC:
    # _http defines it only where requests is installed (hvac needs requests): imported here, so a
    # target without them gets the "hvac is missing" sentence, not an ImportError
    from ansible_collections.adobe_commerce.accs.plugins.module_utils._http import NoNetrcSession

    class _RetryingSession(NoNetrcSession):
        """hvac's session, with the collection's retry policy around each request it sends."""

        def __init__(self, policy):
            super().__init__()
            self.policy = policy

        def request(self, method, url, *args, **kwargs):
            try:
                # hvac sends writes as POST or PUT: the policy only retries the methods it names.
                return self.policy.send(method, lambda: super(_RetryingSession, self).request(method, url, *args, **kwargs))
            except GaveUp as gave_up:
                raise gave_up.cause from None  # hvac and VaultStore._error map requests' own exceptions


class VaultStore:
    """Reads and writes credential documents in one KV v2 mount."""

    def __init__(self, options, read_policy=None):
        if not HAS_HVAC:
            raise ConfigError(
                "The Python library 'hvac' is missing on the host running this task: install it "
                "(pip install hvac requests) or set ansible_python_interpreter to the controller's Python.")
        self.settings = validated(options)
        self.mount = self.settings.mount
        self.read_policy = read_policy or read_retry_policy()

    def describe(self, path):
        return "'%s/%s' in Vault at %s" % (self.mount, path, self.settings.url)

    def identity(self):
        return identity(self.settings)

    def _client(self):
        # One client per process: Ansible's workers are forks of the main process, where the inventory plugin
        # (or a lookup) may have used Vault; sharing that client's open connections across processes garbles
        # the answers.
        key = (os.getpid(),) + tuple(self.identity())
        client = _CLIENTS.get(key)
        if client is not None:
            return client
        s = self.settings
        verify = s.ca_cert if s.ca_cert else bool(s.validate_certs)
        if verify is False:
            silence_unverified_tls_warnings()
        # hvac takes a given session's verify over its own argument: set it on the session too.
        session = _RetryingSession(self.read_policy)
        session.verify = verify
        client = hvac.Client(url=s.url, namespace=s.namespace or None, verify=verify, timeout=s.timeout,
                             session=session)
        method = authenticator(s)
        try:
            method.login(client)
        except AccsError:  # the method's own sentence (a missing or unreadable input)
            raise
        except Exception as exc:  # mapped below, whatever hvac or requests raised
            raise self._login_error(method, exc)
        _CLIENTS[key] = client
        return client

    def _login_error(self, method, exc):
        s = self.settings
        own = method.login_error(exc, s.url)
        if own is not None:
            return own
        if hvac_exc and isinstance(exc, (hvac_exc.InvalidRequest, hvac_exc.Forbidden, hvac_exc.Unauthorized)):
            return VaultAccessError(method.refused(s.url))
        if hvac_exc and isinstance(exc, hvac_exc.InvalidPath):
            return VaultAccessError(
                "Vault at %s has no %s auth method at mount '%s': enable it or set vault_auth_mount."
                % (s.url, s.auth_method, method.mount))
        return self._error(exc, "log in to", None)

    def _error(self, exc, action, path):
        s = self.settings
        where = self.describe(path) if path else "Vault at %s" % s.url
        if isinstance(exc, VaultError):
            return exc
        if isinstance(exc, requests.exceptions.SSLError):
            return VaultUnavailableError(
                "TLS verification of Vault at %s failed: give its CA with vault_ca_cert (or VAULT_CACERT)." % s.url)
        if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
            return VaultUnavailableError(
                "Cannot reach Vault at %s to %s %s: check vault_url (VAULT_ADDR) and that Vault is running."
                % (s.url, action, "'%s/%s'" % (self.mount, path) if path else "it"))
        if isinstance(exc, hvac_exc.VaultDown):
            return VaultUnavailableError(
                "Vault at %s is sealed or not ready, so it cannot %s %s: unseal it (vault operator unseal) and run again."
                % (s.url, action.split()[0], "'%s/%s'" % (self.mount, path) if path else "anything"))
        if isinstance(exc, (hvac_exc.Forbidden, hvac_exc.Unauthorized)):
            capability = "read" if action == "read" else "create and update"
            return VaultAccessError(
                "Vault denied the %s of %s (permission denied): grant the token's policy '%s' on '%s/data/%s', "
                "or use a token that has it." % (action, where, capability, self.mount, path))
        if isinstance(exc, hvac_exc.InvalidRequest) and "check-and-set" in str(exc):
            return VaultConflictError("Another writer changed %s first (check-and-set)." % where)
        if isinstance(exc, (hvac_exc.InternalServerError, hvac_exc.BadGateway, hvac_exc.UnexpectedError,
                            hvac_exc.RateLimitExceeded)):
            return VaultUnavailableError(
                "Vault at %s failed to %s %s (%s): check Vault's health and run again."
                % (s.url, action, where, type(exc).__name__))
        if isinstance(exc, hvac_exc.VaultError):
            return VaultError("Vault refused the %s of %s (%s): check vault_mount, vault_path and the document."
                              % (action, where, type(exc).__name__))
        return VaultError("The %s of %s failed (%s): check the Vault options." % (action, where, type(exc).__name__))

    def _kv_version(self, client, path):
        """'1', '2' or None, from the mount's own description (only asked on a failed read)."""
        try:
            info = client.adapter.get("/v1/sys/internal/ui/mounts/%s/%s" % (self.mount, path))
        except Exception:
            return None
        data = info.get("data", {}) if isinstance(info, dict) else {}
        options = data.get("options") or {}
        if data.get("type") not in ("kv", "generic"):
            return None
        return str(options.get("version", "1"))

    def _deleted(self, path, version):
        return VaultDeletedError(
            "The credential at %s is deleted (version %s): undelete it (vault kv undelete -versions=%s) or store a "
            "new one." % (self.describe(path), version, version), version=version)

    def read(self, path):
        """(document, version) of the latest version; raises VaultPathError when missing.

        A deleted (or destroyed) current version is recognised from the data path's own answer, so a
        policy that grants read on data/ only is enough, and no metadata read is refused and audited.
        """
        path = normalize_path(path)
        client = self._client()
        try:
            answer = client.secrets.kv.v2.read_secret_version(
                path=path, mount_point=self.mount, raise_on_deleted_version=False)
        except hvac_exc.InvalidPath as exc:
            if self._kv_version(client, path) == "1":
                raise VaultKvVersionError(
                    "Mount '%s' in Vault at %s is a KV version 1 engine: the credential store needs KV version 2 "
                    "(enable kv-v2 there, or point vault_mount at a KV v2 mount)." % (self.mount, self.settings.url))
            # a destroyed version answers 404 with its metadata (hvac returns only deleted ones)
            metadata = (((getattr(exc, "json", None) or {}).get("data") or {}).get("metadata") or {})
            if metadata.get("version") and (metadata.get("destroyed") or metadata.get("deletion_time")):
                raise self._deleted(path, int(metadata["version"]))
            raise VaultPathError(
                "No credential at %s: store the document there (see the collection guide), or fix vault_path and "
                "vault_mount." % self.describe(path))
        except Exception as exc:
            raise self._error(exc, "read", path)
        data = (answer or {}).get("data") or {}
        document = data.get("data")
        version = int((data.get("metadata") or {}).get("version") or 0)
        if document is None:
            raise self._deleted(path, version)
        return document, version

    def write(self, path, document, cas):
        """Write the whole document only if the current version is still ``cas`` (0: must not exist)."""
        path = normalize_path(path)
        client = self._client()
        try:
            answer = client.secrets.kv.v2.create_or_update_secret(path=path, secret=document, cas=cas,
                                                                  mount_point=self.mount)
        except Exception as exc:
            raise self._error(exc, "write", path)
        return int(((answer or {}).get("data") or {}).get("version") or 0)

    # ------------------------------------------------------------------ listing (inventory plugin)
    def list_documents(self, path, page_size=500):
        """Paths (below the mount) of every document under the folder ``path``, recursively.

        One metadata LIST per page of each folder: OpenBao pages with ``limit``/``after``; a server
        that ignores them (HashiCorp Vault) answers the whole folder at once, which is then the only page.
        Raises VaultPathError when the folder holds nothing (or the mount is KV version 1).
        """
        folder = normalize_path(path)
        client = self._client()
        found = []
        pending = [folder]
        while pending:
            current = pending.pop()
            keys = self._list_folder(client, current, page_size, top=(current == folder))
            for key in keys:
                child = "%s/%s" % (current, key.rstrip("/"))
                if key.endswith("/"):
                    pending.append(child)
                else:
                    found.append(child)
        return sorted(found)

    def _list_folder(self, client, folder, page_size, top):
        keys = []
        after = None
        while True:
            params = {"limit": int(page_size)}
            if after is not None:
                params["after"] = after
            try:
                answer = client.adapter.request("LIST", "/v1/%s/metadata/%s" % (self.mount, folder), params=params)
            except hvac_exc.InvalidPath:
                answer = None
            except (hvac_exc.Forbidden, hvac_exc.Unauthorized):
                raise VaultAccessError(
                    "Vault at %s denied listing '%s/metadata/%s/' (permission denied): grant the token's policy "
                    "'list' on '%s/metadata/%s/*' (see the inventory section of the collection guide)."
                    % (self.settings.url, self.mount, folder, self.mount, folder))
            except Exception as exc:
                raise self._error(exc, "list", folder)
            page = (((answer or {}).get("data") or {}).get("keys") or []) if isinstance(answer, dict) else []
            if not page and not keys:
                if top and self._kv_version(client, folder) == "1":
                    raise VaultKvVersionError(
                        "Mount '%s' in Vault at %s is a KV version 1 engine: the credential store needs KV version 2 "
                        "(enable kv-v2 there, or point vault_mount at a KV v2 mount)." % (self.mount, self.settings.url))
                if top:
                    raise VaultPathError(
                        "No credential documents under '%s/%s/' in Vault at %s: store them there, or fix path and "
                        "vault_mount." % (self.mount, folder, self.settings.url))
                return []
            if after is not None and page and page[0] <= after:
                break  # the server ignored `after`: it already gave everything
            keys.extend(page)
            if len(page) != int(page_size):
                break  # a short page is the last; a longer one means the server ignored `limit`
            after = page[-1]
        return keys


def normalize_path(path):
    if not isinstance(path, str) or not path.strip().strip("/"):
        raise ConfigError("Option vault_path is empty: give the credential's path inside the mount, like accs/prod.")
    return path.strip().strip("/")
