# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store configuration audit: drift computation (pure functions, controller only).

Used by the ``store_config_drift`` filter and the report actions; rendering lives in ``_reports.py``.

The audit result (the ``accs_store_config_audit`` fact) is a dict::

    {"passed": bool, "stores": int, "drift": [{"store", "field", "expected", "actual", "rule"}],
     "rules": {rule: {"enabled": bool, "checks": int, "drift": int}},
     "checks": [{"rule", "store", "field"}], "counts": {...}, "message": str}

Every check performed is listed in ``checks``; every failing check has exactly one drift entry,
so a JUnit report has one test case per check and one failure per drift.
"""

from __future__ import annotations

import json

# Built-in rules, in report order; each can be turned off with accs_audit_rules.
BUILTIN_RULES = ("secure_urls_https", "store_view_has_config", "config_website_known")
# The comparison with accs_expected_store_configs; on when that dict is not empty.
EXPECTED_RULE = "expected_store_configs"
ALL_RULES = BUILTIN_RULES + (EXPECTED_RULE,)

RULE_TITLES = {
    "secure_urls_https": "Secure URLs use https",
    "store_view_has_config": "Every store view has a config",
    "config_website_known": "Config belongs to a known website",
    "expected_store_configs": "Expected values",
}

ENDPOINTS = ("storeConfigs", "storeViews", "websites", "storeGroups")
PRESENT = "present"
MISSING = "missing"
STORE_CONFIG_FIELD = "store_config"
ADMIN_CODE = "admin"


class AuditInputError(ValueError):
    """Unusable input: the message is one sentence saying what to fix."""


# --------------------------------------------------------------------------- input
def normalize_answers(answers):
    """``{endpoint: list}`` from a dict, or from the ``results`` of a looped accs_rest task.

    A loop result is a dict with ``item`` (the endpoint name or path, or a dict with ``path``)
    and ``json`` (the answer).
    """
    data = {}
    if isinstance(answers, dict) and "results" in answers and isinstance(answers["results"], list):
        answers = answers["results"]
    if isinstance(answers, dict):
        items = list(answers.items())
    elif isinstance(answers, (list, tuple)):
        items = []
        for result in answers:
            if not isinstance(result, dict) or "json" not in result:
                raise AuditInputError("Each loop result given to store_config_drift needs 'item' and 'json': "
                                      "pass the registered results of the accs_rest loop.")
            item = result.get("item")
            if isinstance(item, dict):
                item = item.get("path") or item.get("endpoint") or item.get("name")
            items.append((item, result["json"]))
    else:
        raise AuditInputError("store_config_drift needs a dict of the four store endpoints' answers or the "
                              "results of the accs_rest loop, got %s." % type(answers).__name__)
    for key, value in items:
        name = str(key or "").rstrip("/").rsplit("/", 1)[-1]
        if name in ENDPOINTS:
            data[name] = value
    for name in ENDPOINTS:
        value = data.get(name)
        if name == "storeGroups" and value is None:
            data[name] = []
            continue
        if not isinstance(value, list):
            raise AuditInputError("The answer of /V1/store/%s is %s, not a list: check that base_url points at the "
                                  "ACCS REST API." % (name, "missing" if value is None else type(value).__name__))
    return data


def normalize_rules(rules):
    """All built-in rules on, then the given switches."""
    enabled = dict((name, True) for name in BUILTIN_RULES)
    if rules is None:
        return enabled
    if not isinstance(rules, dict):
        raise AuditInputError("accs_audit_rules must be a dict of rule name to true/false.")
    for name, value in rules.items():
        if name not in BUILTIN_RULES:
            raise AuditInputError("accs_audit_rules names an unknown rule '%s': use %s."
                                  % (name, ", ".join(BUILTIN_RULES)))
        enabled[name] = _truthy(value)
    return enabled


def _truthy(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def normalize_expected(expected):
    if expected is None:
        return {}
    if not isinstance(expected, dict):
        raise AuditInputError("accs_expected_store_configs must be a dict of store code to a dict of field to value.")
    for store, fields in expected.items():
        if not isinstance(fields, dict):
            raise AuditInputError("accs_expected_store_configs['%s'] must be a dict of field to expected value." % store)
    return expected


# --------------------------------------------------------------------------- drift
def _same(expected, actual):
    """Exact match; booleans never equal numbers."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    return expected == actual


def _code(item):
    code = item.get("code") if isinstance(item, dict) else None
    if code is None and isinstance(item, dict) and "id" in item:
        code = "id %s" % item["id"]
    return str(code) if code is not None else "?"


def _https_expected(value):
    if isinstance(value, str) and value.lower().startswith("http://"):
        return "https://" + value[len("http://"):]
    return "an https:// URL"


def compute_drift(answers, expected=None, rules=None):
    """The audit result dict (see the module docstring)."""
    data = normalize_answers(answers)
    enabled = normalize_rules(rules)
    expected = normalize_expected(expected)
    enabled[EXPECTED_RULE] = bool(expected)

    configs = [c for c in data["storeConfigs"] if isinstance(c, dict)]
    by_code = {}
    for config in configs:
        by_code.setdefault(_code(config), config)
    checks = []
    drift = []

    def check(rule, store, field, failed, expected_value=None, actual_value=None):
        checks.append({"rule": rule, "store": store, "field": field})
        if failed:
            drift.append({"store": store, "field": field, "expected": expected_value, "actual": actual_value,
                          "rule": rule})

    if enabled["secure_urls_https"]:
        for config in configs:
            for field in sorted(k for k in config if k.startswith("secure_")):
                value = config[field]
                ok = isinstance(value, str) and value.lower().startswith("https://")
                check("secure_urls_https", _code(config), field, not ok, _https_expected(value), value)

    if enabled["store_view_has_config"]:
        config_ids = set(c.get("id") for c in configs if c.get("id") is not None)
        for view in data["storeViews"]:
            if not isinstance(view, dict) or view.get("code") == ADMIN_CODE or view.get("id") == 0:
                continue
            code = _code(view)
            has = code in by_code or (view.get("code") is None and view.get("id") in config_ids)
            check("store_view_has_config", code, STORE_CONFIG_FIELD, not has, PRESENT, None if has else MISSING)

    if enabled["config_website_known"]:
        known = sorted(set(w.get("id") for w in data["websites"] if isinstance(w, dict) and w.get("id") is not None),
                       key=lambda v: (str(type(v)), v))
        for config in configs:
            website = config.get("website_id")
            check("config_website_known", _code(config), "website_id", website not in known, known, website)

    if enabled[EXPECTED_RULE]:
        for store in sorted(expected, key=str):
            fields = expected[store]
            config = by_code.get(str(store))
            check(EXPECTED_RULE, str(store), STORE_CONFIG_FIELD, config is None, PRESENT, MISSING)
            if config is None:
                continue
            for field in sorted(fields, key=str):
                want = fields[field]
                have = config.get(field)
                check(EXPECTED_RULE, str(store), str(field), not (field in config and _same(want, have)), want, have)

    order = dict((name, index) for index, name in enumerate(ALL_RULES))
    drift.sort(key=lambda d: (d["store"], order[d["rule"]], d["field"]))
    rule_stats = {}
    for name in ALL_RULES:
        rule_stats[name] = {
            "enabled": enabled[name],
            "checks": sum(1 for c in checks if c["rule"] == name),
            "drift": sum(1 for d in drift if d["rule"] == name),
        }
    result = {
        "passed": not drift,
        "stores": len(configs),
        "drift": drift,
        "rules": rule_stats,
        "checks": checks,
        "counts": {
            "store_configs": len(configs),
            "store_views": len([v for v in data["storeViews"] if isinstance(v, dict) and v.get("code") != ADMIN_CODE
                                and v.get("id") != 0]),
            "websites": len([w for w in data["websites"] if isinstance(w, dict) and w.get("code") != ADMIN_CODE
                             and w.get("id") != 0]),
            "store_groups": len([g for g in data["storeGroups"] if isinstance(g, dict) and g.get("id") != 0]),
        },
    }
    result["message"] = audit_message(result)
    return result


# --------------------------------------------------------------------------- messages
def show(value):
    """A value as people read it in messages and tables (JSON, so strings are quoted)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def show_expected(entry):
    """The expected value of a drift entry as people read it."""
    value = entry.get("expected")
    if entry.get("rule") == "config_website_known" and isinstance(value, list):
        if not value:
            return "a website listed by /V1/store/websites (it lists none)"
        return "one of " + ", ".join(show(v) for v in value)
    return show(value)


def drift_text(entry):
    """One drift entry as a clause: store, field, expected, actual."""
    if entry.get("field") == STORE_CONFIG_FIELD and entry.get("expected") == PRESENT:
        if entry.get("rule") == "store_view_has_config":
            return "store view '%s' has no store config (%s)" % (entry["store"], entry["rule"])
        return "store '%s' is expected but has no store config (%s)" % (entry["store"], entry["rule"])
    return "store '%s' field %s: expected %s, actual %s (%s)" % (
        entry["store"], entry["field"], show_expected(entry), show(entry["actual"]), entry["rule"])


def audit_message(result):
    """The result in one sentence."""
    if result.get("error"):
        return result["error"]
    drift = result.get("drift") or []
    if not drift:
        stores = result.get("stores", 0)
        return "No drift in %d store configuration%s." % (stores, "" if stores == 1 else "s")
    return ("%d store configuration drift%s: %s; fix them in ACCS, or update accs_expected_store_configs or "
            "accs_audit_rules if the new values are intended."
            % (len(drift), "" if len(drift) == 1 else "s", "; ".join(drift_text(d) for d in drift)))


def error_result(message):
    """The audit result of an environment that could not be audited."""
    return {"passed": False, "stores": 0, "drift": [], "checks": [], "error": message,
            "rules": dict((name, {"enabled": False, "checks": 0, "drift": 0}) for name in ALL_RULES),
            "counts": {}, "message": message}
