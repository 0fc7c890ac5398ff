"""What the collection relies on in ansible-core, pinned on every supported release (issue 17).

The collection supports ansible-core 2.19, 2.20 and 2.21.  These tests run the collection's
plugins through ``ansible-playbook`` and pin, release by release, the four places where
ansible-core's behaviour shapes what users see:

* the lookup's error wrapping: Ansible puts its own words around the lookup's one sentence;
* ``no_log`` propagation: a result holding a token carries ``_ansible_no_log`` (set by the action
  plugins), which every callback honours while ``register`` still gets the whole result;
* argument spec validation: ``validate_argument_spec`` in the action plugins and the roles'
  ``meta/argument_specs.yml``, with ansible-core's messages;
* templating: values from Vault and from ACCS are data, never templates, and conditionals must be
  booleans.

Where a release differs, the expectation is a table by release (``by_release``); a release that is
not in a table fails with a message saying to record its behaviour.  ``make test`` runs this file
on the main virtualenv (2.21) and, through ``make compat``, on 2.19 and 2.20.

Secrets the tasks need come from Vault through the collection, never from the playbook text; no
task prints a token (the scan of build/test-output checks it).
"""

from __future__ import annotations

import re

import ansible
import pytest

from tests.integration.helpers import (
    ACCS_REST,
    IMS_TOKEN,
    LOOKUP,
    assert_no_secrets,
    failed_msg,
    full_match,
    host_result,
    play,
    seed_credential,
    sha256,
    unique,
    vault_secrets,
)
from tests.support.openbao import free_port

CORE = ".".join(ansible.__version__.split(".")[:2])
SUPPORTED = ("2.19", "2.20", "2.21")
CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"
ROLE = "adobe_commerce.accs.access_check"

pytestmark = pytest.mark.core_differences


def by_release(table: dict):
    """The expectation of the running ansible-core release in ``table`` ({"2.19": ..., ...})."""
    if CORE not in table:
        pytest.fail("ansible-core %s is not pinned here (known: %s): run this file on it and record what it "
                    "does in the table" % (CORE, ", ".join(sorted(table))))
    return table[CORE]


def same_on_all(value):
    """One expectation for every supported release (kept as a table, so a new release is a decision)."""
    return {release: value for release in SUPPORTED}


def test_running_release_is_supported():
    """The virtualenv runs one of the releases meta/runtime.yml names (.venv: 2.21; compat: 2.19, 2.20)."""
    assert CORE in SUPPORTED, "ansible-core %s is outside the supported 2.19 to 2.21" % CORE


# --------------------------------------------------------------------------- the lookup's error wrapping
LOOKUP_WRAPPING = same_on_all(
    # 2.19 introduced this wrapping (2.17 and 2.18 showed the lookup's sentence alone); 2.20 and
    # 2.21 keep it word for word
    r"Task failed: Finalization of task args for '%(action)s' failed: Error while resolving value for "
    r"'%(option)s': The lookup plugin 'adobe_commerce\.accs\.vault_ims_credential' failed: %(sentence)s"
)


def test_lookup_failure_is_our_sentence_inside_ansibles_wrapping(run_playbook, emulator, openbao):
    closed = free_port()
    missing = "accs/" + unique("none")
    tasks = [
        {"name": "unreachable", "ignore_errors": True, "ansible.builtin.debug": {
            "msg": "{{ lookup('%s', 'accs/x', vault_url='http://127.0.0.1:%d') }}" % (LOOKUP, closed)}},
        {"name": "missing", "ignore_errors": True, "ansible.builtin.debug": {
            "msg": "{{ lookup('%s', '%s') }}" % (LOOKUP, missing)}},
        # through a task var, as the guide shows, and in a module option of the collection
        {"name": "missing through a var", "ignore_errors": True, "vars": {
            "doc": "{{ lookup('%s', '%s') }}" % (LOOKUP, missing)}, "ansible.builtin.debug": {"msg": "{{ doc.org_id }}"}},
        {"name": "missing in a module option", "ignore_errors": True, IMS_TOKEN: {
            "client_id": "{{ lookup('%s', '%s').client_id }}" % (LOOKUP, missing)}},
    ]
    result = run_playbook(play(tasks, emulator), verbosity=1, json=True).assert_rc(0)
    url = re.escape(openbao.url)
    unreachable = (r"Cannot reach Vault at http://127\.0\.0\.1:%d to read 'secret/accs/x': check vault_url "
                   r"\(VAULT_ADDR\) and that Vault is running\." % closed)
    no_document = (r"No credential at 'secret/%s' in Vault at %s: store the document there \(see the collection "
                   r"guide\), or fix vault_path and vault_mount\." % (re.escape(missing), url))
    wrapping = by_release(LOOKUP_WRAPPING)
    for name, action, option, sentence in (
        ("unreachable", "ansible.builtin.debug", "msg", unreachable),
        ("missing", "ansible.builtin.debug", "msg", no_document),
        ("missing through a var", "ansible.builtin.debug", "msg", no_document),
        ("missing in a module option", IMS_TOKEN, "client_id", no_document),
    ):
        full_match(wrapping % {"action": re.escape(action), "option": option, "sentence": sentence},
                   failed_msg(result, name))


# --------------------------------------------------------------------------- no_log propagation
TOKEN_RESULT_KEYS = same_on_all(
    ["access_token", "changed", "expires_at", "expires_in", "failed", "refreshed", "token_type", "vault_path"])
# what a loop task registers around its items: 2.21 adds failed and drops skipped when it is false
LOOP_RESULT_KEYS = {
    "2.19": ["changed", "msg", "results", "skipped"],
    "2.20": ["changed", "msg", "results", "skipped"],
    "2.21": ["changed", "failed", "msg", "results"],
}


def test_token_result_is_hidden_from_output_and_registered_whole(run_playbook, emulator, openbao):
    """ims_token sets ``_ansible_no_log`` on a result holding a token (no ``no_log`` on the task):
    every callback shows the censored line, alone or in a loop, and ``register`` gets the whole
    result, without the ``_ansible_no_log`` key."""
    cred = seed_credential(emulator, openbao, cache="valid", tenant=False)
    tasks = [
        {"name": "token", IMS_TOKEN: {"vault_path": cred.vault_path}, "register": "tok"},
        {"name": "token keys", "ansible.builtin.debug": {"msg": "{{ tok.keys() | sort }}"}},
        {"name": "token sha256", "ansible.builtin.debug": {"msg": "{{ tok.access_token | hash('sha256') }}"}},
        {"name": "tokens", IMS_TOKEN: {"vault_path": cred.vault_path}, "register": "toks", "loop": [1, 2]},
        {"name": "tokens keys", "ansible.builtin.debug": {"msg": {
            "loop": "{{ toks.keys() | sort }}",
            "items": "{{ toks.results | map('dict2items') | map('map', attribute='key') | map('sort') | list }}"}}},
        # a failure holds no token: it stays readable
        {"name": "failure", "ignore_errors": True, IMS_TOKEN: {"vault_path": "accs/" + unique("none")}},
    ]
    result = run_playbook(play(tasks, emulator), verbosity=1, json=True).assert_rc(0)
    assert host_result(result, "token")["censored"] == CENSORED
    assert [item.get("censored") for item in host_result(result, "tokens")["results"]] == [CENSORED, CENSORED]
    keys = by_release(TOKEN_RESULT_KEYS)
    assert host_result(result, "token keys")["msg"] == keys
    assert host_result(result, "token sha256")["msg"] == sha256(cred.document["access_token"])
    shown = host_result(result, "tokens keys")["msg"]
    assert shown["items"] == [sorted(keys + ["ansible_loop_var", "item"])] * 2
    assert shown["loop"] == by_release(LOOP_RESULT_KEYS)
    assert "No credential at" in failed_msg(result, "failure")
    assert "censored" not in host_result(result, "failure")
    secrets = emulator.secrets() + vault_secrets(openbao)
    assert_no_secrets(result.stdout + result.stderr + result.log, secrets, "the run's output")


# --------------------------------------------------------------------------- argument spec validation
ARGUMENT_ERRORS = same_on_all({
    "unknown option": r"Unsupported parameters for \(ansible_collections\.adobe_commerce\.accs\.plugins\.action"
                      r"\.ims_token\) module: bogus\. Supported parameters include: ca_path, client_id, .*, "
                      r"vault_validate_certs\.",
    "not an int": "argument 'min_ttl' is of type str and we were unable to convert to int: \"'soon'\" cannot be "
                  "converted to an int",
    "not a choice": "value of grant_type must be one of: authorization_code, refresh_token, client_credentials, "
                    "got: password",
    "required": "missing required arguments: base_url",
    "mutually exclusive": r"parameters are mutually exclusive: access_token\|vault_path",
    "required if": "grant_type is authorization_code but all of the following are missing: code",
})
ROLE_ARGUMENT_FAILURE = same_on_all({
    "msg": "Validation of arguments failed:\nmissing required arguments: accs_base_url",
    "argument_errors": ["missing required arguments: accs_base_url"],
})


def test_argument_spec_validation_messages(run_playbook, emulator, openbao):
    cred = seed_credential(emulator, openbao, cache="valid")
    tasks = [
        {"name": "unknown option", IMS_TOKEN: {"vault_path": cred.vault_path, "bogus": 1}},
        {"name": "not an int", IMS_TOKEN: {"vault_path": cred.vault_path, "min_ttl": "soon"}},
        {"name": "not a choice", IMS_TOKEN: {"vault_path": cred.vault_path, "grant_type": "password"}},
        {"name": "required", ACCS_REST: {"path": "/V1/store/storeConfigs", "vault_path": cred.vault_path}},
        {"name": "mutually exclusive", ACCS_REST: {"base_url": cred.base_url, "path": "/V1/store/storeConfigs",
                                                   "vault_path": cred.vault_path, "access_token": "x" * 40}},
        {"name": "required if", IMS_TOKEN: {"grant_type": "authorization_code", "client_id": cred.client_id}},
    ]
    for task in tasks:
        task["ignore_errors"] = True
    # the role's meta/argument_specs.yml: a failed validation is not ignorable, so it is rescued
    tasks.append({"name": "role", "block": [
        {"name": "include", "ansible.builtin.include_role": {"name": ROLE}, "vars": {"accs_vault_path": "x"}}],
        "rescue": [{"name": "role failure", "ansible.builtin.debug": {"msg": {
            "msg": "{{ ansible_failed_result.msg }}",
            "argument_errors": "{{ ansible_failed_result.argument_errors }}"}}}]})
    result = run_playbook(play(tasks, emulator), verbosity=1, json=True).assert_rc(0)
    for name, pattern in by_release(ARGUMENT_ERRORS).items():
        full_match(pattern, failed_msg(result, name))
    assert host_result(result, "role failure")["msg"] == by_release(ROLE_ARGUMENT_FAILURE)
    assert_no_secrets(result.stdout + result.stderr + result.log, emulator.secrets() + vault_secrets(openbao),
                      "the run's output")


# --------------------------------------------------------------------------- templating
CONDITIONAL_ERROR = {
    "2.19": "Task failed: Conditional result (True) was derived from value of type 'int' at '%s:%s'. "
            "Conditionals must have a boolean result.",
    "2.20": "Task failed: Conditional result (True) was derived from value of type 'int' at '%s:%s'. "
            "Conditionals must have a boolean result.",
    # 2.21 names the keyword whose expression failed
    "2.21": "Task failed: A 'when' expression failed: Conditional result (True) was derived from value of type "
            "'int' at '%s:%s'. Conditionals must have a boolean result.",
}


def test_vault_and_accs_values_are_data_not_templates(run_playbook, emulator, openbao):
    """A Jinja expression stored in the Vault document or answered by ACCS reaches the play as text:
    the lookup's and the modules' results are never templated again (2.19's trust model)."""
    expression = "{{ 6 * 7 }}"
    cred = seed_credential(emulator, openbao, cache="valid", extra={"note": expression},
                           tenant_data={"storeConfigs": [{"id": 1, "code": expression, "website_id": 1}]})
    doc = "lookup('%s', '%s')" % (LOOKUP, cred.vault_path)
    tasks = [
        {"name": "from the lookup", "ansible.builtin.debug": {"msg": "{{ %s.note }}" % doc}},
        {"name": "keep the document", "no_log": True, "ansible.builtin.set_fact": {"kept": "{{ %s }}" % doc}},
        {"name": "from a fact", "ansible.builtin.debug": {"msg": "{{ kept.note }}"}},
        {"name": "read ACCS", ACCS_REST: {"base_url": cred.base_url, "path": "/V1/store/storeConfigs",
                                          "vault_path": cred.vault_path}, "register": "answer"},
        {"name": "from ACCS", "ansible.builtin.debug": {"msg": "{{ answer.json[0].code }}"}},
        {"name": "from ACCS through a var", "vars": {"code": "{{ answer.json[0].code }}"},
         "ansible.builtin.debug": {"msg": "{{ code }}"}},
    ]
    result = run_playbook(play(tasks, emulator), verbosity=1, json=True).assert_rc(0)
    for name in ("from the lookup", "from a fact", "from ACCS", "from ACCS through a var"):
        assert host_result(result, name)["msg"] == expression, name


def test_conditional_on_a_non_boolean_fails_the_task(run_playbook, emulator, openbao):
    """The roles' ``when:`` expressions are booleans because no release accepts anything else: an int
    (here ``expires_in`` of an ims_token result) fails the task, in each release's words."""
    cred = seed_credential(emulator, openbao, cache="valid", tenant=False)
    tasks = [
        {"name": "token", IMS_TOKEN: {"vault_path": cred.vault_path}, "register": "tok"},
        {"name": "int conditional", "ignore_errors": True, "ansible.builtin.debug": {"msg": "never shown"},
         "when": "tok.expires_in"},
        {"name": "bool conditional", "ansible.builtin.debug": {"msg": "shown"}, "when": "tok.expires_in > 0"},
    ]
    result = run_playbook(play(tasks, emulator), verbosity=1, json=True).assert_rc(0)
    msg = failed_msg(result, "int conditional")
    location = re.search(r" at '([^']+):(\d+:\d+)'\.", msg)
    assert location, msg
    assert msg == by_release(CONDITIONAL_ERROR) % location.groups()
    assert host_result(result, "bool conditional")["msg"] == "shown"
