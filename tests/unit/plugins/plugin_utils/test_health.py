"""plugin_utils/_health.py: the state of one credential document, its metrics and its HTML cells (pure functions)."""

from __future__ import annotations

import pytest

from ansible_collections.adobe_commerce.accs.plugins.module_utils._credential import format_time
from ansible_collections.adobe_commerce.accs.plugins.plugin_utils import _health, _reports

NOW = 1_800_000_000
DAY = 86400
WHERE = "'secret/accs/prod' in Vault at https://vault.example:8200"
SECRETS = {"client_secret": "cs-unit-secret-value-0001", "refresh_token": "rt-unit-refresh-value-0001",
           "access_token": "at-unit-access-value-0001"}


def user_doc(age_days=None, **extra):
    doc = {"client_id": "cid", "client_secret": SECRETS["client_secret"], "refresh_token": SECRETS["refresh_token"],
           "access_token": SECRETS["access_token"], "access_token_expires_at": format_time(NOW + 3600)}
    if age_days is not None:
        doc["refresh_token_issued_at"] = format_time(NOW - age_days * DAY)
    doc.update(extra)
    return doc


@pytest.mark.parametrize(("age_days", "state"), [
    (0, "ok"), (5, "ok"), (5.01, "warn"), (10, "warn"), (10.01, "critical"), (14, "critical"), (20, "critical"),
])
def test_state_follows_the_refresh_token_age(age_days, state):
    health = _health.assess(user_doc(age_days), WHERE, NOW)
    assert health["state"] == state
    assert health["refresh_token_age_seconds"] == int(age_days * DAY)
    assert health["refresh_token_days_left"] == round(14 - age_days, 1)
    assert health["last_rotation"] == health["refresh_token_issued_at"] == format_time(NOW - age_days * DAY)
    assert health["access_token_expires_in"] == 3600


def test_thresholds_are_the_callers():
    assert _health.assess(user_doc(3), WHERE, NOW, warn_age=2 * DAY, critical_age=4 * DAY)["state"] == "warn"
    assert _health.assess(user_doc(3), WHERE, NOW, warn_age=1 * DAY, critical_age=2 * DAY)["state"] == "critical"


def test_past_the_lifetime_asks_for_a_new_sign_in():
    health = _health.assess(user_doc(15), WHERE, NOW)
    assert health["state"] == "critical" and "bootstrap_refresh_token" in health["reason"]
    assert health["refresh_token_days_left"] == -1.0


def test_unknown_age_missing_refresh_token_and_client_credentials():
    assert _health.assess(user_doc(None), WHERE, NOW)["state"] == "warn"
    missing = _health.assess({"client_id": "cid", "grant_type": "refresh_token"}, WHERE, NOW)
    assert missing["state"] == "critical" and missing["grant_type"] == "refresh_token"
    assert missing["reason"].startswith("The credential %s has no refresh_token" % WHERE)
    s2s = _health.assess({"client_id": "cid", "client_secret": "x" * 20, "grant_type": "client_credentials",
                          "scopes": "openid,commerce.accs"}, WHERE, NOW)
    assert s2s["state"] == "ok" and s2s["refresh_token_age_seconds"] is None and s2s["last_rotation"] is None
    failed = _health.assess(None, WHERE, NOW, error="Vault denied the read of 'secret/accs/prod' ... .")
    assert failed["state"] == "critical" and failed["reason"].startswith("Vault denied")


def test_nothing_secret_comes_out():
    health = _health.assess(user_doc(6), WHERE, NOW)
    text = repr(health) + "".join(_health.health_row_cells(health))
    text += _health.render_health_html([("prod", "https://na1.example/T", health)], "t", "2026-01-01T00:00:00Z",
                                       _reports.FLEET_CSS)
    for value in SECRETS.values():
        assert value not in text


def test_metrics():
    pytest.importorskip("prometheus_client")
    from prometheus_client import generate_latest

    rows = [("prod", _health.assess(user_doc(6), WHERE, NOW), {"passed": False, "drift": [{}, {}]}),
            ("s2s", _health.assess({"client_id": "c", "client_secret": "x" * 20, "grant_type": "client_credentials",
                                    "scopes": "commerce.accs"}, WHERE, NOW), None)]
    text = generate_latest(_health.prometheus_registry(rows, NOW)).decode()
    assert 'accs_credential_state{environment="prod",state="warn"} 1.0' in text
    assert 'accs_credential_state{environment="s2s",state="ok"} 1.0' in text
    assert 'accs_refresh_token_age_seconds{environment="prod"} 518400.0' in text
    assert 'accs_refresh_token_age_seconds{environment="s2s"}' not in text
    assert 'accs_audit_drift_total{environment="prod"} 2.0' in text
    assert 'accs_audit_passed{environment="prod"} 0.0' in text
    assert 'accs_audit_passed{environment="s2s"}' not in text


def test_fleet_page_gets_the_column_group_only_when_a_row_has_it():
    audit = {"passed": True, "stores": 1, "drift": [], "rules": {}}
    plain = [_reports.fleet_row("prod", audit)]
    assert 'class="health"' not in _reports.render_fleet_html(plain)
    checked = [_reports.fleet_row("prod", audit), _reports.fleet_row("stage", audit)]
    checked[0]["credential_health"] = _health.assess(user_doc(11), WHERE, NOW)
    page = _reports.render_fleet_html(checked)
    assert page.count('<th class="health"') == len(_health.HEALTH_COLUMNS)
    assert 'data-health="critical"' in page
    assert 'colspan="%d">not checked</td>' % len(_health.HEALTH_COLUMNS) in page
