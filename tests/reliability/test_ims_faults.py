"""IMS faults: every failure IMS or the way to it can produce, in one playbook run.

Each case is an ``ims_token`` task (client_credentials or refresh_token given as options, no
Vault) whose IMS answer the emulator replaces with the fault; faults are queued in case order.
"""

from __future__ import annotations

import secrets
import time

import pytest

from tests.reliability.cases import Case, fails, fault_vars, output_lacks, params, play, run_case, succeeds, warns
from tests.reliability.harness import closed_port

CAT = "IMS faults"
SCOPES = ["openid", "commerce.accs"]

# one client per case: the emulator's request log tells the cases apart
CLIENT_SECRET = "rel-ims-secret-" + secrets.token_hex(12)
FAKE_TOKEN = "rel-fake-access-" + secrets.token_hex(16)      # a token IMS "issued" in a malformed answer
NUMERIC_TOKEN = "rel-numeric-" + secrets.token_hex(12)       # one issued with expires_in "86399"
WRONG_SECRET = "rel-wrong-secret-" + secrets.token_hex(10)
FAULT_DELAY = 3  # seconds a slow answer takes; the cases time out after 1 s


def cc(client, **extra):
    """An ims_token task for the client_credentials grant given as options."""
    args = {"grant_type": "client_credentials", "client_id": client, "client_secret": "{{ rel_client_secret }}",
            "scopes": SCOPES}
    args.update(extra)
    return {"adobe_commerce.accs.ims_token": args}


def requests_of(obs, client):
    return [r for r in obs.context["requests"] if r.get("client_id") == client]


def saw(count):
    """The emulator got exactly ``count`` token requests from the case's client."""

    def check(obs):
        got = len(requests_of(obs, obs.case.data["client"]))
        return [] if got == count else ["IMS got %d token request(s) from the case, expected %d" % (got, count)]

    return check


def both(*checks):
    def check(obs):
        problems = []
        for one in checks:
            problems += one(obs)
        return problems

    return check


def waited(seconds):
    def check(obs):
        reqs = requests_of(obs, obs.case.data["client"])
        if len(reqs) < 2:
            return ["IMS got %d request(s), expected a retry" % len(reqs)]
        gap = reqs[1]["time"] - reqs[0]["time"]
        return [] if gap >= seconds - 0.1 else ["the retry came %.2f s after the 429, before Retry-After %s s" % (gap, seconds)]

    return check


def has_token(obs):
    r = obs.result
    problems = []
    if not r.get("has_access_token"):
        problems.append("no access token returned")
    if not isinstance(r.get("expires_in"), int) or r["expires_in"] <= 0:
        problems.append("no positive expires_in")
    return problems


RATE_WORDS = ("wait", "rate limit", "rate-limit")   # the engine's advice, not IMS's own words
RETRY_WORDS = ("later",)


def _cases(emu_url, closed):
    C = []

    def add(case_id, fault, expected, task, check, faults=(), ims_requests=1, bug=None, client=None):
        client = client or "rel-" + case_id
        C.append(Case(case_id, CAT, fault, expected, task if task is not None else cc(client), check,
                      faults=[dict(f) for f in faults], ims_requests=ims_requests, bug=bug,
                      data={"client": client}))

    add("ims-429-retry-after",
        "IMS answers 429 with Retry-After: 1 once (retries: 1)",
        "waits the Retry-After seconds, asks again and succeeds",
        cc("rel-ims-429-retry-after", retries=1),
        succeeds(both(has_token, saw(2), waited(1.0))),
        faults=[{"match": "ims.token", "status": 429, "retry_after": 1}], ims_requests=2)
    add("ims-429-no-retry-after",
        "IMS answers 429 without Retry-After, longer than the retries (retries: 1)",
        "backs off, then fails with one sentence: IMS rate-limited (HTTP 429), wait and run again",
        cc("rel-ims-429-no-retry-after", retries=1),
        fails("IMS", "429", RATE_WORDS, extra=saw(2)),
        faults=[{"match": "ims.token", "status": 429, "times": 2}], ims_requests=2)
    add("ims-429-bare",
        "IMS answers 429 with an empty body (a gateway's throttle), retries: 0",
        "fails with one sentence: IMS rate-limited (HTTP 429), wait and run again",
        None, fails("IMS", "429", RATE_WORDS, extra=saw(1)),
        faults=[{"match": "ims.token", "status": 429, "body": "empty"}])
    for status in (502, 503, 504):
        add("ims-%d" % status,
            "IMS answers %d with its JSON error body, retries: 0" % status,
            "fails with one sentence naming IMS and HTTP %d: IMS is failing, retry later" % status,
            None, fails("IMS", str(status), RETRY_WORDS, extra=saw(1)),
            faults=[{"match": "ims.token", "status": status}])
    add("ims-503-transient",
        "IMS answers 503 twice, then normally (retries: 2)",
        "retries with backoff and succeeds",
        cc("rel-ims-503-transient", retries=2),
        succeeds(both(has_token, saw(3))),
        faults=[{"match": "ims.token", "status": 503, "times": 2}], ims_requests=3)
    add("ims-html-502",
        "a gateway answers 502 with an HTML error page",
        "fails with one sentence: IMS answered HTTP 502 with an HTML page, retry later",
        None, fails("IMS", "502", "HTML", extra=saw(1)),
        faults=[{"match": "ims.token", "status": 502, "body": "html"}])
    add("ims-200-html",
        "IMS answers 200 with an HTML page (a proxy's login page)",
        "fails with one sentence: HTTP 200 with an HTML page instead of a token; check ims_url",
        None, fails("IMS", "200", "HTML", "ims_url"),
        faults=[{"match": "ims.token", "status": 200, "body": "html"}])
    add("ims-200-not-json",
        "IMS answers 200 with a truncated, non-JSON body",
        "fails with one sentence: HTTP 200 with a body that is not JSON; check ims_url",
        None, fails("IMS", "200", ("not JSON", "non-JSON"), "ims_url"),
        faults=[{"match": "ims.token", "status": 200, "body": "not_json"}])
    add("ims-200-json-array",
        "IMS answers 200 with a JSON array",
        "fails with one sentence: JSON that is not an object instead of a token",
        None, fails("IMS", "200", "JSON"),
        faults=[{"match": "ims.token", "status": 200, "json": ["access_token", FAKE_TOKEN]}])
    add("ims-200-no-access-token",
        "IMS answers 200 with JSON without access_token",
        "fails with one sentence: HTTP 200 without an access_token",
        None, fails("IMS", "access_token"),
        faults=[{"match": "ims.token", "status": 200, "json": {"token_type": "bearer", "expires_in": 86399}}])
    add("ims-200-blank-access-token",
        "IMS answers 200 with access_token: \"  \"",
        "fails with one sentence: HTTP 200 without an access_token",
        None, fails("IMS", "access_token"),
        faults=[{"match": "ims.token", "status": 200, "json": {"access_token": "  ", "expires_in": 86399}}])
    for suffix, value, words in (
        ("missing", None, "expires_in"),
        ("string", "soon", "expires_in"),
        ("zero", 0, "expires_in"),
        ("negative", -5, "expires_in"),
        ("bool", True, "expires_in"),
        ("float-nan-text", "NaN", "expires_in"),
        ("huge", 10 ** 12, "expires_in"),
    ):
        body = {"access_token": FAKE_TOKEN, "token_type": "bearer"}
        if value is not None:
            body["expires_in"] = value
        add("ims-expires-in-" + suffix,
            "IMS answers 200 with a token whose expires_in is %s" % ("missing" if value is None else repr(value)),
            "fails with one sentence: no usable expires_in; the token is not used nor shown",
            None, fails("IMS", words),
            faults=[{"match": "ims.token", "status": 200, "json": body}])
    add("ims-expires-in-numeric-string",
        "IMS answers 200 with expires_in: \"86399\" (a number as a string)",
        "accepts it and returns the token with expires_in 86399",
        None, succeeds(lambda obs: [] if 86390 <= obs.result.get("expires_in", 0) <= 86399 else ["expires_in not ~86399"]),
        faults=[{"match": "ims.token", "status": 200,
                 "json": {"access_token": NUMERIC_TOKEN, "expires_in": "86399"}}])
    add("ims-timeout",
        "IMS takes 3 s to answer (timeout: 1)",
        "fails after 1 s with one sentence: IMS did not answer within 1 s; never resends the grant",
        cc("rel-ims-timeout", timeout=1, retries=2),
        fails("IMS", "1 s", extra=saw(1)),
        faults=[{"match": "ims.token", "delay": FAULT_DELAY}])
    add("ims-connection-refused",
        "ims_url points at a closed loopback port (retries: 1)",
        "fails with one sentence: cannot connect to IMS, check the URL and that it is up",
        cc("rel-ims-refused", ims_url="https://127.0.0.1:%d" % closed, retries=1),
        fails("IMS", "connect"), ims_requests=0)
    return C


def _tls_cases(emu):
    C = []

    def add(case_id, fault, expected, task, check):
        client = task["adobe_commerce.accs.ims_token"]["client_id"]
        C.append(Case(case_id, CAT, fault, expected, task, check, ims_requests=0, data={"client": client}))

    add("ims-tls-wrong-host",
        "IMS's certificate is for another host name (CA trusted via ca_path)",
        "fails with one sentence: TLS verification of IMS failed (hostname mismatch); never sends the secret",
        cc("rel-tls-wrong-host", ims_url=emu.wrong_host_url),
        fails("TLS", "IMS", ("hostname", "match")))
    add("ims-tls-unknown-ca",
        "IMS's certificate is signed by a CA nobody configured",
        "fails with one sentence: TLS verification of IMS failed, give the CA with ca_path",
        cc("rel-tls-unknown-ca", ims_url=emu.unknown_ca_url),
        fails("TLS", "IMS", "ca_path"))
    add("ims-tls-default-on",
        "no ca_path and no validate_certs: the emulator's private CA is not trusted by default",
        "verification is on by default: fails with one sentence naming TLS and ca_path",
        {"adobe_commerce.accs.ims_token": {"grant_type": "client_credentials", "client_id": "rel-tls-default",
                                           "client_secret": "{{ rel_client_secret }}", "scopes": SCOPES,
                                           "ims_url": emu.url, "ca_path": None}},
        fails("TLS", "IMS", "ca_path"))
    C[-1].ims_requests = 0
    add("ims-tls-off-warns",
        "validate_certs: false (no ca_path)",
        "works, and warns that verification is off and to set ca_path instead; urllib3's per-request "
        "InsecureRequestWarning stays off stderr",
        {"adobe_commerce.accs.ims_token": {"grant_type": "client_credentials", "client_id": "rel-tls-off",
                                           "client_secret": "{{ rel_client_secret }}", "scopes": SCOPES,
                                           "ims_url": emu.url, "ca_path": None, "validate_certs": False}},
        succeeds(both(has_token, warns("verification is off"), output_lacks("InsecureRequestWarning"))))
    C[-1].ims_requests = 1
    return C


def _error_code_cases(emu):
    """invalid_client, invalid_grant, unauthorized_client, invalid_scope: real emulator answers."""
    C = []
    C.append(Case(
        "ims-invalid-client", CAT, "the client secret is wrong (IMS answers invalid_client)",
        "fails with one sentence: IMS refused the client id or secret; check them in the Developer Console",
        cc("rel-ims-invalid-client", client_secret="{{ rel_wrong_secret }}"),
        fails("IMS", "invalid_client", "client_secret"), ims_requests=1, data={"client": "rel-ims-invalid-client"}))
    C.append(Case(
        "ims-invalid-grant", CAT, "the refresh token was already used (IMS answers invalid_grant)",
        "fails with one sentence: IMS refused the refresh token; bootstrap a new one",
        {"adobe_commerce.accs.ims_token": {"grant_type": "refresh_token", "client_id": "rel-ims-invalid-grant",
                                           "client_secret": "{{ rel_client_secret }}",
                                           "refresh_token": "{{ used_refresh_token }}"}},
        fails("IMS", "refresh token", "invalid_grant", "bootstrap"), ims_requests=1,
        data={"client": "rel-ims-invalid-grant"}))
    C.append(Case(
        "ims-unauthorized-client", CAT, "the client may not use the client_credentials grant (unauthorized_client)",
        "fails with one sentence: IMS does not allow this client the grant; enable it in the Developer Console",
        cc("rel-ims-unauthorized"),
        fails("IMS", "unauthorized_client", "client_credentials"), ims_requests=1,
        data={"client": "rel-ims-unauthorized"}))
    C.append(Case(
        "ims-invalid-scope", CAT, "the scopes asked for are not the client's (invalid_scope)",
        "fails with one sentence: IMS refused the requested scopes; request only the credential's scopes",
        cc("rel-ims-invalid-scope", scopes=["openid", "commerce.accs", "rel_admin_everything"]),
        fails("IMS", "invalid_scope", "scopes"), ims_requests=1, data={"client": "rel-ims-invalid-scope"}))
    C.append(Case(
        "ims-secret-rotation-fallback", CAT,
        "the first client secret was rotated away (invalid_client), the second is current",
        "tries the second secret after invalid_client and succeeds",
        {"adobe_commerce.accs.ims_token": {"grant_type": "client_credentials", "vault_path": "rel/ims/rotation",
                                           "scopes": SCOPES}},
        succeeds(both(has_token, saw(2))), ims_requests=2, data={"client": "rel-ims-rotation"}))
    return C


CLOSED = closed_port()


class _Emu:  # URLs only, for building the case list at import time
    url = "{{ emu_url }}"
    wrong_host_url = "{{ emu_wrong_host_url }}"
    unknown_ca_url = "{{ emu_unknown_ca_url }}"


CASES = _cases("{{ emu_url }}", CLOSED) + _tls_cases(_Emu) + _error_code_cases(_Emu)


@pytest.fixture(scope="module")
def ims_run(emulator_module, store_credential, emulator_defaults, emulator_vars, rel_runner_factory, secret_registry):
    emulator = emulator_module
    emulator.set_lifetimes(access_token=86399, refresh_token=14 * 86400)
    all_grants = ["authorization_code", "refresh_token", "client_credentials"]
    for case in CASES:
        client = case.data["client"]
        if client == "rel-ims-unauthorized":
            emulator.add_client(client, client_secrets=[CLIENT_SECRET], grants=["authorization_code", "refresh_token"])
        elif client == "rel-ims-invalid-scope":
            emulator.add_client(client, client_secrets=[CLIENT_SECRET], grants=all_grants, scopes=SCOPES)
        elif client == "rel-ims-rotation":
            emulator.add_client(client, client_secrets=[CLIENT_SECRET], grants=all_grants)
        else:
            emulator.add_client(client, client_secrets=[CLIENT_SECRET], grants=all_grants)
    # invalid_grant: a refresh token that was used once already
    used = emulator.mint_refresh_token("rel-ims-invalid-grant", ["openid", "offline_access", "commerce.accs"])
    import requests as _requests

    answer = _requests.post(emulator.token_url, data={"grant_type": "refresh_token", "refresh_token": used},
                            auth=("rel-ims-invalid-grant", CLIENT_SECRET), verify=emulator.ca_path, timeout=10)
    assert answer.status_code == 200, answer.text
    # secret rotation: the document lists a stale secret first
    stale = "rel-stale-secret-" + secrets.token_hex(10)
    secret_registry.add("test client secret (stale)", stale)
    secret_registry.add("test fake token", FAKE_TOKEN)
    secret_registry.add("test fake token", NUMERIC_TOKEN)
    secret_registry.add("test wrong client secret", WRONG_SECRET)
    store_credential("rel/ims/rotation", {"client_id": "rel-ims-rotation", "client_secrets": [stale, CLIENT_SECRET],
                                          "grant_type": "client_credentials", "scopes": ",".join(SCOPES)})
    emulator.clear_faults()
    emulator.clear_requests()
    runner = rel_runner_factory("ims_faults")
    plays = play(CASES, name="IMS faults", module_defaults=emulator_defaults())
    extra = {**emulator_vars, "emu_wrong_host_url": emulator.wrong_host_url,
             "emu_unknown_ca_url": emulator.unknown_ca_url, "used_refresh_token": used,
             "rel_client_secret": CLIENT_SECRET, "rel_wrong_secret": WRONG_SECRET, **fault_vars(CASES)}
    run = runner.run(plays, "IMS faults", extra_vars=extra)
    # The emulator logs a request when it answers: the delayed one (3 s) the client gave up on after
    # its 1 s timeout may still be in flight when the playbook ends.
    time.sleep(FAULT_DELAY + 0.5)
    context = {"requests": emulator.requests(key="ims.token"), "faults_left": emulator.faults()}
    return run, context


@pytest.mark.parametrize("case", params(CASES))
def test_ims_fault(case, ims_run, matrix, request):
    run, context = ims_run
    run_case(case, run, matrix, request, context)


def test_ims_fault_queue_lined_up(ims_run):
    """Guard: every queued fault was consumed by the case it was meant for."""
    run, context = ims_run
    assert run.rc in (0, 2), run.tail()
    assert context["faults_left"] == [], "faults left over: the cases and the fault queue went out of step"
    expected = sum(case.ims_requests or 0 for case in CASES)
    assert len(context["requests"]) == expected, (len(context["requests"]), expected)
