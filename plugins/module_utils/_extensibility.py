# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""App Builder wiring of ACCS as resources: webhooks, event subscriptions, event providers (for internal collection use only).

Each kind is read with one list call, compared on the keys the declaration sets, and written one
call per item. The APIs have few updates: a changed webhook is unsubscribed and subscribed again; a
subscription takes additive and value changes through its merging PUT, and is recreated when a
field or rule must go. Secrets (a webhook's OAuth client secret, header values marked sensitive, a
provider's workspace configuration) are write-only: the lists echo them masked, so they are never
compared, and they are never shown.
"""

from __future__ import annotations

import difflib
import json
import re
from urllib.parse import quote

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import AccsApiError, ConfigError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import Operation, open_accs, token_facts
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import (
    ACCS_CONNECTION_RULES,
    EVENT_PROVIDER_SPEC,
    EVENT_SUBSCRIPTION_SPEC,
    EVENTING_CONFIG_SPEC,
    EXTENSIBILITY_INFO_SPEC,
    WEBHOOK_SPEC,
    ResourceOptions,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._resource import (
    ABSENT,
    CREATE,
    DELETE,
    REPLACE,
    SENSITIVE_MASK,
    UPDATE,
    ItemwiseResource,
    converge,
    declared_once,
    service_words,
)

DEFAULT_SENSITIVE_HEADERS = ("authorization", "proxy-authorization", "x-api-key", "cookie")
NAME_RE = re.compile(r"^[a-z0-9_.]+$")
HOOK_NAME_RE = re.compile(r"^[A-Za-z0-9_]{1,128}$")
DEFAULT_PROVIDER = "default"


def _clean(item, drop=("state",)):
    """The keys the user set (argument specs fill unset suboptions with None)."""
    if isinstance(item, dict):
        return {k: _clean(v, ()) for k, v in item.items() if v is not None and k not in drop}
    if isinstance(item, list):
        return [_clean(v, ()) for v in item]
    return item


def _scalar(value):
    """Scalars as comparable text: true/"1"/1 and "100"/100 compare equal, as Commerce stores them."""
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value).strip()
    if text.lower() in ("true", "false"):
        return "1" if text.lower() == "true" else "0"
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else str(number)


def _entries(items, keys):
    """A list of dicts as a set of tuples over ``keys``: order and duplicates do not matter."""
    return {tuple(_scalar(i.get(k)) if i.get(k) is not None else None for k in keys) for i in items or []}


def _near(name, supported):
    close = difflib.get_close_matches(name, supported, n=3, cutoff=0.6)
    return (" (did you mean %s?)" % ", ".join(close)) if close else ""


def _check_prune(params, noun):
    if params.get("prune") and not params.get("owner_prefix"):
        raise ConfigError("prune needs owner_prefix, so that only this app's %s are removed: set owner_prefix to the "
                          "prefix your %s names start with." % (noun, noun))


def _prune(params, name_of):
    if not params.get("prune"):
        return None
    prefix = params["owner_prefix"]
    return lambda key: name_of(key).startswith(prefix)


class _Listed(ItemwiseResource):
    """Shared by the three kinds: request counting and Commerce's words on refusals."""

    def __init__(self, client):
        super().__init__()
        self.client = client
        self.where = "ACCS at %s" % client.base_url
        # {path: list} shared by the kinds of one read-only audit, so that a list one kind needs again (the
        # providers, for a subscription's provider) is read once; None: every listing is read
        self.listings = None

    def call(self, method, path, body=None):
        self.requests[method] += 1
        # A write that failed ambiguously is never re-sent by the transport: the engine lists again.
        return self.client.request(method, path, body=body, idempotent=method in ("GET", "HEAD")).json

    def replace(self, change):
        # No update covers this change (webhooks have none; a subscription's PUT cannot remove):
        # remove the item, then make it again.
        self.delete(change)
        try:
            self.create(change)
        except AccsApiError as err:
            err.recreate_half_done = True
            raise

    def refusal(self, change, err):
        said = service_words(err)
        if getattr(err, "recreate_half_done", False):
            return ("removed to be changed, then ACCS refused the new definition (%s), so it does not exist now" % said)
        return said

    def listing(self, path):
        if self.listings is not None and path in self.listings:
            return self.listings[path]
        body = self.call("GET", path)
        if not isinstance(body, list):
            raise ConfigError("%s answered GET %s with something other than a list: check that base_url points at an "
                              "ACCS instance with App Builder extensibility enabled." % (self.where, path))
        if self.listings is not None:
            self.listings[path] = body
        return body


# --------------------------------------------------------------------------- webhooks
def webhook_method(name):
    # Commerce stores plugin.magento.X as plugin.X (Adobe's SDK normalises the same way).
    return re.sub(r"^plugin\.magento\.", "plugin.", name or "")


def webhook_key(hook):
    return (webhook_method(hook.get("webhook_method")), hook.get("webhook_type"), hook.get("batch_name"),
            hook.get("hook_name"))


def _webhook_label(key):
    return "%s %s %s/%s" % key


class Webhooks(_Listed):
    noun, nouns = "webhook", "webhooks"
    SCALARS = ("url", "method", "priority", "required", "soft_timeout", "timeout", "ttl", "fallback_error_message",
               "batch_order")

    def __init__(self, client, sensitive_headers):
        super().__init__(client)
        self.sensitive_headers = {h.lower() for h in sensitive_headers}

    def key(self, item):
        return webhook_key(item)

    def identity(self, key):
        return dict(zip(("webhook_method", "webhook_type", "batch_name", "hook_name"), key))

    def label(self, key):
        return _webhook_label(key)

    def read(self, keys):
        return {webhook_key(h): h for h in self.listing("/V1/webhooks/list") if isinstance(h, dict)}

    def same(self, key, desired, current):
        for name in self.SCALARS:
            if name in desired and _scalar(desired[name]) != _scalar(current.get(name, "")):
                if not (name == "url" and str(desired[name]).strip() == str(current.get(name, "")).strip()):
                    return False
        for name, keys in (("fields", ("name", "source")), ("rules", ("field", "operator", "value")),
                           ("headers", ("name", "value"))):
            if name in desired and _entries(desired[name], keys) != _entries(current.get(name), keys):
                return False
        if "developer_console_oauth" in desired:
            want, have = desired["developer_console_oauth"], current.get("developer_console_oauth") or {}
            for name in ("client_id", "org_id"):
                if want.get(name) != have.get(name):
                    return False
            if (want.get("environment") or "production") != (have.get("environment") or "production"):
                return False
        return True

    def plan_item(self, key, desired, current):
        if current is ABSENT:
            return CREATE
        return None if self.same(key, desired, current) else REPLACE

    def show(self, key, value):
        if value is ABSENT or value is None:
            return None
        shown = json.loads(json.dumps(value))
        oauth = shown.get("developer_console_oauth")
        if isinstance(oauth, dict) and "client_secret" in oauth:
            oauth["client_secret"] = SENSITIVE_MASK
        for header in shown.get("headers") or []:
            if isinstance(header, dict) and str(header.get("name", "")).lower() in self.sensitive_headers:
                header["value"] = SENSITIVE_MASK
        return shown

    def check_plan(self, changes):
        writes = [c for c in changes if c.action in (CREATE, REPLACE)]
        if not writes:
            return
        supported = [e.get("name") for e in self.listing("/V1/webhooks/supportedList") if isinstance(e, dict)]
        normalised = {webhook_method(n) for n in supported}
        for change in writes:
            if change.key[0] not in normalised:
                raise ConfigError("Webhook %s names webhook_method %s, which %s does not support%s: use a name from "
                                  "GET /V1/webhooks/supportedList." % (self.label(change.key), change.key[0], self.where,
                                                                       _near(change.key[0], sorted(normalised))))

    def create(self, change):
        self.call("POST", "/V1/webhooks/subscribe", {"webhook": change.after})

    def delete(self, change):
        self.call("POST", "/V1/webhooks/unsubscribe", {"webhook": self.identity(change.key)})


def _webhooks_desired(params):
    present, absent = [], []
    for raw in params.get("webhooks") or []:
        hook = _clean(raw)
        for name in ("webhook_method", "webhook_type", "batch_name", "hook_name"):
            if not hook.get(name):
                raise ConfigError("A webhook is missing %s: give webhook_method, webhook_type, batch_name and hook_name."
                                  % name)
        if not HOOK_NAME_RE.match(hook["hook_name"]):
            raise ConfigError("Webhook hook_name '%s' has characters ACCS refuses: use letters, digits and underscores "
                              "only (at most 128)." % hook["hook_name"])
        hook["webhook_method"] = webhook_method(hook["webhook_method"])
        if raw.get("state") == "absent":
            absent.append(webhook_key(hook))
        else:
            if not hook.get("url"):
                raise ConfigError("Webhook %s has no url: give the App Builder action's address." % hook["hook_name"])
            present.append((webhook_key(hook), hook))
    return present, absent


# --------------------------------------------------------------------------- event subscriptions
class Subscriptions(_Listed):
    noun, nouns = "event subscription", "event subscriptions"

    def __init__(self, client):
        super().__init__(client)
        self._default_provider = None

    def key(self, item):
        return item["name"]

    def identity(self, key):
        return {"name": key}

    def label(self, key):
        return key

    def read(self, keys):
        return {s["name"].lower(): s for s in self.listing("/V1/eventing/getEventSubscriptions")
                if isinstance(s, dict) and s.get("name")}

    def default_provider(self):
        """The default provider's id (one list of providers, only when a comparison needs it)."""
        if self._default_provider is None:
            providers = self.listing("/V1/eventing/eventProvider")
            self._default_provider = next((p.get("provider_id") for p in providers
                                           if isinstance(p, dict) and not p.get("id")), "") or ""
        return self._default_provider

    def _provider(self, value):
        if value in (None, "", DEFAULT_PROVIDER):
            return DEFAULT_PROVIDER
        if self._default_provider is None and value:
            # Only an explicit id can be the default one's: look it up once.
            self.default_provider()
        return DEFAULT_PROVIDER if value == self._default_provider else value

    @staticmethod
    def _parent(item):
        parent = item.get("parent")
        return None if not parent or parent == item.get("name") else parent

    def change_kind(self, desired, current):
        """None, UPDATE (the merging PUT does it) or REPLACE (something must be removed)."""
        kind = None
        if "fields" in desired:
            want = {f["name"]: (f.get("source"), f.get("converter")) for f in desired["fields"]}
            have = {f.get("name"): (f.get("source"), f.get("converter")) for f in current.get("fields") or []}
            if set(have) - set(want):
                return REPLACE
            if want != have:
                kind = UPDATE
        if "rules" in desired:
            want = {(r["field"], r["operator"]): _scalar(r.get("value", "")) for r in desired["rules"]}
            have = {(r.get("field"), r.get("operator")): _scalar(r.get("value", "")) for r in current.get("rules") or []}
            if set(have) - set(want):
                return REPLACE
            if want != have:
                kind = UPDATE
        if self._parent(desired) != self._parent(current):
            if self._parent(desired) is None:
                return REPLACE
            kind = UPDATE
        for name in ("priority", "hipaa_audit_required", "destination"):
            if name in desired and _scalar(desired[name]) != _scalar(current.get(name, False)):
                kind = UPDATE
        if "provider_id" in desired or current.get("provider_id") not in (None, "", DEFAULT_PROVIDER):
            if self._provider(desired.get("provider_id")) != self._provider(current.get("provider_id")):
                kind = UPDATE
        return kind

    def same(self, key, desired, current):
        return self.change_kind(desired, current) is None

    def plan_item(self, key, desired, current):
        if current is ABSENT:
            return CREATE
        return self.change_kind(desired, current)

    def check_plan(self, changes):
        writes = [c for c in changes if c.action != DELETE]
        if not writes:
            return
        supported = sorted(e.get("name") for e in self.listing("/V1/eventing/supportedList") if isinstance(e, dict))
        for change in writes:
            code = change.after.get("parent") or change.after["name"]
            if code not in supported:
                raise ConfigError("Event subscription %s is for event %s, which %s does not support%s: use a name from "
                                  "GET /V1/eventing/supportedList." % (change.key, code, self.where,
                                                                       _near(code, supported)))

    def create(self, change):
        self.call("POST", "/V1/eventing/eventSubscribe", {"event": change.after, "force": False})

    def update(self, change):
        self.call("PUT", "/V1/eventing/eventSubscribe/" + quote(change.key, safe=""), {"event": change.after})

    def delete(self, change):
        try:
            self.call("POST", "/V1/eventing/eventUnsubscribe/" + quote(change.key, safe=""))
        except AccsApiError as err:
            if err.status != 404:  # 404: already gone, which is what was asked
                raise


def _subscriptions_desired(params):
    present, absent = [], []
    for raw in params.get("subscriptions") or []:
        sub = _clean(raw)
        name = sub.get("name") or ""
        if not NAME_RE.match(name):
            raise ConfigError("Event subscription name '%s' must use lower-case letters, digits, underscores and dots "
                              "only (ACCS refuses hyphens and matches names case-insensitively): rename it, for "
                              "example '%s'." % (name, re.sub(r"[^a-z0-9_.]", "_", name.lower())))
        if raw.get("state") == "absent":
            absent.append(name)
        else:
            present.append((name, sub))
    return present, absent


# --------------------------------------------------------------------------- event providers
class Providers(_Listed):
    noun, nouns = "event provider", "event providers"

    def __init__(self, client, update_workspace):
        super().__init__(client)
        self.update_workspace = update_workspace
        self.default_id = None

    def key(self, item):
        return item["provider_id"]

    def identity(self, key):
        return {"provider_id": key}

    def label(self, key):
        return key

    def read(self, keys):
        current = {}
        for provider in self.listing("/V1/eventing/eventProvider"):
            if not isinstance(provider, dict) or not provider.get("provider_id"):
                continue
            if not provider.get("id"):
                self.default_id = provider["provider_id"]  # the default provider (system configuration)
            current[provider["provider_id"]] = provider
        return current

    def plan_item(self, key, desired, current):
        if key == self.default_id:
            raise ConfigError("Event provider %s is %s's default provider, which lives in its eventing configuration: "
                              "manage it with adobe_commerce.accs.accs_eventing_config." % (key, self.where))
        if current is ABSENT:
            return CREATE
        for name in ("instance_id", "label", "description"):
            if name in desired and str(desired[name]) != str(current.get(name) or ""):
                return UPDATE
        if self.update_workspace == "always" and desired.get("workspace_configuration"):
            return UPDATE
        return None

    def show(self, key, value):
        if value is ABSENT or value is None:
            return None
        shown = dict(value)
        if "workspace_configuration" in shown:
            shown["workspace_configuration"] = SENSITIVE_MASK
        return shown

    def create(self, change):
        self.call("POST", "/V1/eventing/eventProvider", {"eventProvider": change.after})

    def update(self, change):
        body = {k: v for k, v in change.after.items() if k != "workspace_configuration"}
        if self.update_workspace == "always" and change.after.get("workspace_configuration"):
            body["workspace_configuration"] = change.after["workspace_configuration"]
        body.setdefault("instance_id", change.before.get("instance_id"))
        body["id"] = change.before.get("id")
        self.call("PUT", "/V1/eventing/eventProvider", {"eventProvider": body})

    def delete(self, change):
        self.call("DELETE", "/V1/eventing/eventProvider/" + quote(change.key, safe=""))


def _providers_desired(params):
    present, absent = [], []
    for raw in params.get("providers") or []:
        provider = _clean(raw)
        workspace = provider.get("workspace_configuration")
        if isinstance(workspace, (dict, list)):
            provider["workspace_configuration"] = json.dumps(workspace)
        if raw.get("state") == "absent":
            absent.append(provider["provider_id"])
        else:
            present.append((provider["provider_id"], provider))
    return present, absent


# --------------------------------------------------------------------------- operations
def _holder(params, items, resource_for, name_of=None, noun=None, label=str):
    """Check the declaration in ``params`` now, before anything is sent; returns ``hold(client, check_mode,
    warnings, listings=None)``, which converges it over an ACCS client (``listings``: see ``_Listed``)."""
    present, absent = items(params)
    desired = declared_once(present, label, noun)
    prune = _prune(params, name_of) if name_of else None

    def hold(client, check_mode, warnings, listings=None):
        resource = resource_for(client)
        resource.listings = listings
        return converge(resource, desired, absent=absent, prune=prune, check_mode=check_mode)

    return hold


def webhooks_holder(params):
    """The holder of accs_webhook's own options (see ``_holder``)."""
    _check_prune(params, "webhooks")
    sensitive = list(params.get("sensitive_headers") or DEFAULT_SENSITIVE_HEADERS)
    return _holder(params, _webhooks_desired, lambda client: Webhooks(client, sensitive),
                   name_of=lambda key: key[2] or "", noun="webhook", label=_webhook_label)


def subscriptions_holder(params):
    """The holder of accs_event_subscription's own options (see ``_holder``)."""
    _check_prune(params, "event subscriptions")
    return _holder(params, _subscriptions_desired, Subscriptions, name_of=lambda key: key, noun="event subscription")


def providers_holder(params):
    """The holder of accs_event_provider's own options (see ``_holder``)."""
    mode = params.get("update_workspace_configuration") or "on_create"
    return _holder(params, _providers_desired, lambda client: Providers(client, mode), noun="event provider")


def _run(options, check_mode, warnings, holder):
    warnings = [] if warnings is None else warnings
    hold = holder(options.resource)
    client, tokens = open_accs(options, warnings)
    result = hold(client, check_mode, warnings)
    result.update(token_facts(tokens, client))
    return result


def run_webhooks(options, check_mode=False, warnings=None):
    return _run(options, check_mode, warnings, webhooks_holder)


def run_event_subscriptions(options, check_mode=False, warnings=None):
    return _run(options, check_mode, warnings, subscriptions_holder)


def run_event_providers(options, check_mode=False, warnings=None):
    return _run(options, check_mode, warnings, providers_holder)


# --------------------------------------------------------------------------- eventing configuration, reading
CHECKS = (
    ("technical_service_account_configured", "no technical service account is configured: set the workspace "
                                             "configuration"),
    ("technical_service_account_can_connect_to_io_events", "the technical service account cannot connect to Adobe "
                                                           "I/O Events: check the workspace's credentials and APIs"),
    ("provider_id_valid", "the configured provider id is not valid in Adobe I/O Events: create it there or fix "
                          "provider_id"),
)


class IoEventsCheckError(ConfigError):
    """The Adobe I/O Events check of an instance reported failures."""

    kind = "io_events_check"


def _io_check(resource):
    body = resource.call("GET", "/V1/adobe_io_events/check_configuration")
    return body if isinstance(body, dict) else {}


def _failed_checks(check):
    failed = [text for key, text in CHECKS if check.get(key) is False]
    if check.get("status") not in (None, "ok") and not failed:
        failed.append("its status is %s" % check.get("status"))
    if "provider_id_configured" in check and not check.get("provider_id_configured"):
        failed.append("no provider id is configured")
    return failed


def run_eventing_config(options, check_mode=False, warnings=None):
    """PUT eventing/updateConfiguration when the default provider needs it (nothing reads the rest back)."""
    warnings = [] if warnings is None else warnings
    params = options.resource
    client, tokens = open_accs(options, warnings)
    api = _Listed(client)
    default = next((p for p in api.listing("/V1/eventing/eventProvider") if isinstance(p, dict) and not p.get("id")),
                   None)
    workspace = params.get("workspace_configuration")
    if isinstance(workspace, (dict, list)):
        workspace = json.dumps(workspace)
    config = {"enabled": params.get("enabled", True)}
    missing = default is None or not default.get("provider_id")
    unset_workspace = not (default or {}).get("workspace_configuration")  # a stored one reads masked, not empty
    if params.get("force") or missing:
        config.update({k: params[k] for k in ("merchant_id", "environment_id", "provider_id", "instance_id")
                       if params.get(k) is not None})
    if workspace and (params.get("force") or missing or unset_workspace):
        config["workspace_configuration"] = workspace
    apply = bool(params.get("force") or missing or (unset_workspace and workspace))
    # The names of what is (or would be) sent, never the values.
    result = {"changed": apply, "sent": sorted(config) if apply else []}
    if apply and not check_mode:
        api.call("PUT", "/V1/eventing/updateConfiguration", {"config": config})
    if params.get("check", True):
        result["check"] = _io_check(api)
        failed = _failed_checks(result["check"])
        if failed and params.get("require_ok"):
            raise IoEventsCheckError("%s's Adobe I/O Events check failed: %s." % (api.where, "; ".join(failed)),
                                     check=result["check"], requests=dict(api.requests))
    result["requests"] = dict(api.requests)
    result.update(token_facts(tokens, client))
    return result


def run_extensibility_info(options, check_mode=False, warnings=None):
    """Webhooks, subscriptions and providers in the shapes the modules take, the supported lists and the check."""
    warnings = [] if warnings is None else warnings
    wanted = set(options.resource.get("gather") or ("webhooks", "subscriptions", "providers", "supported", "check"))
    client, tokens = open_accs(options, warnings)
    api = _Listed(client)
    result = {"changed": False}
    if "webhooks" in wanted:
        hooks = []
        for hook in api.listing("/V1/webhooks/list"):
            hook = {k: v for k, v in hook.items() if v not in (None, "", [])}
            oauth = hook.get("developer_console_oauth")
            if isinstance(oauth, dict):
                oauth.pop("client_secret", None)  # masked by ACCS: the export says so in its docs
            hooks.append(hook)
        result["webhooks"] = hooks
    if "subscriptions" in wanted:
        result["subscriptions"] = api.listing("/V1/eventing/getEventSubscriptions")
    if "providers" in wanted:
        result["providers"] = [{k: v for k, v in p.items() if k not in ("id", "workspace_configuration")}
                               for p in api.listing("/V1/eventing/eventProvider") if p.get("id")]
    if "supported" in wanted:
        result["supported_webhooks"] = [e.get("name") for e in api.listing("/V1/webhooks/supportedList")]
        result["supported_events"] = [e.get("name") for e in api.listing("/V1/eventing/supportedList")]
    if "check" in wanted:
        result["check"] = _io_check(api)
    result["requests"] = dict(api.requests)
    result.update(token_facts(tokens, client))
    return result


def _operation(module, spec, run):
    return Operation("adobe_commerce.accs." + module, spec, ACCS_CONNECTION_RULES, ResourceOptions, run)


WEBHOOKS = _operation("accs_webhook", WEBHOOK_SPEC, run_webhooks)
EVENT_SUBSCRIPTIONS = _operation("accs_event_subscription", EVENT_SUBSCRIPTION_SPEC, run_event_subscriptions)
EVENT_PROVIDERS = _operation("accs_event_provider", EVENT_PROVIDER_SPEC, run_event_providers)
EVENTING_CONFIG = _operation("accs_eventing_config", EVENTING_CONFIG_SPEC, run_eventing_config)
EXTENSIBILITY_INFO = _operation("accs_extensibility_info", EXTENSIBILITY_INFO_SPEC, run_extensibility_info)
