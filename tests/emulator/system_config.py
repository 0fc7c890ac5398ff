"""``GET``/``PUT /V1/system/config`` of the ACCS emulator: per-tenant stored values, reads and writes.

Pure logic over one tenant's data; ``server.App`` does authentication, faults, the request log
and locking.  Behaviour and the choices made where Adobe's page is silent: ``README.md``,
section "System configuration".

A tenant's store is ``tenant["system_config"]``: ``{(scope, scope_code, path): value}`` with
``scope_code`` ``""`` for ``default``; its read switches are ``tenant["system_config_mode"]``.
"""

from __future__ import annotations

import fnmatch
import re

from .commerce import MSG_REQUIRED, MSG_TYPE, CommerceError, json_payload
from .config_catalog import CATALOG, PATHS, SCOPES

MASK = "******"
MAX_PAGE_SIZE = 500

DEFAULT_MODE = {"inherit": False, "unknown_paths": "omit", "echo_scope_code": True, "obscured": "mask"}
MODE_CHOICES = {"unknown_paths": ("omit", "null"), "obscured": ("mask", "plain", "null")}

# Messages.  Per-item PUT errors carry them rendered (no placeholders); HTTP errors carry the
# template and its parameters, as Commerce's web API does.  None of them repeats a value.
MSG_PATH = 'Configuration path "%1" was not found, is not visible for this scope, or is not allowed.'
MSG_SCOPE = 'The "%1" value doesn\'t exist. Enter another value.'
MSG_CODE_MISSING = "A scope code is missing. Enter a code and try again."
MSG_CODE_WITH_DEFAULT = 'The "%1" scope can\'t include a scope code. Try again and remove the scope code.'
MSG_WEBSITE = 'The website with code "%1" that was requested wasn\'t found. Verify the website and try again.'
MSG_STORE = "The store that was requested wasn't found. Verify the store and try again."
MSG_FILTER_FIELD = 'The "%1" field can\'t be used to filter configuration. Filter on "path".'
MSG_CONDITION = 'The "%1" condition type isn\'t supported for the configuration path. Use "eq" or "in".'
MSG_INVALID_INT = 'Invalid value of "%1" provided for the %2 field.'


def _render(template, *params):
    return CommerceError(0, template, list(params)).rendered()


# ---- values and scopes -----------------------------------------------------------------


def to_config_value(value):
    """A JSON scalar as Commerce stores it: strings as they are, booleans "1"/"0", numbers as
    text (integral floats without ".0").  Anything else (null, list, object): TypeError."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    raise TypeError("not a scalar")


def website_codes(tenant):
    """code -> website row, without the admin row (id 0)."""
    return {w.get("code"): w for w in tenant.get("websites", []) if w.get("id") != 0 and w.get("code")}


def store_codes(tenant):
    """code -> store view row, without the admin row (id 0)."""
    return {v.get("code"): v for v in tenant.get("storeViews", []) if v.get("id") != 0 and v.get("code")}


def website_of_store(tenant, store_code):
    view = store_codes(tenant).get(store_code)
    if view is None:
        return None
    for w in tenant.get("websites", []):
        if w.get("id") == view.get("website_id"):
            return w.get("code")
    return None


def check_scope(tenant, scope, scope_code):
    """Validate a scope and its code; returns the normalised code ("" for default).
    Raises CommerceError (400 bad scope / code missing / code with default, 404 unknown code)."""
    code = scope_code or ""
    if scope not in SCOPES:
        raise CommerceError(400, MSG_SCOPE, [str(scope)])
    if scope == "default":
        if code:
            raise CommerceError(400, MSG_CODE_WITH_DEFAULT, ["default"])
        return ""
    if not code:
        raise CommerceError(400, MSG_CODE_MISSING)
    if scope == "website" and code not in website_codes(tenant):
        raise CommerceError(404, MSG_WEBSITE, [code])
    if scope == "store" and code not in store_codes(tenant):
        raise CommerceError(404, MSG_STORE)
    return code


def denied(path, globs):
    return any(fnmatch.fnmatchcase(path, g) for g in globs or ())


def visible(path, scope, globs):
    entry = CATALOG.get(path)
    return entry is not None and scope in entry["scopes"] and not denied(path, globs)


def raw_value(tenant, path, scope, code, inherit):
    """The value of path at (scope, code): stored there, else (inherit) the website's, the
    default's, the catalog default.  At default scope the catalog default always applies."""
    store = tenant["system_config"]
    key = (scope, code, path)
    if key in store:
        return store[key]
    if scope != "default" and not inherit:
        return None
    if scope == "store":
        website = website_of_store(tenant, code)
        if website is not None and ("website", website, path) in store:
            return store[("website", website, path)]
    if ("default", "", path) in store:
        return store[("default", "", path)]
    return CATALOG[path]["default"]


def shown(path, value, mode):
    """A value as read through the API (obscured fields per the ``obscured`` switch)."""
    if value is None or not CATALOG[path]["sensitive"]:
        return value
    if mode["obscured"] == "plain":
        return value
    if mode["obscured"] == "null":
        return None
    return MASK if value != "" else value


def _item(path, value, scope, code, with_code):
    out = {"path": path, "value": value, "scope": scope}
    if scope != "default" and with_code:
        out["scope_code"] = code
    return out


# ---- GET ---------------------------------------------------------------------------------

_FILTER_RE = re.compile(
    r"^(?:searchCriteria|search_criteria)\[(?:filterGroups|filter_groups)\]\[(\d+)\]\[filters\]\[(\d+)\]"
    r"\[(field|value|conditionType|condition_type)\]$"
)
_PAGE_RE = re.compile(r"^(?:searchCriteria|search_criteria)\[(pageSize|page_size|currentPage|current_page)\]$")


def _last(qs, *names):
    for name in names:
        if qs.get(name):
            return qs[name][-1]
    return None


def parse_query(qs):
    """(groups, page_size, current_page): groups is a list of lists of filter dicts."""
    groups = {}
    page = {}
    for key, values in qs.items():
        m = _FILTER_RE.match(key)
        if m:
            g, f, attr = int(m.group(1)), int(m.group(2)), m.group(3)
            attr = {"conditionType": "condition_type"}.get(attr, attr)
            groups.setdefault(g, {}).setdefault(f, {})[attr] = values[-1]
            continue
        m = _PAGE_RE.match(key)
        if m:
            name = {"page_size": "pageSize", "current_page": "currentPage"}.get(m.group(1), m.group(1))
            raw = values[-1]
            if raw != "":
                try:
                    page[name] = int(raw)
                except ValueError:
                    raise CommerceError(400, MSG_INVALID_INT, [raw, name])
    out = []
    for g in sorted(groups):
        filters = []
        for f in sorted(groups[g]):
            flt = groups[g][f]
            field = flt.get("field")
            if field is None:
                raise CommerceError(400, MSG_REQUIRED, {"fieldName": "field"})
            if field != "path":
                raise CommerceError(400, MSG_FILTER_FIELD, [field])
            if "value" not in flt:
                raise CommerceError(400, MSG_REQUIRED, {"fieldName": "value"})
            cond = flt.get("condition_type") or "eq"
            if cond not in ("eq", "in"):
                raise CommerceError(400, MSG_CONDITION, [cond])
            filters.append({"field": "path", "value": flt["value"], "condition_type": cond})
        out.append(filters)
    return out, page.get("pageSize"), page.get("currentPage")


def _asked_paths(groups):
    """Paths asked for: union within a group, intersection across groups, first-asked order."""
    result = None
    for filters in groups:
        asked = []
        for flt in filters:
            if flt["condition_type"] == "eq":
                values = [flt["value"]]
            else:
                values = [v.strip() for v in flt["value"].split(",") if v.strip()]
            for v in values:
                if v not in asked:
                    asked.append(v)
        result = asked if result is None else [p for p in result if p in asked]
    return result or []


def get(tenant, qs, globs):
    """Answer a GET: (status, body)."""
    mode = tenant["system_config_mode"]
    try:
        scope = _last(qs, "scope") or "default"
        code = check_scope(tenant, scope, _last(qs, "scopeCode", "scope_code"))
        groups, page_size, current_page = parse_query(qs)
    except CommerceError as exc:
        return exc.status, exc.body()
    inherit = mode["inherit"]
    echo = mode["echo_scope_code"]
    if groups:
        items = []
        for path in _asked_paths(groups):
            if visible(path, scope, globs):
                value = shown(path, raw_value(tenant, path, scope, code, inherit), mode)
                items.append(_item(path, value, scope, code, echo))
            elif mode["unknown_paths"] == "null":
                items.append(_item(path, None, scope, code, echo))
        criteria = {"filter_groups": [{"filters": f} for f in groups], "page_size": len(items), "current_page": 1}
        return 200, {"items": items, "search_criteria": criteria, "total_count": len(items)}
    paths = [p for p in PATHS if visible(p, scope, globs)]
    size = MAX_PAGE_SIZE if not page_size or page_size <= 0 else min(page_size, MAX_PAGE_SIZE)
    current = max(current_page or 1, 1)
    start = (current - 1) * size
    items = [
        _item(p, shown(p, raw_value(tenant, p, scope, code, inherit), mode), scope, code, echo)
        for p in paths[start:start + size]
    ]
    criteria = {"filter_groups": [], "page_size": size, "current_page": current}
    return 200, {"items": items, "search_criteria": criteria, "total_count": len(paths)}


# ---- PUT ---------------------------------------------------------------------------------


def parse_put_body(raw):
    """The items of a PUT body, validated; CommerceError(400) when malformed."""
    payload = json_payload(raw)
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        raise CommerceError(400, MSG_REQUIRED, {"fieldName": "items"})
    items = []
    for i, item in enumerate(payload["items"]):
        where = "items[%d]" % i
        if not isinstance(item, dict):
            raise CommerceError(400, MSG_TYPE, {"fieldName": where, "type": "object"})
        path = item.get("path")
        if path is None or path == "":
            raise CommerceError(400, MSG_REQUIRED, {"fieldName": where + ".path"})
        if not isinstance(path, str):
            raise CommerceError(400, MSG_TYPE, {"fieldName": where + ".path", "type": "string"})
        if "value" not in item:
            raise CommerceError(400, MSG_REQUIRED, {"fieldName": where + ".value"})
        try:
            value = to_config_value(item["value"])
        except TypeError:
            raise CommerceError(400, MSG_TYPE, {"fieldName": where + ".value", "type": "string"})
        scope = item.get("scope")
        if scope is None:
            scope = "default"
        if not isinstance(scope, str):
            raise CommerceError(400, MSG_TYPE, {"fieldName": where + ".scope", "type": "string"})
        code = item.get("scope_code")
        if code is not None and not isinstance(code, str):
            raise CommerceError(400, MSG_TYPE, {"fieldName": where + ".scope_code", "type": "string"})
        items.append({"path": path, "value": value, "scope": scope, "scope_code": code or ""})
    return items


def put(tenant, raw, globs):
    """Answer a PUT: (status, body, info).  info: {"items": [{path, scope, scope_code}],
    "saved": n, "rejected": n, "secrets": [values stored at sensitive paths]}."""
    try:
        items = parse_put_body(raw)
    except CommerceError as exc:
        return exc.status, exc.body(), {"items": None, "saved": 0, "rejected": 0, "secrets": []}
    mode = tenant["system_config_mode"]
    store = tenant["system_config"]
    saved, errors, secrets = [], [], []
    for item in items:
        path, scope, code = item["path"], item["scope"], item["scope_code"]
        try:
            code = check_scope(tenant, scope, code)
            if not visible(path, scope, globs):
                raise CommerceError(400, MSG_PATH, [path])
        except CommerceError as exc:
            err = {"path": path, "scope": scope}
            if scope != "default" and code:
                err["scope_code"] = code
            err["message"] = exc.rendered()
            errors.append(err)
            continue
        value = item["value"]
        sensitive = CATALOG[path]["sensitive"]
        if not (sensitive and value == MASK):  # Commerce keeps an obscured value saved as ******
            store[(scope, code, path)] = value
            if sensitive and value:
                secrets.append(value)
        stored = store.get((scope, code, path), value)
        saved.append(_item(path, shown(path, stored, mode) if sensitive else value, scope, code, True))
    info = {
        "items": [{"path": i["path"], "scope": i["scope"], "scope_code": i["scope_code"] or None} for i in items],
        "saved": len(saved),
        "rejected": len(errors),
        "secrets": secrets,
    }
    return 200, {"items": saved, "errors": errors}, info


# ---- control -----------------------------------------------------------------------------


def control_items(tenant, items):
    """Validate control-seeded items against the catalog and the tenant's scopes:
    [((scope, code, path), value or None)].  Raises ValueError with a sentence."""
    if not isinstance(items, list):
        raise ValueError("system_config must be a list of {path, value, scope, scope_code}")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError("system_config[%d] must be an object" % i)
        unknown = set(item) - {"path", "value", "scope", "scope_code"}
        if unknown:
            raise ValueError("system_config[%d]: unknown fields %s" % (i, ", ".join(sorted(unknown))))
        path = item.get("path")
        scope = item.get("scope") or "default"
        if path not in CATALOG:
            raise ValueError("system_config[%d]: %s is not in the catalog" % (i, path))
        try:
            code = check_scope(tenant, scope, item.get("scope_code"))
        except CommerceError as exc:
            raise ValueError("system_config[%d]: %s" % (i, exc.rendered()))
        if scope not in CATALOG[path]["scopes"]:
            raise ValueError("system_config[%d]: %s cannot be set at scope %s" % (i, path, scope))
        value = item.get("value")
        if value is not None:
            try:
                value = to_config_value(value)
            except TypeError:
                raise ValueError("system_config[%d]: value must be a string, number, boolean or null" % i)
        out.append(((scope, code, path), value))
    return out


def apply_control_items(tenant, items, replace):
    """Store control items (value None removes); returns the secrets stored at sensitive paths."""
    parsed = control_items(tenant, items)
    if replace:
        tenant["system_config"] = {}
    store = tenant["system_config"]
    secrets = []
    for key, value in parsed:
        if value is None:
            store.pop(key, None)
        else:
            store[key] = value
            if CATALOG[key[2]]["sensitive"] and value:
                secrets.append(value)
    return secrets


def stored_list(tenant):
    """The stored values sorted by scope (default, website, store), scope code, path."""
    order = {s: i for i, s in enumerate(SCOPES)}
    out = []
    for (scope, code, path), value in sorted(
        tenant["system_config"].items(), key=lambda kv: (order[kv[0][0]], kv[0][1], kv[0][2])
    ):
        item = {"path": path, "value": value, "scope": scope}
        if scope != "default":
            item["scope_code"] = code
        out.append(item)
    return out


def build_mode(body, base=None):
    """A full mode dict from base (or the defaults) updated with body; ValueError when invalid."""
    mode = dict(base or DEFAULT_MODE)
    if not isinstance(body, dict):
        raise ValueError("system_config_mode must be an object")
    for name, value in body.items():
        if name not in DEFAULT_MODE:
            raise ValueError("unknown system_config_mode switch %s" % name)
        if value is None:
            continue
        if name in MODE_CHOICES:
            if value not in MODE_CHOICES[name]:
                raise ValueError("%s must be one of %s" % (name, ", ".join(MODE_CHOICES[name])))
        elif not isinstance(value, bool):
            raise ValueError("%s must be a boolean" % name)
        mode[name] = value
    return mode
