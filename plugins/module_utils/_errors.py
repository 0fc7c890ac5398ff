# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions of the engine.

Every message is one sentence a person can act on: what failed and what to do next.
No exception message ever holds a secret; callers pass only names, paths, statuses
and the IMS/Commerce error texts (which never echo credentials).

Each class names its ``kind``: the stable ``error_kind`` of a failed result, which callers
(roles, playbooks, users) branch on instead of the sentence. The kinds are documented in the
RETURN of ims_token, accs_rest and ims_bootstrap.
"""

from __future__ import annotations

QUOTED_TEXT_LIMIT = 200


def one_line(text, limit=QUOTED_TEXT_LIMIT):
    """A service's or a person's text made fit to quote in a message: one line, at most ``limit`` characters."""
    if not isinstance(text, str):
        return ""
    return " ".join(text.split())[:limit]


class AccsError(Exception):
    """Base class: ``str(err)`` is the user-facing sentence, ``details`` safe extras."""

    kind = "error"

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}


class ConfigError(AccsError):
    """Options or the credential document are unusable."""

    kind = "config"


class TransportError(AccsError):
    """The HTTP request never produced a usable answer (connection, TLS, timeout, body)."""

    kind = "transport"


class ImsError(AccsError):
    """IMS answered a token request with an error."""

    kind = "ims"

    def __init__(self, message, error=None, status=None, debug_id=None, description=None, **details):
        super().__init__(message, error=error, status=status, debug_id=debug_id, **details)
        self.error = error
        self.status = status
        self.debug_id = debug_id
        # IMS's own error_description (cleaned), for sentences rebuilt from this error
        self.description = description


class InvalidGrantError(ImsError):
    """The code or refresh token was expired, used or revoked."""

    kind = "ims_invalid_grant"


class InvalidClientError(ImsError):
    """The client id or secret was refused."""

    kind = "ims_invalid_client"


class VaultError(AccsError):
    """Base of the Vault failures."""

    kind = "vault"


class VaultUnavailableError(VaultError):
    """Vault is unreachable, sealed or failing: worth retrying a write."""

    kind = "vault_unavailable"


class VaultAccessError(VaultError):
    """Permission denied or authentication failed."""

    kind = "vault_denied"


class VaultPathError(VaultError):
    """The secret does not exist or the mount is not KV v2."""

    kind = "vault_not_found"


class VaultKvVersionError(VaultPathError):
    """The mount is a KV version 1 engine: the store needs KV version 2."""

    kind = "vault_kv1"


class VaultDeletedError(VaultPathError):
    """The document's current version is deleted (or destroyed); ``version`` is its number."""

    kind = "vault_deleted"

    def __init__(self, message, version=None, **details):
        super().__init__(message, **details)
        self.version = version


class VaultWriteError(VaultError):
    """IMS issued a token but Vault did not store it (a rotated refresh token went to the recovery file)."""

    kind = "vault_write"


class VaultConflictError(VaultError):
    """A check-and-set write lost against a concurrent writer."""

    kind = "vault_conflict"


class AccsApiError(AccsError):
    """ACCS answered with a status the caller did not accept."""

    kind = "accs_api"

    def __init__(self, message, status=None, body=None, **details):
        super().__init__(message, status=status, **details)
        self.status = status
        self.body = body


# error_kind of an unexpected error (a bug): the result's `exception` holds its traceback.
INTERNAL_KIND = "internal"
