# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credential health of every environment: one Vault read per credential, no IMS call, on the controller.

Documentation: plugins/modules/accs_credential_health.py.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.action import ActionBase

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import AccsError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._files import atomic_write
from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import unexpected_error_message
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import VAULT_SPEC, VaultOptions
from ansible_collections.adobe_commerce.accs.plugins.module_utils._vault import VaultStore, normalize_path
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils import _health as health_lib
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils import _reports as reports
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._report_action import host_variables

SPEC = dict(
    hosts=dict(type="list", elements="str", required=True),
    warn_age=dict(type="int", default=health_lib.DEFAULT_WARN_AGE),
    critical_age=dict(type="int", default=health_lib.DEFAULT_CRITICAL_AGE),
    refresh_token_lifetime=dict(type="int", default=health_lib.REFRESH_TOKEN_LIFETIME),
    report_path=dict(type="path"),
    prometheus_path=dict(type="path"),
    audit_fact=dict(type="str", default="accs_store_config_audit"),
    audit_report_dir=dict(type="path"),
    title=dict(type="str", default="ACCS credential health"),
    **{k: v for k, v in VAULT_SPEC.items() if k != "vault_path"}
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        task_env = {}
        self._compute_environment_string(task_env)  # the task's `environment:` feeds the VAULT_* fallbacks
        os.environ.update({k: str(v) for k, v in task_env.items()})
        _validation, params = self.validate_argument_spec(argument_spec=SPEC)
        try:
            result.update(self._check(params, task_vars.get("hostvars") or {}))
        except AccsError as err:
            result.update(failed=True, msg=err.message)
        except Exception as exc:  # a bug: one sentence, never the exception text
            result.update(failed=True, msg=unexpected_error_message(exc))
        return result

    # ------------------------------------------------------------------ reading
    def _check(self, params, hostvars):
        if not 0 < params["warn_age"] < params["critical_age"]:
            raise AccsError("warn_age (%d s) must be above 0 and below critical_age (%d s): fix "
                            "accs_health_warn_age or accs_health_critical_age." % (params["warn_age"], params["critical_age"]))
        now = time.time()
        stores = {}
        documents = {}  # (mount, path) -> (document, error): one read per credential, shared by its environments
        rows = []
        for host in params["hosts"]:
            variables = host_variables(hostvars, host, ("accs_base_url", "accs_vault_path", "accs_vault_mount"))
            base_url = variables["accs_base_url"]
            raw_path = variables["accs_vault_path"]
            mount = (variables["accs_vault_mount"] or params["vault_mount"] or "secret")
            mount = str(mount).strip("/")
            try:
                path = normalize_path(raw_path)
            except AccsError:
                health = health_lib.assess(None, None, now, error=(
                    "Host %s has no accs_vault_path: set it to the path of the environment's credential in Vault "
                    "(like accs/prod)." % host))
                rows.append((host, base_url, health, None, None))
                continue
            key = (mount, path)
            store = stores.get(mount)
            if store is None:
                store = stores[mount] = VaultStore(VaultOptions.from_params(
                    lambda name, _m=mount: _m if name == "vault_mount" else params.get(name)))
            if key not in documents:
                try:
                    documents[key] = (store.read(path)[0], None)
                except AccsError as err:  # that credential is critical; the others are still checked
                    documents[key] = (None, err.message)
            document, error = documents[key]
            health = health_lib.assess(document, store.describe(path), now, params["warn_age"],
                                       params["critical_age"], params["refresh_token_lifetime"], error=error)
            health.update(vault_path=path, vault_mount=mount)
            rows.append((host, base_url, health, path, mount))
        out = self._outputs(params, hostvars, rows, now)
        out["vault_reads"] = len(documents)
        return out

    def _audit(self, params, hostvars, host):
        fact = host_variables(hostvars, host, (params["audit_fact"],))[params["audit_fact"]]
        if isinstance(fact, dict):
            return fact
        if not params["audit_report_dir"]:
            return None
        path = reports.report_paths(os.path.abspath(params["audit_report_dir"]), host, "store-config")["json"]
        try:
            with open(path, encoding="utf-8") as stream:
                saved = json.load(stream)
        except (OSError, ValueError):
            return None
        return saved if isinstance(saved, dict) else None

    # ------------------------------------------------------------------ outputs
    def _outputs(self, params, hostvars, rows, now):
        environments = {host: health for host, _url, health, _path, _mount in rows}
        states = health_lib.summary((host, health) for host, _url, health, _p, _m in rows)
        lines = ["%d environment%s: %d ok, %d warn, %d critical." % (
            len(rows), "" if len(rows) == 1 else "s", len(states["ok"]), len(states["warn"]), len(states["critical"]))]
        for host, _url, health, _path, _mount in rows:
            if health["state"] != "ok":
                lines.append("%s: %s: %s" % (host, health["state"], health["reason"]))
        out = dict(changed=False, environments=environments, ok=states["ok"], warn=states["warn"],
                   critical=states["critical"], summary=lines)
        generated = reports.now_utc()
        files = []
        if params["report_path"]:
            dest = os.path.abspath(params["report_path"])
            text = health_lib.render_health_html([(host, url, health) for host, url, health, _p, _m in rows],
                                                 params["title"], generated.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                                 reports.FLEET_CSS)
            files.append(("report_path", dest, lambda d=dest, t=text: atomic_write(d, t),
                          "accs_health_report_path"))
        if params["prometheus_path"]:
            dest = os.path.abspath(params["prometheus_path"])
            try:
                from prometheus_client import write_to_textfile
            except ImportError:
                raise AccsError("The Python library 'prometheus-client' is missing on the controller: install it "
                                "(pip install prometheus-client, listed in the collection's requirements.txt) or "
                                "leave accs_health_prometheus_path empty.")
            registry = health_lib.prometheus_registry(
                [(host, health, self._audit(params, hostvars, host)) for host, _u, health, _p, _m in rows], now)
            # write_to_textfile writes a temporary file next to dest and renames it: node_exporter never
            # reads half a file
            files.append(("prometheus_path", dest, lambda d=dest, r=registry: write_to_textfile(d, r),
                          "accs_health_prometheus_path"))
        for key, dest, write, variable in files:
            out[key] = dest
            if self._task.check_mode:
                lines.append("Check mode: %s was not written." % dest)
                continue
            try:
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                write()
            except OSError as exc:
                raise AccsError("Cannot write %s (%s): set %s to a writable location."
                                % (dest, exc.strerror or type(exc).__name__, variable))
            out["changed"] = True
            lines.append("Written: %s" % dest)
        out["msg"] = lines[0]
        return out
