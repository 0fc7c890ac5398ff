# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``vault_auth_method: kubernetes``: the pod's service-account token and a Vault role.

For internal collection use only. Vault checks the token with the Kubernetes TokenReview API
(as the reviewer set in ``auth/<mount>/config``) and compares the service account and namespace
with the role's bindings. The token is read from the file Kubernetes mounts into the pod.
"""

from __future__ import annotations

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import ConfigError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._vault_auth import (
    VaultAuthenticator,
    check_file,
    read_secret_file,
    register,
)

WHAT = "the service account token"


@register
class KubernetesAuthenticator(VaultAuthenticator):
    NAME = "kubernetes"
    DEFAULT_MOUNT = "kubernetes"
    INPUTS = ("kubernetes_role", "kubernetes_token_path")

    def refused_hint(self):
        return ("that role '%s' (vault_kubernetes_role) binds the service account and namespace of the token in %s, "
                "and that Vault's TokenReview of it succeeds (auth/%s/config)"
                % (self.options.kubernetes_role, self.options.kubernetes_token_path, self.mount))

    def check(self):
        if not self.options.kubernetes_role:
            raise ConfigError("The kubernetes login to Vault needs vault_kubernetes_role (or VAULT_KUBERNETES_ROLE): "
                              "set the Vault role bound to the pod's service account.")
        check_file(self.options.kubernetes_token_path, "vault_kubernetes_token_path", self.NAME, WHAT)

    def login(self, client):
        jwt = read_secret_file(self.options.kubernetes_token_path, "vault_kubernetes_token_path", self.NAME, WHAT)
        client.auth.kubernetes.login(role=self.options.kubernetes_role, jwt=jwt, mount_point=self.mount)
