"""accs_rest against the ACCS/IMS emulator and the real OpenBao, through ansible-playbook (issue 4).

accs_rest results hold no secret, so its tasks run without no_log: what they print is part of
what the tests check.  Emulator records are taken per tenant (one tenant per test, or one per
behaviour when faults are queued for it) and from the start time of the run.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest

from tests.integration.helpers import (
    ACCS_REST,
    DEBUG_ID,
    accs_requests,
    assert_no_secrets,
    assert_one_sentence,
    failed_msg,
    full_match,
    host_result,
    ims_token_requests,
    ims_token_task,
    play,
    seed_credential,
    unique,
    vault_secrets,
)

STORE_ENDPOINTS = ["storeConfigs", "storeViews", "websites", "storeGroups"]


def accs_task(name: str, register: str | None = None, ignore_errors: bool = False, **options) -> dict:
    task = {"name": name, ACCS_REST: options}
    if register:
        task["register"] = register
    if ignore_errors:
        task["ignore_errors"] = True
    return task


def _hostport(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[0]


def _since(records: list, started: float) -> list:
    return [r for r in records if r["time"] >= started]


@pytest.fixture(scope="module")
def shared(emulator, openbao):
    """One tenant with the default store data, and a credential with a valid cached token."""
    cred = seed_credential(emulator, openbao, cache="valid", cache_expires_in=7200)
    return cred


# --------------------------------------------------------------------------- reads, headers, defaults
def test_store_endpoints_headers_and_module_defaults(run_playbook, emulator, openbao, shared):
    s2s = seed_credential(emulator, openbao, grant="client_credentials", tenant=False, org_id=None)
    sku = unique("SKU")
    # a Vault token good for one request: the loop's four items must share one read of the credential
    policy = unique("accs-read")
    openbao.write_policy(policy, 'path "secret/data/%s" { capabilities = ["read"] }\n' % shared.vault_path)
    one_read = openbao.create_token([policy], ttl="10m", num_uses=1, no_default_policy=True)
    tasks = [
        # ims_url and ca_path come only from module_defaults of group/adobe_commerce.accs.accs
        ims_token_task("token", "tok", vault_path=shared.vault_path, force_refresh=True),
        accs_task("store endpoints", "stores", base_url=shared.base_url, path="/V1/store/{{ item }}",
                  vault_path=shared.vault_path, vault_token="{{ one_read }}", store_code="default")
        | {"loop": STORE_ENDPOINTS},
        accs_task("own api key", base_url=shared.base_url, path="/V1/store/storeConfigs", store_code="fr",
                  vault_path=shared.vault_path, api_key="my-api-key", query={"storeCodes": ["fr"]}),
        accs_task("s2s through defaults", base_url=shared.base_url, path="/V1/store/websites",
                  vault_path=s2s.vault_path),
        accs_task("create product", base_url=shared.base_url, path="/V1/products", method="POST",
                  vault_path=shared.vault_path, body={"product": {"sku": sku, "name": "Made by a test", "price": 3}}),
    ]
    started = time.time()
    result = run_playbook(play(tasks, emulator), extra_vars={"one_read": one_read}, json=True).assert_rc(0)

    tenant = emulator.get_tenant(shared.tenant)
    items = host_result(result, "store endpoints")["results"]
    assert len(items) == 4
    for endpoint, item in zip(STORE_ENDPOINTS, items):
        assert item["status"] == 200 and item["changed"] is False, item
        assert item["json"] == tenant[endpoint], endpoint
        assert item["url"] == shared.base_url + "/V1/store/" + endpoint
        assert item["token_refreshed"] is False  # the token the first task stored is reused
        assert isinstance(item["elapsed"], (int, float)) and item["elapsed"] >= 0
        assert item["headers"]["content-type"].startswith("application/json")
        assert "authorization" not in {k.lower() for k in item["headers"]}
    records = _since(accs_requests(emulator, shared.tenant), started)
    by_endpoint = {}
    for record in records:
        by_endpoint.setdefault(record["endpoint"], []).append(record)
    for endpoint in STORE_ENDPOINTS:
        record = by_endpoint[endpoint][0]
        assert record["method"] == "GET" and record["status"] == 200
        assert record["headers"]["x-api-key"] == shared.client_id  # the credential's client_id by default
        assert record["headers"]["Store"] == "default"
        assert record["headers"]["x-gw-ims-org-id"] == shared.org_id
        assert record["authorization_scheme"] == "Bearer"

    own = host_result(result, "own api key")
    assert own["changed"] is False and [c["code"] for c in own["json"]] == ["fr"]
    record = by_endpoint["storeConfigs"][1]
    assert record["headers"]["x-api-key"] == "my-api-key" and record["headers"]["Store"] == "fr"
    assert record["params"] == {"storeCodes[]": ["fr"]}

    s2s_result = host_result(result, "s2s through defaults")
    assert s2s_result["status"] == 200 and s2s_result["token_refreshed"] is True
    assert by_endpoint["websites"][1]["headers"]["x-api-key"] == s2s.client_id
    assert by_endpoint["websites"][1]["headers"]["x-gw-ims-org-id"] is None
    assert [(c["grant_type"], c["status"]) for c in ims_token_requests(emulator, s2s.client_id)] == [
        ("client_credentials", 200)]
    assert [(c["grant_type"], c["status"]) for c in ims_token_requests(emulator, shared.client_id)] == [
        ("refresh_token", 200)]

    created = host_result(result, "create product")
    assert created["changed"] is True and created["status"] == 200
    assert created["json"]["sku"] == sku
    assert [p["sku"] for p in emulator.get_tenant(shared.tenant)["created_products"]] == [sku]
    post = by_endpoint["products"][0]
    assert post["method"] == "POST" and post["headers"]["Content-Type"] == "application/json"
    assert result.stats["localhost"]["changed"] == 2  # the forced token and the POST


# --------------------------------------------------------------------------- token renewal, retries, pages
def test_401_forces_exactly_one_refresh_then_succeeds(run_playbook, emulator, openbao):
    unknown = seed_credential(emulator, openbao, cache="unknown", cache_expires_in=7200)
    revoked = seed_credential(emulator, openbao, cache="revoked", cache_expires_in=7200)
    tasks = [
        accs_task("unknown token", base_url=unknown.base_url, path="/V1/store/storeViews",
                  vault_path=unknown.vault_path),
        accs_task("revoked token", base_url=revoked.base_url, path="/V1/store/storeViews",
                  vault_path=revoked.vault_path),
    ]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)

    for name, cred in (("unknown token", unknown), ("revoked token", revoked)):
        got = host_result(result, name)
        assert got["status"] == 200 and got["token_refreshed"] is True and got["changed"] is False, got
        assert got["json"] == emulator.get_tenant(cred.tenant)["storeViews"]
        assert [(r["endpoint"], r["status"]) for r in accs_requests(emulator, cred.tenant)] == [
            ("storeViews", 401), ("storeViews", 200)]
        assert [(c["grant_type"], c["status"]) for c in ims_token_requests(emulator, cred.client_id)] == [
            ("refresh_token", 200)]
        document, version = cred.read(openbao)
        assert version == cred.version + 1
        assert document["access_token"] != cred.access_token
        assert document["access_token"] in emulator.secrets_by_kind()["access_tokens"]
        assert emulator.check_refresh_token(document["refresh_token"]) is True
        assert emulator.refresh_token_status(cred.refresh_token) == "used"


def test_429_with_retry_after_then_success(run_playbook, emulator, openbao, shared):
    tenant = unique("tenant429")
    emulator.set_tenant(tenant)
    emulator.add_fault("accs.%s.storeGroups" % tenant, status=429, retry_after=1)
    tasks = [accs_task("rate limited", base_url=emulator.accs_url(tenant), path="/V1/store/storeGroups",
                       vault_path=shared.vault_path)]
    try:
        result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    finally:
        emulator.clear_faults()
    got = host_result(result, "rate limited")
    assert got["status"] == 200 and got["json"] == emulator.get_tenant(tenant)["storeGroups"]
    assert got["elapsed"] >= 1.0
    records = accs_requests(emulator, tenant)
    assert [(r["endpoint"], r["status"]) for r in records] == [("storeGroups", 429), ("storeGroups", 200)]
    assert records[1]["time"] - records[0]["time"] >= 0.95


def test_paginated_search_returns_every_item_once(run_playbook, emulator, openbao, shared):
    tenant = unique("pages")
    emulator.set_tenant(tenant, products_count=45, repeat_last_page=True)
    sort = {"searchCriteria": {"sortOrders": [{"field": "id", "direction": "ASC"}]}}
    tasks = [accs_task("search", base_url=emulator.accs_url(tenant), path="/V1/products", paginate=True,
                       page_size=20, query=sort, vault_path=shared.vault_path)]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)

    got = host_result(result, "search")
    assert got["changed"] is False and got["status"] == 200
    assert got["pages"] == 3
    assert got["json"]["total_count"] == 45
    skus = [p["sku"] for p in got["json"]["items"]]
    assert skus == ["EMU-SKU-%05d" % i for i in range(1, 46)]
    records = accs_requests(emulator, tenant, "products")
    assert [(r["params"]["searchCriteria[currentPage]"], r["params"]["searchCriteria[pageSize]"]) for r in records] \
        == [(["1"], ["20"]), (["2"], ["20"]), (["3"], ["20"])]
    for record in records:
        assert record["params"]["searchCriteria[sortOrders][0][field]"] == ["id"]
        assert record["params"]["searchCriteria[sortOrders][0][direction]"] == ["ASC"]


# --------------------------------------------------------------------------- errors
def test_error_messages(run_playbook, emulator, openbao, shared, secret_registry):
    tenant = unique("errors")
    emulator.set_tenant(tenant)
    base = emulator.accs_url(tenant)
    strict = unique("orgonly")
    emulator.set_tenant(strict, required_org_id="REQUIRED0000@AdobeOrg")
    # the integration lacks commerce.accs: a refreshed token is refused too
    scopeless = seed_credential(emulator, openbao, grant="client_credentials", tenant=False,
                                extra={"scopes": "openid,AdobeID"})
    emulator.add_fault("accs.%s.storeGroups" % tenant, status=503, times=2)
    emulator.add_fault("accs.%s.storeViews" % tenant, status=500, body="html")
    emulator.add_fault("accs.%s.websites" % tenant, status=200, body="not_json")
    emulator.add_fault("accs.%s.storeConfigs" % tenant, delay=3)
    bogus = "at-" + uuid.uuid4().hex + uuid.uuid4().hex
    secret_registry.add("made-up access token", bogus)
    vault = {"vault_path": shared.vault_path}
    tasks = [
        # (the faults above are for the errors tenant: these two go to the shared one)
        accs_task("401 bare token", base_url=shared.base_url, path="/V1/store/websites", access_token="{{ bogus }}",
                  ignore_errors=True),
        accs_task("401 after refresh", base_url=shared.base_url, path="/V1/store/websites",
                  vault_path=scopeless.vault_path, ignore_errors=True),
        accs_task("403 org", base_url=emulator.accs_url(strict), path="/V1/store/websites", ignore_errors=True,
                  **vault),
        accs_task("404 tenant", base_url=emulator.accs_url("no-such-tenant"), path="/V1/store/websites",
                  ignore_errors=True, **vault),
        accs_task("503 after retries", base_url=base, path="/V1/store/storeGroups", retries=1, ignore_errors=True,
                  **vault),
        accs_task("html", base_url=base, path="/V1/store/storeViews", ignore_errors=True, **vault),
        accs_task("not json", base_url=base, path="/V1/store/websites", ignore_errors=True, **vault),
        accs_task("timeout", base_url=base, path="/V1/store/storeConfigs", timeout=1, retries=0,
                  ignore_errors=True, **vault),
        accs_task("unknown ca", base_url=emulator.unknown_ca_url + "/" + tenant, path="/V1/store/websites",
                  ignore_errors=True, **vault),
        accs_task("wrong host", base_url=emulator.wrong_host_url + "/" + tenant, path="/V1/store/websites",
                  ignore_errors=True, **vault),
        accs_task("plain http", base_url="http://eu.api.commerce.example.com/" + tenant, path="/V1/store/websites",
                  ignore_errors=True, **vault),
    ]
    try:
        result = run_playbook(play(tasks, emulator), extra_vars={"bogus": bogus}, json=True).assert_rc(0)
    finally:
        emulator.clear_faults()
    d, esc = DEBUG_ID, re.escape
    failing = r"the instance or its gateway is failing: retry later, and give the x-debug-id to Adobe support if " \
              r"it persists\."
    expected = {
        "401 bare token": r"ACCS answered HTTP 401 for GET /V1/store/websites: \"The consumer isn't authorized to access "
                          r"Magento_Backend::store\.\", x-debug-id %s; the access token is invalid, expired or lacks the "
                          r"commerce\.accs scope: pass a fresh token, or use vault_path so the module renews it "
                          r"itself\." % d,
        "401 after refresh": r"ACCS answered HTTP 401 for GET /V1/store/websites: \"The consumer isn't authorized to "
                             r"access Magento_Backend::store\.\", x-debug-id %s; the token was refused even after a "
                             r"refresh: check that the credential has the commerce\.accs scope and belongs to this "
                             r"instance's IMS organization\." % d,
        "403 org": r"ACCS answered HTTP 403 for GET /V1/store/websites: \"The organization %s is not allowed to access "
                   r"tenant %s\.\", x-debug-id %s; the credential's organization or permissions do not allow this: "
                   r"check org_id \(x-gw-ims-org-id\) and the integration's role in the Commerce admin\."
                   % (esc(shared.org_id), esc(strict), d),
        "404 tenant": r"ACCS answered HTTP 404 for GET /V1/store/websites: \"Tenant no-such-tenant not found\.\", x-debug-id "
                      r"%s; check base_url \(region and tenant id\) and path\." % d,
        "503 after retries": r"ACCS answered HTTP 503 for GET /V1/store/storeGroups: \"Internal Error\. Details are "
                             r"available in Magento log file\. Report ID: webapi-[0-9a-f]+\", x-debug-id %s; %s"
                             % (d, failing),
        "html": r"ACCS answered HTTP 500 for GET /V1/store/storeViews with an HTML error page from a gateway or "
                r"proxy, x-debug-id %s; %s" % (d, failing),
        "not json": r"ACCS answered HTTP 200 for GET /V1/store/websites with a body that is not JSON, of type "
                    r"application/json instead of JSON, x-debug-id %s: check that base_url points at the ACCS "
                    r"REST API \(https://<region>\.api\.commerce\.adobe\.com/<tenant-id>\)\." % d,
        "timeout": r"ACCS at %s did not answer within 1 s: check that the URL is right and the service is up, then "
                   r"run again\." % esc(_hostport(emulator.url)),
        "unknown ca": r"TLS verification of ACCS at %s failed \([^()]*\): check the URL, or give the CA that signed "
                      r"its certificate with ca_path\." % esc(_hostport(emulator.unknown_ca_url)),
        "wrong host": r"TLS verification of ACCS at %s failed \([^()]*\): check the URL, or give the CA that signed "
                      r"its certificate with ca_path\." % esc(_hostport(emulator.wrong_host_url)),
        "plain http": r"Option base_url uses plain http:// for host eu\.api\.commerce\.example\.com: use https:// "
                      r"\(plain http is allowed for loopback addresses only\)\.",
    }
    secrets = emulator.secrets() + vault_secrets(openbao, bogus)
    for name, pattern in expected.items():
        msg = failed_msg(result, name)
        full_match(pattern, msg)
        assert_one_sentence(msg)
        assert_no_secrets(msg, secrets, "the message of %r" % name)
        assert_no_secrets(repr(host_result(result, name)), secrets, "the result of %r" % name)
    # "503 after retries": the first answer was retried once, then reported
    assert [r["status"] for r in accs_requests(emulator, tenant, "storeGroups")] == [503, 503]
    # "401 after refresh": one token at first, one forced renewal, each refused by ACCS
    assert [(c["grant_type"], c["status"]) for c in ims_token_requests(emulator, scopeless.client_id)] == [
        ("client_credentials", 200), ("client_credentials", 200)]
    assert_no_secrets(result.stdout + result.stderr + result.log, secrets, "the run's output")


# --------------------------------------------------------------------------- check mode
def test_check_mode_reads_but_does_not_write(run_playbook, emulator, openbao, shared):
    tenant = unique("check")
    emulator.set_tenant(tenant)
    base = emulator.accs_url(tenant)
    tasks = [
        accs_task("read", base_url=base, path="/V1/store/websites", vault_path=shared.vault_path),
        accs_task("write", base_url=base, path="/V1/products", method="POST", vault_path=shared.vault_path,
                  body={"product": {"sku": "CHECK-MODE-SKU"}}),
    ]
    result = run_playbook(play(tasks, emulator), check=True, json=True).assert_rc(0)
    read = host_result(result, "read")
    assert read["changed"] is False and read["status"] == 200
    assert read["json"] == emulator.get_tenant(tenant)["websites"]
    write = host_result(result, "write")
    assert write["changed"] is True
    assert "json" not in write and "status" not in write
    assert [(r["method"], r["endpoint"]) for r in accs_requests(emulator, tenant)] == [("GET", "websites")]
    assert emulator.get_tenant(tenant)["created_products"] == []


# --------------------------------------------------------------------------- -vvvv
def test_vvvv_output_holds_no_secret(run_playbook, emulator, openbao, secret_registry):
    cred = seed_credential(emulator, openbao, cache="expired", tenant_data={"products_count": 30})
    stale = seed_credential(emulator, openbao, cache="unknown", tenant=False)
    bogus = "at-" + uuid.uuid4().hex + uuid.uuid4().hex
    secret_registry.add("made-up access token", bogus)
    base = cred.base_url
    tasks = [
        # no no_log anywhere: accs_rest results carry no secret
        accs_task("refresh then read", base_url=base, path="/V1/store/storeConfigs", vault_path=cred.vault_path,
                  store_code="default"),
        accs_task("401 then refresh", base_url=base, path="/V1/store/websites", vault_path=stale.vault_path),
        accs_task("pages", base_url=base, path="/V1/products", paginate=True, page_size=10,
                  vault_path=cred.vault_path),
        accs_task("post", base_url=base, path="/V1/products", method="POST", vault_path=cred.vault_path,
                  body={"product": {"sku": unique("VVVV")}}),
        accs_task("bare token refused", base_url=base, path="/V1/store/websites", access_token="{{ bogus }}",
                  ignore_errors=True),
        accs_task("bare token with headers", base_url=base, path="/V1/store/websites", access_token="{{ bogus }}",
                  headers={"X-Trace": "vvvv"}, status_code=[200, 401]),
    ]
    result = run_playbook(play(tasks, emulator), extra_vars={"bogus": bogus}, verbosity=4, json=True).assert_rc(0)
    assert "verbosity: 4" in result.stdout
    assert host_result(result, "refresh then read")["token_refreshed"] is True
    assert host_result(result, "401 then refresh")["token_refreshed"] is True
    assert host_result(result, "pages")["pages"] == 3
    assert host_result(result, "bare token with headers")["status"] == 401
    assert_one_sentence(failed_msg(result, "bare token refused"))
    document, doc_version = cred.read(openbao)
    stale_doc, stale_version = stale.read(openbao)
    secrets = emulator.secrets() + vault_secrets(openbao, bogus, document["access_token"], document["refresh_token"],
                                                 stale_doc["access_token"], stale_doc["refresh_token"])
    assert_no_secrets(result.stdout, secrets, "stdout")
    assert_no_secrets(result.stderr, secrets, "stderr")
    assert_no_secrets(result.log, secrets, "the Ansible log")
    assert "Bearer" not in result.stdout and "Authorization" not in result.stdout
