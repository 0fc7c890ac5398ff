# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vault (KV v2) credential store: one login per process, reads, check-and-set writes.

Each hvac/requests failure maps to its own message naming the path, never a value.
"""

from __future__ import annotations

import hashlib
import os

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import (
    ConfigError,
    VaultAccessError,
    VaultConflictError,
    VaultError,
    VaultPathError,
    VaultUnavailableError,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._http import (
    check_url,
    silence_unverified_tls_warnings,
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

AUTH_METHODS = ("token", "approle", "jwt")
DEFAULT_AUTH_MOUNTS = {"approle": "approle", "jwt": "jwt"}

# Authenticated clients per process: the items of a loop (and a lookup templated many
# times) log in once.
_CLIENTS = {}


class VaultSettings:
    """Connection and auth options, shared by the modules, action plugins and the lookup."""

    FIELDS = ("vault_url", "vault_token", "vault_auth_method", "vault_role_id", "vault_secret_id", "vault_role",
              "vault_jwt", "vault_auth_mount", "vault_namespace", "vault_mount", "vault_ca_cert",
              "vault_validate_certs", "vault_timeout")

    def __init__(self, **values):
        for field in self.FIELDS:
            setattr(self, field[6:], values.get(field))
        self.auth_method = self.auth_method or "token"
        self.mount = (self.mount or "secret").strip("/")
        if self.validate_certs is None:
            self.validate_certs = True
        self.timeout = self.timeout or 30

    @classmethod
    def from_options(cls, get):
        """``get(name)`` is ``module.params.get`` or a lookup's ``get_option``."""
        return cls(**{field: get(field) for field in cls.FIELDS})

    def validate(self):
        if not self.url:
            raise ConfigError("No Vault address: set vault_url or the VAULT_ADDR environment variable.")
        # The Vault token travels with every request: plain http only on loopback.
        self.url = check_url(self.url, "vault_url")
        if self.auth_method not in AUTH_METHODS:
            raise ConfigError("Option vault_auth_method must be one of %s." % ", ".join(AUTH_METHODS))
        if self.auth_method == "approle" and not (self.role_id and self.secret_id):
            raise ConfigError("vault_auth_method approle needs vault_role_id and vault_secret_id: set both (or VAULT_ROLE_ID and VAULT_SECRET_ID).")
        if self.auth_method == "jwt" and not (self.role and self.jwt):
            raise ConfigError("vault_auth_method jwt needs vault_role and vault_jwt (the pipeline's OIDC token): set both.")

    def identity(self):
        """A key for the client cache that tells logins apart without holding a secret."""
        material = "\0".join(str(x) for x in (self.token, self.role_id, self.secret_id, self.role, self.jwt))
        return (self.url, self.namespace, self.auth_method, self.auth_mount, self.ca_cert, self.validate_certs,
                hashlib.sha256(material.encode("utf-8")).hexdigest())


def _default_token():
    path = os.path.expanduser("~/.vault-token")
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


class VaultStore:
    """Reads and writes credential documents in one KV v2 mount."""

    def __init__(self, settings):
        if not HAS_HVAC:
            raise ConfigError(
                "The Python library 'hvac' is missing on the host running this task: install it "
                "(pip install hvac requests) or set ansible_python_interpreter to the controller's Python.")
        settings.validate()
        self.settings = settings
        self.mount = settings.mount
        self.reads = 0
        self.writes = 0
        self.logins = 0
        self.lists = 0

    def describe(self, path):
        return "'%s/%s' in Vault at %s" % (self.mount, path, self.settings.url)

    def _client(self):
        # One client per process: Ansible's workers are forks of the main process, where the inventory plugin
        # (or a lookup) may have used Vault; sharing that client's open connections across processes garbles
        # the answers.
        key = (os.getpid(),) + tuple(self.settings.identity())
        client = _CLIENTS.get(key)
        if client is not None:
            return client
        s = self.settings
        verify = s.ca_cert if s.ca_cert else bool(s.validate_certs)
        if verify is False:
            silence_unverified_tls_warnings()
        client = hvac.Client(url=s.url, namespace=s.namespace or None, verify=verify, timeout=s.timeout)
        try:
            if s.auth_method == "token":
                token = s.token or _default_token()
                if not token:
                    raise ConfigError("No Vault token: set vault_token or VAULT_TOKEN, or use vault_auth_method approle or jwt.")
                client.token = token
            elif s.auth_method == "approle":
                self.logins += 1
                client.auth.approle.login(role_id=s.role_id, secret_id=s.secret_id,
                                          mount_point=s.auth_mount or DEFAULT_AUTH_MOUNTS["approle"])
            else:
                self.logins += 1
                client.auth.jwt.jwt_login(role=s.role, jwt=s.jwt, path=s.auth_mount or DEFAULT_AUTH_MOUNTS["jwt"])
        except VaultError:
            raise
        except Exception as exc:  # mapped below, whatever hvac or requests raised
            raise self._login_error(exc)
        _CLIENTS[key] = client
        return client

    def _login_error(self, exc):
        s = self.settings
        mount = s.auth_mount or DEFAULT_AUTH_MOUNTS.get(s.auth_method, "")
        if hvac_exc and isinstance(exc, (hvac_exc.InvalidRequest, hvac_exc.Forbidden, hvac_exc.Unauthorized)):
            return VaultAccessError(
                "Vault at %s refused the %s login at auth mount '%s': check the role and its credentials "
                "(vault_role_id/vault_secret_id, or vault_role/vault_jwt) and the mount (vault_auth_mount)."
                % (s.url, s.auth_method, mount))
        if hvac_exc and isinstance(exc, hvac_exc.InvalidPath):
            return VaultAccessError(
                "Vault at %s has no %s auth method at mount '%s': enable it or set vault_auth_mount."
                % (s.url, s.auth_method, mount))
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

    def _deleted_version(self, client, path):
        """The current version's number when it is deleted or destroyed (only asked on a failed read)."""
        try:
            meta = client.secrets.kv.v2.read_secret_metadata(path=path, mount_point=self.mount)
        except Exception:
            return None
        data = (meta or {}).get("data") or {}
        current = data.get("current_version")
        version = (data.get("versions") or {}).get(str(current)) or {}
        if current and (version.get("deletion_time") or version.get("destroyed")):
            return current
        return None

    def read(self, path):
        """(document, version) of the latest version; raises VaultPathError when missing."""
        path = normalize_path(path)
        client = self._client()
        try:
            self.reads += 1
            answer = client.secrets.kv.v2.read_secret_version(
                path=path, mount_point=self.mount, raise_on_deleted_version=True)
        except hvac_exc.InvalidPath:
            if self._kv_version(client, path) == "1":
                raise VaultPathError(
                    "Mount '%s' in Vault at %s is a KV version 1 engine: the credential store needs KV version 2 "
                    "(enable kv-v2 there, or point vault_mount at a KV v2 mount)." % (self.mount, self.settings.url))
            deleted = self._deleted_version(client, path)
            if deleted:
                raise VaultPathError(
                    "The credential at %s is deleted (version %s): undelete it (vault kv undelete -versions=%s) or "
                    "store a new one." % (self.describe(path), deleted, deleted))
            raise VaultPathError(
                "No credential at %s: store the document there (see the collection guide), or fix vault_path and "
                "vault_mount." % self.describe(path))
        except Exception as exc:
            raise self._error(exc, "read", path)
        data = (answer or {}).get("data") or {}
        document = data.get("data")
        version = (data.get("metadata") or {}).get("version")
        if document is None:
            raise VaultPathError("The credential at %s is deleted: restore it or store a new one." % self.describe(path))
        return document, int(version or 0)

    def write(self, path, document, cas):
        """Write the whole document only if the current version is still ``cas`` (0: must not exist)."""
        path = normalize_path(path)
        client = self._client()
        try:
            self.writes += 1
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
                self.lists += 1
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
                    raise VaultPathError(
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
