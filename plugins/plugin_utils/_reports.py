# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report rendering (JSON, Markdown, JUnit, the fleet HTML page) of audit results (controller only).

Pure functions: the action plugins write what these return.
"""

from __future__ import annotations

import datetime
import html
import json
import os
import re
from xml.sax.saxutils import quoteattr, escape as xml_escape

from ansible_collections.adobe_commerce.accs.plugins.plugin_utils import _health
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils._drift import (
    ALL_RULES,
    RULE_TITLES,
    audit_message,
    drift_text,
    error_result,
    show,
    show_expected,
)


# --------------------------------------------------------------------------- files
def safe_name(name):
    """A file-name-safe form of an inventory host name."""
    text = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("._")
    return text or "host"


def report_paths(directory, name, kind):
    base = os.path.join(directory, safe_name(name))
    if kind == "extensibility":
        return {"json": base + "-extensibility.json", "junit": base + "-extensibility.junit.xml",
                "markdown": base + "-extensibility.md"}
    if kind == "store-config":
        return {"json": base + "-store-config.json", "junit": base + "-store-config.junit.xml",
                "markdown": base + "-store-config.md"}
    if kind == "access-check":
        return {"junit": base + "-access-check.junit.xml"}
    if kind == "system-config":
        return {"json": base + "-system-config.json", "junit": base + "-system-config.junit.xml",
                "markdown": base + "-system-config.md"}
    if kind == "system-config-promotion":
        return {"json": base + "-promotion.json", "markdown": base + "-promotion.md"}
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


def fleet_row(name, result, base_url=None, reports=None, system_config=None, extensibility=None):
    """Normalise one environment for the fleet report; result None: never audited.

    ``system_config``: the system_config role's result on that host (None: the role did not run there).
    ``extensibility``: the extensibility role's result on that host (None: the role did not run there).
    """
    if not isinstance(result, dict):
        result = error_result("No audit result: the audit of this environment did not run or stopped early; "
                              "see the playbook output for this host.")
    return {"name": str(name), "base_url": base_url, "result": result,
            "reports": reports if reports is not None else (result.get("reports") or {}),
            "system_config": system_config if isinstance(system_config, dict) else None,
            "extensibility": extensibility if isinstance(extensibility, dict) else None}


def fleet_summary(rows):
    passed = [r["name"] for r in rows if r["result"].get("passed")]
    errors = [r["name"] for r in rows if not r["result"].get("passed") and r["result"].get("error")]
    drifted = [r["name"] for r in rows if not r["result"].get("passed") and not r["result"].get("error")]
    summary = {"total": len(rows), "passed": passed, "drifted": drifted, "errors": errors}
    checked = [r for r in rows if r.get("system_config")]
    if checked:
        summary["system_config"] = {
            "checked": [r["name"] for r in checked],
            "in_sync": [r["name"] for r in checked if system_config_status(r["system_config"])[1] == "in sync"],
            "drifted": [r["name"] for r in checked if r["system_config"].get("mode") == "audit"
                        and r["system_config"].get("drift") and not r["system_config"].get("error")],
            "changed": [r["name"] for r in checked if r["system_config"].get("mode") == "enforce"
                        and r["system_config"].get("changes") and not r["system_config"].get("error")],
            "rejected": [r["name"] for r in checked if r["system_config"].get("rejected")],
            "errors": [r["name"] for r in checked if r["system_config"].get("error")],
            "not_run": [r["name"] for r in rows if not r.get("system_config")],
        }
    return summary


def _system_config_cell(result):
    if result is None:
        return '<td class="cell off" data-sysconfig="not-run" title="the system_config role did not run">not run</td>'
    drift = len(result.get("drift") or [])
    changes = len(result.get("changes") or [])
    rejected = len(result.get("rejected") or [])
    status, label = system_config_status(result)
    parts = []
    if result.get("error"):
        parts.append("error")
    else:
        if result.get("mode") == "audit":
            parts.append("%d drift" % drift)
        else:
            parts.append("%d %s" % (changes, "to change" if result.get("check_mode") else "changed"))
        if rejected:
            parts.append("%d rejected" % rejected)
    if status == "off":
        parts = ["nothing declared"]
    mark = "&#10003; " if status == "pass" else ("&#10007; " if status == "fail" else "")
    return ('<td class="cell %s" data-sysconfig="%s" data-sysconfig-mode="%s" data-sysconfig-drift="%d" '
            'data-sysconfig-changes="%d" data-sysconfig-rejected="%d" title="%s">%s%s</td>'
            % (status, html.escape(label, quote=True), html.escape(str(result.get("mode")), quote=True), drift,
               changes, rejected, html.escape(str(result.get("message") or label), quote=True), mark,
               html.escape(", ".join(parts))))


def _system_config_details(result):
    esc = html.escape
    if result.get("error"):
        return ('<details open><summary>system configuration not checked</summary><p class="error-text">%s</p>'
                '</details>' % esc(result["error"]))
    rows = []
    if result.get("mode") == "audit":
        for entry in result.get("drift") or []:
            rows.append((entry, "drift", _sc_value_text(entry.get("expected")), _sc_value_text(entry.get("actual"))))
        head = ("Declared", "Actual")
    else:
        for entry in result.get("changes") or []:
            rows.append((entry, "changed", _sc_value_text(entry.get("after")), _sc_value_text(entry.get("before"))))
        head = ("After", "Before")
    for entry in result.get("rejected") or []:
        rows.append((entry, "rejected", entry.get("message") or "", ""))
    if not rows:
        return ""
    out = ['<details><summary>system configuration: %s</summary><table class="drift"><thead><tr><th>Path</th>'
           '<th>Scope</th><th>%s</th><th>%s</th><th>Status</th></tr></thead><tbody>'
           % (esc(system_config_status(result)[1]), head[0], head[1])]
    for entry, status, first, second in rows:
        scope = entry.get("scope") or "default"
        if entry.get("scope_code") is not None:
            scope += " " + str(entry["scope_code"])
        out.append('<tr><td><code>%s</code></td><td>%s</td><td><code>%s</code></td><td><code>%s</code></td>'
                   '<td>%s</td></tr>' % (esc(str(entry.get("path"))), esc(scope), esc(first), esc(second), status))
    out.append('</tbody></table></details>')
    return "".join(out)


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


# --------------------------------------------------------------------------- fleet report: credential health columns
def credential_health_group(rows):
    """The credential health column group of the fleet page: (css, header cells, cells of a row), or None.

    Shown when any row carries ``credential_health`` (the fact the credential_health role sets, put on the
    row by the accs_fleet_report action); a row without it reads "not checked".
    """
    if not any(isinstance(row.get("credential_health"), dict) for row in rows):
        return None
    return (_health.HEALTH_CSS, _health.health_header_cells(),
            lambda row: _health.health_row_cells(row.get("credential_health")))


def render_fleet_html(rows, title="ACCS store configuration audit", generated_at=None, html_dir=None):
    """One self-contained page: no scripts, no external assets, inline CSS only."""
    moment = generated_at or now_utc()
    esc = html.escape
    summary = fleet_summary(rows)
    health_group = credential_health_group(rows)
    out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
           '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<title>%s</title>' % esc(title), '<style>%s%s</style>' % (FLEET_CSS, health_group[0] if health_group else ""), '</head>', '<body>',
           '<h1>%s</h1>' % esc(title),
           '<p class="meta">Generated %s by adobe_commerce.accs &middot; %d environment%s</p>'
           % (esc(_iso(moment)), summary["total"], "" if summary["total"] == 1 else "s"),
           '<div class="totals">',
           '<div class="ok" id="total-passed"><b>%d</b>passed</div>' % len(summary["passed"]),
           '<div class="bad" id="total-drifted"><b>%d</b>drifted</div>' % len(summary["drifted"]),
           '<div class="err" id="total-errors"><b>%d</b>not audited</div>' % len(summary["errors"])]
    if summary.get("system_config"):
        sc = summary["system_config"]
        out += ['<div class="ok" id="total-system-config-in-sync"><b>%d</b>system configuration in sync</div>'
                % len(sc["in_sync"]),
                '<div class="bad" id="total-system-config-drifted"><b>%d</b>system configuration drifted</div>'
                % len(sc["drifted"])]
        if sc["changed"]:
            out.append('<div class="ok" id="total-system-config-changed"><b>%d</b>system configuration changed</div>'
                       % len(sc["changed"]))
        if sc["rejected"] or sc["errors"]:
            out.append('<div class="err" id="total-system-config-failed"><b>%d</b>system configuration rejected '
                       'or not checked</div>' % len(set(sc["rejected"]) | set(sc["errors"])))
    out += ['</div>',
            '<table class="fleet" id="fleet">', '<thead><tr><th>Environment</th><th>Result</th><th>Stores</th>']
    for rule in ALL_RULES:
        out.append('<th title="%s">%s</th>' % (esc(rule), esc(RULE_TITLES[rule])))
    with_system_config = any(row.get("system_config") for row in rows)
    if with_system_config:
        out.append('<th id="system-config" title="system_config role: drift (audit), changes (enforce), '
                   'rejected items">System configuration</th>')
    with_extensibility = any(row.get("extensibility") for row in rows)
    if with_extensibility:
        out.append('<th id="extensibility" title="extensibility role: drift (audit), changes (enforce), rejected '
                   'items">App Builder wiring</th>')
    if health_group:
        out.extend(health_group[1])
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
        if with_system_config:
            out.append(_system_config_cell(row.get("system_config")))
        if with_extensibility:
            out.append(extensibility_cell(row.get("extensibility")))
        if health_group:
            out.extend(health_group[2](row))
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
        if row.get("system_config"):
            details.append(_system_config_details(row["system_config"]))
        if row.get("extensibility"):
            details.append(extensibility_details(row["extensibility"]))
        links = []
        for key, label in (("markdown", "md"), ("json", "json"), ("junit", "junit")):
            href = _rel_link((row.get("reports") or {}).get(key), html_dir)
            if href:
                links.append('<a href="%s">%s</a>' % (esc(href.replace(os.sep, "/"), quote=True), label))
        for key, label in (("markdown", "system config md"), ("json", "system config json"),
                           ("junit", "system config junit")):
            href = _rel_link(((row.get("system_config") or {}).get("reports") or {}).get(key), html_dir)
            if href:
                links.append('<a href="%s">%s</a>' % (esc(href.replace(os.sep, "/"), quote=True), label))
        for key, label in (("markdown", "wiring md"), ("json", "wiring json"), ("junit", "wiring junit")):
            href = _rel_link(((row.get("extensibility") or {}).get("reports") or {}).get(key), html_dir)
            if href:
                links.append('<a href="%s">%s</a>' % (esc(href.replace(os.sep, "/"), quote=True), label))
        if links:
            details.append('<div class="links">%s</div>' % "".join(links))
        out.append('<td>%s</td>' % "".join(details))
        out.append('</tr>')
    if not rows:
        columns = len(ALL_RULES) + 4 + int(with_system_config) + int(with_extensibility)
        out.append('<tr><td colspan="%d">No environments in group accs.</td></tr>' % columns)
    out += ['</tbody>', '</table>', '</body>', '</html>', '']
    return "\n".join(out)


# --------------------------------------------------------------------------- system configuration
def _sc_code(value):
    return "-" if value is None else _md_cell(str(value))


def _sc_value(value):
    return "unset" if value is None else _md_code(json.dumps(value, ensure_ascii=False))


def _sc_value_text(value):
    return "unset" if value is None else json.dumps(value, ensure_ascii=False)


def _sc_label(entry):
    code = entry.get("scope_code")
    return "%s (%s%s)" % (entry.get("path"), entry.get("scope") or "default", "" if code is None else " " + str(code))


def system_config_status(result):
    """``(status, label)`` of a system_config result: error, rejected, drift, changed or in-sync."""
    if result.get("error"):
        return "error", "error"
    if result.get("rejected"):
        return "fail", "%d rejected" % len(result["rejected"])
    if result.get("mode") == "audit" and result.get("drift"):
        return "fail", "%d drift" % len(result["drift"])
    if result.get("mode") == "enforce" and result.get("changes"):
        return "pass", "%d %s" % (len(result["changes"]), "to change" if result.get("check_mode") else "changed")
    if not result.get("settings"):
        return "off", "nothing declared"
    return "pass", "in sync"


def render_system_config_json(name, result, base_url=None, generated_at=None):
    moment = generated_at or now_utc()
    document = {
        "host": name,
        "base_url": base_url,
        "generated_at": _iso(moment),
        "mode": result.get("mode"),
        "check_mode": bool(result.get("check_mode")),
        "passed": bool(result.get("passed")),
        "settings": result.get("settings", 0),
        "drift": result.get("drift") or [],
        "changes": result.get("changes") or [],
        "unchanged": result.get("unchanged", 0),
        "rejected": result.get("rejected") or [],
        "unverifiable": result.get("unverifiable") or [],
        "requests": result.get("requests") or {},
        "message": result.get("message"),
    }
    if result.get("error"):
        document["error"] = result["error"]
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def render_system_config_markdown(name, result, base_url=None, generated_at=None):
    moment = generated_at or now_utc()
    mode = result.get("mode") or "audit"
    lines = ["# System configuration %s: %s" % (mode, name), ""]
    if base_url:
        lines.append("- ACCS: %s" % base_url)
    status, label = system_config_status(result)
    word = {"error": "**ERROR**", "fail": "**FAILED**", "pass": "**PASSED**", "off": "**PASSED**"}[status]
    lines += ["- Mode: %s%s" % (mode, " (check mode: nothing written)" if mode == "enforce" and
                                result.get("check_mode") else ""),
              "- Result: %s: %s" % (word, _md_cell(result.get("message") or label)),
              "- Declared settings: %d; holding their value: %d" % (result.get("settings", 0),
                                                                    result.get("unchanged", 0)),
              "- Generated: %s" % _iso(moment), ""]
    drift = result.get("drift") or []
    if mode == "audit" and drift:
        lines += ["## Drift", "", "| Path | Scope | Code | Declared | Actual |", "| --- | --- | --- | --- | --- |"]
        for entry in drift:
            lines.append("| %s | %s | %s | %s | %s |" % (_md_cell(entry["path"]), entry["scope"],
                                                         _sc_code(entry.get("scope_code")),
                                                         _sc_value(entry.get("expected")),
                                                         _sc_value(entry.get("actual"))))
        lines.append("")
    changes = result.get("changes") or []
    if changes:
        lines += ["## %s" % ("Changes to make" if result.get("check_mode") else "Changes made"), "",
                  "| Path | Scope | Code | Before | After |", "| --- | --- | --- | --- | --- |"]
        for entry in changes:
            lines.append("| %s | %s | %s | %s | %s |" % (_md_cell(entry["path"]), entry["scope"],
                                                         _sc_code(entry.get("scope_code")),
                                                         _sc_value(entry.get("before")), _sc_value(entry.get("after"))))
        lines.append("")
    rejected = result.get("rejected") or []
    if rejected:
        lines += ["## Rejected", "", "| Path | Scope | Code | Reason |", "| --- | --- | --- | --- |"]
        for entry in rejected:
            lines.append("| %s | %s | %s | %s |" % (_md_cell(entry["path"]), entry["scope"],
                                                    _sc_code(entry.get("scope_code")), _md_cell(entry["message"])))
        lines.append("")
    unverifiable = result.get("unverifiable") or []
    if unverifiable:
        lines += ["## Not compared (ACCS shows them as asterisks)", ""]
        lines += ["- %s" % _md_cell(_sc_label(entry)) for entry in unverifiable]
        lines.append("")
    return "\n".join(lines)


def render_junit_system_config(name, result, base_url=None, generated_at=None):
    """One test case per declared setting: drift and rejections fail, unverifiable ones are skipped."""
    moment = generated_at or now_utc()
    suite = "system-config.%s" % name
    cases = []
    failures = errors = skipped = 0
    if result.get("error"):
        errors = 1
        cases.append(_testcase("%s.system_config" % name, "read and compare the system configuration",
                               error=("SystemConfigError", result["error"]), body=result["error"]))
    else:
        drift = {(d["path"], d["scope"], d.get("scope_code")): d for d in result.get("drift") or []}
        rejected = {(r["path"], r["scope"], r.get("scope_code")): r for r in result.get("rejected") or []}
        for check in result.get("checks") or []:
            key = (check["path"], check["scope"], check.get("scope_code"))
            classname = "%s.%s" % (name, check["scope"] if check.get("scope_code") is None
                                   else "%s.%s" % (check["scope"], check["scope_code"]))
            status = check.get("status")
            if status == "rejected" and key in rejected:
                failures += 1
                message = rejected[key]["message"]
                cases.append(_testcase(classname, check["path"], failure=("rejected", message), body=message + "\n"))
            elif status == "drift" and key in drift:
                failures += 1
                entry = drift[key]
                text = "declared %s, actual %s" % (_sc_value_text(entry.get("expected")),
                                                   _sc_value_text(entry.get("actual")))
                cases.append(_testcase(classname, check["path"], failure=("drift", text), body=text + "\n"))
            elif status == "unverifiable":
                skipped += 1
                cases.append(_testcase(classname, check["path"],
                                       skipped="ACCS shows this sensitive value only as asterisks"))
            else:
                cases.append(_testcase(classname, check["path"]))
    return _junit(suite, name, cases, failures, errors, skipped,
                  [("base_url", base_url), ("mode", result.get("mode")), ("settings", result.get("settings"))],
                  moment)


def render_promotion_json(name, result, generated_at=None):
    moment = generated_at or now_utc()
    document = {"promotion": name, "generated_at": _iso(moment)}
    document.update({k: v for k, v in result.items() if k != "targets"})
    document["targets"] = [_promotion_target(t) for t in result.get("targets") or []]
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def _promotion_target(target):
    out = {"host": target.get("host"), "base_url": target.get("base_url"),
           "passed": bool(target.get("passed")), "check_mode": bool(target.get("check_mode")),
           "changed": target.get("changes") or [],
           "unchanged": [{k: c[k] for k in ("path", "scope", "scope_code")}
                         for c in target.get("checks") or [] if c.get("status") == "ok"],
           "excluded": target.get("excluded") or [],
           "rejected": target.get("rejected") or [],
           "message": target.get("message")}
    if target.get("error"):
        out["error"] = target["error"]
    return out


def render_promotion_markdown(name, result, generated_at=None):
    moment = generated_at or now_utc()
    lines = ["# System configuration promotion: %s" % name, "",
             "- From: %s%s" % (result.get("source"), " (%s)" % result["source_base_url"]
                               if result.get("source_base_url") else ""),
             "- To: %s" % ", ".join(str(t.get("host")) for t in result.get("targets") or []),
             "- Check mode: %s" % ("yes, nothing was written" if result.get("check_mode") else "no"),
             "- Generated: %s" % _iso(moment), ""]
    for target in [_promotion_target(t) for t in result.get("targets") or []]:
        lines += ["## %s" % target["host"], ""]
        if target.get("base_url"):
            lines.append("- ACCS: %s" % target["base_url"])
        lines.append("- Result: %s" % _md_cell(target.get("message") or ""))
        lines.append("- %d %s, %d unchanged, %d excluded, %d rejected" % (
            len(target["changed"]), "to change" if target["check_mode"] else "changed", len(target["unchanged"]),
            len(target["excluded"]), len(target["rejected"])))
        lines.append("")
        if target["changed"]:
            lines += ["### %s" % ("To change" if target["check_mode"] else "Changed"), "",
                      "| Path | Scope | Code | Before | After |", "| --- | --- | --- | --- | --- |"]
            for entry in target["changed"]:
                lines.append("| %s | %s | %s | %s | %s |" % (
                    _md_cell(entry["path"]), entry["scope"], _sc_code(entry.get("scope_code")),
                    _sc_value(entry.get("before")), _sc_value(entry.get("after"))))
            lines.append("")
        if target["rejected"]:
            lines += ["### Rejected", "", "| Path | Scope | Code | Reason |", "| --- | --- | --- | --- |"]
            for entry in target["rejected"]:
                lines.append("| %s | %s | %s | %s |" % (_md_cell(entry["path"]), entry["scope"],
                                                        _sc_code(entry.get("scope_code")), _md_cell(entry["message"])))
            lines.append("")
        if target["excluded"]:
            lines += ["### Excluded", "", "| Path | Scope | Code | Rule |", "| --- | --- | --- | --- |"]
            for entry in target["excluded"]:
                lines.append("| %s | %s | %s | %s |" % (_md_cell(entry["path"]), entry["scope"],
                                                        _sc_code(entry.get("scope_code")), _md_cell(entry["rule"])))
            lines.append("")
        if target["unchanged"]:
            lines += ["### Unchanged", ""]
            lines += ["- %s" % _md_cell(_sc_label(entry)) for entry in target["unchanged"]]
            lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- extensibility (App Builder wiring)
# Reports of the extensibility role (its fact accs_extensibility_result, see plugin_utils/_extensibility_role.py) and its
# fleet column. Values in before/after were masked by the modules ("(sensitive)"); nothing here unmasks.
def extensibility_status(result):
    """``(status, label)`` of an extensibility result: error, rejected, drift, changed or in sync."""
    if result.get("error"):
        return "error", "error"
    if result.get("rejected"):
        return "fail", "%d rejected" % len(result["rejected"])
    if result.get("mode") == "audit" and result.get("drift"):
        return "fail", "%d drift" % len(result["drift"])
    if result.get("mode") == "enforce" and result.get("changes"):
        return "pass", "%d %s" % (len(result["changes"]), "to change" if result.get("check_mode") else "changed")
    return "pass", "in sync"


def _ext_declared(result):
    declared = result.get("declared") or {}
    return ", ".join("%d %s" % (declared.get(k, 0), k) for k in ("webhooks", "subscriptions", "providers"))


def render_extensibility_json(name, result, base_url=None, generated_at=None):
    moment = generated_at or now_utc()
    document = {"host": name, "base_url": base_url, "generated_at": _iso(moment)}
    for key, default in (("mode", None), ("check_mode", False), ("passed", False), ("declared", {}), ("drift", []),
                         ("changes", []), ("unchanged", 0), ("rejected", []), ("eventing", None),
                         ("io_events_check", None), ("requests", {}), ("message", None)):
        value = result.get(key)
        document[key] = default if value is None else value
    if result.get("error"):
        document["error"] = result["error"]
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def render_extensibility_markdown(name, result, base_url=None, generated_at=None):
    moment = generated_at or now_utc()
    mode = result.get("mode") or "audit"
    status, label = extensibility_status(result)
    word = {"error": "**ERROR**", "fail": "**FAILED**", "pass": "**PASSED**"}[status]
    lines = ["# App Builder wiring %s: %s" % (mode, name), ""]
    if base_url:
        lines.append("- ACCS: %s" % base_url)
    lines += ["- Mode: %s%s" % (mode, " (check mode: nothing written)" if mode == "enforce" and result.get("check_mode")
                                else ""),
              "- Result: %s: %s" % (word, _md_cell(result.get("message") or label))]
    if result.get("declared"):
        lines.append("- Declared: %s; holding their state: %d" % (_ext_declared(result), result.get("unchanged", 0)))
    check = result.get("io_events_check")
    if check:
        shown = check.get("status")
        if check.get("failed"):
            shown = "%s (%s)" % (shown, _md_cell("; ".join(check["failed"])))
        lines.append("- Adobe I/O Events check: %s" % shown)
    lines += ["- Generated: %s" % _iso(moment), ""]
    found = result.get("drift") if mode == "audit" else result.get("changes")
    if found:
        title = "Drift" if mode == "audit" else ("Changes to make" if result.get("check_mode") else "Changes made")
        lines += ["## %s" % title, "", "| Kind | Name | Action |", "| --- | --- | --- |"]
        for entry in found:
            action = entry.get("action")
            if entry.get("sent"):
                action = "%s (%s)" % (action, ", ".join(entry["sent"]))
            lines.append("| %s | %s | %s |" % (entry.get("kind"), _md_code(str(entry.get("name"))), _md_cell(action)))
        lines.append("")
    if result.get("rejected"):
        lines += ["## Rejected", "", "| Kind | Name | Reason |", "| --- | --- | --- |"]
        for entry in result["rejected"]:
            lines.append("| %s | %s | %s |" % (entry.get("kind"), _md_code(str(entry.get("name"))),
                                               _md_cell(str(entry.get("message")))))
        lines.append("")
    if result.get("error"):
        lines += ["## Error", "", _md_cell(result["error"]), ""]
    return "\n".join(lines)


def render_junit_extensibility(name, result, base_url=None, generated_at=None):
    """One test case per declared (or pruned) item: drift and rejections fail, items not checked are skipped."""
    moment = generated_at or now_utc()
    suite = "extensibility.%s" % name
    cases = []
    failures = errors = skipped = 0
    for item in result.get("items") or []:
        classname = "%s.%s" % (name, str(item.get("kind")).replace(" ", "_"))
        status = item.get("status")
        if status == "rejected":
            failures += 1
            text = "%s %s: %s" % (item.get("kind"), item.get("name"), item.get("message"))
            cases.append(_testcase(classname, item.get("name"), failure=("rejected", text), body=text + "\n"))
        elif status == "drift":
            failures += 1
            text = "%s %s would be %s" % (item.get("kind"), item.get("name"), item.get("action"))
            cases.append(_testcase(classname, item.get("name"), failure=("drift", text), body=text + "\n"))
        elif status == "not checked":
            skipped += 1
            cases.append(_testcase(classname, item.get("name"), skipped="not checked: an earlier step failed"))
        else:
            cases.append(_testcase(classname, item.get("name")))
    check = result.get("io_events_check")
    if check is not None:
        classname = "%s.io_events" % name
        if check.get("failed"):
            text = "Adobe I/O Events check: %s" % "; ".join(check["failed"])
            if any(e.get("step") == "check" for e in result.get("errors") or []):
                failures += 1
                cases.append(_testcase(classname, "check_configuration", failure=("io_events_check", text),
                                       body=text + "\n"))
            else:
                skipped += 1
                cases.append(_testcase(classname, "check_configuration", skipped=text + " (not required)"))
        else:
            cases.append(_testcase(classname, "check_configuration"))
    for entry in result.get("errors") or []:
        if entry.get("step") == "check":
            continue
        errors += 1
        cases.append(_testcase("%s.%s" % (name, entry.get("step") or "role"), "hold the %s" % (
            entry.get("kind") or "App Builder wiring"), error=("ExtensibilityError", entry["message"]),
            body=entry["message"]))
    return _junit(suite, name, cases, failures, errors, skipped,
                  [("base_url", base_url), ("mode", result.get("mode")), ("check_mode", result.get("check_mode"))],
                  moment)


def render_extensibility_reports(name, result, base_url=None, generated_at=None):
    """The three report texts of kind ``extensibility``."""
    return {"json": render_extensibility_json(name, result, base_url, generated_at),
            "junit": render_junit_extensibility(name, result, base_url, generated_at),
            "markdown": render_extensibility_markdown(name, result, base_url, generated_at)}


def extensibility_cell(result):
    """The fleet report's App Builder wiring cell of one environment (None: the role did not run there)."""
    if result is None:
        return '<td class="cell off" data-extensibility="not-run" title="the extensibility role did not run">not run</td>'
    status, label = extensibility_status(result)
    mark = "&#10003; " if status == "pass" else ("&#10007; " if status == "fail" else "")
    return ('<td class="cell %s" data-extensibility="%s" data-extensibility-mode="%s" title="%s">%s%s</td>'
            % (status, html.escape(label, quote=True), html.escape(str(result.get("mode")), quote=True),
               html.escape(str(result.get("message") or label), quote=True), mark, html.escape(label)))


def extensibility_details(result):
    """The fleet report's details of one environment's App Builder wiring ('' when nothing to show)."""
    esc = html.escape
    if result.get("error"):
        return ('<details open><summary>App Builder wiring not held</summary><p class="error-text">%s</p>'
                '</details>' % esc(result["error"]))
    found = (result.get("drift") if result.get("mode") == "audit" else result.get("changes")) or []
    rows = [(e, e.get("action")) for e in found]
    rows += [(e, "rejected: %s" % e.get("message")) for e in result.get("rejected") or []]
    if not rows:
        return ""
    out = ['<details><summary>App Builder wiring: %s</summary><table class="drift"><thead><tr><th>Kind</th>'
           '<th>Name</th><th>Status</th></tr></thead><tbody>' % esc(extensibility_status(result)[1])]
    for entry, what in rows:
        out.append('<tr><td>%s</td><td><code>%s</code></td><td>%s</td></tr>'
                   % (esc(str(entry.get("kind"))), esc(str(entry.get("name"))), esc(str(what))))
    out.append('</tbody></table></details>')
    return "".join(out)


def render_reports(kind, name, result, base_url=None, generated_at=None):
    """``{json|junit|markdown: text}``: the reports of one environment of ``kind`` (keys as ``report_paths``)."""
    if kind == "extensibility":
        return render_extensibility_reports(name, result, base_url, generated_at)
    if kind == "store-config":
        return {"json": render_json(name, result, base_url, generated_at),
                "junit": render_junit_store_config(name, result, base_url, generated_at),
                "markdown": render_markdown(name, result, base_url, generated_at)}
    if kind == "system-config":
        return {"json": render_system_config_json(name, result, base_url, generated_at),
                "junit": render_junit_system_config(name, result, base_url, generated_at),
                "markdown": render_system_config_markdown(name, result, base_url, generated_at)}
    if kind == "system-config-promotion":
        return {"json": render_promotion_json(name, result, generated_at),
                "markdown": render_promotion_markdown(name, result, generated_at)}
    if kind == "access-check":
        return {"junit": render_junit_access_check(name, result, base_url, generated_at)}
    raise ValueError("unknown report kind %r" % kind)
