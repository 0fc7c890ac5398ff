"""module_utils/_system_config.py: values as Commerce stores them, comparison, read chunks, PUT answers."""

from __future__ import annotations

import pytest

from ansible_collections.adobe_commerce.accs.plugins.module_utils import _system_config as sc
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import ConfigError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._resource import Change, WriteOutcome


@pytest.mark.parametrize("value, stored", [
    ("en_US", "en_US"), (True, "1"), (False, "0"), (5, "5"), (6.5, "6.5"), (["US", "CA"], "US,CA"), ([1, True], "1,1"),
])
def test_values_are_written_as_commerce_stores_them(value, stored):
    assert sc.commerce_value(value, "p") == stored


@pytest.mark.parametrize("value, sentence", [
    (None, "Setting p has value null, and the API cannot remove a value: give the value to hold, or leave the setting out."),
    ({"a": 1}, "Setting p has a dictionary value: give a string, number, boolean or list."),
    ([["a"]], "Setting p has a list holding a list, dictionary or null: a list value may hold only strings, numbers and booleans."),
])
def test_values_the_api_cannot_hold_are_refused(value, sentence):
    with pytest.raises(ConfigError) as caught:
        sc.commerce_value(value, "p")
    assert caught.value.message == sentence


@pytest.mark.parametrize("desired, current, same", [
    ("5", "5.00", True), ("5", "5.01", False), ("1", "1", True), ("abc", "abd", False),
    (sc.ListValue("US,CA"), "CA,US", True), ("US,CA", "CA,US", False), ("x", None, False),
])
def test_comparison_after_normalising(desired, current, same):
    assert sc.same_value(desired, current) is same


def test_long_path_lists_are_split_to_keep_urls_short():
    paths = ["section%04d/group/field" % i for i in range(400)]
    chunks = list(sc._chunks(paths))
    assert len(chunks) > 1
    assert [p for c in chunks for p in c] == paths
    assert all(len(",".join(c)) <= sc.MAX_FILTER_CHARS for c in chunks)


def test_settings_needing_a_scope_code_are_refused_before_any_request():
    with pytest.raises(ConfigError, match="at website scope needs scope_code"):
        sc._desired([{"path": "a/b/c", "value": "1", "scope": "website"}])
    with pytest.raises(ConfigError, match="has scope_code 'base' but scope default"):
        sc._desired([{"path": "a/b/c", "value": "1", "scope": "default", "scope_code": "base"}])
    with pytest.raises(ConfigError, match=r"^Setting a/b/c at store 'fr' is declared twice with different values"):
        sc._desired([{"path": "a/b/c", "value": "1", "scope": "store", "scope_code": "fr"},
                     {"path": "a/b/c", "value": "2", "scope": "store", "scope_code": "fr"}])


def test_put_answer_matches_errors_with_and_without_scope_code():
    batch = [Change(("a/b/c", "website", "base"), "update", "1", "2"),
             Change(("a/b/c", "website", "other"), "update", "1", "2"),
             Change(("x/y/z", "default", None), "update", "1", "2")]
    outcome = WriteOutcome()
    sc._match_answer(batch, {"items": [{"path": "a/b/c", "value": "2", "scope": "website", "scope_code": "base"}],
                             "errors": [{"path": "x/y/z", "scope": "default", "message": "not allowed"}]},
                     outcome, "ACCS")
    assert outcome.applied == [("a/b/c", "website", "base")]
    assert outcome.rejected == {("x/y/z", "default", None): "not allowed"}
    # Without scope_code in the answer, an item names every code of its path and scope.
    outcome = WriteOutcome()
    sc._match_answer(batch, {"items": [{"path": "a/b/c", "value": "2", "scope": "website"}], "errors": []}, outcome, "ACCS")
    assert sorted(outcome.applied) == [("a/b/c", "website", "base"), ("a/b/c", "website", "other")]


def test_default_sensitive_patterns_cover_credentials():
    resource = sc.SystemConfig(type("C", (), {"base_url": "https://x"})(), sc.sensitive_patterns({}))
    for path in ("payment/braintree/private_key", "payment/x/api_key", "carriers/ups/password",
                 "payment/paypal/merchant_key", "oauth/consumer/secret", "twofactorauth/duo/api_secret"):
        assert resource.is_sensitive((path, "default", None)), path
    assert not resource.is_sensitive(("general/locale/code", "default", None))
    assert sc.sensitive_patterns({"sensitive_paths": ["a/*"], "extra_sensitive_paths": ["b/*"]}) == ["a/*", "b/*"]
