"""ACCS faults: 401, 403, 404, 429, 5xx, HTML, non-JSON 200, a very large body, a slow answer,
in one playbook run of ``accs_rest`` tasks against the emulator.

Most cases use a Vault credential whose cached access token is valid, so only the ACCS call
meets the fault; the 401 cases have their own credential and client so their token renewals
can be counted.
"""

from __future__ import annotations

import secrets
import time

import pytest

from tests.reliability.cases import Case, fails, fault_vars, params, play, run_case, succeeds
from tests.reliability.harness import closed_port

CAT = "ACCS faults"
TENANT = "relaccs"
ORG_TENANT = "relaccsorg"
SCOPES = ["openid", "commerce.accs"]
SECRET = "rel-accs-secret-" + secrets.token_hex(10)
CONFIGS = "/V1/store/storeConfigs"
FAULT_DELAY = 3  # seconds a slow answer takes; the cases time out after 1 s


def rest(path=CONFIGS, vault_path="rel/accs/cc", **extra):
    args = {"path": path}
    if vault_path:
        args["vault_path"] = vault_path
    args.update(extra)
    return {"adobe_commerce.accs.accs_rest": args}


def ims_calls(client):
    def check(obs):
        got = len([r for r in obs.context["ims"] if r.get("client_id") == client])
        want = obs.case.data.get("ims_calls", 0)
        return [] if got == want else ["IMS got %d token request(s) for the case, expected %d" % (got, want)]

    return check


def status_200(obs):
    return [] if obs.result.get("status") == 200 else ["status %r, expected 200" % obs.result.get("status")]


def both(*checks):
    def check(obs):
        out = []
        for one in checks:
            out += one(obs)
        return out

    return check


def refreshed(obs):
    return [] if obs.result.get("token_refreshed") else ["token_refreshed is not true"]


def requests_to(endpoint, method, count):
    def check(obs):
        got = len([r for r in obs.context["accs"] if r.get("endpoint") == endpoint and r.get("method") == method
                   and r.get("tenant") == TENANT and obs.case.data["t0"] <= r.get("time", 0)])
        return [] if got == count else ["ACCS got %d %s %s request(s), expected %d" % (got, method, endpoint, count)]

    return check


RETRY_LATER = ("retry later",)


def _cases():
    C = []

    def add(case_id, fault, expected, task, check, faults=(), **data):
        C.append(Case(case_id, CAT, fault, expected, task, check, faults=[dict(f) for f in faults], data=data))

    add("accs-401-renewed", "ACCS answers 401 once (the cached token was revoked early)",
        "renews the token once through IMS, repeats the call and succeeds (token_refreshed)",
        rest(vault_path="rel/accs/401a"), succeeds(both(status_200, refreshed, ims_calls("rel-accs-401a"))),
        faults=[{"match": "accs.storeConfigs", "status": 401}], ims_calls=1)
    add("accs-401-twice", "ACCS answers 401 again after the renewal",
        "fails with one sentence: refused even after a refresh; check the commerce.accs scope and the org",
        rest(vault_path="rel/accs/401b"), fails("ACCS", "401", "commerce.accs", extra=ims_calls("rel-accs-401b")),
        faults=[{"match": "accs.storeConfigs", "status": 401, "times": 2}], ims_calls=1)
    add("accs-401-static-token", "ACCS answers 401 to an access_token given as option",
        "fails with one sentence: the token is invalid or expired; pass a fresh one or use vault_path",
        rest(vault_path=None, access_token="{{ rel_static_token }}"), fails("ACCS", "401", "vault_path"),
        faults=[{"match": "accs.storeConfigs", "status": 401}])
    add("accs-401-expired-token", "an expired access token given as option (real 401 from the emulator)",
        "fails with one sentence naming ACCS, 401 and what to do; Commerce's message is filled in",
        rest(vault_path=None, access_token="{{ rel_expired_token }}"),
        fails("ACCS", "401", "isn't authorized to access Magento_Backend::store"))
    add("accs-403", "ACCS answers 403",
        "fails with one sentence: the organization or permissions do not allow this; check org_id",
        rest(), fails("ACCS", "403", "org_id"), faults=[{"match": "accs.storeConfigs", "status": 403}])
    add("accs-403-org", "the tenant belongs to another IMS organization (real 403)",
        "fails with one sentence with Commerce's filled-in message and the org_id hint",
        rest(path="/V1/store/websites", base_url="{{ emu_url }}/%s" % ORG_TENANT), fails("ACCS", "403", "org_id"))
    add("accs-404-route", "the path does not exist (real 404)",
        "fails with one sentence: check base_url and path",
        rest(path="/V1/rel/no/such/route"), fails("ACCS", "404", "path"))
    add("accs-404-tenant", "base_url names an unknown tenant (real 404)",
        "fails with one sentence: check base_url (region and tenant id)",
        rest(base_url="{{ emu_url }}/relnotenant"), fails("ACCS", "404", "base_url"))
    add("accs-429", "ACCS answers 429 (retries: 0)",
        "fails with one sentence: ACCS kept rate-limiting; wait, lower the forks, run again",
        rest(), fails("ACCS", "429", "wait"), faults=[{"match": "accs.storeConfigs", "status": 429}])
    add("accs-429-retry-after", "ACCS answers 429 with Retry-After: 1 once (retries: 1)",
        "waits and succeeds", rest(retries=1), succeeds(status_200),
        faults=[{"match": "accs.storeConfigs", "status": 429, "retry_after": 1}])
    for status in (500, 502, 503, 504):
        add("accs-%d" % status, "ACCS answers %d with Commerce's error body (retries: 0)" % status,
            "fails with one sentence naming HTTP %d and Commerce's message: the instance is failing, retry later" % status,
            rest(), fails("ACCS", str(status), RETRY_LATER),
            faults=[{"match": "accs.storeConfigs", "status": status}])
    add("accs-503-transient", "ACCS answers 503 twice, then normally (retries: 2)",
        "retries with backoff and succeeds", rest(retries=2), succeeds(status_200),
        faults=[{"match": "accs.storeConfigs", "status": 503, "times": 2}])
    add("accs-html-502", "a gateway answers 502 with an HTML page",
        "fails with one sentence: HTTP 502 with an HTML page; retry later",
        rest(), fails("ACCS", "502", "HTML", RETRY_LATER),
        faults=[{"match": "accs.storeConfigs", "status": 502, "body": "html"}])
    add("accs-200-html", "ACCS answers 200 with an HTML page (a login or proxy page)",
        "fails with one sentence: HTML instead of JSON; check base_url",
        rest(), fails("ACCS", "200", "HTML", "base_url"),
        faults=[{"match": "accs.storeConfigs", "status": 200, "body": "html"}])
    add("accs-200-not-json", "ACCS answers 200 with a truncated, non-JSON body",
        "fails with one sentence: not JSON; check base_url",
        rest(), fails("ACCS", "200", ("not JSON", "non-JSON"), "base_url"),
        faults=[{"match": "accs.storeConfigs", "status": 200, "body": "not_json"}])

    def huge_ok(obs):
        shown = (obs.other("show:accs-huge-body") or {}).get("msg") or {}
        if obs.result is None or shown.get("failed"):
            return "failed: %s" % shown.get("msg"), ["the huge answer failed"]
        items = shown.get("items", 0)
        return ("succeeded: status %s, %d items parsed" % (shown.get("status"), items),
                [] if items > 10000 else ["only %s items came back" % items])

    C.append(Case(
        "accs-huge-body", CAT, "ACCS answers 200 with a 6 MiB JSON array (emulator fault body: huge)",
        "parses it and returns every item (the task uses no_log to keep 6 MiB out of the output; a second task "
        "reports the item count)",
        dict(rest(), no_log=True), huge_ok,
        faults=[{"match": "accs.storeConfigs", "status": 200, "body": "huge"}],
        after=[{"name": "show:accs-huge-body", "ansible.builtin.debug": {"msg": (
            "{{ {'failed': result_accs_huge_body.failed | default(false), 'msg': result_accs_huge_body.msg "
            "| default(''), 'status': result_accs_huge_body.status | default(none), 'items': "
            "(result_accs_huge_body.json | default([], true) | length)} }}")}}]))
    add("accs-slow", "ACCS takes 3 s to answer (timeout: 1, retries: 0)",
        "fails after 1 s with one sentence: ACCS did not answer within 1 s",
        rest(timeout=1), fails("ACCS", "1 s"), faults=[{"match": "accs.storeConfigs", "delay": FAULT_DELAY}])
    add("accs-slow-read-retried", "ACCS takes 3 s once (timeout: 1, retries: 1), a GET",
        "a read is safe to resend: retries and succeeds",
        rest(timeout=1, retries=1), succeeds(status_200), faults=[{"match": "accs.storeConfigs", "delay": FAULT_DELAY}])
    add("accs-slow-write-not-resent", "ACCS takes 3 s to answer a POST (timeout: 1, retries: 2)",
        "fails with one sentence and does NOT resend the write (it may have been applied)",
        rest(path="/V1/products", method="POST", timeout=1, retries=2,
             body={"product": {"sku": "rel-slow-sku", "name": "Slow", "price": 1}}),
        fails("ACCS", "1 s", extra=requests_to("products", "POST", 1)),
        faults=[{"match": "accs.products", "delay": FAULT_DELAY}])
    add("accs-connection-refused", "base_url points at a closed loopback port",
        "fails with one sentence: cannot connect to ACCS; check the URL",
        rest(base_url="https://127.0.0.1:%d/%s" % (closed_port(), TENANT), retries=1), fails("ACCS", "connect"))
    add("accs-tls-unknown-ca", "ACCS's certificate comes from an unknown CA",
        "fails with one sentence: TLS verification of ACCS failed; give the CA with ca_path",
        rest(base_url="{{ emu_unknown_ca_url }}/%s" % TENANT), fails("TLS", "ACCS", "ca_path"))
    add("accs-200-empty", "ACCS answers 200 with an empty body",
        "succeeds with json null (nothing to parse; a write may legitimately answer so)",
        rest(), succeeds(lambda obs: [] if obs.result.get("json") is None else ["json is not null"]),
        faults=[{"match": "accs.storeConfigs", "status": 200, "body": "empty"}])
    return C


CASES = _cases()


@pytest.fixture(scope="module")
def accs_run(emulator_module, store_credential, emulator_defaults, emulator_vars, rel_runner_factory):
    emulator = emulator_module
    emulator.set_tenant(TENANT)
    emulator.set_tenant(ORG_TENANT, required_org_id="RELOWNER@AdobeOrg")
    far = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 20 * 3600))
    for client, path in (("rel-accs", "rel/accs/cc"), ("rel-accs-401a", "rel/accs/401a"), ("rel-accs-401b", "rel/accs/401b")):
        emulator.add_client(client, client_secrets=[SECRET], grants=["client_credentials"])
        token = emulator.mint_access_token(client, SCOPES, expires_in=72000)
        store_credential(path, {
            "client_id": client, "client_secret": SECRET, "grant_type": "client_credentials",
            "scopes": ",".join(SCOPES), "org_id": "REL@AdobeOrg", "access_token": token,
            "access_token_expires_at": far})
    static = emulator.mint_access_token("rel-accs", SCOPES, expires_in=72000)
    expired = emulator.mint_access_token("rel-accs", SCOPES, expires_in=-1)
    t0 = time.time()
    for case in CASES:
        case.data["t0"] = t0
    emulator.clear_requests()
    runner = rel_runner_factory("accs_faults")
    plays = play(CASES, name="ACCS faults", module_defaults=emulator_defaults(base_url="{{ emu_url }}/%s" % TENANT))
    extra = {**emulator_vars, "emu_unknown_ca_url": emulator.unknown_ca_url,
             "rel_static_token": static, "rel_expired_token": expired, **fault_vars(CASES)}
    run = runner.run(plays, "ACCS faults", extra_vars=extra)
    # The emulator logs a request when it answers: a delayed one (3 s) the client gave up on after its
    # 1 s timeout may still be in flight when the playbook ends.
    time.sleep(FAULT_DELAY + 0.5)
    context = {"ims": emulator.requests(key="ims.token"), "accs": emulator.requests()}
    return run, context


@pytest.mark.parametrize("case", params(CASES))
def test_accs_fault(case, accs_run, matrix, request):
    run, context = accs_run
    run_case(case, run, matrix, request, context)
