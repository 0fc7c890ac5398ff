"""AccsClient over the real HttpClient and TokenManager, ACCS and IMS answered by ``responses``.

Query flattening, Commerce messages, pagination, the one renewal on 401, headers and errors.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from ansible_collections.adobe_commerce.accs.plugins.module_utils._accs import (
    AccsClient,
    TokenSource,
    commerce_message,
    flatten_query,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import (
    AccsApiError,
    ConfigError,
    TransportError,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._http import HttpClient, RetryPolicy
from ansible_collections.adobe_commerce.accs.plugins.module_utils._ims import ImsClient
from ansible_collections.adobe_commerce.accs.plugins.module_utils._token_manager import TokenManager, TokenRequest

BASE = "https://na1.api.test/tenant-1"
IMS = "https://ims.test"
PRODUCTS = BASE + "/V1/products"


def http():
    return HttpClient(timeout=5, policy=RetryPolicy(retries=0, sleep=lambda s: None))


def bare(token="at-bare"):
    return TokenSource(access_token=token)


def params_of(call):
    return parse_qs(urlsplit(call.request.url).query)


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


# --------------------------------------------------------------------------- flatten_query
def test_flatten_nested_search_criteria():
    query = {"searchCriteria": {"filter_groups": [{"filters": [{"field": "sku", "value": "A%", "condition_type": "like"}]}],
                                "pageSize": 10}}
    assert flatten_query(query) == [
        ("searchCriteria[filter_groups][0][filters][0][field]", "sku"),
        ("searchCriteria[filter_groups][0][filters][0][value]", "A%"),
        ("searchCriteria[filter_groups][0][filters][0][condition_type]", "like"),
        ("searchCriteria[pageSize]", "10"),
    ]


def test_flatten_scalars_and_lists():
    assert flatten_query({"storeCodes": ["default", "fr"], "flag": True, "off": False, "none": None, "n": 3}) == [
        ("storeCodes[]", "default"), ("storeCodes[]", "fr"), ("flag", "true"), ("off", "false"), ("n", "3")]
    # (a null value leaves its parameter out)
    assert flatten_query({"codes[]": ["a"]}) == [("codes[]", "a")]
    assert flatten_query({"mixed": [{"a": 1}, {"b": 2}]}) == [("mixed[0][a]", "1"), ("mixed[1][b]", "2")]
    assert flatten_query(None) == [] and flatten_query({}) == []


@pytest.mark.parametrize("query", [["a"], "a=b", 3])
def test_flatten_refuses_a_query_that_is_not_a_dict(query):
    with pytest.raises(ConfigError):
        flatten_query(query)


# --------------------------------------------------------------------------- commerce_message
@pytest.mark.parametrize("body,expected", [
    ({"message": "Tenant %1 not found.", "parameters": ["t-1"]}, "Tenant t-1 not found."),
    ({"message": "%1 of %2", "parameters": ["a", "b"]}, "a of b"),
    ({"message": "The consumer isn't authorized to access %resources.",
      "parameters": {"resources": "Magento_Backend::store"}},
     "The consumer isn't authorized to access Magento_Backend::store."),
    ({"message": '"%fieldName" is required.', "parameters": {"fieldName": "sku"}}, '"sku" is required.'),
    ({"message": "Value %1 here", "parameters": {"0": "zero-based"}}, "Value zero-based here"),
    ({"message": "Missing %2 and %name", "parameters": ["only one"]}, "Missing %2 and %name"),
    ({"message": "No parameters %1"}, "No parameters %1"),
    ({"message": "  spaced \n out  "}, "spaced out"),
])
def test_commerce_message(body, expected):
    assert commerce_message(body) == expected


@pytest.mark.parametrize("body", [None, [], "text", {"error": "x"}, {"message": 3}])
def test_commerce_message_without_a_message(body):
    assert commerce_message(body) is None


def test_commerce_message_is_capped():
    assert len(commerce_message({"message": "x" * 5000})) == 500


# --------------------------------------------------------------------------- pagination
def _page(mock, items, total, page, size):
    mock.add(responses.GET, PRODUCTS, json={"items": items, "total_count": total, "search_criteria": {"page": page}},
             match=[responses.matchers.query_param_matcher(
                 {"searchCriteria[pageSize]": str(size), "searchCriteria[currentPage]": str(page)}, strict_match=False)])


def _products(first, last):
    return [{"id": i, "sku": "SKU-%d" % i} for i in range(first, last + 1)]


def test_paginate_stops_on_total_count(mock):
    _page(mock, _products(1, 10), 25, 1, 10)
    _page(mock, _products(11, 20), 25, 2, 10)
    _page(mock, _products(21, 25), 25, 3, 10)
    _page(mock, _products(21, 25), 25, 4, 10)  # a repeating server would answer this: never asked
    body, pages = AccsClient(http(), BASE, bare()).paginate("/V1/products", page_size=10)
    assert pages == 3 and len(mock.calls) == 3
    assert [p["id"] for p in body["items"]] == list(range(1, 26))
    assert body["total_count"] == 25 and body["search_criteria"] == {"page": 3}


def test_paginate_stops_when_the_server_repeats_its_last_page(mock):
    # total_count says more than the server has: page 3 is page 2 again
    _page(mock, _products(1, 10), 99, 1, 10)
    _page(mock, _products(11, 20), 99, 2, 10)
    _page(mock, _products(11, 20), 99, 3, 10)
    _page(mock, _products(11, 20), 99, 4, 10)
    body, pages = AccsClient(http(), BASE, bare()).paginate("/V1/products", page_size=10)
    assert len(mock.calls) == 3
    assert [p["id"] for p in body["items"]] == list(range(1, 21))  # every item once
    assert body["total_count"] == 99 and pages == 3


def test_paginate_without_total_count_stops_on_a_short_or_empty_page(mock):
    mock.add(responses.GET, PRODUCTS, json={"items": _products(1, 5)})
    mock.add(responses.GET, PRODUCTS, json={"items": _products(6, 7)})
    body, pages = AccsClient(http(), BASE, bare()).paginate("/V1/products", page_size=5)
    assert pages == 2 and body["total_count"] == 7
    mock.reset()
    mock.add(responses.GET, PRODUCTS, json={"items": [], "total_count": 0})
    body, pages = AccsClient(http(), BASE, bare()).paginate("/V1/products", page_size=5)
    assert (body["items"], body["total_count"], pages) == ([], 0, 1)


def test_paginate_keeps_the_query_and_owns_the_page_parameters(mock):
    _page(mock, _products(1, 2), 2, 1, 50)
    query = {"searchCriteria": {"pageSize": 7, "currentPage": 9, "sortOrders": [{"field": "id"}]}}
    AccsClient(http(), BASE, bare()).paginate("/V1/products", query=query, page_size=50)
    sent = params_of(mock.calls[0])
    assert sent["searchCriteria[pageSize]"] == ["50"] and sent["searchCriteria[currentPage]"] == ["1"]
    assert sent["searchCriteria[sortOrders][0][field]"] == ["id"]


def test_paginate_needs_an_items_list(mock):
    mock.add(responses.GET, BASE + "/V1/store/websites", json=[{"id": 1}])
    with pytest.raises(TransportError) as info:
        AccsClient(http(), BASE, bare()).paginate("/V1/store/websites")
    assert "without an items list" in info.value.message
    with pytest.raises(ConfigError):
        AccsClient(http(), BASE, bare()).paginate("/V1/products", page_size=0)


# --------------------------------------------------------------------------- requests, headers
def test_headers_and_body(mock):
    mock.add(responses.POST, PRODUCTS, json={"id": 1})
    client = AccsClient(http(), BASE, bare("at-xyz"), api_key="cid", org_id="ORG@AdobeOrg", store_code="fr",
                        headers={"X-Extra": "1"})
    answer = client.request("POST", "/V1/products", body={"product": {"sku": "a"}})
    sent = mock.calls[0].request
    assert sent.headers["Authorization"] == "Bearer at-xyz"
    assert (sent.headers["x-api-key"], sent.headers["x-gw-ims-org-id"], sent.headers["Store"]) == (
        "cid", "ORG@AdobeOrg", "fr")
    assert sent.headers["Content-Type"] == "application/json" and sent.headers["X-Extra"] == "1"
    assert json.loads(sent.body) == {"product": {"sku": "a"}}
    assert answer.status == 200 and answer.json == {"id": 1}
    assert "authorization" not in answer.headers and answer.headers["content-type"] == "application/json"


def test_path_checks(mock):
    client = AccsClient(http(), BASE, bare())
    assert client.url_for("V1/store/websites") == BASE + "/V1/store/websites"
    assert client.url_for("/V1/products/SKU 1") == BASE + "/V1/products/SKU%201"
    for path in ("", "https://evil.test/V1/x"):
        with pytest.raises(ConfigError):
            client.url_for(path)
    with pytest.raises(ConfigError):
        AccsClient(http(), "http://na1.api.example.com/t", bare())


def test_non_json_200(mock):
    mock.add(responses.GET, BASE + "/V1/store/websites", body="<<not json", content_type="application/json",
             headers={"x-debug-id": "d1"})
    with pytest.raises(TransportError) as info:
        AccsClient(http(), BASE, bare()).request("GET", "/V1/store/websites")
    assert info.value.message == (
        "ACCS answered HTTP 200 for GET /V1/store/websites with a body that is not JSON, of type application/json instead of "
        "JSON, x-debug-id d1: check that base_url points at the ACCS REST API "
        "(https://<region>.api.commerce.adobe.com/<tenant-id>).")


@pytest.mark.parametrize("status,body,hint", [
    (403, {"message": "Org %1 denied", "parameters": ["O1"]},
     "ACCS answered HTTP 403 for GET /V1/store/websites: \"Org O1 denied\", x-debug-id d1; the credential's organization "
     "or permissions do not allow this: check org_id (x-gw-ims-org-id) and the integration's role in the Commerce "
     "admin."),
    (404, {"message": "Request does not match any route."},
     "ACCS answered HTTP 404 for GET /V1/store/websites: \"Request does not match any route.\", x-debug-id d1; check "
     "base_url (region and tenant id) and path."),
    (500, "<html>down</html>",
     "ACCS answered HTTP 500 for GET /V1/store/websites with an HTML error page from a gateway or proxy, x-debug-id "
     "d1; the instance or its gateway is failing: retry later, and give the x-debug-id to Adobe support if it "
     "persists."),
    (409, {"message": "Conflict"},
     "ACCS answered HTTP 409 for GET /V1/store/websites: \"Conflict\", x-debug-id d1; fix the request, or add 409 to "
     "status_code if this answer is expected."),
])
def test_error_messages(mock, status, body, hint):
    kwargs = {"json": body} if isinstance(body, dict) else {"body": body, "content_type": "text/html"}
    mock.add(responses.GET, BASE + "/V1/store/websites", status=status, headers={"x-debug-id": "d1"}, **kwargs)
    with pytest.raises(AccsApiError) as info:
        AccsClient(http(), BASE, bare()).request("GET", "/V1/store/websites")
    assert info.value.message == hint and info.value.status == status


def test_accepted_status_codes(mock):
    mock.add(responses.DELETE, PRODUCTS + "/A", status=404, json={"message": "gone"})
    answer = AccsClient(http(), BASE, bare()).request("DELETE", "/V1/products/A", status_codes=(200, 404))
    assert answer.status == 404 and answer.json == {"message": "gone"}


# --------------------------------------------------------------------------- 401 and the token manager
def renewable(mock, tokens):
    """A TokenSource over the real TokenManager (client_credentials from options, no Vault)."""
    for token in tokens:
        mock.add(responses.POST, IMS + "/ims/token/v3",
                 json={"access_token": token, "token_type": "bearer", "expires_in": 3600})
    manager = TokenManager(ImsClient(http(), IMS), None)
    request = TokenRequest(grant_type="client_credentials", client_id="cid", client_secret="cs", scopes=["openid"])
    return TokenSource(manager, request)


def test_401_renews_once_then_succeeds(mock):
    source = renewable(mock, ["at-first", "at-second"])
    mock.add(responses.GET, BASE + "/V1/store/websites", status=401, json={"message": "no"})
    mock.add(responses.GET, BASE + "/V1/store/websites", json=[{"id": 1}])
    client = AccsClient(http(), BASE, source)
    answer = client.request("GET", "/V1/store/websites")
    assert answer.json == [{"id": 1}] and client.refreshed_on_401 is True
    accs = [c.request for c in mock.calls if "/V1/" in c.request.url]
    assert [r.headers["Authorization"] for r in accs] == ["Bearer at-first", "Bearer at-second"]
    assert len([c for c in mock.calls if "/ims/" in c.request.url]) == 2


def test_401_after_the_renewal_fails_with_the_scope_hint(mock):
    source = renewable(mock, ["at-first", "at-second", "at-third"])
    mock.add(responses.GET, BASE + "/V1/store/websites", status=401, headers={"x-debug-id": "d2"},
             json={"message": "The consumer isn't authorized to access %resources.",
                   "parameters": {"resources": "Magento_Backend::store"}})
    with pytest.raises(AccsApiError) as info:
        AccsClient(http(), BASE, source).request("GET", "/V1/store/websites")
    assert info.value.message == (
        "ACCS answered HTTP 401 for GET /V1/store/websites: \"The consumer isn't authorized to access "
        "Magento_Backend::store.\", x-debug-id d2; the token was refused even after a refresh: check that the credential "
        "has the commerce.accs scope and belongs to this instance's IMS organization.")
    assert len([c for c in mock.calls if "/ims/" in c.request.url]) == 2  # one renewal, not a loop
    assert "at-" not in info.value.message


def test_401_with_a_bare_token_is_not_renewed(mock):
    mock.add(responses.GET, BASE + "/V1/store/websites", status=401, json={"message": "no"})
    with pytest.raises(AccsApiError) as info:
        AccsClient(http(), BASE, bare("at-secret")).request("GET", "/V1/store/websites")
    assert info.value.message.endswith("the access token is invalid, expired or lacks the commerce.accs scope: pass a "
                                       "fresh token, or use vault_path so the module renews it itself.")
    assert len(mock.calls) == 1 and "at-secret" not in info.value.message


def test_401_accepted_by_status_code_is_not_renewed(mock):
    source = renewable(mock, ["at-first", "at-second"])
    mock.add(responses.GET, BASE + "/V1/store/websites", status=401, json={"message": "no"})
    answer = AccsClient(http(), BASE, source).request("GET", "/V1/store/websites", status_codes=(200, 401))
    assert answer.status == 401
    assert len([c for c in mock.calls if "/ims/" in c.request.url]) == 1


# --------------------------------------------------------------------------- the re-send flag
CONFIG = BASE + "/V1/store/config"


def test_a_put_flagged_not_idempotent_is_not_resent_after_a_gateway_error(mock):
    retrying = HttpClient(timeout=5, policy=RetryPolicy(retries=2, sleep=lambda s: None))
    mock.add(responses.PUT, CONFIG, status=503, json={"message": "Service Unavailable"})
    with pytest.raises(AccsApiError) as info:
        AccsClient(retrying, BASE, bare()).request("PUT", "/V1/store/config", body={"a": 1}, idempotent=False)
    assert info.value.status == 503 and len(mock.calls) == 1


def test_a_put_is_resent_by_default(mock):
    retrying = HttpClient(timeout=5, policy=RetryPolicy(retries=2, sleep=lambda s: None))
    mock.add(responses.PUT, CONFIG, status=503, json={"message": "Service Unavailable"})
    mock.add(responses.PUT, CONFIG, status=200, json={"ok": True})
    answer = AccsClient(retrying, BASE, bare()).request("PUT", "/V1/store/config", body={"a": 1})
    assert answer.json == {"ok": True} and len(mock.calls) == 2
