# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``vault_auth_method: userpass``: a person's user name and password (for example for the bootstrap).

For internal collection use only.
"""

from __future__ import annotations

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import ConfigError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._vault_auth import (
    VaultAuthenticator,
    missing,
    register,
)


@register
class UserpassAuthenticator(VaultAuthenticator):
    NAME = "userpass"
    DEFAULT_MOUNT = "userpass"
    INPUTS = ("username", "password")
    REFUSED_HINT = "vault_username and vault_password (or VAULT_USERNAME and VAULT_PASSWORD) and the mount (vault_auth_mount)"

    def check(self):
        if missing(self.options, "username", "password"):
            raise ConfigError("The userpass login to Vault needs vault_username and vault_password: set both (or "
                              "VAULT_USERNAME and VAULT_PASSWORD).")

    def login(self, client):
        client.auth.userpass.login(username=self.options.username, password=self.options.password,
                                   mount_point=self.mount)
