# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store configuration audit: drift computation and report rendering (pure functions).

Used by the ``store_config_drift`` filter, and by the ``accs_report`` and
``accs_fleet_report`` action plugins, all on the controller. Nothing here does I/O.

The audit result (the ``accs_store_config_audit`` fact) is a dict::

    {"passed": bool, "stores": int, "drift": [{"store", "field", "expected", "actual", "rule"}],
     "rules": {rule: {"enabled": bool, "checks": int, "drift": int}},
     "checks": [{"rule", "store", "field"}], "counts": {...}, "message": str}

Every check performed is listed in ``checks``; every failing check has exactly one drift entry,
so a JUnit report has one test case per check and one failure per drift.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import difflib
import html
import json
import os
import re
from xml.sax.saxutils import quoteattr, escape as xml_escape

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


# --------------------------------------------------------------------------- files
def safe_name(name):
    """A file-name-safe form of an inventory host name."""
    text = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("._")
    return text or "host"


def report_paths(directory, name, kind):
    base = os.path.join(directory, safe_name(name))
    if kind == "store-config":
        return {"json": base + "-store-config.json", "junit": base + "-store-config.junit.xml",
                "markdown": base + "-store-config.md"}
    if kind == "access-check":
        return {"junit": base + "-access-check.junit.xml"}
    raise ValueError("unknown report kind %r" % kind)


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def render_json(name, result, base_url=None, generated_at=None):
    moment = generated_at or now_utc()
    document = {
        "host": name,
        "base_url": base_url,
        "generated_at": _iso(moment),
        "passed": bool(result.get("passed")),
        "stores": result.get("stores", 0),
        "drift": result.get("drift") or [],
        "rules": result.get("rules") or {},
        "counts": result.get("counts") or {},
        "message": result.get("message") or audit_message(result),
    }
    if result.get("error"):
        document["error"] = result["error"]
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def _md_cell(value):
    text = value if isinstance(value, str) else show(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_code(text):
    return "`%s`" % text.replace("`", "'").replace("|", "\\|").replace("\n", " ")


def render_markdown(name, result, base_url=None, generated_at=None):
    moment = generated_at or now_utc()
    drift = result.get("drift") or []
    lines = ["# Store configuration audit: %s" % name, ""]
    if base_url:
        lines.append("- ACCS: %s" % base_url)
    if result.get("error"):
        status = "**ERROR**: %s" % _md_cell(result["error"])
    elif drift:
        status = "**FAILED**: %d drift%s in %d store configuration%s" % (
            len(drift), "" if len(drift) == 1 else "s", result.get("stores", 0),
            "" if result.get("stores", 0) == 1 else "s")
    else:
        status = "**PASSED**: no drift in %d store configuration%s" % (
            result.get("stores", 0), "" if result.get("stores", 0) == 1 else "s")
    lines += ["- Result: %s" % status, "- Generated: %s" % _iso(moment), ""]
    rules = result.get("rules") or {}
    if not result.get("error"):
        lines += ["| Check | Enabled | Checks | Drift |", "| --- | --- | ---: | ---: |"]
        for rule in ALL_RULES:
            stats = rules.get(rule) or {"enabled": False, "checks": 0, "drift": 0}
            enabled = "yes" if stats["enabled"] else "no"
            lines.append("| %s (`%s`) | %s | %d | %d |"
                         % (RULE_TITLES[rule], rule, enabled, stats["checks"], stats["drift"]))
        lines.append("")
    if drift:
        lines += ["## Drift", "", "| Store | Field | Expected | Actual | Rule |", "| --- | --- | --- | --- | --- |"]
        for entry in drift:
            cells = (_md_cell(entry["store"]), _md_cell(entry["field"]), _md_code(show_expected(entry)),
                     _md_code(show(entry["actual"])), entry["rule"])
            lines.append("| %s | %s | %s | %s | %s |" % cells)
        lines.append("")
    return "\n".join(lines)


def _testcase(classname, name, failure=None, error=None, skipped=None, body=None):
    head = "    <testcase classname=%s name=%s time=\"0\"" % (quoteattr(classname), quoteattr(name))
    if failure is None and error is None and skipped is None:
        return head + "/>"
    if failure is not None:
        inner = "<failure type=%s message=%s>%s</failure>" % (
            quoteattr(failure[0]), quoteattr(failure[1]), xml_escape(body or ""))
    elif error is not None:
        inner = "<error type=%s message=%s>%s</error>" % (
            quoteattr(error[0]), quoteattr(error[1]), xml_escape(body or ""))
    else:
        inner = "<skipped message=%s/>" % quoteattr(skipped)
    return "%s>\n      %s\n    </testcase>" % (head, inner)


def _junit(suite_name, hostname, cases, failures, errors, skipped, properties, moment):
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             "<testsuites name=%s tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"0\">"
             % (quoteattr(suite_name), len(cases), failures, errors, skipped),
             "  <testsuite name=%s tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"0\" "
             "timestamp=%s hostname=%s>" % (quoteattr(suite_name), len(cases), failures, errors, skipped,
                                            quoteattr(moment.strftime("%Y-%m-%dT%H:%M:%S")), quoteattr(hostname))]
    props = [(k, v) for k, v in properties if v is not None]
    if props:
        lines.append("    <properties>")
        for key, value in props:
            lines.append("      <property name=%s value=%s/>" % (quoteattr(key), quoteattr(str(value))))
        lines.append("    </properties>")
    lines.extend(cases)
    lines += ["  </testsuite>", "</testsuites>", ""]
    return "\n".join(lines)


def render_junit_store_config(name, result, base_url=None, generated_at=None):
    """One test case per check, one failure per drift; an error case when the audit could not run."""
    moment = generated_at or now_utc()
    suite = "store-config.%s" % name
    cases = []
    failures = errors = skipped = 0
    if result.get("error"):
        errors = 1
        cases.append(_testcase("%s.audit" % name, "read the store configuration",
                               error=("AuditError", result["error"]), body=result["error"]))
    else:
        pending = {}
        for entry in result.get("drift") or []:
            pending.setdefault((entry["rule"], entry["store"], entry["field"]), []).append(entry)
        for item in result.get("checks") or []:
            key = (item["rule"], item["store"], item["field"])
            entries = pending.get(key)
            case_name = "%s: %s" % (item["store"], item["field"])
            if entries:
                entry = entries.pop(0)
                failures += 1
                body = "store: %s\nfield: %s\nexpected: %s\nactual: %s\nrule: %s\n" % (
                    entry["store"], entry["field"], show_expected(entry), show(entry["actual"]), entry["rule"])
                cases.append(_testcase("%s.%s" % (name, item["rule"]), case_name,
                                       failure=(item["rule"], drift_text(entry)), body=body))
            else:
                cases.append(_testcase("%s.%s" % (name, item["rule"]), case_name))
        # drift without a matching check (hand-made results): still one failure each
        for entries in pending.values():
            for entry in entries:
                failures += 1
                cases.append(_testcase("%s.%s" % (name, entry["rule"]), "%s: %s" % (entry["store"], entry["field"]),
                                       failure=(entry["rule"], drift_text(entry))))
        for rule, stats in sorted((result.get("rules") or {}).items(), key=lambda kv: ALL_RULES.index(kv[0])
                                  if kv[0] in ALL_RULES else 99):
            if not stats.get("enabled"):
                skipped += 1
                cases.append(_testcase("%s.%s" % (name, rule), "%s (rule off)" % RULE_TITLES.get(rule, rule),
                                       skipped="rule %s is turned off" % rule))
    return _junit(suite, name, cases, failures, errors, skipped,
                  [("base_url", base_url), ("stores", result.get("stores"))], moment)


def render_junit_access_check(name, result, base_url=None, generated_at=None):
    moment = generated_at or now_utc()
    suite = "access-check.%s" % name
    case_name = "GET /V1/store/storeConfigs with the stored credential"
    failures = 0
    if result.get("passed"):
        case = _testcase("%s.access_check" % name, case_name)
    else:
        failures = 1
        message = result.get("error") or "The access check failed."
        case = _testcase("%s.access_check" % name, case_name, failure=("AccessCheckFailed", message),
                         body="status: %s\n%s\n" % (result.get("status"), message))
    return _junit(suite, name, [case], failures, 0, 0,
                  [("base_url", base_url), ("status", result.get("status")), ("stores", result.get("stores")),
                   ("token_expires_at", result.get("token_expires_at"))], moment)


# --------------------------------------------------------------------------- diff
def drift_diff(name, result):
    """Ansible diff entries (expected as 'before', actual as 'after'), one per drifted store."""
    by_store = {}
    for entry in result.get("drift") or []:
        by_store.setdefault(entry["store"], []).append(entry)
    diffs = []
    for store in sorted(by_store):
        before, after = [], []
        for entry in sorted(by_store[store], key=lambda e: (e["field"], e["rule"])):
            before.append("%s: %s  # %s\n" % (entry["field"], show_expected(entry), entry["rule"]))
            after.append("%s: %s  # %s\n" % (entry["field"], show(entry["actual"]), entry["rule"]))
        diffs.append({"before_header": "%s store %s (expected)" % (name, store),
                      "after_header": "%s store %s (actual)" % (name, store),
                      "before": "".join(before), "after": "".join(after)})
    return diffs


def unified_diff_text(diffs):
    """The diff entries as plain unified diff text (for tests and logs)."""
    out = []
    for d in diffs:
        out.extend(difflib.unified_diff(d["before"].splitlines(True), d["after"].splitlines(True),
                                        "before: " + d["before_header"], "after: " + d["after_header"]))
    return "".join(out)


# --------------------------------------------------------------------------- fleet report
FLEET_CSS = """
:root { color-scheme: light; --ok:#1a7f37; --ok-bg:#dafbe1; --bad:#cf222e; --bad-bg:#ffebe9; --off:#6e7781;
  --off-bg:#f6f8fa; --err:#9a6700; --err-bg:#fff8c5; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px; color: #1f2328;
  background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
.meta { color: #59636e; margin: 0 0 16px; }
.totals { display: flex; gap: 12px; margin: 0 0 18px; flex-wrap: wrap; }
.totals div { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.totals b { display: block; font-size: 22px; }
.totals .ok b { color: var(--ok); } .totals .bad b { color: var(--bad); } .totals .err b { color: var(--err); }
table.fleet { border-collapse: collapse; width: 100%; }
table.fleet th, table.fleet td { border: 1px solid var(--line); padding: 6px 10px; text-align: left;
  vertical-align: top; }
table.fleet thead th { background: #f6f8fa; position: sticky; top: 0; }
td.cell { text-align: center; white-space: nowrap; font-weight: 600; }
.pass { color: var(--ok); background: var(--ok-bg); }
.fail { color: var(--bad); background: var(--bad-bg); }
.off { color: var(--off); background: var(--off-bg); font-weight: 400; }
.error { color: var(--err); background: var(--err-bg); }
.env b { display: block; } .env small { color: #59636e; word-break: break-all; }
details summary { cursor: pointer; color: #0969da; }
table.drift { border-collapse: collapse; margin-top: 6px; font-size: 13px; }
table.drift th, table.drift td { border: 1px solid var(--line); padding: 3px 6px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
.links a { margin-right: 8px; }
p.error-text { margin: 6px 0 0; max-width: 60em; }
"""


def fleet_row(name, result, base_url=None, reports=None):
    """Normalise one environment for the fleet report; result None: never audited."""
    if not isinstance(result, dict):
        result = error_result("No audit result: the audit of this environment did not run or stopped early; "
                              "see the playbook output for this host.")
    return {"name": str(name), "base_url": base_url, "result": result,
            "reports": reports if reports is not None else (result.get("reports") or {})}


def fleet_summary(rows):
    passed = [r["name"] for r in rows if r["result"].get("passed")]
    errors = [r["name"] for r in rows if not r["result"].get("passed") and r["result"].get("error")]
    drifted = [r["name"] for r in rows if not r["result"].get("passed") and not r["result"].get("error")]
    return {"total": len(rows), "passed": passed, "drifted": drifted, "errors": errors}


def _cell(result, rule):
    stats = (result.get("rules") or {}).get(rule) or {}
    if not stats.get("enabled"):
        return '<td class="cell off" title="rule off">off</td>'
    count = stats.get("drift", 0)
    checks = stats.get("checks", 0)
    if count:
        return '<td class="cell fail" title="%d of %d checks drifted">&#10007; %d drift</td>' % (count, checks, count)
    return '<td class="cell pass" title="%d checks passed">&#10003; pass</td>' % checks


def _rel_link(path, html_dir):
    if not path:
        return None
    try:
        return os.path.relpath(path, html_dir) if html_dir else path
    except ValueError:
        return path


def render_fleet_html(rows, title="ACCS store configuration audit", generated_at=None, html_dir=None):
    """One self-contained page: no scripts, no external assets, inline CSS only."""
    moment = generated_at or now_utc()
    esc = html.escape
    summary = fleet_summary(rows)
    out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
           '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<title>%s</title>' % esc(title), '<style>%s</style>' % FLEET_CSS, '</head>', '<body>',
           '<h1>%s</h1>' % esc(title),
           '<p class="meta">Generated %s by adobe_commerce.accs &middot; %d environment%s</p>'
           % (esc(_iso(moment)), summary["total"], "" if summary["total"] == 1 else "s"),
           '<div class="totals">',
           '<div class="ok" id="total-passed"><b>%d</b>passed</div>' % len(summary["passed"]),
           '<div class="bad" id="total-drifted"><b>%d</b>drifted</div>' % len(summary["drifted"]),
           '<div class="err" id="total-errors"><b>%d</b>not audited</div>' % len(summary["errors"]),
           '</div>',
           '<table class="fleet" id="fleet">', '<thead><tr><th>Environment</th><th>Result</th><th>Stores</th>']
    for rule in ALL_RULES:
        out.append('<th title="%s">%s</th>' % (esc(rule), esc(RULE_TITLES[rule])))
    out += ['<th>Details</th>', '</tr></thead>', '<tbody>']
    for row in rows:
        result = row["result"]
        drift = result.get("drift") or []
        if result.get("error"):
            status, label = "error", "error"
        elif result.get("passed"):
            status, label = "pass", "&#10003; passed"
        else:
            status, label = "fail", "&#10007; drift"
        out.append('<tr data-env="%s" data-status="%s">' % (esc(row["name"], quote=True), status))
        env = '<b>%s</b>' % esc(row["name"])
        if row.get("base_url"):
            env += '<small>%s</small>' % esc(str(row["base_url"]))
        out.append('<td class="env">%s</td>' % env)
        out.append('<td class="cell %s">%s</td>' % (status, label))
        if result.get("error"):
            out.append('<td class="cell error" colspan="%d">not audited</td>' % (len(ALL_RULES) + 1))
        else:
            out.append('<td class="cell">%d</td>' % int(result.get("stores") or 0))
            for rule in ALL_RULES:
                out.append(_cell(result, rule))
        details = []
        if result.get("error"):
            details.append('<details open><summary>why it was not audited</summary><p class="error-text">%s</p>'
                           '</details>' % esc(result["error"]))
        elif drift:
            details.append('<details><summary>%d drift%s</summary><table class="drift"><thead><tr><th>Store</th>'
                           '<th>Field</th><th>Expected</th><th>Actual</th><th>Rule</th></tr></thead><tbody>'
                           % (len(drift), "" if len(drift) == 1 else "s"))
            for entry in drift:
                details.append('<tr><td>%s</td><td>%s</td><td><code>%s</code></td><td><code>%s</code></td>'
                               '<td>%s</td></tr>' % (esc(str(entry.get("store"))), esc(str(entry.get("field"))),
                                                     esc(show_expected(entry)), esc(show(entry.get("actual"))),
                                                     esc(str(entry.get("rule")))))
            details.append('</tbody></table></details>')
        else:
            details.append('<span class="off">no drift</span>')
        links = []
        for key, label in (("markdown", "md"), ("json", "json"), ("junit", "junit")):
            href = _rel_link((row.get("reports") or {}).get(key), html_dir)
            if href:
                links.append('<a href="%s">%s</a>' % (esc(href.replace(os.sep, "/"), quote=True), label))
        if links:
            details.append('<div class="links">%s</div>' % "".join(links))
        out.append('<td>%s</td>' % "".join(details))
        out.append('</tr>')
    if not rows:
        out.append('<tr><td colspan="%d">No environments in group accs.</td></tr>' % (len(ALL_RULES) + 4))
    out += ['</tbody>', '</table>', '</body>', '</html>', '']
    return "\n".join(out)
