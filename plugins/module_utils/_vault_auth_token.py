# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``vault_auth_method: token``: a Vault token given, or read from ``vault_token_file``.

For internal collection use only.
"""

from __future__ import annotations

import os

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import ConfigError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import VAULT_SPEC
from ansible_collections.adobe_commerce.accs.plugins.module_utils._vault_auth import (
    VaultAuthenticator,
    read_secret_file,
    register,
)

DEFAULT_TOKEN_FILE = VAULT_SPEC["vault_token_file"]["default"]


@register
class TokenAuthenticator(VaultAuthenticator):
    NAME = "token"
    INPUTS = ("token", "token_file")

    def token(self):
        """vault_token, else the token file's text; None when neither holds one.

        The default file (~/.vault-token, as the Vault CLI writes it) may be absent; a file named
        on purpose must be readable.
        """
        if self.options.token:
            return self.options.token
        path = self.options.token_file or DEFAULT_TOKEN_FILE
        if os.path.expanduser(path) == os.path.expanduser(DEFAULT_TOKEN_FILE):
            try:
                with open(os.path.expanduser(path), encoding="utf-8") as handle:
                    return handle.read().strip() or None
            except (OSError, UnicodeDecodeError):
                return None
        return read_secret_file(path, "vault_token_file", self.NAME, "the Vault token")

    def login(self, client):
        token = self.token()
        if not token:
            raise ConfigError("No Vault token: set vault_token or VAULT_TOKEN, or use vault_auth_method approle or jwt.")
        client.token = token
