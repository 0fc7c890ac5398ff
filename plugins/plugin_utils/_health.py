# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credential health (controller only): state of one credential document, its Prometheus metrics, its HTML.

Pure functions over the document (never returned, never rendered: only dates, ages, the grant type and the
state come out). The action plugin accs_credential_health reads the documents and writes the files.
"""

from __future__ import annotations

import html

from ansible_collections.adobe_commerce.accs.plugins.module_utils._credential import Credential, format_time, parse_time
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import AccsError

DAY = 86400
DEFAULT_WARN_AGE = 5 * DAY
DEFAULT_CRITICAL_AGE = 10 * DAY
REFRESH_TOKEN_LIFETIME = 14 * DAY  # Adobe IMS: about 14 days
STATES = ("ok", "warn", "critical")


def assess(document, where, now, warn_age=DEFAULT_WARN_AGE, critical_age=DEFAULT_CRITICAL_AGE,
           lifetime=REFRESH_TOKEN_LIFETIME, error=None):
    """The health of one credential: a dict of dates, ages, the state and the reason (no secret).

    ``document`` is what Vault holds (or None when ``error``, the sentence of a failed read, is given).
    """
    health = _unknown(now)
    if error is not None:
        health["reason"] = error
        return health
    try:
        cred = Credential.from_document(document, where)
    except AccsError as err:  # no refresh token where one is needed, no client id, a bad grant type, ...
        try:
            health["grant_type"] = Credential.from_document(document, where, require_grant=False).grant_type
        except AccsError:
            pass
        health["reason"] = err.message
        return health
    return _assess_credential(health, cred, now, warn_age, critical_age, lifetime)


def assess_credential(cred, now, warn_age=DEFAULT_WARN_AGE, critical_age=DEFAULT_CRITICAL_AGE,
                      lifetime=REFRESH_TOKEN_LIFETIME):
    """The health of a credential already read (a ``Credential``), as ``assess`` gives it."""
    return _assess_credential(_unknown(now), cred, now, warn_age, critical_age, lifetime)


def _unknown(now):
    return {
        "state": "critical", "reason": None, "grant_type": None,
        "access_token_expires_at": None, "access_token_expires_in": None,
        "refresh_token_issued_at": None, "refresh_token_age_seconds": None, "refresh_token_age_days": None,
        "refresh_token_expires_at": None, "refresh_token_days_left": None,
        "last_rotation": None, "checked_at": format_time(now),
    }


def _assess_credential(health, cred, now, warn_age, critical_age, lifetime):
    health["grant_type"] = cred.grant_type
    if cred.access_token_expires_at is not None:
        health["access_token_expires_at"] = format_time(cred.access_token_expires_at)
        health["access_token_expires_in"] = int(cred.access_token_expires_at - now)
    if cred.grant_type != "refresh_token":
        health.update(state="ok", reason="A %s credential has no refresh token to rotate; IMS issues access "
                      "tokens on request." % cred.grant_type)
        return health
    issued = cred.refresh_token_issued_at
    if issued is None:
        health.update(state="warn", reason=(
            "The refresh token's age is unknown (no refresh_token_issued_at): run the refresh_tokens playbook, "
            "which rotates it and records the time."))
        return health
    age = max(0, int(now - issued))
    left = issued + lifetime - now
    health.update(
        refresh_token_issued_at=format_time(issued), last_rotation=format_time(issued),
        refresh_token_age_seconds=age, refresh_token_age_days=round(age / DAY, 1),
        refresh_token_expires_at=format_time(issued + lifetime), refresh_token_days_left=round(left / DAY, 1),
    )
    days = _days(age)
    if left <= 0:
        health.update(state="critical", reason=(
            "The refresh token is %s old, past its ~%d-day lifetime: run the bootstrap_refresh_token playbook to "
            "sign in again." % (days, lifetime // DAY)))
    elif age > critical_age:
        health.update(state="critical", reason=(
            "The refresh token is %s old (critical after %s) and expires in %s: run the refresh_tokens playbook now "
            "and check its schedule." % (days, _days(critical_age), _days(left))))
    elif age > warn_age:
        health.update(state="warn", reason=(
            "The refresh token is %s old (warning after %s): the rotation schedule is late; check that the "
            "refresh_tokens playbook runs." % (days, _days(warn_age))))
    else:
        health.update(state="ok", reason="The refresh token is %s old; it expires in %s." % (days, _days(left)))
    return health


def _days(seconds):
    value = seconds / DAY
    return "%.1f day%s" % (value, "" if round(value, 1) == 1 else "s")


def summary(results):
    """{state: [environment, ...]} in the order given."""
    out = {state: [] for state in STATES}
    for name, health in results:
        out.setdefault(health.get("state"), []).append(name)
    return out


# --------------------------------------------------------------------------- Prometheus
def prometheus_registry(rows, generated_at):
    """A prometheus_client registry with the metrics of every environment.

    ``rows``: (environment, health dict, audit fact or None). Imports prometheus_client here so that a run
    without the text file never needs it.
    """
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry()
    label = ["environment"]
    state = Gauge("accs_credential_state", "1 for the credential's current state (ok, warn, critical), 0 for the others.",
                  label + ["state"], registry=registry)
    age = Gauge("accs_refresh_token_age_seconds", "Age of the stored IMS refresh token (from refresh_token_issued_at).",
                label, registry=registry)
    rt_expiry = Gauge("accs_refresh_token_expiry_timestamp_seconds",
                      "When the stored refresh token reaches its ~14-day lifetime (Unix time).", label, registry=registry)
    at_expiry = Gauge("accs_access_token_expiry_timestamp_seconds",
                      "Expiry of the cached IMS access token (Unix time).", label, registry=registry)
    rotation = Gauge("accs_credential_last_rotation_timestamp_seconds",
                     "When the refresh token was last rotated (Unix time).", label, registry=registry)
    passed = Gauge("accs_audit_passed", "1 when the environment's last store configuration audit passed, else 0.",
                   label, registry=registry)
    drift = Gauge("accs_audit_drift_total", "Drifted settings found by the environment's last store configuration audit.",
                  label, registry=registry)
    checked = Gauge("accs_credential_health_timestamp_seconds", "When the credential health check ran (Unix time).",
                    registry=registry)
    checked.set(generated_at)
    for name, health, audit in rows:
        for value in STATES:
            state.labels(name, value).set(1 if health.get("state") == value else 0)
        if health.get("refresh_token_age_seconds") is not None:
            age.labels(name).set(health["refresh_token_age_seconds"])
        for gauge, key in ((rt_expiry, "refresh_token_expires_at"), (at_expiry, "access_token_expires_at"),
                           (rotation, "last_rotation")):
            moment = parse_time(health.get(key))
            if moment is not None:
                gauge.labels(name).set(moment)
        if isinstance(audit, dict) and "passed" in audit and not audit.get("error"):
            passed.labels(name).set(1 if audit.get("passed") else 0)
            drift.labels(name).set(len(audit.get("drift") or []))
        elif isinstance(audit, dict) and audit.get("error"):
            passed.labels(name).set(0)
    return registry


# --------------------------------------------------------------------------- HTML (fleet page column group)
HEALTH_CSS = """
td.health-ok { color: var(--ok); background: var(--ok-bg); }
td.health-warn { color: var(--err); background: var(--err-bg); }
td.health-critical { color: var(--bad); background: var(--bad-bg); }
"""
HEALTH_COLUMNS = ("Credential", "Grant", "Refresh token age", "Days left", "Last rotation", "Access token expires")


def health_header_cells():
    """The <th> cells of the credential health column group."""
    return ['<th class="health" title="credential health">%s</th>' % html.escape(title) for title in HEALTH_COLUMNS]


def health_row_cells(health):
    """The <td> cells of one environment (``health`` None: not checked in this run)."""
    esc = html.escape
    if not isinstance(health, dict):
        return ['<td class="cell off" colspan="%d">not checked</td>' % len(HEALTH_COLUMNS)]
    state = health.get("state") if health.get("state") in STATES else "critical"
    label = {"ok": "&#10003; ok", "warn": "! warn", "critical": "&#10007; critical"}[state]
    reason = health.get("reason") or ""

    def show(value, suffix=""):
        return "&ndash;" if value is None else esc("%s%s" % (value, suffix))
    return [
        '<td class="cell health-%s" data-health="%s" title="%s">%s</td>' % (state, state, esc(reason, quote=True), label),
        '<td>%s</td>' % show(health.get("grant_type")),
        '<td class="cell">%s</td>' % show(health.get("refresh_token_age_days"), " d"),
        '<td class="cell">%s</td>' % show(health.get("refresh_token_days_left"), " d"),
        '<td><code>%s</code></td>' % show(health.get("last_rotation")),
        '<td><code>%s</code></td>' % show(health.get("access_token_expires_at")),
    ]


def render_health_html(rows, title, generated_at, fleet_css):
    """The credential health page of a run without the audit: one row per environment, the column group.

    ``rows``: (environment, base_url or None, health dict).
    """
    esc = html.escape
    counts = summary((name, health) for name, _url, health in rows)
    out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
           '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<title>%s</title>' % esc(title), '<style>%s%s</style>' % (fleet_css, HEALTH_CSS), '</head>', '<body>',
           '<h1>%s</h1>' % esc(title),
           '<p class="meta">Generated %s by adobe_commerce.accs &middot; %d environment%s</p>'
           % (esc(generated_at), len(rows), "" if len(rows) == 1 else "s"),
           '<div class="totals">',
           '<div class="ok" id="total-ok"><b>%d</b>ok</div>' % len(counts["ok"]),
           '<div class="err" id="total-warn"><b>%d</b>warn</div>' % len(counts["warn"]),
           '<div class="bad" id="total-critical"><b>%d</b>critical</div>' % len(counts["critical"]),
           '</div>',
           '<table class="fleet" id="credential-health">',
           '<thead><tr><th>Environment</th>%s<th>Why</th></tr></thead>' % "".join(health_header_cells()), '<tbody>']
    for name, base_url, health in rows:
        env = '<b>%s</b>' % esc(str(name))
        if base_url:
            env += '<small>%s</small>' % esc(str(base_url))
        out.append('<tr data-env="%s" data-state="%s"><td class="env">%s</td>%s<td>%s</td></tr>' % (
            esc(str(name), quote=True), esc(str(health.get("state")), quote=True), env,
            "".join(health_row_cells(health)), esc(health.get("reason") or "")))
    if not rows:
        out.append('<tr><td colspan="%d">No environments in group accs.</td></tr>' % (len(HEALTH_COLUMNS) + 2))
    out += ['</tbody>', '</table>', '</body>', '</html>', '']
    return "\n".join(out)
