# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the credential store logs in to Vault: one authenticator interface, a registry, shared checks.

For internal collection use only. Each auth method is one small file (``_vault_auth_<method>.py``,
as community.hashi_vault's ``_auth_method_*.py``) whose class subclasses :class:`VaultAuthenticator`
and is registered with :func:`register`; ``_vault`` imports them all and asks :func:`authenticator`
for the one ``vault_auth_method`` names.

An authenticator takes _options.VaultOptions. ``check()`` refuses missing inputs before Vault is
contacted; ``login(client)`` logs the hvac client in (or sets its token). Every message is one
sentence that names options, files, the URL, the method and the mount, never a secret.
"""

from __future__ import annotations

import os

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import ConfigError

# The refusal hint approle and jwt have always shared.
ROLE_CREDENTIALS_HINT = ("the role and its credentials (vault_role_id/vault_secret_id, or vault_role/vault_jwt) "
                         "and the mount (vault_auth_mount)")

# method name -> authenticator class, filled by register()
_REGISTRY = {}


def register(cls):
    """Class decorator: make ``cls`` the authenticator of ``vault_auth_method: cls.NAME``."""
    if not cls.NAME or cls.NAME in _REGISTRY:
        raise ValueError("auth method %r registered twice or without a name" % cls.NAME)
    _REGISTRY[cls.NAME] = cls
    return cls


def registered():
    """The names of the registered auth methods, in registration order."""
    return tuple(_REGISTRY)


def authenticator(options):
    """The authenticator of ``options.auth_method`` for ``options``; ConfigError for an unknown method."""
    cls = _REGISTRY.get(options.auth_method)
    if cls is None:
        raise ConfigError("Option vault_auth_method must be one of %s." % ", ".join(registered()))
    return cls(options)


class VaultAuthenticator:
    """One Vault auth method.

    ``NAME``: the ``vault_auth_method`` value. ``DEFAULT_MOUNT``: its auth mount when
    ``vault_auth_mount`` is not given (None: the method sends no login request). ``INPUTS``: the
    VaultOptions fields it logs in with (they tell cached clients apart, hashed).
    ``REFUSED_HINT``: what to check when Vault refuses the login (the end of that sentence).
    """

    NAME = ""
    DEFAULT_MOUNT = None
    INPUTS = ()
    REFUSED_HINT = "the credentials of the auth method and the mount (vault_auth_mount)"

    def __init__(self, options):
        self.options = options

    @property
    def mount(self):
        return (self.options.auth_mount or self.DEFAULT_MOUNT or "").strip("/")

    def check(self):
        """Raise ConfigError when an input the method needs is missing; no request is sent."""

    def login(self, client):
        """Log ``client`` (an hvac.Client) in; hvac and requests exceptions are mapped by the caller."""
        raise NotImplementedError

    def material(self):
        """The values the login uses, for the client cache's identity (hashed there, never shown)."""
        return tuple(getattr(self.options, name) for name in self.INPUTS)

    def refused_hint(self):
        return self.REFUSED_HINT

    def refused(self, url):
        """The sentence for a login Vault refused (400, 401, 403)."""
        return "Vault at %s refused the %s login at auth mount '%s': check %s." % (
            url, self.NAME, self.mount, self.refused_hint())

    def login_error(self, exc, url):
        """A method's own sentence for ``exc`` raised by its login, or None for the shared mapping."""
        return None


# ------------------------------------------------------------------------------ shared checks
def missing(options, *names):
    """The option names (``vault_`` + field) among ``names`` that have no value in ``options``."""
    return ["vault_" + name for name in names if not getattr(options, name)]


def check_file(path, option, method, what):
    """Refuse ``path`` (the value of ``option``) unless it is an existing file."""
    expanded = os.path.expanduser(path)
    if not os.path.isfile(expanded):
        raise ConfigError("The %s login to Vault reads %s from %s (%s), which is not a file: fix %s or create the file."
                          % (method, what, expanded, option, option))
    return expanded


def read_secret_file(path, option, method, what):
    """The stripped text of the file ``path`` holding a secret (a token); ConfigError when unreadable or empty."""
    expanded = check_file(path, option, method, what)
    try:
        with open(expanded, encoding="utf-8") as handle:
            text = handle.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError("The %s login to Vault cannot read %s from %s (%s): give the user running the task read "
                          "access to it, or fix %s." % (method, what, expanded, reason, option))
    if not text:
        raise ConfigError("The %s login to Vault found %s in %s empty: fix %s." % (method, what, expanded, option))
    return text


def require_https(url, method, why):
    """Refuse a plain-http ``url`` for a method that only works over TLS."""
    if not url.lower().startswith("https://"):
        raise ConfigError("The %s login to Vault needs an https vault_url: %s." % (method, why))
