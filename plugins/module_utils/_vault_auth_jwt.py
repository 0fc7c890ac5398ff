# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``vault_auth_method: jwt``: a role and a JWT (a pipeline's OIDC token).

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
class JwtAuthenticator(VaultAuthenticator):
    NAME = "jwt"
    DEFAULT_MOUNT = "jwt"
    INPUTS = ("role", "jwt")
    REFUSED_HINT = ROLE_CREDENTIALS_HINT

    def check(self):
        if missing(self.options, "role", "jwt"):
            raise ConfigError("vault_auth_method jwt needs vault_role and vault_jwt (the pipeline's OIDC token): "
                              "set both.")

    def login(self, client):
        client.auth.jwt.jwt_login(role=self.options.role, jwt=self.options.jwt, path=self.mount)
