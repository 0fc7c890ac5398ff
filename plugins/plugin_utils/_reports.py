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
           '<div class="err" id="total-errors"><b>%d</b>not audited</div>' % len(summary["errors"]),
           '</div>',
           '<table class="fleet" id="fleet">', '<thead><tr><th>Environment</th><th>Result</th><th>Stores</th>']
    for rule in ALL_RULES:
        out.append('<th title="%s">%s</th>' % (esc(rule), esc(RULE_TITLES[rule])))
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
