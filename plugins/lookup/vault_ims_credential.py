# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: vault_ims_credential
short_description: Read an IMS credential document from Vault (KV version 2)
version_added: 0.1.0
description:
  - Returns the credential document stored at each term's path in the KV version 2 mount O(vault_mount), as a dict.
  - Logs in to Vault once and reads each path once per process, so lazy templating does not hit Vault again.
  - Errors name the path and the cause (missing, permission denied, sealed or unreachable Vault, KV version 1 mount),
    never a value.
author:
  - adobe_commerce.accs maintainers (@adobe-commerce-accs)
extends_documentation_fragment:
  - adobe_commerce.accs.vault
  - adobe_commerce.accs.vault.plugins
options:
  _terms:
    description: Paths of credential documents inside O(vault_mount), for example C(accs/prod).
    required: true
    type: list
    elements: str
notes:
  - The document holds secrets (client secret, refresh and access tokens). Put C(no_log) on tasks that show or
    register it; the modules of this collection read the document themselves and need no lookup.
'''

EXAMPLES = r'''
- name: Which IMS client does prod use?
  ansible.builtin.debug:
    msg: "{{ lookup('adobe_commerce.accs.vault_ims_credential', 'accs/prod', vault_mount='secret').client_id }}"

# Take the fields you need inside the expression: looping over whole documents would hand their
# secrets to every callback as the loop item.
- name: Expiry of each environment's cached access token
  ansible.builtin.debug:
    msg: >-
      {{ query('adobe_commerce.accs.vault_ims_credential', 'accs/prod', 'accs/stage')
         | map(attribute='access_token_expires_at', default='none cached') | list }}
'''

RETURN = r'''
_raw:
  description: One credential document (dict) per term.
  type: list
  elements: dict
'''

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import AccsError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import VaultOptions
from ansible_collections.adobe_commerce.accs.plugins.module_utils._vault import TLS_OFF_WARNING, VaultStore, normalize_path

display = Display()

# Documents read by this process, per Vault identity, mount and path.
_CACHE = {}


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        options = VaultOptions.from_params(self._option)
        if options.validate_certs is False:
            display.warning(TLS_OFF_WARNING)
        results = []
        try:
            store = VaultStore(options)
            for term in terms:
                path = normalize_path(term)
                key = (store.identity(), store.mount, path)
                if key not in _CACHE:
                    document, _version = store.read(path)
                    _CACHE[key] = document
                results.append(dict(_CACHE[key]))
        except AccsError as err:
            raise AnsibleLookupError(err.message)
        return results

    def _option(self, name):
        try:
            return self.get_option(name)
        except KeyError:
            return None
