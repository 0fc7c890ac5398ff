"""Bad input: wrong option types and combinations, URLs that are not https (off loopback), empty or
blank secrets, unicode and very long values, header injection, and role variables that fail the
roles' argument specs, in one playbook run.

Nothing here may leave the machine: the runner points every proxy variable at a closed loopback
port, so even a URL the collection failed to refuse ends there.  Option-validation failures
are worded by Ansible's argument-spec validator (the collection declares the spec); the
collection's own refusals must be one sentence.
"""

from __future__ import annotations

import secrets

import pytest

from tests.reliability.cases import Case, fails, fault_vars, params, play, run_case, succeeds
from tests.reliability.harness import leaks

CAT = "Bad input"
SCOPES = ["openid", "commerce.accs"]
SECRET = "rel-bad-input-secret-" + secrets.token_hex(10)
URL_PASSWORD = "relurlpassword" + secrets.token_hex(8)
DUMMY_TOKEN = "rel-dummy-token-" + secrets.token_hex(12)
IMS = "adobe_commerce.accs.ims_token"
REST = "adobe_commerce.accs.accs_rest"


def cc(**extra):
    args = {"grant_type": "client_credentials", "client_id": "rel-bad-input", "client_secret": "{{ rel_secret }}",
            "scopes": SCOPES}
    args.update(extra)
    return {IMS: args}


def rest(**extra):
    args = {"base_url": "{{ emu_url }}/relbad", "path": "/V1/store/websites", "access_token": "{{ rel_dummy }}"}
    args.update(extra)
    return {REST: {k: v for k, v in args.items() if v is not None}}


def rejected(*names):
    """Ansible's argument-spec validation refused the task: it failed, names the option, no
    traceback, no secret (the wording and line breaks are Ansible's)."""

    def check(obs):
        r = obs.result
        if r is None:
            return "the task did not run", ["the task did not run"]
        if r["_event"] != "failed":
            return "succeeded", ["the task did not fail (silent success)"]
        msg = str(r.get("msg") or "")
        problems = []
        for name in names:
            if name.lower() not in msg.lower():
                problems.append("msg does not name %r" % name)
        if "Traceback" in msg or 'File "' in msg:
            problems.append("msg holds a traceback")
        kinds = leaks(r)
        if kinds:
            problems.append("the result holds a secret: " + ", ".join(kinds))
        return "failed: " + " / ".join(line.strip() for line in msg.splitlines()), problems

    return check


def _cases():
    C = []

    def add(case_id, fault, expected, task, check, bug=None):
        C.append(Case(case_id, CAT, fault, expected, task, check, bug=bug))

    spec = "rejected before any request, naming the option"
    add("bi-timeout-string", "ims_token timeout: 'abc'", spec, cc(timeout="abc"), rejected("timeout"))
    add("bi-min-ttl-string", "ims_token min_ttl: 'ten minutes'", spec, cc(min_ttl="ten minutes"), rejected("min_ttl"))
    add("bi-validate-certs-string", "ims_token validate_certs: 'maybe'", spec, cc(validate_certs="maybe"),
        rejected("validate_certs"))
    add("bi-grant-unknown", "ims_token grant_type: password", spec, cc(grant_type="password"), rejected("grant_type"))
    add("bi-unknown-option", "ims_token with an unknown option client_secrte", spec,
        cc(client_secrte="typo"), rejected("client_secrte"))
    add("bi-scopes-dict", "ims_token scopes given as a dict", spec, cc(scopes={"openid": True}), rejected("scopes"))
    add("bi-authcode-no-code", "grant_type authorization_code without code", spec,
        cc(grant_type="authorization_code"), rejected("code"))
    add("bi-force-refresh-authcode", "grant_type authorization_code with force_refresh: true",
        "fails with one sentence: force_refresh does not apply to authorization_code",
        cc(grant_type="authorization_code", code="{{ rel_dummy }}", force_refresh=True),
        fails("force_refresh", "authorization_code"))
    add("bi-timeout-zero", "timeout: 0", "fails with one sentence: timeout must be at least 1 second",
        cc(timeout=0), fails("timeout"))
    add("bi-retries-negative", "retries: -1", "fails with one sentence: retries must not be negative",
        cc(retries=-1), fails("retries"))
    add("bi-min-ttl-negative", "min_ttl: -5", "fails with one sentence: min_ttl must not be negative",
        cc(min_ttl=-5), fails("min_ttl"))
    add("bi-refresh-max-age-string", "refresh_token_max_age: 'a week'", spec, cc(refresh_token_max_age="a week"),
        rejected("refresh_token_max_age"))
    # URLs
    add("bi-ims-url-http", "ims_url: http://ims.example.com (plain http, not loopback)",
        "refused before anything is sent: use https://", cc(ims_url="http://ims.example.com"),
        fails("ims_url", "https://"))
    add("bi-ims-url-ftp", "ims_url: ftp://ims.example.com", "refused: not an http(s) URL",
        cc(ims_url="ftp://ims.example.com"), fails("ims_url"))
    add("bi-ims-url-credentials", "ims_url with user:password@ in it",
        "refused without echoing the password: credentials do not belong in the URL",
        cc(ims_url="{{ rel_url_with_password }}"), fails("ims_url", "credentials"))
    add("bi-ims-url-query", "ims_url with a query string (?client_secret=...)", "refused: base URL only",
        cc(ims_url="https://127.0.0.1:9/?client_secret=x"), fails("ims_url", "query"))
    add("bi-ims-url-malformed", "ims_url: https://[::1 (a malformed IPv6 host)",
        "refused with one sentence naming ims_url", cc(ims_url="https://[::1"), fails("ims_url"))
    add("bi-base-url-http", "accs_rest base_url: http://na1.api.commerce.adobe.com/t (plain http)",
        "refused before anything is sent: use https://", rest(base_url="http://na1.api.commerce.adobe.com/t"),
        fails("base_url", "https://"))
    add("bi-vault-url-http", "vault_url: http://vault.example.com:8200 (plain http, not loopback)",
        "refused before the Vault token is sent: use https:// (plain http only on loopback)",
        {IMS: {"vault_path": "rel/bad/any", "vault_url": "http://vault.example.com:8200"}},
        fails("vault_url", "https://"))
    add("bi-path-full-url", "accs_rest path is a full URL to another host",
        "refused: path must be a path; the host belongs in base_url",
        rest(path="https://evil.example.com/V1/store/websites"), fails("path", "base_url"))
    add("bi-authorization-header", "accs_rest headers carry an Authorization header",
        "refused: the module sets Authorization itself", rest(headers={"Authorization": "Bearer {{ rel_dummy }}"}),
        fails("Authorization"))
    add("bi-header-injection", "accs_rest store_code with a CR/LF (header injection attempt)",
        "refused with one sentence naming store_code; no injected header is sent", rest(store_code="default\r\nX-Injected: 1"),
        fails("store_code"))
    # combinations
    add("bi-method-unknown", "accs_rest method: FETCH", spec, rest(method="FETCH"), rejected("method"))
    add("bi-status-code-string", "accs_rest status_code: ['ok']", spec, rest(status_code=["ok"]),
        rejected("status_code"))
    add("bi-token-and-vault", "accs_rest with both access_token and vault_path", spec,
        rest(vault_path="rel/bad/any"), rejected("access_token", "vault_path"))
    add("bi-no-credential", "accs_rest with none of access_token, vault_path, client_id", spec,
        rest(access_token=None), rejected("access_token"))
    add("bi-no-base-url", "accs_rest without base_url", spec, {REST: {"path": "/V1/x", "access_token": "{{ rel_dummy }}"}},
        rejected("base_url"))
    add("bi-paginate-post", "accs_rest paginate: true with method POST",
        "fails with one sentence: paginate works with GET only", rest(paginate=True, method="POST"),
        fails("paginate", "GET"))
    add("bi-page-size-zero", "accs_rest paginate with page_size: 0",
        "fails with one sentence: page_size must be a positive integer", rest(paginate=True, page_size=0),
        fails("page_size"))
    # empty and blank secrets
    for option, value in (("client_secret", "   "), ("client_secret", ""), ("refresh_token", " \t ")):
        add("bi-blank-%s-%d" % (option.replace("_", "-"), len(value)), "%s: %r" % (option, value),
            "refused with one sentence naming the option; nothing is sent to IMS",
            cc(**{option: value, "grant_type": "refresh_token" if option == "refresh_token" else "client_credentials"}),
            fails(option))
    add("bi-blank-access-token", "accs_rest access_token: '  '", "refused with one sentence naming the option",
        rest(access_token="  "), fails("access_token"))
    add("bi-blank-vault-token", "vault_token: '  '", "refused with one sentence naming the option",
        {IMS: {"vault_path": "rel/bad/any", "vault_token": "  "}}, fails("vault_token"))
    add("bi-blank-code", "grant_type authorization_code with code: ''", "refused naming the option",
        cc(grant_type="authorization_code", code=""), fails("code"))
    add("bi-blank-vault-path", "vault_path: '   '", "refused with one sentence naming vault_path",
        {REST: {"base_url": "{{ emu_url }}/relbad", "path": "/V1/store/websites", "vault_path": "   "}},
        fails("vault_path"))
    # unicode and very long values
    add("bi-unicode-client-id", "client_id 'клиент-ü-🚀' (unicode) against IMS",
        "IMS refuses it; the failure is one sentence", cc(client_id="клиент-ü-🚀"), fails("IMS", "invalid_client"))
    add("bi-unicode-vault-path", "vault_path 'rel/ünïcødé/тест' (no such document)",
        "fails with one sentence naming the path", {IMS: {"vault_path": "rel/ünïcødé/тест"}},
        fails("No credential", "rel/ünïcødé/тест"))
    add("bi-unicode-api-key", "accs_rest api_key 'ключ-🚀' (not Latin-1, goes into a header)",
        "fails with one sentence naming api_key (or sends it safely)", rest(api_key="ключ-🚀"),
        fails("api_key"))
    add("bi-long-vault-path", "vault_path of 3000 characters", "fails with one sentence naming Vault",
        {IMS: {"vault_path": "rel/" + "p" * 3000}}, fails("Vault"))
    add("bi-long-client-id", "client_id of 20000 characters against IMS", "IMS refuses it; one sentence",
        cc(client_id="c" * 20000), fails("IMS"))
    add("bi-long-query", "accs_rest query value of 6000 characters (with a real token)",
        "sends it intact and succeeds", rest(access_token="{{ rel_real_token }}", query={"searchCriteria": {"filter": "q" * 6000}}),
        succeeds(lambda obs: [] if obs.result.get("status") == 200 else ["status %s" % obs.result.get("status")]))
    # A URL past the gateway's limit (8 KiB, as the emulator's front answers) is refused before ACCS sees it.
    add("bi-too-long-query", "accs_rest query value of 30000 characters (with a real token)",
        "the gateway's HTTP 414 in one sentence",
        rest(access_token="{{ rel_real_token }}", query={"searchCriteria": {"filter": "q" * 30000}}),
        fails("HTTP 414", "GET /V1/store/websites"))
    return C


def _role_cases():
    C = []
    base = {"accs_base_url": "{{ emu_url }}/relbad", "accs_vault_path": "rel/bad/role"}

    def role(name, case_id, fault, variables, names):
        # the role's argument validation fails the host: a rescue shows what failed
        task = {"name": "role:" + case_id, "block": [
            {"ansible.builtin.include_role": {"name": "adobe_commerce.accs." + name}, "vars": variables}],
            "rescue": [{"name": "case:" + case_id, "ansible.builtin.debug": {"var": "ansible_failed_result"}}]}
        check = rejected(*names)

        def role_check(obs, check=check):
            if obs.result is None:
                return "the role did not fail", ["the role accepted the variables (no failure to rescue)"]
            failed = dict(obs.result.get("ansible_failed_result") or {})
            failed["_event"] = "failed" if failed.get("failed") else "ok"
            return check(type(obs)(obs.case, obs.run, failed, obs.context))

        C.append(Case(case_id, CAT, fault, "the role stops before any request, naming the variable",
                      task, role_check))

    role("access_check", "role-access-check-no-base-url", "role access_check without accs_base_url",
         {"accs_vault_path": "rel/bad/role"}, ["accs_base_url"])
    role("access_check", "role-access-check-no-vault-path", "role access_check without accs_vault_path",
         {"accs_base_url": "{{ emu_url }}/relbad"}, ["accs_vault_path"])
    role("access_check", "role-access-check-base-url-list", "role access_check with accs_base_url as a list",
         dict(base, accs_base_url=["https://a", "https://b"]), ["base_url"])
    role("store_config_audit", "role-audit-expected-not-dict", "role store_config_audit with "
         "accs_expected_store_configs: 'default' (a string)", dict(base, accs_expected_store_configs="default"),
         ["accs_expected_store_configs"])
    role("store_config_audit", "role-audit-rule-not-bool", "role store_config_audit with "
         "accs_audit_rules.secure_urls_https: 'maybe'", dict(base, accs_audit_rules={"secure_urls_https": "maybe"}),
         ["secure_urls_https"])
    role("store_config_audit", "role-audit-unknown-rule", "role store_config_audit with an unknown rule",
         dict(base, accs_audit_rules={"no_such_rule": True}), ["no_such_rule"])
    role("store_config_audit", "role-audit-fail-on-drift-string", "role store_config_audit with "
         "accs_audit_fail_on_drift: 'sometimes'", dict(base, accs_audit_fail_on_drift="sometimes"),
         ["accs_audit_fail_on_drift"])
    return C


CASES = _cases() + _role_cases()


@pytest.fixture(scope="module")
def bad_input_run(emulator_module, emulator_defaults, emulator_vars, rel_runner_factory, secret_registry,
                  tmp_path_factory):
    emulator = emulator_module
    emulator.set_tenant("relbad")
    emulator.add_client("rel-bad-input", client_secrets=[SECRET], grants=["client_credentials", "refresh_token"])
    for kind, value in (("test URL password", URL_PASSWORD), ("test dummy token", DUMMY_TOKEN)):
        secret_registry.add(kind, value)
    runner = rel_runner_factory("bad_input")
    cwd_reports = tmp_path_factory.mktemp("bad-input-reports")
    plays = play(CASES, name="Bad input", emulator_faults=False, module_defaults=emulator_defaults())
    plays[0]["vars"] = {"accs_ca_path": "{{ emu_ca }}", "accs_ims_url": "{{ emu_url }}",
                        "accs_access_check_report_dir": str(cwd_reports),
                        "accs_audit_report_dir": str(cwd_reports)}
    real = emulator.mint_access_token("rel-bad-input", SCOPES, expires_in=3600)
    extra = {**emulator_vars, "rel_secret": SECRET, "rel_dummy": DUMMY_TOKEN,
             "rel_real_token": real,
             "rel_url_with_password": "https://reluser:%s@127.0.0.1:9" % URL_PASSWORD, **fault_vars(CASES)}
    emulator.reset_counters()
    run = runner.run(plays, "bad input", extra_vars=extra)
    return run, {"counters": emulator.counters()}


@pytest.mark.parametrize("case", params(CASES))
def test_bad_input(case, bad_input_run, matrix, request):
    run, context = bad_input_run
    run_case(case, run, matrix, request, context)
