# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions of the engine.

Every message is one sentence a person can act on: what failed and what to do next.
No exception message ever holds a secret; callers pass only names, paths, statuses
and the IMS/Commerce error texts (which never echo credentials).
"""

from __future__ import annotations


class AccsError(Exception):
    """Base class: ``str(err)`` is the user-facing sentence, ``details`` safe extras."""

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}


class ConfigError(AccsError):
    """Options or the credential document are unusable."""


class TransportError(AccsError):
    """The HTTP request never produced a usable answer (connection, TLS, timeout, body)."""


class ImsError(AccsError):
    """IMS answered a token request with an error."""

    def __init__(self, message, error=None, status=None, debug_id=None, description=None, **details):
        super().__init__(message, error=error, status=status, debug_id=debug_id, **details)
        self.error = error
        self.status = status
        self.debug_id = debug_id
        # IMS's own error_description (cleaned), for sentences rebuilt from this error
        self.description = description


class InvalidGrantError(ImsError):
    """The code or refresh token was expired, used or revoked."""


class InvalidClientError(ImsError):
    """The client id or secret was refused."""


class VaultError(AccsError):
    """Base of the Vault failures."""


class VaultUnavailableError(VaultError):
    """Vault is unreachable, sealed or failing: worth retrying a write."""


class VaultAccessError(VaultError):
    """Permission denied or authentication failed."""


class VaultPathError(VaultError):
    """The secret does not exist or the mount is not KV v2."""


class VaultDeletedError(VaultPathError):
    """The document's current version is deleted (or destroyed); ``version`` is its number."""

    def __init__(self, message, version=None, **details):
        super().__init__(message, **details)
        self.version = version


class VaultConflictError(VaultError):
    """A check-and-set write lost against a concurrent writer."""


class AccsApiError(AccsError):
    """ACCS answered with a status the caller did not accept."""

    def __init__(self, message, status=None, body=None, **details):
        super().__init__(message, status=status, **details)
        self.status = status
        self.body = body
