"""accs_system_config and accs_system_config_info against the emulator's /V1/system/config (issue 14).

Every reading of the undocumented GET semantics (inherited or stored-only values at website and store
scope, unknown paths left out or null, scope_code echoed or not) runs the same declaration: the module
must bring the effective values to the declared ones, write nothing on the second run and nothing in
check mode. What the emulator holds and its request log are the evidence.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from decimal import Decimal

import pytest

from tests.integration.helpers import (
    COLLECTION,
    assert_one_sentence,
    failed_msg,
    host_result,
    ims_token_requests,
    play,
    seed_credential,
)

SYSTEM_CONFIG = COLLECTION + ".accs_system_config"
SYSTEM_CONFIG_INFO = COLLECTION + ".accs_system_config_info"
# A credential value long enough for the session's secret scan (it skips values under 12 characters).
MERCHANT_KEY = "mk-live-7f3a9c2e51d84b06a1"

DECLARED = [
    {"path": "general/locale/code", "value": "en_GB"},                       # drifted (seeded en_US)
    {"path": "currency/options/allow", "value": ["EUR", "USD"]},             # a list, compared as a set
    {"path": "general/store_information/name", "value": "Luma Outlet"},      # unset
    {"path": "carriers/flatrate/active", "value": True, "scope": "website", "scope_code": "base"},
    {"path": "carriers/flatrate/price", "value": 5, "scope": "website", "scope_code": "base"},
    {"path": "general/locale/code", "value": "fr_FR", "scope": "store", "scope_code": "fr"},  # seeded as is
    {"path": "payment/checkmo/title", "value": "Cheque", "scope": "store", "scope_code": "fr"},
]
STORE_WEBSITE = {"default": "base", "fr": "base"}


def task(name, register=None, module=SYSTEM_CONFIG, cred=None, ignore_errors=False, check_mode=None, **options):
    body = {"base_url": cred.base_url, "vault_path": cred.vault_path}
    body.update(options)
    entry = {"name": name, module: body}
    if register:
        entry["register"] = register
    if ignore_errors:
        entry["ignore_errors"] = True
    if check_mode is not None:
        entry["check_mode"] = check_mode
    return entry


def config_requests(emulator, tenant):
    return [r for r in emulator.requests(tenant=tenant) if r.get("endpoint") == "systemConfig"]


def methods(records):
    return [r["method"] for r in records]


def effective(emulator, tenant, path, scope, code):
    """The value Commerce would use at (scope, code): stored there, else inherited, else the catalog default."""
    stored = {(i["path"], i["scope"], i.get("scope_code")): i["value"] for i in emulator.system_config(tenant)}
    chain = [(scope, code)]
    if scope == "store":
        chain.append(("website", STORE_WEBSITE[code]))
    if scope != "default":
        chain.append(("default", None))
    for link in chain:
        if (path, link[0], link[1]) in stored:
            return stored[(path, link[0], link[1])]
    catalog = {entry["path"]: entry["default"] for entry in emulator.system_config_catalog()}
    return catalog[path]


def as_stored(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


READINGS = list(itertools.product([False, True], ["omit", "null"], [True, False]))


@pytest.mark.parametrize("inherit, unknown_paths, echo_scope_code", READINGS,
                         ids=["inherit=%s-unknown=%s-echo=%s" % r for r in READINGS])
def test_converges_under_every_read_semantics(run_playbook, emulator, openbao, inherit, unknown_paths,
                                              echo_scope_code):
    cred = seed_credential(emulator, openbao, cache="valid", cache_expires_in=7200)
    emulator.set_system_config_mode(cred.tenant, inherit=inherit, unknown_paths=unknown_paths,
                                    echo_scope_code=echo_scope_code)
    tasks = [
        task("dry run", "dry", cred=cred, settings=DECLARED, check_mode=True),
        task("enforce", "first", cred=cred, settings=DECLARED),
        task("again", "second", cred=cred, settings=DECLARED),
    ]
    result = run_playbook(play(tasks, emulator), json=True, diff=True).assert_rc(0)
    dry, first, second = (host_result(result, n) for n in ("dry run", "enforce", "again"))
    log = config_requests(emulator, cred.tenant)
    # one GET per scope and code (default, website base, store fr) for each run, one PUT in all
    assert methods(log) == ["GET"] * 6 + ["PUT"] + ["GET"] * 3, methods(log)
    assert dry["changed"] is True and dry["requests"] == {"GET": 3}
    assert first["changed"] is True and first["requests"] == {"GET": 3, "PUT": 1}
    assert second["changed"] is False and second["changes"] == [] and second["requests"] == {"GET": 3}
    assert second["unchanged"] == len(DECLARED)
    assert [(c["path"], c["scope"], c["scope_code"]) for c in dry["changes"]] == \
        [(c["path"], c["scope"], c["scope_code"]) for c in first["changes"]]
    written = {(i["path"], i["scope"], i.get("scope_code")) for i in log[6]["config_items"]}
    assert written == {(c["path"], c["scope"], c["scope_code"]) for c in first["changes"]}
    for item in DECLARED:
        scope, code = item.get("scope", "default"), item.get("scope_code")
        held = effective(emulator, cred.tenant, item["path"], scope, code)
        if isinstance(item["value"], int) and not isinstance(item["value"], bool):
            assert Decimal(held) == item["value"], item  # 5 and a stored 5.00 are the same price
        else:
            assert held == as_stored(item["value"]), item
    # The seeded store value is never rewritten, and the drifted default always is.
    assert ("general/locale/code", "store", "fr") not in written
    locale = next(c for c in first["changes"] if c["path"] == "general/locale/code")
    assert (locale["scope"], locale["before"], locale["after"]) == ("default", "en_US", "en_GB")
    assert "general/locale/code at default scope" in result.stdout  # --diff header
    assert "-en_US" in result.stdout and "+en_GB" in result.stdout


def test_rejected_settings_fail_naming_each_and_keep_the_rest(run_playbook, emulator, openbao):
    cred = seed_credential(emulator, openbao, cache="valid", cache_expires_in=7200)
    emulator.restrict_system_config(cred.client_id, ["payment/checkmo/*"])
    settings = [{"path": "payment/checkmo/active", "value": False},
                {"path": "fictional/path/here", "value": "x"},
                {"path": "general/locale/code", "value": "de_DE"}]
    tasks = [task("apply", "applied", cred=cred, settings=settings, ignore_errors=True)]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    msg = failed_msg(result, "apply")
    assert_one_sentence(msg)
    assert msg == (
        'ACCS at %s rejected 2 settings (payment/checkmo/active at default scope: "Configuration path '
        "'payment/checkmo/active' was not found, is not visible for this scope, or is not allowed.\"; "
        'fictional/path/here at default scope: "Configuration path \'fictional/path/here\' was not found, is not '
        "visible for this scope, or is not allowed.\"); the other 1 was saved. Fix or remove the rejected settings "
        "and run again." % cred.base_url)
    applied = host_result(result, "apply")
    assert applied["error_kind"] == "rejected" and applied["changed"] is True
    assert [c["path"] for c in applied["changes"]] == ["general/locale/code"]
    assert sorted(r["path"] for r in applied["rejected"]) == ["fictional/path/here", "payment/checkmo/active"]
    assert effective(emulator, cred.tenant, "general/locale/code", "default", None) == "de_DE"
    assert methods(config_requests(emulator, cred.tenant)) == ["GET", "PUT"]  # a rejection is never re-sent


@pytest.mark.parametrize("settings, pattern", [
    ([{"path": "general/locale/code", "value": None}],
     r"Setting general/locale/code at default scope has value null, and the API cannot remove a value: .*"),
    ([{"path": "general/locale/code", "value": {"a": 1}}],
     r"Setting general/locale/code at default scope has a dictionary value: give a string, number, boolean or list\."),
    ([{"path": "general/locale/code", "value": "en_US"}, {"path": "general/locale/code", "value": "en_GB"}],
     r"Setting general/locale/code at default scope is declared twice with different values: keep one of them\."),
    ([{"path": "general/locale/code", "value": "en_US", "scope": "store"}],
     r"Setting general/locale/code at store scope needs scope_code: the store view code it applies to\."),
])
def test_bad_declarations_are_refused_before_any_request(run_playbook, emulator, openbao, settings, pattern):
    cred = seed_credential(emulator, openbao, cache="valid", cache_expires_in=7200)
    result = run_playbook(play([task("apply", cred=cred, settings=settings, ignore_errors=True)], emulator),
                          json=True).assert_rc(0)
    msg = failed_msg(result, "apply")
    assert_one_sentence(msg)
    assert re.fullmatch(pattern, msg), msg
    assert emulator.requests(tenant=cred.tenant) == []


@pytest.mark.parametrize("scope, code, noun", [("website", "nope", "website"), ("store", "zz", "store view")])
def test_unknown_scope_code_has_its_own_sentence(run_playbook, emulator, openbao, scope, code, noun):
    cred = seed_credential(emulator, openbao, cache="valid", cache_expires_in=7200)
    settings = [{"path": "general/locale/code", "value": "en_GB"},
                {"path": "general/locale/code", "value": "de_DE", "scope": scope, "scope_code": code}]
    result = run_playbook(play([task("apply", "applied", cred=cred, settings=settings, ignore_errors=True)],
                               emulator), json=True).assert_rc(0)
    msg = failed_msg(result, "apply")
    assert_one_sentence(msg)
    assert msg.startswith("ACCS at %s does not know the %s code '%s' (it answered \"The " % (cred.base_url, noun, code))
    assert msg.endswith("fix scope_code, or create that %s first; nothing was written." % noun)
    assert host_result(result, "apply")["error_kind"] == "unknown_scope"
    assert "PUT" not in methods(config_requests(emulator, cred.tenant))


def test_ambiguous_put_failures_are_read_back_not_resent(run_playbook, emulator, openbao):
    applied = seed_credential(emulator, openbao, cache="valid", cache_expires_in=7200)
    lost = seed_credential(emulator, openbao, cache="valid", cache_expires_in=7200)
    throttled = seed_credential(emulator, openbao, cache="valid", cache_expires_in=7200)
    settings = [{"path": "general/locale/code", "value": "en_GB"}]
    # saved, then the connection dropped: the read-back finds it saved and nothing is sent again
    emulator.add_fault("accs.%s.systemConfig" % applied.tenant, times=1, delay=0)  # lets the GET through
    emulator.add_fault("accs.%s.systemConfig" % applied.tenant, times=1, drop=True, process=True)
    # the PUT (the second call) fails with 502 before saving: read back, then written once more
    emulator.add_fault("accs.%s.systemConfig" % lost.tenant, times=1, delay=0)  # lets the GET through
    emulator.add_fault("accs.%s.systemConfig" % lost.tenant, times=1, status=502)
    # 429 on the PUT was not processed: the transport sends it again
    emulator.add_fault("accs.%s.systemConfig" % throttled.tenant, times=1, delay=0)
    emulator.add_fault("accs.%s.systemConfig" % throttled.tenant, times=1, status=429, retry_after=0)
    tasks = [task(name, name, cred=cred, settings=settings)
             for name, cred in (("applied", applied), ("lost", lost), ("throttled", throttled))]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    assert methods(config_requests(emulator, applied.tenant)) == ["GET", "PUT", "GET"]
    assert methods(config_requests(emulator, lost.tenant)) == ["GET", "PUT", "GET", "PUT"]
    assert methods(config_requests(emulator, throttled.tenant)) == ["GET", "PUT", "PUT"]
    for name, cred in (("applied", applied), ("lost", lost), ("throttled", throttled)):
        assert host_result(result, name)["changed"] is True, name
        assert effective(emulator, cred.tenant, "general/locale/code", "default", None) == "en_GB", name


def test_sensitive_values_are_compared_never_shown(run_playbook, emulator, openbao):
    cred = seed_credential(emulator, openbao, cache="valid", cache_expires_in=7200)
    emulator.set_system_config_mode(cred.tenant, obscured="plain")
    settings = [{"path": "payment/adyen_cc/merchant_key", "value": MERCHANT_KEY},
                {"path": "general/locale/code", "value": "en_GB"}]
    tasks = [task("apply", "applied", cred=cred, settings=settings),
             task("again", "again", cred=cred, settings=settings),
             task("export", "exported", module=SYSTEM_CONFIG_INFO, cred=cred,
                  paths=["payment/adyen_cc/merchant_key", "general/locale/code"]),
             task("reveal", "revealed", module=SYSTEM_CONFIG_INFO, cred=cred, reveal_sensitive=True,
                  paths=["payment/adyen_cc/merchant_key"]),
             {"name": "revealed value digest", "ansible.builtin.debug": {
                 "msg": "{{ revealed.settings[0].value | hash('sha256') }}"}}]
    result = run_playbook(play(tasks, emulator), json=True, diff=True, verbosity=4).assert_rc(0)
    assert MERCHANT_KEY not in result.stdout and MERCHANT_KEY not in result.stderr
    applied = host_result(result, "apply")
    key_change = next(c for c in applied["changes"] if c["path"] == "payment/adyen_cc/merchant_key")
    assert key_change["before"] is None and key_change["after"] == "(sensitive)"
    assert host_result(result, "again")["changed"] is False
    exported = host_result(result, "export")
    assert exported["settings"] == [{"path": "general/locale/code", "value": "en_GB", "scope": "default"}]
    assert exported["sensitive_left_out"] == [
        {"path": "payment/adyen_cc/merchant_key", "scope": "default", "scope_code": None}]
    assert host_result(result, "revealed value digest")["msg"] == hashlib.sha256(MERCHANT_KEY.encode()).hexdigest()
    stored = {i["path"]: i["value"] for i in emulator.system_config(cred.tenant)}
    assert stored["payment/adyen_cc/merchant_key"] == MERCHANT_KEY


def test_obscured_reads_are_not_rewritten_and_warn(run_playbook, emulator, openbao):
    cred = seed_credential(emulator, openbao, cache="valid", cache_expires_in=7200)
    emulator.set_system_config(cred.tenant, [{"path": "payment/adyen_cc/merchant_key", "value": MERCHANT_KEY}],
                               replace=False)
    settings = [{"path": "payment/adyen_cc/merchant_key", "value": "mk-other-value-0000000"}]
    tasks = [task("skip", "skipped", cred=cred, settings=settings),
             task("write", "written", cred=cred, settings=settings, obscured_values="write")]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    skipped = host_result(result, "skip")
    assert skipped["changed"] is False and skipped["unverifiable"] == [
        {"path": "payment/adyen_cc/merchant_key", "scope": "default", "scope_code": None}]
    assert "ACCS shows 1 sensitive setting only as asterisks, so it was not compared or written: " \
        "payment/adyen_cc/merchant_key at default scope; set obscured_values: write to send them on every run." \
        in " ".join(result.stderr.split())
    assert host_result(result, "write")["changed"] is True
    assert methods(config_requests(emulator, cred.tenant)) == ["GET", "GET", "PUT"]


def test_export_applies_elsewhere_unchanged_and_many_settings_stay_within_url_limits(
        run_playbook, emulator, openbao):
    source = seed_credential(emulator, openbao, cache="valid", cache_expires_in=7200)
    target = seed_credential(emulator, openbao, cache="valid", cache_expires_in=7200)
    # none a credential, by the emulator's catalog or by the module's default sensitive_paths
    words = ("password", "passwd", "secret", "token", "key", "signature", "credentials")
    catalog = [e for e in emulator.system_config_catalog() if "default" in e["scopes"] and not e["sensitive"]
               and not any(w in e["path"] for w in words)]
    many = [{"path": e["path"], "value": "v%d" % i} for i, e in enumerate(catalog)]
    tasks = [task("seed source", cred=source, settings=many),
             task("export", "exported", module=SYSTEM_CONFIG_INFO, cred=source),
             task("apply to target", "applied", cred=target, settings="{{ exported.settings }}"),
             task("again", "again", cred=target, settings="{{ exported.settings }}")]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    source_log = config_requests(emulator, source.tenant)
    gets = [r for r in source_log if r["method"] == "GET"]
    assert len(gets) > 2  # the declaration's reads were split to keep each URL short
    assert all(r["status"] == 200 for r in source_log)
    exported = host_result(result, "export")["settings"]
    assert {s["path"]: s["value"] for s in exported if s["path"] in {m["path"] for m in many}} == \
        {m["path"]: m["value"] for m in many}
    assert host_result(result, "apply to target")["changed"] is True
    assert host_result(result, "again")["changed"] is False
    puts = [r for r in config_requests(emulator, target.tenant) if r["method"] == "PUT"]
    assert len(puts) == -(-len(host_result(result, "apply to target")["changes"]) // 500)


def test_a_token_that_expires_between_the_read_and_the_write_is_renewed_once(run_playbook, emulator, openbao):
    cred = seed_credential(emulator, openbao, cache="valid", cache_expires_in=7200)
    # ACCS refuses the PUT's token (it expired after the GET): one refresh, the PUT once more.
    emulator.add_fault("accs.%s.systemConfig" % cred.tenant, times=1, delay=0)
    emulator.add_fault("accs.%s.systemConfig" % cred.tenant, times=1, status=401)
    tasks = [task("apply", "applied", cred=cred, settings=[{"path": "general/locale/code", "value": "en_GB"}])]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    applied = host_result(result, "apply")
    assert applied["changed"] is True and applied["token_refreshed"] is True
    assert [(r["method"], r["status"]) for r in config_requests(emulator, cred.tenant)] == [
        ("GET", 200), ("PUT", 401), ("PUT", 200)]
    assert [r["grant_type"] for r in ims_token_requests(emulator, cred.client_id)] == ["refresh_token"]
    assert effective(emulator, cred.tenant, "general/locale/code", "default", None) == "en_GB"


def test_429_on_the_read_is_retried_after_retry_after(run_playbook, emulator, openbao):
    cred = seed_credential(emulator, openbao, cache="valid", cache_expires_in=7200)
    emulator.add_fault("accs.%s.systemConfig" % cred.tenant, times=1, status=429, retry_after=1)
    tasks = [task("apply", "applied", cred=cred, settings=[{"path": "general/locale/code", "value": "en_US"}])]
    result = run_playbook(play(tasks, emulator), json=True).assert_rc(0)
    assert host_result(result, "apply")["changed"] is False
    log = config_requests(emulator, cred.tenant)
    assert [(r["method"], r["status"]) for r in log] == [("GET", 429), ("GET", 200)]
    assert log[1]["time"] - log[0]["time"] >= 0.9
