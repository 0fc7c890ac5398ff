"""ims_token and accs_rest as modules on a target, through AnsiballZ (issue 13, defect 9).

With a ``local`` connection the action plugins run the engine in the controller's worker, so
every other test leaves the action plugins' ``_execute_module`` branch and the modules' own
``main()`` unrun.  Here the play uses the test connection ``accs_test_remote``
(``tests/support/connection_plugins``): it executes on this machine like ``local`` but under
another transport name, so the action plugin ships the module with AnsiballZ as it would to a
remote host.  ``-vvv`` prints the AnsiballZ transfer, which proves the module path was taken.
"""

from __future__ import annotations

import uuid

import pytest

from tests.integration.helpers import (
    ACCS_REST,
    IMS_TOKEN,
    accs_requests,
    assert_no_secrets,
    assert_one_sentence,
    failed_msg,
    host_result,
    ims_token_requests,
    play,
    seed_credential,
    sha256,
    summary,
    token_summary_task,
    unique,
    vault_secrets,
)
from tests.support.ansible_runner import REPO_ROOT

CONNECTION_PLUGINS = REPO_ROOT / "tests" / "support" / "connection_plugins"
CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"


@pytest.fixture
def remote(tmp_path):
    """Inventory of one host reached through ``accs_test_remote``, and the environment that finds it."""
    remote_tmp = tmp_path / "remote-tmp"
    inventory = {"all": {"hosts": {"target": {
        "ansible_connection": "accs_test_remote",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "ansible_remote_tmp": str(remote_tmp),
    }}}}
    env = {"ANSIBLE_CONNECTION_PLUGINS": str(CONNECTION_PLUGINS), "ANSIBLE_KEEP_REMOTE_FILES": "0"}
    return inventory, env


def _shipped(result, module: str) -> bool:
    """Whether the run sent ``module`` to the target as an AnsiballZ payload (shown at -vvv)."""
    return ("AnsiballZ_%s.py" % module) in result.stdout


def _all_secrets(emulator, openbao, *extra):
    return emulator.secrets() + vault_secrets(openbao, *extra)


def test_ims_token_module_refreshes_and_hides_the_token(run_playbook, emulator, openbao, remote):
    inventory, env = remote
    cred = seed_credential(emulator, openbao, cache="expired", tenant=False)
    tasks = [
        # no no_log on the task: the module's result holds the token and must hide itself
        {"name": "token", IMS_TOKEN: {"vault_path": cred.vault_path}, "register": "tok"},
        token_summary_task("token summary", "tok"),
        {"name": "cached", IMS_TOKEN: {"vault_path": cred.vault_path}, "register": "again"},
        token_summary_task("cached summary", "again"),
    ]
    result = run_playbook(play(tasks, emulator), inventory=inventory, env=env, verbosity=3, json=True).assert_rc(0)

    assert _shipped(result, "ims_token"), "the module did not run through AnsiballZ"
    first = summary(result, "token summary", "target")
    again = summary(result, "cached summary", "target")
    document, version = cred.read(openbao)
    assert first["changed"] is True and first["refreshed"] is True, first
    assert first["token_sha256"] == sha256(document["access_token"]) != sha256(cred.access_token)
    assert 86000 < first["expires_in"] <= 86399 and first["expires_at"] == document["access_token_expires_at"]
    assert first["has_refresh_token"] is False and first["vault_path"] == cred.vault_path
    assert again["changed"] is False and again["refreshed"] is False
    assert again["token_sha256"] == first["token_sha256"]
    assert version == cred.version + 1
    assert emulator.check_refresh_token(document["refresh_token"]) is True
    assert [c["status"] for c in ims_token_requests(emulator, cred.client_id)] == [200]
    # the result holding the token was censored by the module path itself
    for name in ("token", "cached"):
        shown = host_result(result, name, "target")
        assert shown.get("censored") == CENSORED, shown
    secrets = _all_secrets(emulator, openbao, document["access_token"], document["refresh_token"])
    assert_no_secrets(result.stdout, secrets, "stdout at -vvv")
    assert_no_secrets(result.stderr, secrets, "stderr")
    assert_no_secrets(result.log, secrets, "the Ansible log")


def test_ims_token_module_without_vault_returns_the_rotated_refresh_token_hidden(run_playbook, emulator, openbao,
                                                                                 remote):
    inventory, env = remote
    cred = seed_credential(emulator, openbao, write=False, tenant=False)
    tasks = [
        {"name": "options", IMS_TOKEN: {"client_id": cred.client_id, "client_secret": "{{ secret }}",
                                        "refresh_token": "{{ rt }}", "ims_client_auth": "post"},
         "register": "opts"},
        token_summary_task("options summary", "opts"),
    ]
    result = run_playbook(play(tasks, emulator), inventory=inventory, env=env, verbosity=3, json=True,
                          extra_vars={"secret": cred.client_secret, "rt": cred.refresh_token}).assert_rc(0)
    assert _shipped(result, "ims_token")
    got = summary(result, "options summary", "target")
    assert got["refreshed"] is True and got["has_token"] is True and got["has_refresh_token"] is True, got
    valid = emulator.refresh_tokens(cred.client_id)["valid"]
    assert [sha256(token) for token in valid] == [got["refresh_token_sha256"]]
    assert [(c["grant_type"], c["client_auth"]) for c in ims_token_requests(emulator, cred.client_id)] \
        == [("refresh_token", "post")]
    assert host_result(result, "options", "target").get("censored") == CENSORED
    assert_no_secrets(result.stdout, _all_secrets(emulator, openbao), "stdout at -vvv")
    assert_no_secrets(result.log, _all_secrets(emulator, openbao), "the Ansible log")


def test_ims_token_module_failures_are_one_readable_sentence(run_playbook, emulator, openbao, secret_registry,
                                                             remote):
    inventory, env = remote
    revoked = seed_credential(emulator, openbao, cache="expired", tenant=False)
    emulator.revoke(token=revoked.refresh_token)
    wrong = seed_credential(emulator, openbao, cache="expired", tenant=False)
    bad_secret = "cs-wrong-" + uuid.uuid4().hex
    secret_registry.add("made-up client secret", bad_secret)
    openbao.client().secrets.kv.v2.create_or_update_secret(
        path=wrong.vault_path, secret=dict(wrong.document, client_secret=bad_secret))
    tasks = [
        {"name": "revoked", IMS_TOKEN: {"vault_path": revoked.vault_path}, "register": "a", "ignore_errors": True},
        {"name": "wrong secret", IMS_TOKEN: {"vault_path": wrong.vault_path}, "register": "b",
         "ignore_errors": True},
        {"name": "missing document", IMS_TOKEN: {"vault_path": "accs/" + unique("absent")}, "register": "c",
         "ignore_errors": True},
        {"name": "bad option", IMS_TOKEN: {"vault_path": revoked.vault_path, "timeout": 0}, "register": "d",
         "ignore_errors": True},
    ]
    result = run_playbook(play(tasks, emulator), inventory=inventory, env=env, verbosity=3, json=True).assert_rc(0)
    assert _shipped(result, "ims_token")
    messages = {name: failed_msg(result, name, "target") for name in
                ("revoked", "wrong secret", "missing document", "bad option")}
    for name, msg in messages.items():
        assert_one_sentence(msg)
        # a failure holds no secret: it stays readable, not censored
        assert "censored" not in host_result(result, name, "target"), name
    assert "IMS refused the refresh token stored at" in messages["revoked"] and "invalid_grant" in messages["revoked"]
    assert "IMS refused the client id or secret" in messages["wrong secret"]
    assert "invalid_client" in messages["wrong secret"]
    assert "accs/absent-" in messages["missing document"] or "absent-" in messages["missing document"]
    assert messages["bad option"] == "Option timeout must be at least 1 second."
    assert_no_secrets(result.stdout, _all_secrets(emulator, openbao, bad_secret), "stdout at -vvv")


def test_ims_token_module_check_mode(run_playbook, emulator, openbao, remote):
    inventory, env = remote
    expired = seed_credential(emulator, openbao, cache="expired", tenant=False)
    valid = seed_credential(emulator, openbao, cache="valid", tenant=False)
    tasks = [
        {"name": "expired", IMS_TOKEN: {"vault_path": expired.vault_path}, "register": "e"},
        token_summary_task("expired summary", "e"),
        {"name": "valid", IMS_TOKEN: {"vault_path": valid.vault_path}, "register": "v"},
        token_summary_task("valid summary", "v"),
    ]
    result = run_playbook(play(tasks, emulator), inventory=inventory, env=env, check=True, verbosity=3,
                          json=True).assert_rc(0)
    assert _shipped(result, "ims_token")
    got = summary(result, "expired summary", "target")
    assert got["changed"] is True and got["refreshed"] is False and got["has_token"] is False, got
    cached = summary(result, "valid summary", "target")
    assert cached["changed"] is False and cached["token_sha256"] == sha256(valid.access_token), cached
    # check mode: no IMS call, no Vault write
    assert ims_token_requests(emulator, expired.client_id) == []
    assert expired.read(openbao) == (expired.document, expired.version)
    assert emulator.check_refresh_token(expired.refresh_token) is True


def test_accs_rest_module_success_failure_and_check_mode(run_playbook, emulator, openbao, remote):
    inventory, env = remote
    cred = seed_credential(emulator, openbao, cache="expired")
    s2s = seed_credential(emulator, openbao, grant="client_credentials", tenant=False)
    tasks = [
        {"name": "read", ACCS_REST: {"base_url": cred.base_url, "path": "/V1/store/storeConfigs",
                                     "vault_path": cred.vault_path, "store_code": "default"}, "register": "r"},
        {"name": "read s2s", ACCS_REST: {"base_url": cred.base_url, "path": "/V1/store/websites",
                                         "vault_path": s2s.vault_path}, "register": "w"},
        {"name": "unknown tenant", ACCS_REST: {"base_url": emulator.accs_url("no-such-tenant"),
                                               "path": "/V1/store/websites", "vault_path": cred.vault_path},
         "ignore_errors": True},
        {"name": "authorization header", ACCS_REST: {"base_url": cred.base_url, "path": "/V1/store/websites",
                                                     "vault_path": cred.vault_path,
                                                     "headers": {"Authorization": "Bearer x"}},
         "ignore_errors": True},
    ]
    result = run_playbook(play(tasks, emulator), inventory=inventory, env=env, verbosity=3, json=True).assert_rc(0)
    assert _shipped(result, "accs_rest")
    read = host_result(result, "read", "target")
    assert read["status"] == 200 and read["changed"] is False and read["token_refreshed"] is True, read
    assert read["json"] == emulator.get_tenant(cred.tenant)["storeConfigs"]
    assert host_result(result, "read s2s", "target")["json"] == emulator.get_tenant(cred.tenant)["websites"]
    unknown = failed_msg(result, "unknown tenant", "target")
    assert_one_sentence(unknown)
    assert unknown.startswith("ACCS answered HTTP 404 for GET /V1/store/websites"), unknown
    header = failed_msg(result, "authorization header", "target")
    assert header == ("Do not pass an Authorization header: give access_token or vault_path and the module sets it.")
    calls = accs_requests(emulator, cred.tenant)
    assert [(c["method"], c["endpoint"], c["headers"]["Store"]) for c in calls] \
        == [("GET", "storeConfigs", "default"), ("GET", "websites", None)]
    document, _version = cred.read(openbao)
    secrets = _all_secrets(emulator, openbao, document["access_token"], document["refresh_token"])
    assert_no_secrets(result.stdout, secrets, "stdout at -vvv")
    assert "Bearer" not in result.stdout.replace("Bearer x", "")

    # check mode: GET runs, POST is not sent
    sku = unique("CHECK")
    check_tasks = [
        {"name": "read", ACCS_REST: {"base_url": cred.base_url, "path": "/V1/store/storeViews",
                                     "vault_path": cred.vault_path}, "register": "r"},
        {"name": "write", ACCS_REST: {"base_url": cred.base_url, "path": "/V1/products", "method": "POST",
                                      "vault_path": cred.vault_path, "body": {"product": {"sku": sku}}}},
    ]
    checked = run_playbook(play(check_tasks, emulator), inventory=inventory, env=env, check=True, verbosity=3,
                           json=True).assert_rc(0)
    assert _shipped(checked, "accs_rest")
    assert host_result(checked, "read", "target")["json"] == emulator.get_tenant(cred.tenant)["storeViews"]
    write = host_result(checked, "write", "target")
    assert write["changed"] is True and write["msg"] == "Check mode: POST /V1/products was not sent."
    assert "status" not in write
    assert [c["endpoint"] for c in accs_requests(emulator, cred.tenant)][2:] == ["storeViews"]
    assert emulator.get_tenant(cred.tenant)["created_products"] == []
