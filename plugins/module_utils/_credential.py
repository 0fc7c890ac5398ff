# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IMS credential document kept in Vault KV v2, and expiry timestamps.

Keys (user-facing, see docs/guide.md): client_id, client_secret | client_secrets, grant_type,
scopes, refresh_token, org_id; written by the collection: access_token,
access_token_expires_at, refresh_token_issued_at.
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import ConfigError

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
# Keys whose values are secrets: never copied out of Vault (the inventory plugin's host variables).
SECRET_KEYS = ("client_secret", "client_secrets", "refresh_token", "access_token")
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")


def format_time(epoch):
    """ISO-8601 UTC with a Z, to the second: 2026-11-29T13:00:00Z."""
    return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value):
    """Epoch seconds from an ISO-8601 timestamp with a zone; None when absent or unreadable."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _ISO_RE.match(value.strip()):
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        return datetime.datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def split_scopes(value, field="scopes"):
    """A list of scopes from a list or a comma/space separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        items = re.split(r"[,\s]+", value)
    elif isinstance(value, (list, tuple)):
        items = []
        for item in value:
            if not isinstance(item, str):
                raise ConfigError("%s must be a list of strings or a comma-separated string: fix the value." % field)
            items.extend(re.split(r"[,\s]+", item))
    else:
        raise ConfigError("%s must be a list of strings or a comma-separated string: fix the value." % field)
    seen = []
    for item in items:
        if item and item not in seen:
            seen.append(item)
    return seen


def _text(doc, key, where):
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError("Key '%s' of the credential %s must be a string: fix the document in Vault." % (key, where))
    value = value.strip()
    return value or None


class Credential:
    """A validated view of the credential document, options filling what it lacks."""

    def __init__(self, client_id, client_secrets, grant_type, scopes, refresh_token, org_id,
                 access_token=None, access_token_expires_at=None, refresh_token_issued_at=None):
        self.client_id = client_id
        self.client_secrets = client_secrets
        self.grant_type = grant_type
        self.scopes = scopes
        self.refresh_token = refresh_token
        self.org_id = org_id
        self.access_token = access_token
        self.access_token_expires_at = access_token_expires_at
        self.refresh_token_issued_at = refresh_token_issued_at

    @classmethod
    def from_document(cls, doc, where, overrides=None, require_grant=True, infer_client_credentials=False):
        """Validate ``doc`` (a dict from Vault, or {}); ``overrides`` are module options that win.

        Without a grant_type, a refresh token means refresh_token. A client secret alone means
        client_credentials only when ``infer_client_credentials`` (a task that gives its credential as
        options); a stored document with a secret but neither refresh token nor grant_type is a user
        credential that was never bootstrapped, or a server-to-server one that must say so.
        """
        if not isinstance(doc, dict):
            raise ConfigError("The credential %s is not a key/value document: store it as KV v2 keys (see the collection guide)." % where)
        overrides = {k: v for k, v in (overrides or {}).items() if v not in (None, "", [])}
        merged = dict(doc)
        merged.update(overrides)

        client_id = _text(merged, "client_id", where)
        if not client_id:
            raise ConfigError("The credential %s has no client_id: add the IMS client id to the document or pass client_id." % where)

        # Order matters: the option first, then the document's secret(s); the next
        # one is tried only after IMS answers invalid_client.
        secrets = [overrides.get("client_secret"), _text(doc, "client_secret", where)]
        listed = doc.get("client_secrets")
        if listed is not None:
            if not isinstance(listed, list) or not all(isinstance(s, str) for s in listed):
                raise ConfigError("Key 'client_secrets' of the credential %s must be a list of strings: fix the document in Vault." % where)
            secrets.extend(listed)
        client_secrets = []
        for secret in secrets:
            if secret is None:
                continue
            if not isinstance(secret, str):
                raise ConfigError("The client secret of the credential %s must be a string: fix it." % where)
            secret = secret.strip()
            if secret and secret not in client_secrets:
                client_secrets.append(secret)

        scopes = split_scopes(merged.get("scopes"), "Key 'scopes' of the credential %s" % where)
        refresh_token = _text(merged, "refresh_token", where)
        org_id = _text(merged, "org_id", where)

        grant_type = _text(merged, "grant_type", where)
        if grant_type is None:
            if refresh_token:
                grant_type = "refresh_token"
            elif client_secrets and infer_client_credentials:
                grant_type = "client_credentials"
        if grant_type is not None and grant_type not in GRANT_TYPES:
            raise ConfigError("The credential %s names grant_type '%s': use refresh_token or client_credentials." % (where, grant_type))
        if require_grant:
            if grant_type is None and client_secrets:
                raise ConfigError("The credential %s has no refresh_token and names no grant_type: run the "
                                  "bootstrap_refresh_token.yml playbook to store one (user credential), or add "
                                  "grant_type client_credentials (server-to-server credential)." % where)
            if grant_type is None:
                raise ConfigError("The credential %s has neither a refresh_token nor a client secret: bootstrap a refresh "
                                  "token (playbook bootstrap_refresh_token.yml) or add client_secret and scopes." % where)
            if grant_type == "refresh_token" and not refresh_token:
                raise ConfigError("The credential %s has no refresh_token: run the bootstrap_refresh_token.yml playbook to store one." % where)
            if grant_type == "client_credentials":
                if not client_secrets:
                    raise ConfigError("The credential %s uses client_credentials but has no client_secret: add it to the document." % where)
                if not scopes:
                    raise ConfigError("The credential %s uses client_credentials but has no scopes: add scopes including commerce.accs." % where)

        access_token = doc.get("access_token") if isinstance(doc.get("access_token"), str) else None
        return cls(
            client_id=client_id,
            client_secrets=client_secrets,
            grant_type=grant_type,
            scopes=scopes,
            refresh_token=refresh_token,
            org_id=org_id,
            access_token=access_token or None,
            access_token_expires_at=parse_time(doc.get("access_token_expires_at")),
            refresh_token_issued_at=parse_time(doc.get("refresh_token_issued_at")),
        )

    def cached_ttl(self, now):
        """Seconds the cached access token stays valid; None when there is no usable cache."""
        if not self.access_token or self.access_token_expires_at is None:
            return None
        return self.access_token_expires_at - now
