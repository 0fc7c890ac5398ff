"""plugin_utils/_drift.py and _reports.py: drift computation and report rendering (pure functions)."""

from __future__ import annotations

import copy
import datetime
import difflib
import html.parser
import json
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.adobe_commerce.accs.plugins.plugin_utils import _drift, _reports
from ansible_collections.adobe_commerce.accs.plugins.filter.store_config import FilterModule
from tests.emulator import data as tenant_data

MOMENT = datetime.datetime(2026, 11, 29, 13, 0, 0, tzinfo=datetime.timezone.utc)


def answers(**overrides):
    base = {
        "storeConfigs": tenant_data.default_store_configs(),
        "storeViews": tenant_data.default_store_views(),
        "websites": tenant_data.default_websites(),
        "storeGroups": tenant_data.default_store_groups(),
    }
    base.update(overrides)
    return base


def config(store, **changes):
    found = next(c for c in tenant_data.default_store_configs() if c["code"] == store)
    found.update(changes)
    return found


# --------------------------------------------------------------------------- drift
def test_clean_tenant_passes_every_rule():
    result = _drift.compute_drift(answers())
    assert result["passed"] is True and result["drift"] == []
    assert result["stores"] == 2
    assert result["rules"] == {
        "secure_urls_https": {"enabled": True, "checks": 8, "drift": 0},
        "store_view_has_config": {"enabled": True, "checks": 2, "drift": 0},
        "config_website_known": {"enabled": True, "checks": 2, "drift": 0},
        "expected_store_configs": {"enabled": False, "checks": 0, "drift": 0},
    }
    assert result["counts"] == {"store_configs": 2, "store_views": 2, "websites": 1, "store_groups": 1}
    assert result["message"] == "No drift in 2 store configurations."


def test_each_rule_finds_its_drift_in_documented_order():
    views = tenant_data.default_store_views() + [{"id": 3, "code": "de", "website_id": 1, "store_group_id": 1,
                                                  "is_active": 0}]
    data = answers(storeConfigs=[config("default", secure_base_media_url="HTTP://cdn.example.com/"),
                                 config("fr", website_id=9)], storeViews=views)
    result = _drift.compute_drift(data, expected={"fr": {"locale": "fr_CA", "weight_unit": "lbs"}, "it": {"x": 1}})
    assert result["drift"] == [
        {"store": "de", "field": "store_config", "expected": "present", "actual": "missing",
         "rule": "store_view_has_config"},
        {"store": "default", "field": "secure_base_media_url", "expected": "https://cdn.example.com/",
         "actual": "HTTP://cdn.example.com/", "rule": "secure_urls_https"},
        {"store": "fr", "field": "website_id", "expected": [0, 1], "actual": 9, "rule": "config_website_known"},
        {"store": "fr", "field": "locale", "expected": "fr_CA", "actual": "fr_FR", "rule": "expected_store_configs"},
        {"store": "it", "field": "store_config", "expected": "present", "actual": "missing",
         "rule": "expected_store_configs"},
    ]
    assert result["passed"] is False
    # every drift is one failed check: checks hold one entry per drift (and more)
    failed = {(d["rule"], d["store"], d["field"]) for d in result["drift"]}
    assert failed <= {(c["rule"], c["store"], c["field"]) for c in result["checks"]}
    assert sum(r["drift"] for r in result["rules"].values()) == len(result["drift"])


def test_non_string_or_missing_secure_url_is_drift_with_a_described_expectation():
    result = _drift.compute_drift(answers(storeConfigs=[config("default", secure_base_url=None)]),
                                  rules={"store_view_has_config": False})
    assert result["drift"] == [{"store": "default", "field": "secure_base_url", "expected": "an https:// URL",
                                "actual": None, "rule": "secure_urls_https"}]


def test_rules_can_be_turned_off_one_by_one():
    data = answers(storeConfigs=[config("default", secure_base_url="http://x/", website_id=5)])
    everything = _drift.compute_drift(data)
    assert {d["rule"] for d in everything["drift"]} == {"secure_urls_https", "store_view_has_config",
                                                        "config_website_known"}
    quiet = _drift.compute_drift(data, rules={"secure_urls_https": False, "store_view_has_config": "false",
                                              "config_website_known": False})
    assert quiet["passed"] is True and quiet["checks"] == []
    assert all(not r["enabled"] for r in quiet["rules"].values())
    only_https_off = _drift.compute_drift(data, rules={"secure_urls_https": False})
    assert {d["rule"] for d in only_https_off["drift"]} == {"store_view_has_config", "config_website_known"}


def test_expected_values_match_exactly():
    data = answers()
    result = _drift.compute_drift(data, expected={"default": {"website_id": "1", "locale": "en_US",
                                                              "extension_attributes": {},
                                                              "is_default": True}})
    assert [(d["field"], d["expected"], d["actual"]) for d in result["drift"]] == [
        ("is_default", True, None), ("website_id", "1", 1)]
    assert not _drift.compute_drift(answers(storeConfigs=[config("default", flag=1), config("fr")]),
                                    expected={"default": {"flag": True}})["passed"]
    assert _drift.compute_drift(data, expected={"default": {"website_id": 1}})["passed"]


def test_admin_rows_are_not_store_views_without_config():
    views = list(tenant_data.default_store_views())
    assert any(v["code"] == "admin" for v in views)
    assert _drift.compute_drift(answers(storeViews=views))["passed"]


def test_loop_results_are_accepted_as_registered():
    data = answers()
    results = [{"item": name, "json": value, "changed": False} for name, value in data.items()]
    direct = _drift.compute_drift(data)
    assert _drift.compute_drift(results) == direct
    assert _drift.compute_drift({"results": results, "changed": False}) == direct
    paths = [{"item": {"path": "/V1/store/" + name}, "json": value} for name, value in data.items()]
    assert _drift.compute_drift(paths) == direct


@pytest.mark.parametrize("bad, message", [
    ({"storeConfigs": {"message": "x"}, "storeViews": [], "websites": []}, "/V1/store/storeConfigs is dict"),
    ({"storeViews": [], "websites": []}, "/V1/store/storeConfigs is missing"),
    ("text", "got str"),
    ([{"item": "storeConfigs"}], "needs 'item' and 'json'"),
])
def test_unusable_answers_are_refused_with_a_sentence(bad, message):
    with pytest.raises(_drift.AuditInputError, match=re.escape(message)):
        _drift.compute_drift(bad)


def test_bad_rules_and_expectations_are_refused():
    with pytest.raises(_drift.AuditInputError, match="unknown rule 'https_only'"):
        _drift.compute_drift(answers(), rules={"https_only": True})
    with pytest.raises(_drift.AuditInputError, match="must be a dict"):
        _drift.compute_drift(answers(), expected={"default": "en_US"})


def test_message_names_each_store_field_expected_and_actual():
    result = _drift.compute_drift(answers(storeConfigs=[config("default", secure_base_url="http://a/"),
                                                        config("fr", website_id=3)]),
                                  expected={"default": {"locale": "de_DE"}})
    message = result["message"]
    assert message.startswith("3 store configuration drifts: ")
    assert "store 'default' field secure_base_url: expected \"https://a/\", actual \"http://a/\" " \
           "(secure_urls_https)" in message
    assert "store 'default' field locale: expected \"de_DE\", actual \"en_US\" (expected_store_configs)" in message
    assert "store 'fr' field website_id: expected one of 0, 1, actual 3 (config_website_known)" in message
    assert message.endswith("update accs_expected_store_configs or accs_audit_rules if the new values are intended.")
    assert "\n" not in message


def test_filter_plugin_wraps_errors_and_adds_report_paths(tmp_path):
    from ansible.errors import AnsibleFilterError

    filters = FilterModule().filters()
    result = filters["store_config_drift"](answers(), report_dir=str(tmp_path), name="prod eu/1")
    assert result["reports"] == {"json": str(tmp_path / "prod_eu_1-store-config.json"),
                                 "junit": str(tmp_path / "prod_eu_1-store-config.junit.xml"),
                                 "markdown": str(tmp_path / "prod_eu_1-store-config.md")}
    failed = filters["store_config_drift"](None, error="Vault is down.")
    assert failed["passed"] is False and failed["error"] == "Vault is down." and failed["drift"] == []
    with pytest.raises(AnsibleFilterError, match="unknown rule"):
        filters["store_config_drift"](answers(), rules={"nope": True})
    assert filters["accs_report_paths"](str(tmp_path), "h", "access-check") == {
        "junit": str(tmp_path / "h-access-check.junit.xml")}
    with pytest.raises(AnsibleFilterError):
        filters["accs_report_paths"](str(tmp_path), "h", "other")


# --------------------------------------------------------------------------- reports
def drifted():
    return _drift.compute_drift(answers(storeConfigs=[config("default", secure_base_url="http://a/|b"),
                                                      config("fr")]),
                                expected={"fr": {"locale": "fr_BE"}, "es": {"locale": "es_ES"}})


def test_json_report():
    result = drifted()
    document = json.loads(_reports.render_json("prod", result, "https://x/t", MOMENT))
    assert document == {"host": "prod", "base_url": "https://x/t", "generated_at": "2026-11-29T13:00:00Z",
                        "passed": False, "stores": 2, "drift": result["drift"], "rules": result["rules"],
                        "counts": result["counts"], "message": result["message"]}


def test_junit_report_has_one_case_per_check_and_one_failure_per_drift(tmp_path):
    junitparser = pytest.importorskip("junitparser")
    result = drifted()
    text = _reports.render_junit_store_config("prod<&>", result, "https://x/t", MOMENT)
    root = ET.fromstring(text.encode())
    suite = root.find("testsuite")
    assert int(suite.get("tests")) == len(result["checks"]) == len(suite.findall("testcase"))
    assert int(suite.get("failures")) == len(result["drift"]) == 3
    assert len(suite.findall("testcase/failure")) == 3
    assert suite.get("timestamp") == "2026-11-29T13:00:00" and suite.get("hostname") == "prod<&>"
    path = tmp_path / "report.junit.xml"
    path.write_text(text, encoding="utf-8")
    parsed = next(iter(junitparser.JUnitXml.fromfile(str(path))))
    assert parsed.failures == 3 and parsed.errors == 0


def test_junit_report_of_an_unreadable_environment_is_one_error():
    text = _reports.render_junit_store_config("prod", _drift.error_result("Vault is down: start it."), None, MOMENT)
    suite = ET.fromstring(text.encode()).find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "0", "1")
    assert suite.find("testcase/error").get("message") == "Vault is down: start it."


def test_junit_report_lists_rules_turned_off_as_skipped():
    result = _drift.compute_drift(answers(), rules={"config_website_known": False})
    suite = ET.fromstring(_reports.render_junit_store_config("p", result, None, MOMENT).encode()).find("testsuite")
    skipped = [c.get("classname") for c in suite.findall("testcase") if c.find("skipped") is not None]
    assert skipped == ["p.config_website_known", "p.expected_store_configs"]
    assert suite.get("skipped") == "2"


def test_access_check_junit():
    ok = ET.fromstring(_reports.render_junit_access_check(
        "prod", {"passed": True, "status": 200, "stores": 2, "token_expires_at": "2026-11-30T10:00:00Z"},
        "https://x/t", MOMENT).encode()).find("testsuite")
    assert (ok.get("tests"), ok.get("failures")) == ("1", "0")
    props = {p.get("name"): p.get("value") for p in ok.findall("properties/property")}
    assert props == {"base_url": "https://x/t", "status": "200", "stores": "2",
                     "token_expires_at": "2026-11-30T10:00:00Z"}
    bad = ET.fromstring(_reports.render_junit_access_check(
        "prod", {"passed": False, "status": None, "error": "Cannot reach Vault: start it."}, None,
        MOMENT).encode()).find("testsuite")
    assert bad.get("failures") == "1"
    assert bad.find("testcase/failure").get("message") == "Cannot reach Vault: start it."


def test_markdown_report_escapes_table_cells():
    text = _reports.render_markdown("prod", drifted(), "https://x/t", MOMENT)
    assert "- Result: **FAILED**: 3 drifts in 2 store configurations" in text
    assert '| default | secure_base_url | `"https://a/\\|b"` | `"http://a/\\|b"` | secure_urls_https |' in text
    assert "| es | store_config | `\"present\"` | `\"missing\"` | expected_store_configs |" in text
    for line in text.splitlines():
        if line.startswith("| ") and "secure_base_url" in line:
            assert len(re.findall(r"(?<!\\)\|", line)) == 6


def test_diff_is_expected_before_actual_after_per_store():
    diffs = _reports.drift_diff("prod", drifted())
    assert [d["before_header"] for d in diffs] == ["prod store default (expected)", "prod store es (expected)",
                                                   "prod store fr (expected)"]
    fr = diffs[2]
    assert fr["before"] == 'locale: "fr_BE"  # expected_store_configs\n'
    assert fr["after"] == 'locale: "fr_FR"  # expected_store_configs\n'
    text = "".join(line for d in diffs for line in difflib.unified_diff(
        d["before"].splitlines(True), d["after"].splitlines(True), "before", "after"))
    assert '-secure_base_url: "https://a/|b"  # secure_urls_https\n' in text
    assert _reports.drift_diff("prod", _drift.compute_drift(answers())) == []


def test_report_paths_are_file_name_safe():
    assert _reports.safe_name("../../etc/passwd") == "etc_passwd"
    assert _reports.safe_name("prod-eu.1") == "prod-eu.1"
    assert _reports.report_paths("/r", "a b", "access-check") == {"junit": "/r/a_b-access-check.junit.xml"}


# --------------------------------------------------------------------------- fleet HTML
class _Collector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.rows = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "tr" and "data-env" in dict(attrs):
            self.rows.append(dict(attrs))

    def handle_data(self, data):
        self.text.append(data)


def test_fleet_html_is_self_contained_and_escaped():
    evil = _drift.compute_drift(answers(storeConfigs=[config("default", code="<script>alert(1)</script>",
                                                             secure_base_url="http://x/")]))
    rows = [_reports.fleet_row("clean", _drift.compute_drift(answers()), "https://a/t1",
                               {"markdown": "/r/clean-store-config.md"}),
            _reports.fleet_row("evil<b>", evil, "https://a/<t2>"),
            _reports.fleet_row("down", _drift.error_result("Vault is down <now>: start it.")),
            _reports.fleet_row("never", None)]
    page = _reports.render_fleet_html(rows, generated_at=MOMENT, html_dir="/r")
    parser = _Collector()
    parser.feed(page)
    tags = {tag for tag, tag_attrs in parser.tags}
    assert not tags & {"script", "img", "link", "iframe", "object", "embed"}
    assert "<script>" not in page and "url(" not in page and "@import" not in page
    for _tag, attrs in parser.tags:
        assert not attrs.get("src")
        assert not re.match(r"^[a-z]+:", attrs.get("href") or "", re.I), attrs
    assert [r["data-env"] for r in parser.rows] == ["clean", "evil<b>", "down", "never"]
    assert [r["data-status"] for r in parser.rows] == ["pass", "fail", "error", "error"]
    assert 'href="clean-store-config.md"' in page
    text = "".join(parser.text)
    assert "<script>alert(1)</script>" in text and "Vault is down <now>: start it." in text
    assert "1passed" in text.replace(" ", "") and "1drifted" in text.replace(" ", "")


def test_fleet_summary_sorts_environments_by_outcome():
    rows = [_reports.fleet_row("a", _drift.compute_drift(answers())),
            _reports.fleet_row("b", _drift.compute_drift(answers(storeConfigs=[config("default")]))),
            _reports.fleet_row("c", None)]
    assert _reports.fleet_summary(rows) == {"total": 3, "passed": ["a"], "drifted": ["b"], "errors": ["c"]}


def test_compute_drift_does_not_change_its_input():
    data = answers()
    before = copy.deepcopy(data)
    _drift.compute_drift(data, expected={"default": {"locale": "x"}})
    assert data == before
