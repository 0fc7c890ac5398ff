# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""System configuration as code on the controller: merging declarations, the role's result, and choosing
what an export or a promotion carries (pure functions, controller only).

Used by the ``system_config_*`` filters and the report renderers. Values are never copied from a declaration
into a result: results hold what ``accs_system_config`` returned, whose sensitive values are already masked.

The role's result (the ``accs_system_config_result`` fact)::

    {"mode": "audit"|"enforce", "check_mode": bool, "passed": bool, "settings": int,
     "drift": [{"path", "scope", "scope_code", "expected", "actual"}],
     "changes": [{"path", "scope", "scope_code", "before", "after"}],
     "unchanged": int, "rejected": [{"path", "scope", "scope_code", "message"}], "unverifiable": [...],
     "checks": [{"path", "scope", "scope_code", "status"}], "requests": {...}, "message": str[, "error": str]}
"""

from __future__ import annotations

import fnmatch
import json
import re

SCOPES = ("default", "website", "store")
ADMIN_CODE = "admin"


class SystemConfigInputError(ValueError):
    """Unusable input: the message is one sentence saying what to fix."""


# --------------------------------------------------------------------------- keys
def setting_key(item):
    scope = item.get("scope") or "default"
    code = item.get("scope_code") or None
    return (str(item.get("path")), scope, code if scope != "default" else None)


def identity(key):
    return {"path": key[0], "scope": key[1], "scope_code": key[2]}


def label(key):
    path, scope, code = key
    return "%s at %s scope" % (path, scope) if code is None else "%s at %s '%s'" % (path, scope, code)


def _sort_key(key):
    return (SCOPES.index(key[1]) if key[1] in SCOPES else 9, key[2] or "", key[0])


# --------------------------------------------------------------------------- merge
def _settings_list(value, variable):
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise SystemConfigInputError("%s must be a list of settings ({path, value, scope, scope_code}), not a %s."
                                     % (variable, type(value).__name__))
    for index, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("path"), str) or not item.get("path"):
            raise SystemConfigInputError("%s[%d] must be a setting with a path ({path, value, scope, scope_code})."
                                         % (variable, index))
        if "value" not in item:
            raise SystemConfigInputError("%s[%d] (%s) has no value: give the value to hold." % (
                variable, index, item["path"]))
    return value


def merge_settings(common, host=None):
    """``common`` then ``host`` settings; a host setting replaces a common one of the same path, scope and code."""
    common = _settings_list(common, "accs_system_config_common")
    host = _settings_list(host, "accs_system_config")
    overridden = {setting_key(item) for item in host}
    return [dict(item) for item in common if setting_key(item) not in overridden] + [dict(item) for item in host]


# --------------------------------------------------------------------------- role result
def _show(value):
    if value is None:
        return "unset"
    return json.dumps(value, ensure_ascii=False)


def _plural(count, one, many=None):
    return "%d %s" % (count, one if count == 1 else (many or one + "s"))


def _rows(entries):
    rows = []
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get("path"):
            rows.append(entry)
    return rows


def drift_text(entry):
    return "%s: declared %s, actual %s" % (
        label(setting_key(entry)), _show(entry.get("expected")), _show(entry.get("actual")))


def change_text(entry):
    return "%s: %s -> %s" % (label(setting_key(entry)), _show(entry.get("before")), _show(entry.get("after")))


def role_result(answer, mode="audit", settings=None, check_mode=None, error=None):
    """The role's fact from the registered ``accs_system_config`` result (failed or not)."""
    if mode not in ("audit", "enforce"):
        raise SystemConfigInputError("accs_system_config_mode must be audit or enforce, not %r." % (mode,))
    answer = answer if isinstance(answer, dict) else {}
    declared = []
    if isinstance(settings, list):
        declared = [setting_key(item) for item in settings if isinstance(item, dict) and item.get("path")]
    declared = list(dict.fromkeys(declared))
    changes = _rows(answer.get("changes"))
    rejected = [dict(identity(setting_key(r)), message=str(r.get("message") or "rejected")) for r in
                _rows(answer.get("rejected"))]
    unverifiable = [identity(setting_key(u)) for u in _rows(answer.get("unverifiable"))]
    ran_in_check_mode = bool(mode == "audit" or check_mode)
    result = {
        "mode": mode,
        "check_mode": ran_in_check_mode,
        "passed": False,
        "settings": len(declared),
        "drift": [],
        "changes": [],
        "unchanged": int(answer.get("unchanged") or 0),
        "rejected": rejected,
        "unverifiable": unverifiable,
        "requests": dict(answer.get("requests") or {}),
        "checks": [],
    }
    failed = bool(answer.get("failed")) or error is not None
    error_kind = answer.get("error_kind")
    if failed and error_kind != "rejected":
        fallback = "The system configuration could not be read or written."
        message = str(error if error is not None else (answer.get("msg") or fallback))
        # a filter's sentence, without Ansible's wrapping of a failed argument template
        wrapped = re.search(r"The filter plugin '[\w.]+' failed: (.+)$", message)
        if wrapped:
            message = wrapped.group(1)
        result.update(error=message, message=message, changes=[], rejected=[])
        if error_kind:
            result["error_kind"] = error_kind
        result["checks"] = [dict(identity(k), status="error") for k in declared]
        return result
    rows = [dict(identity(setting_key(c)), before=c.get("before"), after=c.get("after")) for c in changes]
    # drift: what did not hold its declared value when read (in enforce mode: what was then written)
    result["drift"] = [dict(identity(setting_key(r)), expected=r["after"], actual=r["before"]) for r in rows]
    if mode == "enforce":
        result["changes"] = rows
    status = {}
    for row in rows:
        status[setting_key(row)] = "drift" if mode == "audit" else "changed"
    for row in rejected:
        status[setting_key(row)] = "rejected"
    for row in unverifiable:
        status[setting_key(row)] = "unverifiable"
    for key in list(status):
        if key not in declared:
            declared.append(key)
    result["settings"] = max(len(declared), result["unchanged"] + len(rows) + len(rejected) + len(unverifiable))
    result["checks"] = [dict(identity(k), status=status.get(k, "ok")) for k in declared]
    if rejected:
        result["message"] = str(answer.get("msg") or "ACCS rejected %s." % _plural(len(rejected), "setting"))
        result["passed"] = False
    elif mode == "audit":
        result["passed"] = not rows
        result["message"] = audit_message(result)
    else:
        result["passed"] = True
        result["message"] = enforce_message(result)
    return result


NOTHING_DECLARED = "No settings are declared (accs_system_config_common and accs_system_config are empty)."


def audit_message(result):
    drift = result.get("drift") or []
    total = result.get("settings", 0)
    if not total:
        return NOTHING_DECLARED
    if not drift:
        return "All %s hold their declared values." % _plural(total, "declared setting") if total != 1 else \
            "The declared setting holds its declared value."
    return "%d of %s differ%s from the declaration: %s." % (
        len(drift), _plural(total, "declared setting"), "s" if len(drift) == 1 else "",
        "; ".join(drift_text(entry) for entry in drift))


def enforce_message(result):
    changes = result.get("changes") or []
    total = result.get("settings", 0)
    if not total:
        return NOTHING_DECLARED
    if not changes:
        return "All %s already held their values; nothing was written." % _plural(total, "declared setting")
    verb = "Would write" if result.get("check_mode") else "Wrote"
    return "%s %d of %s (%s); %d already held %s value%s." % (
        verb, len(changes), _plural(total, "declared setting"), "; ".join(change_text(c) for c in changes),
        result.get("unchanged", 0), "its" if result.get("unchanged", 0) == 1 else "their",
        "" if result.get("unchanged", 0) == 1 else "s")


# --------------------------------------------------------------------------- export and promotion
def _codes(items, field="code"):
    return [str(item.get(field)) for item in items or [] if isinstance(item, dict) and item.get(field)
            and str(item.get(field)) != ADMIN_CODE and item.get("id") != 0]


def _json_of(answer):
    """The list an accs_rest result (or a bare list) holds."""
    if isinstance(answer, dict) and "json" in answer:
        answer = answer["json"]
    return answer if isinstance(answer, list) else []


def _code_list(value):
    """Codes from a list of codes, a list of websites or store views, or an accs_rest result (None stays None)."""
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return [x for x in value if x != ADMIN_CODE]
    return _codes(_json_of(value))


def scope_parents(websites, store_views):
    """``{(scope, code): parent (scope, code)}``: a website's parent is default, a store view's its website."""
    websites, store_views = _json_of(websites), _json_of(store_views)
    by_id = {w.get("id"): w.get("code") for w in websites if isinstance(w, dict)}
    parents = {}
    for code in _codes(websites):
        parents[("website", code)] = ("default", None)
    for view in store_views:
        if not isinstance(view, dict) or not view.get("code") or view.get("code") == ADMIN_CODE or view.get("id") == 0:
            continue
        website = by_id.get(view.get("website_id"))
        parents[("store", str(view["code"]))] = ("website", website) if website and website != ADMIN_CODE \
            else ("default", None)
    return parents


def config_scopes(websites, store_views):
    """Default scope, then every website and store view (admin rows left out), as accs_system_config_info takes."""
    scopes = [{"scope": "default"}]
    scopes += [{"scope": "website", "scope_code": c} for c in _codes(_json_of(websites))]
    scopes += [{"scope": "store", "scope_code": c} for c in _codes(_json_of(store_views))]
    return scopes


def _effective(values, parents, scope, code, path):
    """The value a scope shows for ``path`` when it stores none: its parent's, up to default."""
    seen = 0
    while seen < 4:
        if (path, scope, code) in values:
            return values[(path, scope, code)]
        if scope == "default":
            return None
        scope, code = parents.get((scope, code), ("default", None))
        seen += 1
    return None


RULE_INHERITED = "same as the parent scope"
RULE_NO_SCOPE = "scope code not in the target"
RULE_SENSITIVE = "sensitive path"


def select_settings(settings, exclude=None, parents=None, target_websites=None, target_stores=None,
                    sensitive_left_out=None):
    """What an export or a promotion carries: ``{"settings": [...], "excluded": [{path, scope, scope_code, rule}]}``.

    Rules, in order: ``exclude`` globs (rule ``exclude <glob>``); a website or store value equal to what its
    parent scope holds (``same as the parent scope``: whether reads return inherited values is not documented,
    and an inherited value written as an override would stop following its parent); with ``target_websites`` /
    ``target_stores`` (code lists, or accs_rest answers), a scope code the target lacks. ``sensitive_left_out``
    (what accs_system_config_info did not return) is listed as excluded by ``sensitive path``.
    """
    settings = _settings_list(settings, "settings")
    exclude = [str(p) for p in (exclude or [])]
    parents = dict(parents or {})
    target_websites = _code_list(target_websites)
    target_stores = _code_list(target_stores)
    values = {setting_key(item): item.get("value") for item in settings}
    kept, excluded = [], []
    for item in settings:
        key = setting_key(item)
        path, scope, code = key
        rule = next(("exclude %s" % p for p in exclude if fnmatch.fnmatchcase(path, p)), None)
        if rule is None and scope != "default":
            parent_scope, parent_code = parents.get((scope, code), ("default", None))
            parent = _effective(values, parents, parent_scope, parent_code, path)
            if parent is not None and str(parent) == str(item.get("value")):
                rule = RULE_INHERITED
        if rule is None and scope == "website" and target_websites is not None and code not in target_websites:
            rule = RULE_NO_SCOPE
        if rule is None and scope == "store" and target_stores is not None and code not in target_stores:
            rule = RULE_NO_SCOPE
        if rule is None:
            out = {"path": path, "value": item.get("value"), "scope": scope}
            if code is not None:
                out["scope_code"] = code
            kept.append(out)
        else:
            excluded.append(dict(identity(key), rule=rule))
    for item in sensitive_left_out or []:
        if isinstance(item, dict) and item.get("path"):
            excluded.append(dict(identity(setting_key(item)), rule=RULE_SENSITIVE))
    excluded.sort(key=lambda e: _sort_key(setting_key(e)))
    return {"settings": kept, "excluded": excluded}


def common_settings(per_host):
    """``{"common": [...], "hosts": {host: [...]}}``: settings equal (path, scope, code and value) on every host
    go to ``common``; each host keeps the rest. One host or none: nothing is common."""
    per_host = {str(h): _settings_list(s, "settings of %s" % h) for h, s in (per_host or {}).items()}
    if len(per_host) < 2:
        return {"common": [], "hosts": per_host}
    maps = {h: {setting_key(i): str(i.get("value")) for i in s} for h, s in per_host.items()}
    first = next(iter(per_host))
    shared = [i for i in per_host[first]
              if all(maps[h].get(setting_key(i)) == str(i.get("value")) for h in maps)]
    shared_keys = {setting_key(i) for i in shared}
    return {"common": [dict(i) for i in shared],
            "hosts": {h: [dict(i) for i in s if setting_key(i) not in shared_keys] for h, s in per_host.items()}}


# --------------------------------------------------------------------------- variable files
_TEMPLATE_MARKS = ("{{", "{%", "{#")


def _yaml_scalar(value):
    import yaml

    # plain built-in types: the YAML dumper refuses subclasses (templated strings are one)
    if isinstance(value, bool):
        value = bool(value)
    elif isinstance(value, int):
        value = int(value)
    elif isinstance(value, float):
        value = float(value)
    elif isinstance(value, str):
        value = "%s" % (value,)
    elif isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(_yaml_scalar(v) for v in value)
    if isinstance(value, str) and any(mark in value for mark in _TEMPLATE_MARKS):
        # Commerce defaults such as {{unsecure_base_url}} must reach ACCS as written, never templated by Ansible.
        return "!unsafe " + json.dumps(value, ensure_ascii=False)
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1 << 30)
    if text.endswith("\n...\n"):
        text = text[:-5]
    return text.strip()


def settings_yaml(settings, variable="accs_system_config", comments=None):
    """A YAML document defining ``variable`` as ``settings`` (values with template marks as ``!unsafe``)."""
    if not isinstance(variable, str) or not variable.isidentifier():
        raise SystemConfigInputError("The variable name must be a valid identifier, like accs_system_config.")
    settings = _settings_list(settings, variable)
    lines = ["---"]
    for comment in comments or []:
        for line in str(comment).splitlines() or [""]:
            lines.append(("# " + line).rstrip())
    if not settings:
        lines.append("%s: []" % variable)
    else:
        lines.append("%s:" % variable)
        for item in settings:
            path, scope, code = setting_key(item)
            lines.append("  - path: %s" % _yaml_scalar(path))
            lines.append("    value: %s" % _yaml_scalar(item.get("value")))
            lines.append("    scope: %s" % _yaml_scalar(scope))
            if code is not None:
                lines.append("    scope_code: %s" % _yaml_scalar(code))
    return "\n".join(lines) + "\n"
