# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``vault_auth_method: cert``: a TLS client certificate presented to Vault's TLS listener.

For internal collection use only. The certificate (and its key, unless it is in the same PEM
file) goes with the login request only; later requests carry the token Vault issued.
"""

from __future__ import annotations

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import ConfigError, VaultAccessError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._vault_auth import (
    VaultAuthenticator,
    check_file,
    register,
    require_https,
)

try:
    from requests.exceptions import SSLError
except ImportError:  # pragma: no cover - _vault reports the missing library
    SSLError = None


@register
class CertAuthenticator(VaultAuthenticator):
    NAME = "cert"
    DEFAULT_MOUNT = "cert"
    INPUTS = ("client_cert", "client_key", "cert_role")
    REFUSED_HINT = ("that a certificate role at that mount trusts the CA of vault_client_cert (and that vault_cert_role, "
                    "when set, names such a role) and the mount (vault_auth_mount)")

    def check(self):
        if not self.options.client_cert:
            raise ConfigError("The cert login to Vault needs vault_client_cert (or VAULT_CLIENT_CERT), the PEM client "
                              "certificate, and vault_client_key (or VAULT_CLIENT_KEY) unless its key is in that file.")
        require_https(self.options.url, self.NAME, "the client certificate is only presented in a TLS handshake")
        check_file(self.options.client_cert, "vault_client_cert", self.NAME, "the client certificate")
        if self.options.client_key:
            check_file(self.options.client_key, "vault_client_key", self.NAME, "the client certificate's key")

    def login(self, client):
        cert = check_file(self.options.client_cert, "vault_client_cert", self.NAME, "the client certificate")
        if self.options.client_key:
            cert = (cert, check_file(self.options.client_key, "vault_client_key", self.NAME,
                                     "the client certificate's key"))
        body = {"name": self.options.cert_role} if self.options.cert_role else {}
        client.adapter.login("/v1/auth/%s/login" % self.mount, json=body, cert=cert)

    def login_error(self, exc, url):
        if SSLError is not None and isinstance(exc, SSLError):
            return VaultAccessError(
                "The TLS handshake of the cert login to Vault at %s failed: check that vault_client_key is the key of "
                "vault_client_cert (both PEM) and that vault_ca_cert (or VAULT_CACERT) verifies Vault's certificate."
                % url)
        return None
