"""module_utils/_extensibility.py: identities, comparisons and change kinds of webhooks, subscriptions, providers."""

from __future__ import annotations

import pytest

from ansible_collections.adobe_commerce.accs.plugins.module_utils import _extensibility as ext
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import ConfigError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._resource import ABSENT, CREATE, REPLACE, UPDATE


class NoClient:
    base_url = "https://accs.example/tenant"

    def request(self, *args, **kwargs):  # a comparison that needs the service is a defect here
        raise AssertionError("no request expected")


HOOK = {"webhook_method": "plugin.magento.catalog.api.product_repository.save", "webhook_type": "before",
        "batch_name": "app_batch", "hook_name": "app_hook", "url": "https://x/hook", "timeout": 2000,
        "fields": [{"name": "a", "source": "data.a"}, {"name": "b", "source": "data.b"}],
        "developer_console_oauth": {"client_id": "cid", "client_secret": "s3cret-value-123", "org_id": "o@AdobeOrg"}}


def test_webhook_identity_reads_plugin_magento_as_commerce_stores_it():
    assert ext.webhook_key(HOOK) == ("plugin.catalog.api.product_repository.save", "before", "app_batch", "app_hook")


def test_webhooks_compare_only_declared_keys_as_sets_and_never_the_secret():
    hooks = ext.Webhooks(NoClient(), ext.DEFAULT_SENSITIVE_HEADERS)
    listed = dict(HOOK, webhook_method="plugin.catalog.api.product_repository.save", timeout="2000", priority=0,
                  fields=[{"name": "b", "source": "data.b"}, {"name": "a", "source": "data.a"}],
                  developer_console_oauth={"client_id": "cid", "client_secret": "******", "org_id": "o@AdobeOrg"})
    assert hooks.plan_item(None, HOOK, listed) is None
    assert hooks.plan_item(None, HOOK, dict(listed, url="https://x/other")) == REPLACE
    assert hooks.plan_item(None, HOOK, ABSENT) == CREATE
    shown = hooks.show(None, dict(HOOK, headers=[{"name": "Authorization", "value": "Bearer abc-secret-xyz"}]))
    assert shown["developer_console_oauth"]["client_secret"] == "(sensitive)"
    assert shown["headers"] == [{"name": "Authorization", "value": "(sensitive)"}]
    assert "s3cret" not in repr(shown) and HOOK["developer_console_oauth"]["client_secret"] == "s3cret-value-123"


@pytest.mark.parametrize("current, kind", [
    ({"name": "app.e", "parent": "observer.e", "fields": [{"name": "a"}], "rules": []}, None),
    ({"name": "app.e", "parent": "observer.e", "fields": [{"name": "a"}, {"name": "gone"}]}, REPLACE),
    ({"name": "app.e", "parent": "observer.e", "fields": []}, UPDATE),
    # rules the declaration does not set are not compared
    ({"name": "app.e", "parent": "observer.e", "fields": [{"name": "a"}],
      "rules": [{"field": "price", "operator": "lessThan", "value": "3"}]}, None),
    ({"name": "app.e", "parent": "observer.other", "fields": [{"name": "a"}]}, UPDATE),
])
def test_subscription_change_kind(current, kind):
    subs = ext.Subscriptions(NoClient())
    desired = {"name": "app.e", "parent": "observer.e", "fields": [{"name": "a"}]}
    assert subs.change_kind(desired, current) == kind


def test_a_rule_removed_from_the_declaration_recreates():
    subs = ext.Subscriptions(NoClient())
    current = {"name": "app.e", "rules": [{"field": "price", "operator": "lessThan", "value": "3"}]}
    assert subs.change_kind({"name": "app.e", "rules": []}, current) == REPLACE
    assert subs.change_kind({"name": "app.e", "rules": [{"field": "price", "operator": "lessThan", "value": "4"}]},
                            current) == UPDATE


def test_subscription_provider_default_forms_are_one_value():
    subs = ext.Subscriptions(NoClient())
    subs._default_provider = "uuid-default"
    for value in (None, "", "default", "uuid-default"):
        assert subs.change_kind({"name": "x", "provider_id": "default"}, {"name": "x", "provider_id": value}) is None
    assert subs.change_kind({"name": "x", "provider_id": "default"}, {"name": "x", "provider_id": "uuid-other"}) == UPDATE


@pytest.mark.parametrize("name", ["App.Event", "app-event", "app event", ""])
def test_subscription_names_are_lower_case_without_hyphens(name):
    with pytest.raises(ConfigError, match="must use lower-case letters, digits, underscores and dots only"):
        ext._subscriptions_desired({"subscriptions": [{"name": name}]})


def test_hook_names_and_prune_without_owner_prefix_are_refused():
    with pytest.raises(ConfigError, match="hook_name 'bad-name' has characters ACCS refuses"):
        ext._webhooks_desired({"webhooks": [dict(HOOK, hook_name="bad-name")]})
    with pytest.raises(ConfigError, match=r"^prune needs owner_prefix, so that only this app's webhooks are removed"):
        ext.WEBHOOKS({"webhooks": [], "prune": True, "base_url": "https://accs.example/t", "access_token": "x"})
