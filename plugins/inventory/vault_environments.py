# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: vault_environments
short_description: ACCS environments from the credential documents in Vault (KV version 2)
version_added: 0.2.0
description:
  - Lists every credential document under O(path) in the KV version 2 mount O(vault_mount) (recursively, with
    paginated metadata LIST requests) and makes one host per document in the group C(accs), named by the
    document's path below O(path) (C(accs/eu/prod) under C(accs/) is the host C(eu/prod)).
  - Each host gets C(accs_vault_path) (the document's path in the mount), C(accs_vault_mount), and the document's
    non-secret keys that describe the environment, prefixed with C(accs_) - C(accs_base_url) (the name the roles
    read), C(accs_environment), C(accs_region), C(accs_tenant_id), C(accs_tags), and C(accs_<key>) for each key
    named in O(host_var_keys). The prefix keeps clear of play keywords (C(environment), C(tags)) that Ansible
    warns about as variable names.
  - O(compose), O(groups) and O(keyed_groups) see those keys under their own names as well, so a keyed group
    with C(key=environment) and C(prefix=env) gives C(env_production).
  - Secret keys (C(client_secret), C(client_secrets), C(refresh_token), C(access_token)) never become host
    variables, and neither does any other key of the document.
  - The group C(accs) gets C(ansible_connection=local) and
    C(ansible_python_interpreter={{ ansible_playbook_python }}), so the work runs on the controller in the
    Python that runs Ansible; any other source of these variables (C(compose), C(group_vars), C(host_vars))
    overrides them.
  - A document without C(base_url) still makes a host, with a warning naming it; the roles then fail that host
    with their own sentence.
  - Vault is reached with the same options, environment variables and login as the lookup
    P(adobe_commerce.accs.vault_ims_credential#lookup); the token needs C(list) on the metadata path and C(read) on
    the data path (see the collection guide for the policy). Each document is read once per run; with the
    inventory cache on, not at all while the cache is fresh (the cache holds only the host variables above).
author:
  - adobe_commerce.accs maintainers (@adobe-commerce-accs)
extends_documentation_fragment:
  - adobe_commerce.accs.vault
  - adobe_commerce.accs.vault.plugins
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin; makes the file an inventory source of this plugin.
    required: true
    type: str
    choices: [adobe_commerce.accs.vault_environments]
  path:
    description:
      - Folder inside O(vault_mount) whose documents (and the documents of its subfolders) are the environments.
    type: str
    default: accs/
  host_var_keys:
    description:
      - More keys of the document to copy into host variables (as C(accs_<key>)), besides C(base_url),
        C(environment), C(region), C(tenant_id) and C(tags); for example C(org_id) gives C(accs_org_id).
      - Naming a secret key (C(client_secret), C(client_secrets), C(refresh_token), C(access_token)) is an error.
    type: list
    elements: str
    default: []
  list_page_size:
    description:
      - Keys asked per metadata LIST request. OpenBao answers in pages of this size; HashiCorp Vault answers a
        whole folder at once.
    type: int
    default: 500
notes:
  - Put the Vault token in E(VAULT_TOKEN) (or C(~/.vault-token)) or log in with AppRole or JWT through their
    environment variables rather than writing a secret into the inventory file.
  - Templates are not rendered in the values read from Vault.
seealso:
  - plugin: adobe_commerce.accs.vault_ims_credential
    plugin_type: lookup
'''

EXAMPLES = r'''
# inventory/accs.vault_environments.yml (any name ending in .yml or .yaml), with VAULT_ADDR and VAULT_TOKEN
# (or VAULT_AUTH_METHOD=approle/jwt and their variables) in the environment:
plugin: adobe_commerce.accs.vault_environments
path: accs/
vault_mount: secret
host_var_keys: [org_id]
keyed_groups:
  # env_production, env_staging, ... from the documents' `environment` key
  - key: environment
    prefix: env
  - key: region
    prefix: region
groups:
  sandboxes: "'sandbox' in (base_url | default(''))"
compose:
  accs_ims_url: "'https://ims-na1.adobelogin.com'"
# Inventory cache (ansible.cfg [inventory] or here): Vault is then asked again only after the timeout.
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/accs-inventory
cache_timeout: 3600
'''

import hashlib

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var

try:  # ansible-core 2.19+: only strings marked trusted are templated
    from ansible.template import trust_as_template
except ImportError:  # ansible-core 2.17, 2.18: every string is
    def trust_as_template(value):
        return value

from ansible_collections.adobe_commerce.accs.plugins.module_utils._credential import SECRET_KEYS
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import AccsError, VaultPathError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._vault import VaultStore
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._vault_options import vault_options

GROUP = "accs"
PREFIX = "accs_"
DESCRIPTIVE_KEYS = ("base_url", "environment", "region", "tenant_id", "tags")
# Group variables of `accs`: the lowest precedence, so compose, group_vars and host_vars override them.
CONNECTION_VARS = {
    "ansible_connection": "local",
    "ansible_python_interpreter": "{{ ansible_playbook_python }}",
}


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "adobe_commerce.accs.vault_environments"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith((".yml", ".yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        options = vault_options(self)  # the lookup's options and fallbacks (VAULT_SKIP_VERIFY too)
        folder = (self.get_option("path") or "").strip().strip("/")
        if not folder:
            raise AnsibleParserError(
                "Option path of %s is empty: give the folder of the credential documents inside the mount, "
                "like accs/." % path)
        allowed = self._allowed_keys()

        # the Vault and folder asked, never a credential: another Vault or folder is another cache entry
        where = [self._option(name) for name in ("vault_url", "vault_namespace", "vault_mount")] + [folder, allowed]
        cache_key = "%s_%s" % (self.get_cache_key(path), hashlib.sha256(
            "\0".join(str(x) for x in where).encode("utf-8")).hexdigest()[:16])
        use_cache = bool(self.get_option("cache"))
        environments = None
        if use_cache and cache:
            try:
                environments = self._cache[cache_key]
            except KeyError:
                environments = None
        if environments is None:
            environments = self._fetch(options, folder, allowed)
            if use_cache:
                self._cache[cache_key] = environments
        self._populate(environments, folder)

    # ------------------------------------------------------------------ options
    def _option(self, name):
        try:
            return self.get_option(name)
        except KeyError:
            return None

    def _allowed_keys(self):
        extra = [str(key).strip() for key in (self.get_option("host_var_keys") or []) if str(key).strip()]
        secret = sorted(set(extra) & set(SECRET_KEYS))
        if secret:
            raise AnsibleParserError(
                "Option host_var_keys names the secret key%s %s: remove %s, secrets stay in Vault and never become "
                "host variables." % ("s" if len(secret) > 1 else "", ", ".join(secret), "them" if len(secret) > 1 else "it"))
        keys = list(DESCRIPTIVE_KEYS)
        for key in extra:
            if key not in keys:
                keys.append(key)
        return tuple(keys)

    # ------------------------------------------------------------------ Vault
    def _fetch(self, options, folder, allowed):
        """[{path, vars}] of every readable document: only the allowed keys, never a secret."""
        try:
            store = VaultStore(options)
            paths = store.list_documents(folder, page_size=max(1, int(self.get_option("list_page_size") or 500)))
            environments = []
            for doc_path in paths:
                try:
                    document, _version = store.read(doc_path)
                except VaultPathError as err:  # deleted (or removed) since the listing: not an environment
                    self.display.warning("Host %s left out: %s" % (self._host_name(doc_path, folder), err.message))
                    continue
                if not isinstance(document, dict):
                    document = {}
                values = {key: document[key] for key in allowed if key in document and key not in SECRET_KEYS}
                environments.append({"path": doc_path, "vars": values})
        except AccsError as err:
            raise AnsibleParserError(err.message)
        return environments

    # ------------------------------------------------------------------ inventory
    def _host_name(self, doc_path, folder):
        return doc_path[len(folder) + 1:] if doc_path.startswith(folder + "/") else doc_path

    def _populate(self, environments, folder):
        inventory = self.inventory
        inventory.add_group(GROUP)
        for name, value in CONNECTION_VARS.items():
            inventory.set_variable(GROUP, name, trust_as_template(value))
        strict = self.get_option("strict")
        mount = (self.get_option("vault_mount") or "secret").strip("/")
        for entry in environments:
            doc_path = entry["path"]
            host = self._host_name(doc_path, folder)
            values = {key: wrap_var(value) for key, value in (entry.get("vars") or {}).items() if key not in SECRET_KEYS}
            inventory.add_host(host, group=GROUP)
            inventory.set_variable(host, "accs_vault_path", wrap_var(doc_path))
            inventory.set_variable(host, "accs_vault_mount", wrap_var(mount))
            # Prefixed: `environment` and `tags` are play keywords (Ansible warns about such variables),
            # and accs_base_url is the name the roles read.
            for key, value in values.items():
                inventory.set_variable(host, PREFIX + key, value)
            if not values.get("base_url"):
                self.display.warning(
                    "The credential document '%s/%s' (host %s) has no base_url: add the environment's ACCS REST base "
                    "URL to it (or set accs_base_url for the host elsewhere)." % (mount, doc_path, host))
            # compose, groups and keyed_groups see the document's keys under their own names too
            self._set_composite_vars(self.get_option("compose"), dict(values, **inventory.get_host(host).get_vars()),
                                     host, strict=strict)
            hostvars = dict(values, **inventory.get_host(host).get_vars())
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)
