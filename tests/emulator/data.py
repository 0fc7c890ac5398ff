"""Default tenant data of the ACCS emulator.

A clean, consistent store, shaped like Adobe Commerce answers it:

* one real website ``base`` with one store group and two active store views, ``default``
  (en_US) and ``fr`` (fr_FR);
* as in real Commerce, ``/V1/store/websites``, ``/V1/store/storeViews`` and
  ``/V1/store/storeGroups`` also list the built-in admin rows (website ``admin`` id 0, store
  ``admin`` id 0, group ``default`` id 0), while ``/V1/store/storeConfigs`` does not;
* every URL is ``https``; both views share the website's base currency USD (base currency is a
  website-scope setting in Commerce) and display USD and EUR respectively; timezone
  America/Los_Angeles, weight unit lbs;
* system configuration (``/V1/system/config``): the values a fresh installation stores, matching
  the store endpoints above (``default_system_config``); every other path reads its catalog
  default (``config_catalog.py``).

Every function returns fresh copies, so callers may mutate the result.
"""

from __future__ import annotations

import copy

DEFAULT_PRODUCTS_COUNT = 25
DEFAULT_PAGE_SIZE = 20

BASE_HOST = "https://www.example.com/"
STATIC_VERSION = "version1767225600"

_WEBSITES = [
    {"id": 0, "code": "admin", "name": "Admin", "default_group_id": 0},
    {"id": 1, "code": "base", "name": "Main Website", "default_group_id": 1},
]

_STORE_GROUPS = [
    {
        "id": 0,
        "website_id": 0,
        "root_category_id": 0,
        "default_store_id": 0,
        "name": "Default",
        "code": "default",
    },
    {
        "id": 1,
        "website_id": 1,
        "root_category_id": 2,
        "default_store_id": 1,
        "name": "Main Website Store",
        "code": "main_website_store",
    },
]

_STORE_VIEWS = [
    {"id": 1, "code": "default", "name": "Default Store View", "website_id": 1, "store_group_id": 1, "is_active": 1},
    {"id": 0, "code": "admin", "name": "Admin", "website_id": 0, "store_group_id": 0, "is_active": 1},
    {"id": 2, "code": "fr", "name": "French Store View", "website_id": 1, "store_group_id": 1, "is_active": 1},
]


def _store_config(store_id: int, code: str, locale: str, display_currency: str, path: str) -> dict:
    base = BASE_HOST + path
    return {
        "id": store_id,
        "code": code,
        "website_id": 1,
        "locale": locale,
        "base_currency_code": "USD",
        "default_display_currency_code": display_currency,
        "timezone": "America/Los_Angeles",
        "weight_unit": "lbs",
        "base_url": base,
        "base_link_url": base,
        "base_static_url": BASE_HOST + "static/" + STATIC_VERSION + "/",
        "base_media_url": BASE_HOST + "media/",
        "secure_base_url": base,
        "secure_base_link_url": base,
        "secure_base_static_url": BASE_HOST + "static/" + STATIC_VERSION + "/",
        "secure_base_media_url": BASE_HOST + "media/",
        "extension_attributes": {},
    }


_STORE_CONFIGS = [
    _store_config(1, "default", "en_US", "USD", ""),
    _store_config(2, "fr", "fr_FR", "EUR", "fr/"),
]


def default_websites() -> list:
    return copy.deepcopy(_WEBSITES)


def default_store_groups() -> list:
    return copy.deepcopy(_STORE_GROUPS)


def default_store_views() -> list:
    return copy.deepcopy(_STORE_VIEWS)


def default_store_configs() -> list:
    return copy.deepcopy(_STORE_CONFIGS)


# What a fresh ACCS environment holds in its configuration table, consistent with storeConfigs:
# base URLs, locale, timezone and currencies; the fr view overrides locale, display currency and
# its base URLs.
_SYSTEM_CONFIG = [
    {"path": "web/unsecure/base_url", "value": BASE_HOST, "scope": "default"},
    {"path": "web/secure/base_url", "value": BASE_HOST, "scope": "default"},
    {"path": "web/secure/use_in_frontend", "value": "1", "scope": "default"},
    {"path": "web/secure/use_in_adminhtml", "value": "1", "scope": "default"},
    {"path": "general/locale/code", "value": "en_US", "scope": "default"},
    {"path": "general/locale/timezone", "value": "America/Los_Angeles", "scope": "default"},
    {"path": "currency/options/base", "value": "USD", "scope": "default"},
    {"path": "currency/options/default", "value": "USD", "scope": "default"},
    {"path": "currency/options/allow", "value": "EUR,USD", "scope": "default"},
    {"path": "general/locale/code", "value": "fr_FR", "scope": "store", "scope_code": "fr"},
    {"path": "currency/options/default", "value": "EUR", "scope": "store", "scope_code": "fr"},
    {"path": "web/unsecure/base_url", "value": BASE_HOST + "fr/", "scope": "store", "scope_code": "fr"},
    {"path": "web/secure/base_url", "value": BASE_HOST + "fr/", "scope": "store", "scope_code": "fr"},
]


def default_system_config() -> list:
    """Stored configuration values of a tenant created with ``{}`` (list of {path, value, scope[, scope_code]})."""
    return copy.deepcopy(_SYSTEM_CONFIG)


def make_product(index: int) -> dict:
    """The generated catalogue product number ``index`` (1-based)."""
    return {
        "id": index,
        "sku": "EMU-SKU-%05d" % index,
        "name": "Emulated Product %d" % index,
        "price": round(10 + (index % 97) * 1.25, 2),
        "status": 1,
        "type_id": "simple",
    }


def default_tenant() -> dict:
    """Data of a tenant created with ``{}``."""
    return {
        "storeConfigs": default_store_configs(),
        "storeViews": default_store_views(),
        "websites": default_websites(),
        "storeGroups": default_store_groups(),
        "products_count": DEFAULT_PRODUCTS_COUNT,
        "repeat_last_page": False,
        "required_org_id": None,
    }
