# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turns a credential (in Vault, or given as options) into a valid access token.

Decisions, in order: reuse the cached token while it stays valid for ``min_ttl`` more seconds;
otherwise ask IMS once and write the new access token and the rotated refresh token back with
check-and-set on the version read. Refresh tokens are single-use, so when several runs refresh
one credential at once the losers adopt the winner's token instead of failing, and a rotated
refresh token that cannot be written to Vault is kept in a 0600 recovery file, never dropped.

For internal collection use only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time

from ansible_collections.adobe_commerce.accs.plugins.module_utils._credential import (
    Credential,
    format_time,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import (
    AccsError,
    ConfigError,
    InvalidGrantError,
    VaultConflictError,
    VaultAccessError,
    VaultDeletedError,
    VaultError,
    VaultKvVersionError,
    VaultPathError,
    VaultUnavailableError,
    VaultWriteError,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._files import atomic_write
from ansible_collections.adobe_commerce.accs.plugins.module_utils._http import RetryPolicy, debug_ref
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import IMS_SPEC, option_default

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: refreshes go on unlocked, check-and-set still guards Vault
    fcntl = None

DEFAULT_RECOVERY_DIR = "~/.ansible/adobe_commerce_accs/recovery"
DEFAULT_LOCK_DIR = "~/.ansible/adobe_commerce_accs/locks"
LOCK_WAIT = 60.0         # how long a run waits for another run on this host refreshing the same credential
ROTATION_WAIT = 5.0      # how long a loser waits to see the winner's write after invalid_grant
WRITE_ATTEMPTS = 3       # Vault write attempts when Vault is unavailable
MAX_ROUNDS = 6           # IMS/Vault rounds before giving up under heavy contention


def write_retry_policy(sleep):
    """CAS writes may always be re-sent (a repeated write loses the check-and-set): 0.5 s, then 1 s."""
    return RetryPolicy(retries=WRITE_ATTEMPTS - 1, backoff=0.5, jitter=False, sleep=sleep)


def rotation_poll_policy(sleep):
    """How often a loser re-reads the document for the winner's rotation: 0.05 s, doubling up to 0.5 s."""
    return RetryPolicy(backoff=0.05, backoff_cap=0.5, jitter=False, sleep=sleep)


# Documents read or written by this process, so a task's loop items read Vault once.
_DOCUMENTS = {}


class TokenRequest:
    """What the caller asked for: options of ims_token or accs_rest."""

    def __init__(self, grant_type=None, client_id=None, client_secret=None, scopes=None, refresh_token=None,
                 code=None, code_verifier=None, redirect_uri=None, vault_path=None, min_ttl=None,
                 force_refresh=False, refresh_token_max_age=None):
        self.grant_type = grant_type
        self.client_id = client_id
        self.client_secret = client_secret
        self.scopes = scopes
        self.refresh_token = refresh_token
        self.code = code
        self.code_verifier = code_verifier
        self.redirect_uri = redirect_uri
        self.vault_path = vault_path
        self.min_ttl = option_default(IMS_SPEC, "min_ttl") if min_ttl is None else min_ttl
        self.force_refresh = bool(force_refresh)
        self.refresh_token_max_age = refresh_token_max_age

    @classmethod
    def from_options(cls, options):
        """The request of an operation's options (ImsTokenOptions or AccsRestOptions)."""
        token = getattr(options, "token", None)
        ims = options.ims
        return cls(
            grant_type=token and token.grant_type, client_id=ims.client_id, client_secret=ims.client_secret,
            scopes=ims.scopes, refresh_token=token and token.refresh_token, code=token and token.code,
            code_verifier=token and token.code_verifier, redirect_uri=token and token.redirect_uri,
            vault_path=options.vault.path, min_ttl=ims.min_ttl, force_refresh=ims.force_refresh,
            refresh_token_max_age=token and token.refresh_token_max_age)

    def overrides(self):
        return {"client_id": self.client_id, "client_secret": self.client_secret, "scopes": self.scopes,
                "refresh_token": self.refresh_token, "grant_type": self.grant_type}


class TokenResult:
    def __init__(self, access_token, token_type, expires_at, refreshed, changed, credential=None,
                 refresh_token=None, source="cache"):
        self.access_token = access_token
        self.token_type = token_type or "bearer"
        self.expires_at = expires_at
        self.refreshed = refreshed
        self.changed = changed
        self.credential = credential
        self.refresh_token = refresh_token
        self.source = source

    def expires_in(self, now=None):
        if self.expires_at is None:
            return None
        return max(0, int(self.expires_at - (time.time() if now is None else now)))


def _fingerprint(value):
    return hashlib.sha256((value or "").encode("utf-8")).hexdigest()


class _HostLock:
    """Serialises the refreshes of one credential among the runs on one host (forks, parallel jobs).

    IMS servers may treat a second use of a rotated-out refresh token as theft and revoke the whole
    token family, the winner's new token included (reuse protection, RFC 9700 4.14.2), so concurrent
    runs must not all send the same refresh token. An exclusive flock on a small file; the file holds
    the document version its last holder wrote (no secret), so the next holder knows whether the
    document it read is stale. Without fcntl, when the file cannot be opened, or after ``wait``
    seconds, the run goes on unlocked: check-and-set still keeps Vault consistent.
    """

    def __init__(self, path, wait=LOCK_WAIT):
        self.path = path
        self.wait = wait
        self.fd = None

    def acquire(self):
        if fcntl is None:
            return False
        try:
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return False
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.fd = fd
                return True
            except OSError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.05)

    def written_version(self):
        try:
            text = os.pread(self.fd, 64, 0).decode("ascii").strip()
            return int(text) if text else None
        except (OSError, ValueError):
            return None

    def record(self, version):
        if self.fd is not None and isinstance(version, int):
            try:
                os.ftruncate(self.fd, 0)
                os.pwrite(self.fd, str(version).encode("ascii"), 0)
            except OSError:
                pass

    def release(self):
        fd, self.fd = self.fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


class TokenManager:
    def __init__(self, ims, store=None, check_mode=False, recovery_dir=None, clock=time.time, sleep=time.sleep,
                 rotation_wait=ROTATION_WAIT, warnings=None, lock_dir=None):
        self.ims = ims
        self.warnings = [] if warnings is None else warnings
        self.store = store
        self.check_mode = check_mode
        self.recovery_dir = os.path.expanduser(recovery_dir or DEFAULT_RECOVERY_DIR)
        self.lock_dir = os.path.expanduser(lock_dir or DEFAULT_LOCK_DIR)
        self.clock = clock
        self.sleep = sleep
        self.rotation_wait = rotation_wait
        self.write_policy = write_retry_policy(sleep)
        self.poll_policy = rotation_poll_policy(sleep)

    # -- entry point -----------------------------------------------------------------------------

    def token(self, request, rejected=None):
        """A TokenResult; ``rejected`` is an access token ACCS just refused (forces a renewal)."""
        if request.vault_path:
            if self.store is None:
                raise ConfigError("vault_path is set but no Vault connection is configured: set vault_url (VAULT_ADDR).")
            return self._from_vault(request, rejected)
        return self._from_options(request)

    # -- without Vault ---------------------------------------------------------------------------

    def _from_options(self, request):
        grant = request.grant_type
        cred = Credential.from_document({}, "given as options", request.overrides(),
                                        require_grant=grant != "authorization_code", infer_client_credentials=True)
        grant = grant or cred.grant_type
        if self.check_mode:
            return TokenResult(None, None, None, refreshed=False, changed=True, credential=cred, source="check_mode")
        now = self.clock()
        issued = self._ask_ims(grant, cred, request)
        return TokenResult(issued.access_token, issued.token_type, now + issued.expires_in, refreshed=True,
                           changed=True, credential=cred, refresh_token=issued.refresh_token, source="ims")

    # -- with Vault ------------------------------------------------------------------------------

    def _key(self, path):
        return (self.store.identity(), self.store.mount, path.strip("/"))

    def _read(self, path, fresh=False):
        key = self._key(path)
        if not fresh and key in _DOCUMENTS:
            return _DOCUMENTS[key]
        document, version = self.store.read(path)
        _DOCUMENTS[key] = (document, version)
        return document, version

    def _read_or_empty(self, path):
        try:
            return self._read(path, fresh=True)
        except VaultDeletedError as err:
            # written over with check-and-set on the deleted version's number
            return {}, err.version or 0
        except VaultKvVersionError:
            raise
        except VaultPathError:
            return {}, 0

    def _where(self, path):
        return self.store.describe(path.strip("/"))

    def _usable(self, cred, request, rejected, honour_force=True):
        now = self.clock()
        if honour_force and request.force_refresh:
            return False
        ttl = cred.cached_ttl(now)
        if ttl is None or ttl <= 0 or ttl < request.min_ttl:
            return False
        if rejected is not None and cred.access_token == rejected:
            return False
        if honour_force and request.refresh_token_max_age is not None and cred.grant_type == "refresh_token":
            issued = cred.refresh_token_issued_at
            if issued is None or now - issued >= request.refresh_token_max_age:
                return False
        return True

    def _cached(self, cred, source="cache"):
        return TokenResult(cred.access_token, "bearer", cred.access_token_expires_at, refreshed=False, changed=False,
                           credential=cred, source=source)

    def _from_vault(self, request, rejected):
        path = request.vault_path.strip().strip("/")
        where = self._where(path)
        if request.grant_type == "authorization_code":
            return self._exchange_code(path, where, request)
        try:
            document, version = self._read(path, fresh=rejected is not None)
        except VaultDeletedError as err:
            # A refresh token an earlier run could not store outlives the document's deletion: the
            # recovery file's client fields and token restore the document, written over the deleted version.
            record = self._recovery_record(path, None)
            document = _client_fields((record or {}).get("document"))
            if record is None or self.check_mode or not (document.get("client_id") or request.client_id):
                raise
            cred = Credential.from_document(dict(document, refresh_token=record["refresh_token"]), where,
                                            request.overrides())
            return self._renew(path, where, document, err.version or 0, cred, request, rejected)
        # A rotated refresh token that an earlier run could not store replaces the dead one in Vault.
        recovered = self._load_recovery(path, document.get("refresh_token"))
        if recovered and not self.check_mode:
            cred = Credential.from_document(dict(document, refresh_token=recovered), where, request.overrides())
            return self._renew_locked(path, where, document, version, cred, request, rejected, recovered=True)
        cred = Credential.from_document(document, where, request.overrides())
        if self._usable(cred, request, rejected):
            return self._cached(cred)
        if self.check_mode:
            return TokenResult(None, None, None, refreshed=False, changed=True, credential=cred, source="check_mode")
        return self._renew_locked(path, where, document, version, cred, request, rejected)

    def lock_file(self, path):
        key = json.dumps([self.store.settings.url, self.store.mount, path.strip("/")])
        return os.path.join(self.lock_dir, hashlib.sha256(key.encode("utf-8")).hexdigest() + ".lock")

    def _renew_locked(self, path, where, document, version, cred, request, rejected, recovered=False):
        """``_renew`` holding this host's lock of the credential (see _HostLock)."""
        lock = _HostLock(self.lock_file(path))
        held = lock.acquire()
        try:
            written = lock.written_version() if held else None
            if written is not None and written > version and not recovered:
                # Another run on this host may have stored a newer document while this one waited.
                fresh, fresh_version = self._read(path, fresh=True)
                if fresh_version != version:
                    document, version = fresh, fresh_version
                    cred = Credential.from_document(document, where, request.overrides())
                    if self._usable(cred, request, rejected, honour_force=False):
                        return self._cached(cred, source="concurrent_refresh")
            result = self._renew(path, where, document, version, cred, request, rejected)
            if held:
                lock.record(_DOCUMENTS.get(self._key(path), (None, None))[1])
            return result
        finally:
            lock.release()

    def _exchange_code(self, path, where, request):
        if not request.code:
            raise ConfigError("grant_type authorization_code needs the code option: pass the code from the redirect.")
        document, version = self._read_or_empty(path)
        # The code was issued to the client given: that client (and its secret) is stored with the
        # new refresh token, whatever the document held, or later refreshes would fail.
        base = dict(document)
        dropped = ()
        stored_id = document.get("client_id")
        if request.client_id and stored_id and stored_id != request.client_id:
            # the stored secrets belong to the replaced client: neither sent with the new one nor kept
            dropped = tuple(key for key in ("client_secret", "client_secrets") if key in base)
            for key in dropped:
                del base[key]
            gone = ""
            if dropped:
                gone = "; the %s stored for that client %s %s" % (
                    " and ".join(dropped), "was" if len(dropped) == 1 else "were",
                    "replaced by the client_secret given" if request.client_secret else "removed")
            self.warnings.append(
                "The bootstrap stored the client_id it was given in %s, replacing a different stored client_id%s."
                % (where, gone))
        cred = Credential.from_document(base, where, request.overrides(), require_grant=False)
        if self.check_mode:
            return TokenResult(None, None, None, refreshed=False, changed=True, credential=cred, source="check_mode")
        now = self.clock()
        issued = self._ask_ims("authorization_code", cred, request)
        base["client_id"] = cred.client_id
        if request.client_secret:
            stored_secret = base.get("client_secret")
            if stored_secret and stored_secret != request.client_secret and not dropped:
                self.warnings.append(
                    "The bootstrap stored the client_secret it was given in %s, replacing a different stored "
                    "client_secret." % where)
            base["client_secret"] = request.client_secret
        if cred.scopes and not document.get("scopes"):
            base["scopes"] = ",".join(cred.scopes)
        if issued.refresh_token:
            base["grant_type"] = "refresh_token"
        # A code exchange starts a new chain: it wins over whatever concurrent writes happened.
        for _round in range(MAX_ROUNDS):
            new_doc = self._merged(base, issued, now)
            try:
                self._write(path, new_doc, version, issued, replaced=document.get("refresh_token"))
                break
            except VaultConflictError:
                document, version = self._read_or_empty(path)
                base.update({k: v for k, v in document.items() if k not in base and k not in dropped})
        else:
            if not issued.refresh_token:
                self._not_cached(path)
                return TokenResult(issued.access_token, issued.token_type, now + issued.expires_in, refreshed=True,
                                   changed=True, credential=cred, source="ims")
            self._save_recovery(path, issued, replaced=document.get("refresh_token"),
                                reason=VaultConflictError("concurrent writers kept changing it"), document=new_doc)
        cred = Credential.from_document(new_doc, where, require_grant=False)
        return TokenResult(issued.access_token, issued.token_type, now + issued.expires_in, refreshed=True,
                           changed=True, credential=cred, source="ims")

    def _renew(self, path, where, document, version, cred, request, rejected):
        for _round in range(MAX_ROUNDS):
            now = self.clock()
            try:
                issued = self._ask_ims(cred.grant_type, cred, request)
            except InvalidGrantError as err:
                if cred.grant_type != "refresh_token":
                    raise
                newer = self._wait_for_rotation(path, version, cred.refresh_token)
                if newer is None:
                    raise InvalidGrantError(
                        "IMS refused the refresh token stored at %s (%s): it expired (refresh tokens last about 14 days), "
                        "was revoked, or was used by a tool that did not store the rotated one; run "
                        "playbooks/bootstrap_refresh_token.yml to store a new one."
                        % (where, _reason(err)), error=err.error, status=err.status, debug_id=err.debug_id,
                        description=err.description)
                document, version = newer
                cred = Credential.from_document(document, where, request.overrides())
                if self._usable(cred, request, rejected, honour_force=False):
                    return self._cached(cred, source="concurrent_refresh")
                continue
            new_doc = self._merged(document, issued, now)
            try:
                self._write(path, new_doc, version, issued, replaced=document.get("refresh_token"))
            except VaultConflictError:
                current, current_version = self._read(path, fresh=True)
                current_cred = Credential.from_document(current, where, request.overrides())
                if cred.grant_type == "refresh_token" and current.get("refresh_token") != document.get("refresh_token"):
                    # Someone else stored another refresh token meanwhile: theirs stays the document's.
                    if self._usable(current_cred, request, rejected, honour_force=False):
                        return self._cached(current_cred, source="concurrent_refresh")
                    return TokenResult(issued.access_token, issued.token_type, now + issued.expires_in,
                                       refreshed=True, changed=False, credential=current_cred, source="ims")
                document, version = current, current_version
                try:
                    new_doc = self._merged(document, issued, now)
                    self._write(path, new_doc, version, issued, replaced=document.get("refresh_token"))
                except VaultConflictError:
                    if not issued.refresh_token:
                        # nothing to recover (client_credentials): the token is valid, only not cached
                        self._not_cached(path)
                        return TokenResult(issued.access_token, issued.token_type, now + issued.expires_in,
                                           refreshed=True, changed=True, credential=cred, source="ims")
                    self._save_recovery(path, issued, document.get("refresh_token"),
                                        VaultConflictError("concurrent writers kept changing it"), new_doc)
            self._drop_recovery(path)
            cred = Credential.from_document(new_doc, where, request.overrides())
            return TokenResult(issued.access_token, issued.token_type, now + issued.expires_in, refreshed=True,
                               changed=True, credential=cred, source="ims")
        raise AccsError("Could not renew the token of %s: other runs kept rotating it at the same time; run again."
                        % where)

    def _wait_for_rotation(self, path, version, used_refresh_token):
        """The winner's (document, version) once it stored a new refresh token, or None."""
        deadline = self.clock() + self.rotation_wait
        attempt = 0
        while True:
            document, current = self._read(path, fresh=True)
            token = document.get("refresh_token")
            if current != version and token and token != used_refresh_token:
                return document, current
            if self.clock() >= deadline:
                return None
            self.poll_policy.sleep(self.poll_policy.delay(attempt))
            attempt += 1

    def _merged(self, document, issued, now):
        new_doc = dict(document)
        new_doc["access_token"] = issued.access_token
        new_doc["access_token_expires_at"] = format_time(now + issued.expires_in)
        if issued.refresh_token:
            new_doc["refresh_token"] = issued.refresh_token
            new_doc["refresh_token_issued_at"] = format_time(now)
        return new_doc

    def _write(self, path, document, version, issued, replaced=None):
        """CAS write with retries while Vault is unavailable; the rotated token is never dropped.

        ``replaced`` is the refresh token Vault holds now: a recovery file names it, so the next run
        knows the file is newer than Vault (the token used may itself have come from such a file).
        """
        policy = self.write_policy
        attempt = 0
        while True:
            try:
                new_version = self.store.write(path, document, cas=version)
            except VaultConflictError:
                raise
            except VaultUnavailableError as err:
                if attempt < policy.retries:
                    policy.sleep(policy.delay(attempt))
                    attempt += 1
                    continue
                self._fail_write(path, issued, replaced, err, document)
            except VaultError as err:
                self._fail_write(path, issued, replaced, err, document)
            _DOCUMENTS[self._key(path)] = (document, new_version)
            return new_version

    def _fail_write(self, path, issued, replaced, err, document=None):
        if issued.refresh_token:
            self._save_recovery(path, issued, replaced, err, document)
        raise VaultWriteError(
            "IMS issued a new access token for %s but storing it failed: %s" % (self._where(path), _lower_first(err.message)))

    def _not_cached(self, path):
        self.warnings.append(
            "IMS issued a new access token for %s but it was not cached there, as concurrent writers kept changing "
            "the document: the next run asks IMS for another one." % self._where(path))

    # -- recovery file -----------------------------------------------------------------------------

    def recovery_file(self, path):
        """One file per Vault, mount and path: named by their sha256, which no two credentials share."""
        identity = "\0".join((self.store.settings.url, self.store.mount, path.strip("/")))
        return os.path.join(self.recovery_dir, hashlib.sha256(identity.encode("utf-8")).hexdigest() + ".json")

    def _legacy_recovery_file(self, path):
        """The name earlier releases gave the file: lossy, so only used when the record inside names this path."""
        settings = self.store.settings
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", "%s_%s_%s" % (settings.url, self.store.mount, path)).strip("_")
        return os.path.join(self.recovery_dir, name[:180] + ".json")

    def _names_this(self, record, path):
        return (record.get("vault_url"), record.get("vault_mount"), record.get("vault_path")) == (
            self.store.settings.url, self.store.mount, path.strip("/"))

    def _save_recovery(self, path, issued, replaced, reason, document=None):
        target = self.recovery_file(path)
        record = {
            "vault_url": self.store.settings.url,
            "vault_mount": self.store.mount,
            "vault_path": path,
            "refresh_token": issued.refresh_token,
            "replaces_sha256": _fingerprint(replaced),
            "saved_at": format_time(self.clock()),
            # the client the token belongs to, to restore a document deleted meanwhile
            "document": _client_fields(document),
        }
        try:
            os.makedirs(self.recovery_dir, mode=0o700, exist_ok=True)
            atomic_write(target, json.dumps(record), mode=0o600)
        except OSError as exc:
            raise VaultWriteError(
                "IMS issued a new refresh token for %s, storing it in Vault failed (%s) and so did saving it to %s "
                "(%s): the credential must be bootstrapped again with playbooks/bootstrap_refresh_token.yml."
                % (self._where(path), _short(reason), target, exc.strerror or type(exc).__name__))
        raise VaultWriteError(
            "IMS issued a new refresh token for %s but storing it failed (%s); it is saved in %s (mode 0600), and the "
            "next run stores it in Vault by itself once Vault accepts writes again."
            % (self._where(path), _short(reason), target),
            recovery_file=target)

    def _recovery_record(self, path, stored_refresh_token):
        """The recovery file's record when it replaces the refresh token Vault still holds (None: none stored)."""
        for target in (self.recovery_file(path), self._legacy_recovery_file(path)):
            try:
                with open(target, encoding="utf-8") as stream:
                    record = json.load(stream)
            except (OSError, ValueError):
                continue
            if not isinstance(record, dict) or not self._names_this(record, path):
                continue
            if record.get("replaces_sha256") != _fingerprint(stored_refresh_token):
                continue
            token = record.get("refresh_token")
            if isinstance(token, str) and token:
                return record
        return None

    def _load_recovery(self, path, stored_refresh_token):
        """The refresh token of a recovery file that replaces the one Vault still holds, if any."""
        record = self._recovery_record(path, stored_refresh_token)
        return record["refresh_token"] if record else None

    def _drop_recovery(self, path):
        try:
            os.unlink(self.recovery_file(path))
        except OSError:
            pass
        legacy = self._legacy_recovery_file(path)
        try:
            with open(legacy, encoding="utf-8") as stream:
                record = json.load(stream)
        except (OSError, ValueError):
            return
        if isinstance(record, dict) and self._names_this(record, path):
            try:
                os.unlink(legacy)
            except OSError:
                pass

    # -- IMS -------------------------------------------------------------------------------------

    def _ask_ims(self, grant, cred, request):
        if grant == "authorization_code":
            return self.ims.authorization_code(cred.client_id, cred.client_secrets, request.code,
                                               request.code_verifier, request.redirect_uri)
        if grant == "refresh_token":
            return self.ims.refresh(cred.client_id, cred.client_secrets, cred.refresh_token)
        if grant == "client_credentials":
            return self.ims.client_credentials(cred.client_id, cred.client_secrets, cred.scopes)
        raise ConfigError("Unknown grant_type %r: use authorization_code, refresh_token or client_credentials." % grant)


CLIENT_FIELDS = ("client_id", "client_secret", "client_secrets", "scopes", "org_id", "grant_type")


def _client_fields(document):
    """The document's client fields (no tokens): what a recovery file needs to restore a deleted document."""
    if not isinstance(document, dict):
        return {}
    return {key: document[key] for key in CLIENT_FIELDS if document.get(key) is not None}


def _reason(err):
    """IMS's error, its own description, the status and x-debug-id, as ims_error words them."""
    said = err.error or "error"
    if err.description:
        said += ": " + err.description
    parts = []
    if err.status:
        parts.append("HTTP %s" % err.status)
    return said + ("; " + ", ".join(parts) if parts else "") + debug_ref(err.debug_id)


def _short(err):
    if isinstance(err, VaultConflictError):
        return "concurrent writers kept changing it"
    if isinstance(err, VaultAccessError):
        return "Vault denied the write"
    if isinstance(err, VaultUnavailableError):
        return "Vault was unreachable or sealed"
    return "Vault refused the write"


def _lower_first(text):
    return text[:1].lower() + text[1:] if text else text
