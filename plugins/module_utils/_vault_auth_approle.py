# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``vault_auth_method: approle``: a role id and a secret id.

For internal collection use only.
"""

from __future__ import annotations

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import ConfigError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._vault_auth import (
    ROLE_CREDENTIALS_HINT,
    VaultAuthenticator,
    missing,
    register,
)


@register
class AppRoleAuthenticator(VaultAuthenticator):
    NAME = "approle"
    DEFAULT_MOUNT = "approle"
    INPUTS = ("role_id", "secret_id")
    REFUSED_HINT = ROLE_CREDENTIALS_HINT

    def check(self):
        if missing(self.options, "role_id", "secret_id"):
            raise ConfigError("vault_auth_method approle needs vault_role_id and vault_secret_id: set both (or "
                              "VAULT_ROLE_ID and VAULT_SECRET_ID).")

    def login(self, client):
        client.auth.approle.login(role_id=self.options.role_id, secret_id=self.options.secret_id,
                                  mount_point=self.mount)
