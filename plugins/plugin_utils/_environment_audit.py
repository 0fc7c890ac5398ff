# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One ACCS environment audited in one step (controller only): the engine of the accs_audit action.

The roles audit one part per task chain (read, compare, report, fail), which costs Ansible's per-task,
per-host machinery several times per environment. Here every declared part is checked first, then the
credential is read once (one Vault read, the cached token), the parts are read over the one client and
its pooled connection, compared by the same functions the roles' filters use, and their reports
written. Each part's result is the fact its role sets, so the fleet report reads either.
"""

from __future__ import annotations

import os
import time

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.adobe_commerce.accs.plugins.module_utils._accs import AccsClient
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import AccsError, ConfigError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._extensibility import (
    providers_holder,
    subscriptions_holder,
    webhooks_holder,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import open_accs, token_facts
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import (
    ACCS_TASK_SPEC,
    EVENT_PROVIDER_SPEC,
    EVENT_SUBSCRIPTION_SPEC,
    SYSTEM_CONFIG_SPEC,
    WEBHOOK_SPEC,
    ResourceOptions,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._system_config import system_config_holder
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils import _extensibility_role as wiring
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils import _health as health_lib
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils import _reports as reports
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils import _system_config_role as config_role
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._drift import (
    AuditInputError,
    compute_drift,
    error_result,
    normalize_expected,
    normalize_rules,
)
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._engine_action import failed_result, no_log_values

STORE_ENDPOINTS = ("storeConfigs", "storeViews", "websites", "storeGroups")
# part -> (key of the result, report kind); the result keys are the facts the roles set, without "accs_"
PARTS = (("store", "store_config", "store-config"), ("system_config", "system_config", "system-config"),
         ("extensibility", "extensibility", "extensibility"), ("credential_health", "credential_health", None))
# kind -> (the spec of the module that holds it, its holder, the role's step)
WIRING = {
    "providers": (EVENT_PROVIDER_SPEC, providers_holder, "providers"),
    "subscriptions": (EVENT_SUBSCRIPTION_SPEC, subscriptions_holder, "subscriptions"),
    "webhooks": (WEBHOOK_SPEC, webhooks_holder, "webhooks"),
}


# variables mode (the playbooks): option -> the role variable it is taken from when the task does not give it
CONNECTION_VARIABLES = (("base_url", "accs_base_url"), ("vault_path", "accs_vault_path"),
                        ("vault_mount", "accs_vault_mount"), ("ims_url", "accs_ims_url"), ("ca_path", "accs_ca_path"),
                        ("report_dir", "accs_audit_report_dir"))
PART_VARIABLES = {
    "store": (("expected", "accs_expected_store_configs"), ("rules", "accs_audit_rules"),
              ("store_code", "accs_store_code"), ("fail_on_drift", "accs_audit_fail_on_drift")),
    "system_config": (("sensitive_paths", "accs_system_config_sensitive_paths"),
                      ("extra_sensitive_paths", "accs_system_config_extra_sensitive_paths"),
                      ("obscured_values", "accs_system_config_obscured_values"),
                      ("fail_on_drift", "accs_system_config_fail_on_drift")),
    "extensibility": (("owner_prefix", "accs_extensibility_owner_prefix"), ("prune", "accs_extensibility_prune"),
                      ("sensitive_headers", "accs_extensibility_sensitive_headers"),
                      ("fail_on_drift", "accs_extensibility_fail_on_drift")),
    "credential_health": (("warn_age", "accs_health_warn_age"), ("critical_age", "accs_health_critical_age"),
                          ("fail_on_critical", "accs_health_fail_on_critical")),
}


def plain(value):
    """``value`` with plain dicts, lists and strings: task variables carry Ansible's tags, which make the deep copy
    of every argument validation several times slower (a large declaration, a thousand environments)."""
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def options_from_variables(args, variable, parts):
    """The task's options completed from the roles' variables (``variable(name)``: its value, None when undefined).

    ``parts`` are audited when the task does not give them: the store and the credential always, the system
    configuration and the App Builder wiring when their variables declare something (as the roles read them)."""
    out = dict(args)
    for option, name in CONNECTION_VARIABLES:
        if out.get(option) is None and variable(name) is not None:
            out[option] = variable(name)
    for part in parts:
        if out.get(part) is not None:
            continue
        given = {option: variable(name) for option, name in PART_VARIABLES[part]}
        given = {option: value for option, value in given.items() if value is not None}
        if part == "system_config":
            given["settings"] = config_role.merge_settings(variable("accs_system_config_common"),
                                                           variable("accs_system_config"))
            if not given["settings"]:
                continue
        elif part == "extensibility":
            given.update(wiring.merge(variable("accs_extensibility_common"), variable("accs_extensibility")))
            if not (given.get("prune") or any(given[kind] for kind in wiring.KINDS)):
                continue
        out[part] = given
    return out


def _own_spec(spec):
    return {name: option for name, option in spec.items() if name not in ACCS_TASK_SPEC}


def _validated(spec, params, where):
    """``params`` checked against a module's own options (defaults filled in); (params, no_log values)."""
    spec = _own_spec(spec)
    outcome = ArgumentSpecValidator(spec).validate(params)
    if outcome.error_messages:
        raise ConfigError("%s: %s; fix the declaration." % (where, "; ".join(outcome.error_messages)))
    return outcome.validated_parameters, no_log_values(spec, outcome.validated_parameters)


class EnvironmentAudit:
    """The audit of one environment: ``prepare`` (no request), then ``run`` over one ACCS client."""

    def __init__(self, params, name, check_mode, warnings):
        self.params = params
        self.name = name
        self.base_url = params["base_url"]
        self.check_mode = check_mode
        self.warnings = warnings
        self.hidden = set()
        self.directory = os.path.abspath(os.path.expanduser(params["report_dir"]))
        self.problems = {}   # part -> why it cannot run (a sentence), found before anything is sent
        self.holders = {}    # part -> what it runs over the client
        self.answers = {}    # part -> what it read (the modules' results), for --diff

    # ------------------------------------------------------------------ before any request
    def prepare(self):
        """Check every declared part; a part whose declaration is wrong fails alone, without a request."""
        for part, check in (("store", self._prepare_store), ("system_config", self._prepare_system_config),
                            ("extensibility", self._prepare_wiring)):
            if self.params.get(part) is None:
                continue
            try:
                check(self.params[part])
            except (AccsError, AuditInputError) as err:
                self.problems[part] = getattr(err, "message", None) or str(err)

    def _prepare_store(self, options):
        normalize_expected(options["expected"])
        normalize_rules(options["rules"])

    def _prepare_system_config(self, options):
        own = {k: options[k] for k in ("settings", "obscured_values", "sensitive_paths", "extra_sensitive_paths")}
        params, hidden = _validated(SYSTEM_CONFIG_SPEC, own, "The declared system configuration")
        self.hidden |= hidden
        self.holders["system_config"] = system_config_holder(params)

    def _prepare_wiring(self, options):
        prefix = options["owner_prefix"]
        holders = []
        for kind, (spec, holder, step) in WIRING.items():
            if not options[kind] and not options["prune"]:
                continue
            own = {kind: options[kind]}
            if kind == "webhooks":
                own["sensitive_headers"] = options["sensitive_headers"]
            if kind in ("webhooks", "subscriptions"):
                kind_prefix = (prefix.get(kind) if isinstance(prefix, dict) else prefix) or None
                if options["prune"] and kind_prefix is None:
                    if isinstance(prefix, dict) or not options[kind]:
                        continue  # the role prunes only the kinds that have a prefix
                    raise ConfigError("Pruning needs owner_prefix (accs_extensibility_owner_prefix), so that only this "
                                      "app's webhooks and subscriptions are removed: set it to the prefix their batch "
                                      "names and names start with.")
                own.update(owner_prefix=kind_prefix, prune=bool(options["prune"] and kind_prefix))
            elif not options[kind]:
                continue
            params, hidden = _validated(spec, own, "The declared %s" % wiring.PLURAL[wiring.NOUN[kind]])
            self.hidden |= hidden
            holders.append((step, holder(params)))
        self.holders["extensibility"] = holders

    # ------------------------------------------------------------------ requests
    def run(self):
        """Every part's result, keyed as PARTS says, plus the token facts."""
        params = self.params
        answers = {}
        try:
            client, tokens = open_accs(ResourceOptions.from_params(params.get, params), self.warnings)
        except AccsError as err:  # no credential, no token: every part says why
            return self._results(connection_error=err.message)
        if params.get("store") is not None and "store" not in self.problems:
            answers["store"] = self._read_store(client, tokens)
        if "system_config" in self.holders:
            try:
                answers["system_config"] = self.holders["system_config"](client, True, self.warnings)
            except AccsError as err:
                answers["system_config"] = failed_result(err)
        if "extensibility" in self.holders:
            listings = {}  # each list read once for all kinds (read only: nothing changes them during the audit)
            steps = answers["extensibility"] = {}
            for step, hold in self.holders["extensibility"]:
                try:
                    steps[step] = hold(client, True, self.warnings, listings=listings)
                except AccsError as err:
                    steps[step] = failed_result(err)
        self.answers = answers
        results = self._results(answers=answers, credential=tokens.credential)
        results["token"] = token_facts(tokens, client)
        return results

    def _read_store(self, client, tokens):
        options = self.params["store"]
        reader = client
        if options["store_code"]:
            reader = AccsClient(client.http, client.base_url, tokens, api_key=client.api_key, org_id=client.org_id,
                                store_code=options["store_code"])
        try:
            return {name: reader.request("GET", "/V1/store/" + name).json for name in STORE_ENDPOINTS}
        except AccsError as err:
            return err.message

    # ------------------------------------------------------------------ results
    def _results(self, answers=None, connection_error=None, credential=None):
        answers = answers or {}
        out = {}
        if self.params.get("store") is not None:
            out["store_config"] = self._store_result(answers.get("store"), connection_error)
        if self.params.get("system_config") is not None:
            out["system_config"] = self._system_config_result(answers.get("system_config"), connection_error)
        if self.params.get("extensibility") is not None:
            out["extensibility"] = self._wiring_result(answers.get("extensibility"), connection_error)
        if self.params.get("credential_health") is not None:
            out["credential_health"] = self._health_result(credential, connection_error)
        for part, key, kind in PARTS:
            if kind and key in out:
                out[key]["reports"] = reports.report_paths(self.directory, self.name, kind)
                out[key]["reports_written"] = not self.check_mode
        return out

    def _store_result(self, answer, connection_error):
        error = self.problems.get("store") or connection_error or (answer if isinstance(answer, str) else None)
        if error is not None:
            return error_result(error)
        try:
            return compute_drift(answer, expected=self.params["store"]["expected"], rules=self.params["store"]["rules"])
        except AuditInputError as err:
            return error_result(str(err))

    def _system_config_result(self, answer, connection_error):
        error = self.problems.get("system_config") or connection_error
        settings = self.params["system_config"]["settings"]
        return config_role.role_result(answer if error is None else {}, mode="audit", settings=settings,
                                       check_mode=self.check_mode, error=error)

    def _wiring_result(self, answers, connection_error):
        options = self.params["extensibility"]
        error = self.problems.get("extensibility") or connection_error
        return wiring.role_result(answers if error is None else {}, mode="audit", check_mode=self.check_mode,
                                  declared={kind: options[kind] for kind in wiring.KINDS}, error=error,
                                  name=self.name, base_url=self.base_url, fail_on_drift=options["fail_on_drift"])

    def _health_result(self, credential, connection_error):
        options = self.params["credential_health"]
        now = time.time()
        if credential is None:
            health = health_lib.assess(None, None, now, error=connection_error or (
                "The task gives access_token, not a credential in Vault, so its health cannot be checked: give "
                "vault_path."))
        else:
            health = health_lib.assess_credential(credential, now, options["warn_age"], options["critical_age"])
        if self.params.get("vault_path"):
            health.update(vault_path=self.params["vault_path"], vault_mount=self.params.get("vault_mount"))
        return health

    # ------------------------------------------------------------------ verdict and reports
    def failures(self, results):
        """The sentences the environment fails with, one per part that failed (the roles' own sentences)."""
        where = "%s (%s): " % (self.name, self.base_url)
        out = []
        store = results.get("store_config")
        if store is not None:
            if store.get("error"):
                out.append(store["error"])
            elif not store["passed"] and self.params["store"]["fail_on_drift"]:
                out.append(where + store["message"])
        config = results.get("system_config")
        if config is not None:
            if config.get("error") or config["rejected"]:
                out.append(where + config["message"])
            elif config["drift"] and self.params["system_config"]["fail_on_drift"]:
                out.append(where + config["message"].rstrip(".") + "; set accs_system_config_mode: enforce to write "
                           "them, or change the declaration.")
        wired = results.get("extensibility")
        if wired is not None and wired.get("failure"):
            out.append(wired["failure"])
        health = results.get("credential_health")
        if (health is not None and health["state"] == "critical"
                and self.params["credential_health"]["fail_on_critical"]):
            out.append("%s: %s" % (self.name, health["reason"]))
        return out

    def diff(self, results):
        """What differs, as --diff shows it: the store drift, then each declared item's (masked) diff."""
        out = []
        store = results.get("store_config")
        if store and store.get("drift"):
            out.extend(reports.drift_diff(self.name, store))
        config = self.answers.get("system_config")
        if isinstance(config, dict):
            out.extend(config.get("diff") or [])
        for answer in (self.answers.get("extensibility") or {}).values():
            out.extend(answer.get("diff") or [])
        return out

    def report_texts(self, results):
        """``{path: text}`` of every part's reports."""
        moment = reports.now_utc()
        texts = {}
        for part, key, kind in PARTS:
            if kind and key in results:
                rendered = reports.render_reports(kind, self.name, results[key], self.base_url, moment)
                texts.update({path: rendered[which] for which, path in results[key]["reports"].items()})
        return texts
