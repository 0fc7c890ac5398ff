"""ACCS extensibility endpoints of the emulator: webhooks, event subscriptions, event providers,
the eventing configuration and the Adobe I/O Events check.

Pure logic over one tenant's data; ``server.App`` does authentication, faults, the request log
and locking.  Behaviour follows ``shared/reference/accs-extensibility.md``; every behaviour that
file marks UNCERTAIN is a per-tenant switch (``DEFAULT_MODE``).  See ``README.md``, section
"Extensibility".

A tenant's state is ``tenant["ext"]`` (``new_state()``); its switches ``tenant["ext_mode"]``.
Handlers answer ``(status, body, info)``: info carries the request-log fields (``ext_action``,
``ext_identity``, ``ext_applied``, never a secret value) and ``secrets``: ``[(kind, value)]``
given to the emulator, for ``/_control/secrets``.
"""

from __future__ import annotations

import copy
import re
import uuid
from urllib.parse import unquote

from .commerce import MSG_REQUIRED, MSG_TYPE, CommerceError, json_payload

# ---- switches ------------------------------------------------------------------------------

DEFAULT_MODE = {
    "webhook_defaults": "omit",
    "exists_message": "paas",
    "webhook_write_answer": "empty_list",
    "unsubscribe_missing": 400,
    "parent_echo": "absent",
    "provider_id_echo": "real",
    "default_provider_label": "without",
    "workspace_mask": "******",
    "provider_record_id": "string",
    "delete_default_provider": "not_found",
    "force_overwrites": False,
    "half_subscribe": False,
    "io_events_check": "real",
}
MODE_CHOICES = {
    "webhook_defaults": ("omit", "xml_defaults", "xml_defaults_empty_method"),
    "exists_message": ("paas", "generic"),
    "webhook_write_answer": ("empty_list", "true"),
    "unsubscribe_missing": (400, 404),
    "parent_echo": ("absent", "empty", "name"),
    "provider_id_echo": ("real", "default"),
    "default_provider_label": ("without", "with"),
    "workspace_mask": ("******", "****"),
    "provider_record_id": ("string", "integer"),
    "delete_default_provider": ("not_found", "refused"),
    "io_events_check": ("real", "service_account_missing", "cannot_connect", "provider_invalid"),
}
BOOL_SWITCHES = ("force_overwrites",)

# ---- seeded supported lists (real Commerce names) -------------------------------------------

SUPPORTED_WEBHOOKS = [
    "observer.catalog_product_save_before",
    "observer.checkout_cart_product_add_before",
    "observer.checkout_cart_product_update_before",
    "observer.customer_address_save_before",
    "observer.customer_save_before",
    "observer.sales_order_place_before",
    "observer.sales_quote_add_item",
    "observer.sales_quote_remove_item",
    "plugin.checkout.api.payment_information_management.save_payment_information_and_place_order",
    "plugin.checkout.api.shipping_information_management.save_address_information",
    "plugin.out_of_process_payment_methods.api.payment_method_filter.get_list",
    "plugin.out_of_process_shipping_methods.api.shipping_rate_repository.get_rates",
    "plugin.sales.api.order_management.place",
    "plugin.quote.api.guest_coupon_management.set",
]

SUPPORTED_EVENTS = [
    "observer.catalog_category_save_after",
    "observer.catalog_category_delete_after",
    "observer.catalog_product_delete_commit_after",
    "observer.catalog_product_save_after",
    "observer.catalog_product_save_commit_after",
    "observer.cataloginventory_stock_item_save_commit_after",
    "observer.checkout_cart_product_add_after",
    "observer.customer_login",
    "observer.customer_logout",
    "observer.customer_register_success",
    "observer.customer_save_commit_after",
    "observer.customer_delete_commit_after",
    "observer.sales_order_creditmemo_save_after",
    "observer.sales_order_invoice_save_commit_after",
    "observer.sales_order_save_commit_after",
    "observer.sales_order_shipment_save_after",
    "observer.sales_order_place_after",
    "plugin.sales.api.order_management.place",
    "plugin.sales.api.order_repository.save",
    "plugin.catalog.api.product_repository.save",
]

# ---- messages (templates with %1 placeholders; parameters carry the values) ------------------

NO_ROUTE = "Request does not match any route."
INTERNAL = "Internal Error. Details are available in Magento log file. Report ID: %1"

WH_EXISTS = {
    "paas": "The webhook already exists in the app/etc/env.php configuration file.",
    "generic": "The webhook already exists.",
}
WH_MISSING = {
    "paas": "The webhook could not be deleted. The webhook does not exist in the app/etc/env.php configuration file.",
    "generic": "The webhook could not be deleted. The webhook does not exist.",
}
WH_HOOK_NAME = "The hook name can contain only alphanumeric characters and underscores."
WH_HOOK_NAME_LONG = "The hook name can not be longer than %1 characters."
WH_BATCH_NAME = "The batch name can contain only alphanumeric characters and underscores."
WH_TYPE = "The webhook type can be one of [before, after]"
WH_UNSUPPORTED = ('The webhook method "%1" is not supported. The list of supported webhooks: '
                  "GET /V1/webhooks/supportedList")
WH_NON_NEGATIVE = 'The "%1" value must be a non-negative integer.'
WH_OPERATOR = 'The rule operator "%1" is not supported. Supported operators: %2'
WH_OAUTH = "Values for the following fields must be provided for Developer Console OAuth: %1"
WH_OAUTH_ENV = 'The Developer Console OAuth environment "%1" is not valid. Valid environments: %2'

EV_EXISTS = {
    "paas": 'Event is already subscribed "%1"',
    "generic": 'An event subscription with the name "%1" already exists.',
}
EV_NAME_CHARS = 'Event name "%1" can contain only alphanumeric characters, underscores and dots.'
EV_CODE_FORMAT = ('Event code "%1" must consist of a type label and an event code separated by a dot: '
                  '"<type>.<event_code>". Valid types: %2')
EV_CODE_TYPE = 'Invalid event type "%1" in the provided event code "%2". Valid types: %3'
EV_ALIAS_RESERVED = ('"%1" cannot be used as the event code for an alias or a rule-based event. This event code '
                     'is already reserved for supported events.')
EV_UNSUPPORTED = 'The event "%1" is not supported. The list of supported events: GET /V1/eventing/supportedList'
EV_PROVIDER = 'The event provider id "%1" is not configured. The list of configured event provider ids are: [%2]'
EV_OPERATOR = 'The rule operator "%1" is not supported. Supported operators: %2'
EV_FIELD_NAME = 'The field name "%1" is not valid.'
EV_UPDATE_MISSING = "Unable to update the event subscription. A subscription for %1 does not exist"
EV_UPDATE_DISABLED = "Unable to update the event subscription. The subscription for %1 is not enabled"
EV_UNSUB_MISSING_400 = 'The "%1" event is not registered. You cannot unsubscribe from it.'
EV_UNSUB_DISABLED_400 = 'The "%1" event has already been unsubscribed.'
EV_UNSUB_MISSING_404 = 'The event subscription "%1" does not exist.'

PR_NOT_FOUND = 'The event provider with ID "%1" not found.'
PR_EXISTS = 'The event provider with ID "%1" already exists.'
PR_INSTANCE = "The event provider instance ID is required and can not be empty."
PR_LINKED = ('The event provider "%1" cannot be removed. The event provider has linked event subscriptions: [%2]. '
             'Remove the linked event subscriptions or change their provider IDs before removing the event provider.')
PR_DEFAULT = 'The default event provider "%1" cannot be removed. Change it with PUT /V1/eventing/updateConfiguration.'
CFG_CHARS = 'The %1 value "%2" is not valid. Allowed characters: %3'

HOOK_NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")
HOOK_NAME_MAX = 128
EVENT_NAME_RE = re.compile(r"^[A-Za-z0-9_.]+$")
EVENT_FIELD_RE = re.compile(r"^([a-zA-Z0-9_\-.[\]]+|\*)$")
WEBHOOK_TYPES = ("before", "after")
WEBHOOK_OPERATORS = ("greaterThan", "lessThan", "equal", "notEqual", "regex", "in", "isEmpty", "notEmpty")
EVENT_OPERATORS = ("greaterThan", "lessThan", "equal", "regex", "in", "onChange")
EVENT_TYPES = ("plugin", "observer")
OAUTH_ENVIRONMENTS = ("production", "staging")
CFG_WORD = re.compile(r"^[A-Za-z0-9_]*$")
CFG_ID = re.compile(r"^[A-Za-z0-9_-]*$")

WEBHOOK_STR = ("webhook_method", "webhook_type", "batch_name", "hook_name", "url", "method",
               "fallback_error_message")
WEBHOOK_INT = ("batch_order", "priority", "soft_timeout", "timeout", "ttl")
WEBHOOK_NON_NEGATIVE = ("soft_timeout", "timeout", "ttl")
WEBHOOK_KEYS = WEBHOOK_STR + WEBHOOK_INT + ("required", "fields", "rules", "headers", "developer_console_oauth")
WEBHOOK_IDENTITY = ("webhook_method", "webhook_type", "batch_name", "hook_name")
XML_DEFAULTS = {"batch_order": 0, "method": "POST", "priority": 0, "required": True, "soft_timeout": 0,
                "timeout": 0, "ttl": 0, "fallback_error_message": ""}
EVENT_KEYS = ("name", "parent", "fields", "rules", "destination", "priority", "hipaa_audit_required", "provider_id")
PROVIDER_KEYS = ("id", "provider_id", "instance_id", "label", "description", "workspace_configuration")
CONFIG_KEYS = ("enabled", "merchant_id", "environment_id", "provider_id", "instance_id", "workspace_configuration")

SECRET_WEBHOOK = "webhook_client_secrets"
SECRET_HEADER = "webhook_header_values"
SECRET_WORKSPACE = "workspace_configurations"
SECRET_KINDS = (SECRET_WEBHOOK, SECRET_HEADER, SECRET_WORKSPACE)


def new_state():
    return {
        "webhooks": [],
        "subscriptions": [],
        "providers": [],
        "default_provider": None,
        "eventing_config": {},
        "next_provider_id": 1,
        "supported_webhooks": list(SUPPORTED_WEBHOOKS),
        "supported_events": list(SUPPORTED_EVENTS),
    }


def build_mode(body, base=None):
    mode = dict(base or DEFAULT_MODE)
    if not isinstance(body, dict):
        raise ValueError("extensibility_mode must be an object")
    for name, value in body.items():
        if name not in DEFAULT_MODE:
            raise ValueError("unknown extensibility switch %s" % name)
        if value is None:
            continue
        if name in MODE_CHOICES:
            if value not in MODE_CHOICES[name] or isinstance(value, bool):
                raise ValueError("%s must be one of %s" % (name, ", ".join(str(c) for c in MODE_CHOICES[name])))
        elif name in BOOL_SWITCHES:
            if not isinstance(value, bool):
                raise ValueError("%s must be a boolean" % name)
        elif name == "half_subscribe":
            if not (isinstance(value, bool) or (isinstance(value, int) and value >= 0)):
                raise ValueError("half_subscribe must be a boolean or a non-negative integer (times)")
        mode[name] = value
    return mode


# ---- input helpers ---------------------------------------------------------------------------


def _payload(raw, wrapper):
    payload = json_payload(raw)
    if not isinstance(payload, dict) or wrapper not in payload or payload[wrapper] is None:
        raise CommerceError(400, MSG_REQUIRED, {"fieldName": wrapper})
    if not isinstance(payload[wrapper], dict):
        raise CommerceError(400, MSG_TYPE, {"fieldName": wrapper, "type": "object"})
    return payload


def _str(obj, key, where):
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise CommerceError(400, MSG_TYPE, {"fieldName": where + key, "type": "string"})
    return value if isinstance(value, str) else str(value)


def _int(obj, key, where):
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.match(r"^-?\d+$", value.strip()):
        return int(value.strip())
    raise CommerceError(400, MSG_TYPE, {"fieldName": where + key, "type": "int"})


def _bool(obj, key, where):
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if value in (0, 1) or value in ("0", "1"):
        return bool(int(value))
    if value in ("true", "false"):
        return value == "true"
    raise CommerceError(400, MSG_TYPE, {"fieldName": where + key, "type": "bool"})


def _list_of_objects(obj, key, where):
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
        raise CommerceError(400, MSG_TYPE, {"fieldName": where + key, "type": "array"})
    return value


def _all_stars(value):
    return bool(value) and set(value) == {"*"}


def _lower(name):
    return (name or "").lower()


# ---- webhooks --------------------------------------------------------------------------------


def normalise_method(method):
    return re.sub(r"^plugin\.magento\.", "plugin.", method or "")


def webhook_identity(hook):
    return (normalise_method(hook["webhook_method"]), hook["webhook_type"], hook["batch_name"], hook["hook_name"])


def _identity_dict(hook):
    return dict(zip(WEBHOOK_IDENTITY, webhook_identity(hook)))


def parse_webhook(w, supported=None, full=True):
    """A stored webhook from an API input object; CommerceError(400) when invalid.  supported: the
    supported webhook names (None: not checked).  full=False: identity only (unsubscribe)."""
    where = "webhook."
    hook = {}
    for key in WEBHOOK_IDENTITY + (("url",) if full else ()):
        value = _str(w, key, where)
        if key == "url" and value is not None:
            value = value.strip()
        if value is None or value == "":
            raise CommerceError(400, MSG_REQUIRED, {"fieldName": where + key})
        hook[key] = value
    hook["webhook_method"] = normalise_method(hook["webhook_method"])
    if not HOOK_NAME_RE.match(hook["hook_name"]):
        raise CommerceError(400, WH_HOOK_NAME)
    if len(hook["hook_name"]) > HOOK_NAME_MAX:
        raise CommerceError(400, WH_HOOK_NAME_LONG, [str(HOOK_NAME_MAX)])
    if not HOOK_NAME_RE.match(hook["batch_name"]):
        raise CommerceError(400, WH_BATCH_NAME)
    if hook["webhook_type"] not in WEBHOOK_TYPES:
        raise CommerceError(400, WH_TYPE)
    if not full:
        return hook
    if supported is not None and hook["webhook_method"] not in {normalise_method(n) for n in supported}:
        raise CommerceError(400, WH_UNSUPPORTED, [w.get("webhook_method")])
    for key in ("method", "fallback_error_message"):
        value = _str(w, key, where)
        if value is not None:
            hook[key] = value
    for key in WEBHOOK_INT:
        value = _int(w, key, where)
        if value is not None:
            if key in WEBHOOK_NON_NEGATIVE and value < 0:
                raise CommerceError(400, WH_NON_NEGATIVE, [key])
            hook[key] = value
    required = _bool(w, "required", where)
    if required is not None:
        hook["required"] = required
    fields = {}
    for i, f in enumerate(_list_of_objects(w, "fields", where)):
        name = _str(f, "name", "%sfields[%d]." % (where, i))
        if not name:
            raise CommerceError(400, MSG_REQUIRED, {"fieldName": "%sfields[%d].name" % (where, i)})
        item = {"name": name}
        source = _str(f, "source", "%sfields[%d]." % (where, i))
        if source:
            item["source"] = source
        fields[name] = item  # keyed by name: the last one wins
    rules = {}
    for i, r in enumerate(_list_of_objects(w, "rules", where)):
        at = "%srules[%d]." % (where, i)
        field, operator = _str(r, "field", at), _str(r, "operator", at)
        if not field:
            raise CommerceError(400, MSG_REQUIRED, {"fieldName": at + "field"})
        if not operator:
            raise CommerceError(400, MSG_REQUIRED, {"fieldName": at + "operator"})
        if operator not in WEBHOOK_OPERATORS:
            raise CommerceError(400, WH_OPERATOR, [operator, ", ".join(WEBHOOK_OPERATORS)])
        rules["%s:%s" % (field, operator)] = {"field": field, "operator": operator, "value": _str(r, "value", at) or ""}
    headers = {}
    for i, h in enumerate(_list_of_objects(w, "headers", where)):
        at = "%sheaders[%d]." % (where, i)
        name = _str(h, "name", at)
        if not name:
            raise CommerceError(400, MSG_REQUIRED, {"fieldName": at + "name"})
        headers[name] = {"name": name, "value": _str(h, "value", at) or ""}
    hook["fields"] = list(fields.values())
    hook["rules"] = list(rules.values())
    hook["headers"] = list(headers.values())
    oauth = w.get("developer_console_oauth")
    if oauth is not None:
        if not isinstance(oauth, dict):
            raise CommerceError(400, MSG_TYPE, {"fieldName": where + "developer_console_oauth", "type": "object"})
        at = where + "developer_console_oauth."
        values = {k: _str(oauth, k, at) for k in ("client_id", "client_secret", "org_id", "environment")}
        missing = [k for k in ("client_id", "client_secret", "org_id") if not values[k]]
        if missing:
            raise CommerceError(400, WH_OAUTH, [", ".join(missing)])
        env = values["environment"] or "production"
        if env not in OAUTH_ENVIRONMENTS:
            raise CommerceError(400, WH_OAUTH_ENV, [env, ", ".join(OAUTH_ENVIRONMENTS)])
        hook["developer_console_oauth"] = {"client_id": values["client_id"], "client_secret": values["client_secret"],
                                           "org_id": values["org_id"], "environment": env}
    return hook


def webhook_secrets(hook):
    out = []
    oauth = hook.get("developer_console_oauth")
    if oauth and oauth.get("client_secret"):
        out.append((SECRET_WEBHOOK, oauth["client_secret"]))
    out.extend((SECRET_HEADER, h["value"]) for h in hook.get("headers", []) if h.get("value"))
    return out


def _find_webhook(state, identity):
    for i, hook in enumerate(state["webhooks"]):
        if webhook_identity(hook) == identity:
            return i
    return None


def _store_webhook(state, hook):
    """Add a hook, applying batch_order to its whole batch (or taking the batch's)."""
    batch = [h for h in state["webhooks"] if webhook_identity(h)[:3] == webhook_identity(hook)[:3]]
    if "batch_order" in hook:
        for h in batch:
            h["batch_order"] = hook["batch_order"]
    elif batch and "batch_order" in batch[0]:
        hook["batch_order"] = batch[0]["batch_order"]
    state["webhooks"].append(hook)


def webhook_view(hook, mode):
    """A stored hook as webhooks/list shows it."""
    out = {k: hook[k] for k in WEBHOOK_IDENTITY}
    defaults = mode["webhook_defaults"]
    fill = {} if defaults == "omit" else dict(XML_DEFAULTS)
    if defaults == "xml_defaults_empty_method":
        fill["method"] = ""
    for key in ("batch_order", "url", "priority", "required", "soft_timeout", "timeout", "method",
                "fallback_error_message", "ttl"):
        if key in hook:
            out[key] = hook[key]
        elif key in fill:
            out[key] = fill[key]
    out["fields"] = [
        {"name": f["name"], "source": f.get("source", "")} if defaults != "omit" else dict(f) for f in hook["fields"]
    ]
    out["rules"] = [dict(r) for r in hook["rules"]]
    out["headers"] = [dict(h) for h in hook["headers"]]
    oauth = hook.get("developer_console_oauth")
    if oauth:
        shown = {"client_id": oauth["client_id"], "client_secret": "******", "org_id": oauth["org_id"]}
        if oauth.get("environment"):
            shown["environment"] = oauth["environment"]
        out["developer_console_oauth"] = shown
    return out


def _write_answer(mode):
    return [] if mode["webhook_write_answer"] == "empty_list" else True


def webhooks(state, mode, method, sub, raw):
    """webhooks/<sub>: (status, body, info)."""
    info = {"secrets": []}
    if sub == "list" and method == "GET":
        return 200, [webhook_view(h, mode) for h in state["webhooks"]], info
    if sub == "supportedList" and method == "GET":
        return 200, [{"name": n} for n in state["supported_webhooks"]], info
    if sub in ("subscribe", "unsubscribe") and method == "POST":
        info["ext_action"] = sub
        info["ext_identity"] = None
        info["ext_applied"] = False
        try:
            w = _payload(raw, "webhook")["webhook"]
            if sub == "subscribe":
                hook = parse_webhook(w, supported=set(state["supported_webhooks"]))
                info["ext_identity"] = _identity_dict(hook)
                if _find_webhook(state, webhook_identity(hook)) is not None:
                    raise CommerceError(400, WH_EXISTS[mode["exists_message"]])
                _store_webhook(state, hook)
                info["secrets"] = webhook_secrets(hook)
            else:
                hook = parse_webhook(w, full=False)
                info["ext_identity"] = _identity_dict(hook)
                i = _find_webhook(state, webhook_identity(hook))
                if i is None:
                    raise CommerceError(400, WH_MISSING[mode["exists_message"]])
                del state["webhooks"][i]
        except CommerceError as exc:
            return exc.status, exc.body(), info
        info["ext_applied"] = True
        return 200, _write_answer(mode), info
    return 404, {"message": NO_ROUTE}, info


# ---- event subscriptions -----------------------------------------------------------------------


def _provider_ids(state):
    ids = []
    if state["default_provider"] and state["default_provider"].get("provider_id"):
        ids.append(state["default_provider"]["provider_id"])
    ids.extend(p["provider_id"] for p in state["providers"])
    return ids


def _check_provider(state, provider_id):
    if provider_id in (None, "", "default"):
        return
    ids = _provider_ids(state)
    if provider_id not in ids:
        raise CommerceError(400, EV_PROVIDER, [provider_id, ", ".join(ids)])


def _parse_event_fields(e, where):
    fields = {}
    for i, f in enumerate(_list_of_objects(e, "fields", where)):
        at = "%sfields[%d]." % (where, i)
        name = _str(f, "name", at)
        if not name:
            raise CommerceError(400, MSG_REQUIRED, {"fieldName": at + "name"})
        if not EVENT_FIELD_RE.match(name):
            raise CommerceError(400, EV_FIELD_NAME, [name])
        item = {"name": name}
        for key in ("source", "converter"):
            value = _str(f, key, at)
            if value:
                item[key] = value
        fields[name] = item
    return fields


def _parse_event_rules(e, where):
    rules = {}
    for i, r in enumerate(_list_of_objects(e, "rules", where)):
        at = "%srules[%d]." % (where, i)
        field, operator = _str(r, "field", at), _str(r, "operator", at)
        if not field:
            raise CommerceError(400, MSG_REQUIRED, {"fieldName": at + "field"})
        if not operator:
            raise CommerceError(400, MSG_REQUIRED, {"fieldName": at + "operator"})
        if operator not in EVENT_OPERATORS:
            raise CommerceError(400, EV_OPERATOR, [operator, ", ".join(EVENT_OPERATORS)])
        value = _str(r, "value", at)
        if value is None and operator != "onChange":
            raise CommerceError(400, MSG_REQUIRED, {"fieldName": at + "value"})
        rules["%s:%s" % (field, operator)] = {"field": field, "operator": operator, "value": value or ""}
    return rules


def _check_event_code(state, name, parent):
    supported = state["supported_events"]
    if parent and name in supported:
        raise CommerceError(400, EV_ALIAS_RESERVED, [name])
    code = parent or name
    parts = code.split(".", 1)
    if len(parts) == 1:
        raise CommerceError(400, EV_CODE_FORMAT, [code, ", ".join(EVENT_TYPES)])
    if parts[0] not in EVENT_TYPES:
        raise CommerceError(400, EV_CODE_TYPE, [parts[0], code, ", ".join(EVENT_TYPES)])
    if code not in supported:
        raise CommerceError(400, EV_UNSUPPORTED, [code])


def parse_subscription(state, e, check_supported=True):
    where = "event."
    name = _str(e, "name", where)
    if not name:
        raise CommerceError(400, MSG_REQUIRED, {"fieldName": where + "name"})
    if not EVENT_NAME_RE.match(name):
        raise CommerceError(400, EV_NAME_CHARS, [name])
    parent = _str(e, "parent", where) or ""
    if parent and not EVENT_NAME_RE.match(parent):
        raise CommerceError(400, EV_NAME_CHARS, [parent])
    if check_supported:
        _check_event_code(state, name, parent)
    sub = {"name": name, "parent": parent}
    sub["fields"] = list(_parse_event_fields(e, where).values())
    sub["rules"] = list(_parse_event_rules(e, where).values())
    sub["destination"] = _str(e, "destination", where) or "default"
    sub["priority"] = bool(_bool(e, "priority", where))
    sub["hipaa_audit_required"] = bool(_bool(e, "hipaa_audit_required", where))
    provider_id = _str(e, "provider_id", where) or ""
    if check_supported:
        _check_provider(state, provider_id)
    sub["provider_id"] = provider_id
    return sub


def _find_subscription(state, name):
    for i, s in enumerate(state["subscriptions"]):
        if _lower(s["name"]) == _lower(name):
            return i
    return None


def _uses_default_provider(state, provider_id):
    default = state["default_provider"] or {}
    return provider_id in ("", "default", None) or provider_id == default.get("provider_id")


def subscription_view(state, sub, mode):
    out = {"name": sub["name"]}
    if sub["parent"]:
        out["parent"] = sub["parent"]
    elif mode["parent_echo"] == "empty":
        out["parent"] = ""
    elif mode["parent_echo"] == "name":
        out["parent"] = sub["name"]
    out["fields"] = [dict(f) for f in sub["fields"]]
    out["rules"] = [dict(r) for r in sub["rules"]]
    out["destination"] = sub["destination"]
    out["priority"] = sub["priority"]
    out["hipaa_audit_required"] = sub["hipaa_audit_required"]
    provider_id = sub["provider_id"]
    if _uses_default_provider(state, provider_id):
        default_id = (state["default_provider"] or {}).get("provider_id")
        provider_id = default_id if (mode["provider_id_echo"] == "real" and default_id) else "default"
    out["provider_id"] = provider_id
    return out


def _merge(sub, e, state):
    """PUT eventSubscribe/{name}: fields by name and rules by field:operator replaced or
    appended (never removed); priority/hipaa when present; parent/destination/provider_id when
    non-empty."""
    where = "event."
    fields = {f["name"]: f for f in sub["fields"]}
    fields.update(_parse_event_fields(e, where))
    rules = {"%s:%s" % (r["field"], r["operator"]): r for r in sub["rules"]}
    rules.update(_parse_event_rules(e, where))
    for key in ("priority", "hipaa_audit_required"):
        value = _bool(e, key, where)
        if value is not None:
            sub[key] = value
    parent = _str(e, "parent", where)
    if parent:
        if not EVENT_NAME_RE.match(parent):
            raise CommerceError(400, EV_NAME_CHARS, [parent])
        _check_event_code(state, sub["name"], parent)
    provider_id = _str(e, "provider_id", where)
    if provider_id:
        _check_provider(state, provider_id)
    destination = _str(e, "destination", where)
    sub["fields"] = list(fields.values())
    sub["rules"] = list(rules.values())
    if parent:
        sub["parent"] = parent
    if destination:
        sub["destination"] = destination
    if provider_id:
        sub["provider_id"] = provider_id


def subscriptions(state, mode, method, sub_path, raw):
    """eventing/<sub_path> for subscriptions: (status, body, info)."""
    info = {"secrets": []}
    if sub_path == "getEventSubscriptions" and method == "GET":
        return 200, [subscription_view(state, s, mode) for s in state["subscriptions"] if s["enabled"]], info
    if sub_path == "supportedList" and method == "GET":
        return 200, [{"name": n} for n in state["supported_events"]], info
    m = re.match(r"^(eventSubscribe|eventUnsubscribe)(?:/(.+))?$", sub_path)
    if not m:
        return 404, {"message": NO_ROUTE}, info
    kind, name = m.group(1), unquote(m.group(2)) if m.group(2) else None
    info["ext_applied"] = False
    try:
        if kind == "eventSubscribe" and name is None and method == "POST":
            info["ext_action"] = "subscribe"
            info["ext_identity"] = None
            payload = _payload(raw, "event")
            e = payload["event"]
            if isinstance(e.get("name"), str):
                info["ext_identity"] = {"name": e["name"]}
            force = _bool(payload, "force", "")
            new = parse_subscription(state, e)
            new["enabled"] = True
            i = _find_subscription(state, new["name"])
            if i is not None and state["subscriptions"][i]["enabled"]:
                if not (force and mode["force_overwrites"]):
                    raise CommerceError(400, EV_EXISTS[mode["exists_message"]], [state["subscriptions"][i]["name"]])
            if i is None:
                state["subscriptions"].append(new)
            else:
                state["subscriptions"][i] = new  # a disabled one (or force_overwrites): overwritten
            info["ext_applied"] = True
            half = mode["half_subscribe"]
            if half:
                if not isinstance(half, bool):
                    mode["half_subscribe"] = half - 1
                # saved, then creating the Adobe I/O metadata failed
                return 500, {"message": INTERNAL, "parameters": ["webapi-" + uuid.uuid4().hex[:13]]}, info
            return 200, [], info
        if kind == "eventSubscribe" and name is not None and method == "PUT":
            info["ext_action"] = "update"
            info["ext_identity"] = {"name": name}
            e = _payload(raw, "event")["event"]
            i = _find_subscription(state, name)
            if i is None:
                raise CommerceError(400, EV_UPDATE_MISSING, [name])
            current = state["subscriptions"][i]
            if not current["enabled"]:
                raise CommerceError(400, EV_UPDATE_DISABLED, [name])
            merged = copy.deepcopy(current)
            _merge(merged, e, state)
            state["subscriptions"][i] = merged
            info["ext_applied"] = True
            return 200, [], info
        if kind == "eventUnsubscribe" and name is not None and method == "POST":
            info["ext_action"] = "unsubscribe"
            info["ext_identity"] = {"name": name}
            i = _find_subscription(state, name)
            if i is None or not state["subscriptions"][i]["enabled"]:
                if mode["unsubscribe_missing"] == 404:
                    raise CommerceError(404, EV_UNSUB_MISSING_404, [name])
                raise CommerceError(400, EV_UNSUB_MISSING_400 if i is None else EV_UNSUB_DISABLED_400, [name])
            state["subscriptions"][i]["enabled"] = False
            info["ext_applied"] = True
            return 200, [], info
    except CommerceError as exc:
        return exc.status, exc.body(), info
    return 404, {"message": NO_ROUTE}, info


# ---- providers --------------------------------------------------------------------------------


def _masked(value, mode):
    return mode["workspace_mask"] if value else ""


def provider_view(state, provider, mode, default=False):
    if default:
        out = {"provider_id": provider.get("provider_id", ""), "instance_id": provider.get("instance_id", "")}
        if mode["default_provider_label"] == "with":
            out["label"] = provider.get("label", "")
            out["description"] = provider.get("description", "")
    else:
        rid = provider["id"]
        out = {"id": str(rid) if mode["provider_record_id"] == "string" else rid}
        for key in ("provider_id", "instance_id", "label", "description"):
            out[key] = provider.get(key, "")
    out["workspace_configuration"] = _masked(provider.get("workspace_configuration"), mode)
    return out


def _default_configured(state):
    d = state["default_provider"]
    return bool(d and d.get("provider_id"))


def providers_list(state, mode):
    out = []
    if _default_configured(state):
        out.append(provider_view(state, state["default_provider"], mode, default=True))
    out.extend(provider_view(state, p, mode) for p in state["providers"])
    return out


def _record_id(value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CommerceError(400, MSG_TYPE, {"fieldName": "eventProvider.id", "type": "int"})
    try:
        return int(value)
    except (TypeError, ValueError):
        raise CommerceError(400, MSG_TYPE, {"fieldName": "eventProvider.id", "type": "int"})


def _save_provider(state, p, mode, info):
    """POST or PUT eventProvider (both create or update; with id: update)."""
    where = "eventProvider."
    values = {k: _str(p, k, where) for k in PROVIDER_KEYS if k != "id"}
    rid = _record_id(p.get("id"))
    info["ext_identity"] = {"provider_id": values["provider_id"], "id": rid}
    if rid is None:
        info["ext_action"] = "create"
        if not values["provider_id"]:
            raise CommerceError(400, MSG_REQUIRED, {"fieldName": where + "provider_id"})
        if not values["instance_id"]:
            raise CommerceError(400, PR_INSTANCE)
        if values["provider_id"] in _provider_ids(state):
            raise CommerceError(400, PR_EXISTS, [values["provider_id"]])
        record = {"id": state["next_provider_id"]}
        state["next_provider_id"] += 1
        for key in ("provider_id", "instance_id", "label", "description"):
            record[key] = values[key] or ""
        ws = values["workspace_configuration"]
        record["workspace_configuration"] = "" if (ws is None or _all_stars(ws)) else ws
        state["providers"].append(record)
    else:
        info["ext_action"] = "update"
        record = next((r for r in state["providers"] if r["id"] == rid), None)
        if record is None:
            raise CommerceError(404, PR_NOT_FOUND, [str(rid)])
        if values["instance_id"] is not None and values["instance_id"] == "":
            raise CommerceError(400, PR_INSTANCE)
        new_pid = values["provider_id"]
        if new_pid and new_pid != record["provider_id"] and new_pid in _provider_ids(state):
            raise CommerceError(400, PR_EXISTS, [new_pid])
        for key in ("provider_id", "instance_id", "label", "description"):
            if values[key] is not None and (values[key] != "" or key in ("label", "description")):
                record[key] = values[key]
        ws = values["workspace_configuration"]
        if ws is not None and not _all_stars(ws):
            record["workspace_configuration"] = ws
        info["ext_identity"]["provider_id"] = record["provider_id"]
    if record.get("workspace_configuration") and values["workspace_configuration"] == record["workspace_configuration"]:
        info["secrets"].append((SECRET_WORKSPACE, record["workspace_configuration"]))
    info["ext_applied"] = True
    return provider_view(state, record, mode)


def providers(state, mode, method, sub_path, raw):
    """eventing/<sub_path> for providers: (status, body, info)."""
    info = {"secrets": []}
    if sub_path in ("eventProvider", "getEventProviders") and method == "GET":
        return 200, providers_list(state, mode), info
    try:
        if sub_path == "eventProvider" and method in ("POST", "PUT"):
            info["ext_applied"] = False
            info["ext_action"] = "create" if method == "POST" else "update"
            info["ext_identity"] = None
            p = _payload(raw, "eventProvider")["eventProvider"]
            return 200, _save_provider(state, p, mode, info), info
        m = re.match(r"^eventProvider/(.+)$", sub_path)
        if m and method in ("GET", "DELETE"):
            pid = unquote(m.group(1))
            default = state["default_provider"] if _default_configured(state) else None
            is_default = default is not None and default["provider_id"] == pid
            record = next((r for r in state["providers"] if r["provider_id"] == pid), None)
            if method == "GET":
                if is_default:
                    return 200, provider_view(state, default, mode, default=True), info
                if record is None:
                    raise CommerceError(404, PR_NOT_FOUND, [pid])
                return 200, provider_view(state, record, mode), info
            info["ext_action"] = "delete"
            info["ext_identity"] = {"provider_id": pid, "id": record["id"] if record else None}
            info["ext_applied"] = False
            if record is None:
                if is_default and mode["delete_default_provider"] == "refused":
                    raise CommerceError(400, PR_DEFAULT, [pid])
                raise CommerceError(404, PR_NOT_FOUND, [pid])
            linked = [s["name"] for s in state["subscriptions"] if s["enabled"] and s["provider_id"] == pid]
            if linked:
                raise CommerceError(400, PR_LINKED, [pid, ", ".join(linked)])
            state["providers"].remove(record)
            info["ext_applied"] = True
            return 200, True, info
    except CommerceError as exc:
        return exc.status, exc.body(), info
    return 404, {"message": NO_ROUTE}, info


# ---- eventing configuration and the I/O Events check ------------------------------------------


def update_configuration(state, mode, method, raw):
    info = {"secrets": [], "ext_action": "configure", "ext_identity": None, "ext_applied": False}
    if method != "PUT":
        return 404, {"message": NO_ROUTE}, info
    try:
        c = _payload(raw, "config")["config"]
        where = "config."
        values = {}
        for key in CONFIG_KEYS:
            if key == "enabled":
                value = _bool(c, key, where)
            else:
                value = _str(c, key, where)
            if value is not None:
                values[key] = value
        info["ext_identity"] = {"keys": sorted(values)}
        for key, pattern, allowed in (("merchant_id", CFG_WORD, "A-Z a-z 0-9 _"),
                                      ("environment_id", CFG_WORD, "A-Z a-z 0-9 _"),
                                      ("instance_id", CFG_ID, "A-Z a-z 0-9 _ -"),
                                      ("provider_id", CFG_ID, "A-Z a-z 0-9 _ -")):
            if key in values and not pattern.match(values[key]):
                raise CommerceError(400, CFG_CHARS, [key, values[key], allowed])
    except CommerceError as exc:
        return exc.status, exc.body(), info
    ws = values.get("workspace_configuration")
    if ws is not None and _all_stars(ws):
        del values["workspace_configuration"]
    state["eventing_config"].update(values)
    default = dict(state["default_provider"] or {})
    for key in ("provider_id", "instance_id", "workspace_configuration"):
        if key in values:
            default[key] = values[key]
    state["default_provider"] = default
    if values.get("workspace_configuration"):
        info["secrets"].append((SECRET_WORKSPACE, values["workspace_configuration"]))
    info["ext_applied"] = True
    return 200, True, info


def check_configuration(state, mode, method):
    info = {"secrets": []}
    if method != "GET":
        return 404, {"message": NO_ROUTE}, info
    default = state["default_provider"] or {}
    check = mode["io_events_check"]
    provider_id = default.get("provider_id") or ""
    account = bool(default.get("workspace_configuration")) and check != "service_account_missing"
    connect = account and check != "cannot_connect"
    valid = bool(provider_id) and connect and check != "provider_invalid"
    ok = account and connect and valid
    return 200, {
        "status": "ok" if ok else "error",
        "technical_service_account_configured": account,
        "technical_service_account_can_connect_to_io_events": connect,
        "provider_id_configured": provider_id,
        "provider_id_valid": valid,
    }, info


# ---- control ----------------------------------------------------------------------------------


def _control_error(kind, i, exc):
    text = exc.message
    params = exc.parameters
    if isinstance(params, list):
        for n, p in enumerate(params, 1):
            text = text.replace("%%%d" % n, str(p))
    elif isinstance(params, dict):
        for k, v in params.items():
            text = text.replace("%" + k, str(v))
    return ValueError("%s[%d]: %s" % (kind, i, text))


def control_set(state, webhooks=None, subscriptions=None, providers=None, default_provider=None):
    """Replace the given parts of the state from API-shaped lists (no supported-list or
    provider checks); returns the secrets [(kind, value)].  ValueError with a sentence."""
    secrets = []
    new = {}
    if webhooks is not None:
        if not isinstance(webhooks, list):
            raise ValueError("webhooks must be a list")
        hooks = []
        for i, w in enumerate(webhooks):
            if not isinstance(w, dict):
                raise ValueError("webhooks[%d] must be an object" % i)
            try:
                hook = parse_webhook(w)
            except CommerceError as exc:
                raise _control_error("webhooks", i, exc)
            if any(webhook_identity(h) == webhook_identity(hook) for h in hooks):
                raise ValueError("webhooks[%d]: the identity is given twice" % i)
            hooks.append(hook)
            secrets.extend(webhook_secrets(hook))
        new["webhooks"] = hooks
    if subscriptions is not None:
        if not isinstance(subscriptions, list):
            raise ValueError("subscriptions must be a list")
        subs = []
        for i, e in enumerate(subscriptions):
            if not isinstance(e, dict):
                raise ValueError("subscriptions[%d] must be an object" % i)
            try:
                sub = parse_subscription(state, e, check_supported=False)
            except CommerceError as exc:
                raise _control_error("subscriptions", i, exc)
            enabled = e.get("enabled", True)
            if not isinstance(enabled, bool):
                raise ValueError("subscriptions[%d]: enabled must be a boolean" % i)
            sub["enabled"] = enabled
            if any(_lower(s["name"]) == _lower(sub["name"]) for s in subs):
                raise ValueError("subscriptions[%d]: the name is given twice" % i)
            subs.append(sub)
        new["subscriptions"] = subs
    if providers is not None:
        if not isinstance(providers, list):
            raise ValueError("providers must be a list")
        records = []
        next_id = 1
        for i, p in enumerate(providers):
            if not isinstance(p, dict) or set(p) - set(PROVIDER_KEYS):
                raise ValueError("providers[%d] must be an object with keys among %s" % (i, ", ".join(PROVIDER_KEYS)))
            if not isinstance(p.get("provider_id"), str) or not p["provider_id"]:
                raise ValueError("providers[%d]: provider_id is required" % i)
            rid = p.get("id")
            try:
                rid = int(rid) if rid is not None else None
            except (TypeError, ValueError):
                raise ValueError("providers[%d]: id must be an integer" % i)
            record = {"id": rid}
            for key in ("provider_id", "instance_id", "label", "description", "workspace_configuration"):
                value = p.get(key) or ""
                if not isinstance(value, str):
                    raise ValueError("providers[%d]: %s must be a string" % (i, key))
                record[key] = value
            if any(r["provider_id"] == record["provider_id"] for r in records):
                raise ValueError("providers[%d]: provider_id %s is given twice" % (i, record["provider_id"]))
            records.append(record)
            if record["workspace_configuration"]:
                secrets.append((SECRET_WORKSPACE, record["workspace_configuration"]))
        used = {r["id"] for r in records if r["id"] is not None}
        for r in records:
            if r["id"] is None:
                while next_id in used:
                    next_id += 1
                r["id"] = next_id
                used.add(next_id)
        new["providers"] = records
        new["next_provider_id"] = max(used or {0}) + 1
    if default_provider is not None:
        if not isinstance(default_provider, dict) or set(default_provider) - set(PROVIDER_KEYS[1:]):
            raise ValueError("default_provider must be an object with keys among %s" % ", ".join(PROVIDER_KEYS[1:]))
        d = {}
        for key, value in default_provider.items():
            if value is not None and not isinstance(value, str):
                raise ValueError("default_provider: %s must be a string" % key)
            d[key] = value or ""
        new["default_provider"] = d or None
        if d.get("workspace_configuration"):
            secrets.append((SECRET_WORKSPACE, d["workspace_configuration"]))
    state.update(new)
    return secrets


def control_view(state):
    hooks = []
    for h in state["webhooks"]:
        hooks.append(copy.deepcopy(h))
    subs = [copy.deepcopy(s) for s in state["subscriptions"]]
    provs = []
    if state["default_provider"] is not None:
        d = dict(state["default_provider"])
        d["default"] = True
        provs.append(d)
    for p in state["providers"]:
        provs.append(dict(p, default=False))
    return {"webhooks": hooks, "subscriptions": subs, "providers": provs,
            "eventing_config": dict(state["eventing_config"])}


def control_supported(state, webhooks=None, events=None):
    for name, value in (("webhooks", webhooks), ("events", events)):
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) and v for v in value)):
            raise ValueError("%s must be a list of names" % name)
    if webhooks is not None:
        state["supported_webhooks"] = list(dict.fromkeys(webhooks))
    if events is not None:
        state["supported_events"] = list(dict.fromkeys(events))
    return {"webhooks": list(state["supported_webhooks"]), "events": list(state["supported_events"])}
