"""The test harness itself: emulator fixtures, run_playbook and its parsed output, the secret scan."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.ansible_runner import parse_default_output
from tests.support.secretscan import SecretRegistry, scan_tree

SCOPES = ["AdobeID", "openid", "offline_access", "commerce.accs"]


def test_emulator_clean_is_reset_and_secrets_are_kept(emulator_clean, secret_registry):
    emulator = emulator_clean
    assert emulator.url.startswith("https://127.0.0.1:")
    assert Path(emulator.ca_path).is_file()
    emulator.add_client("harness-client", client_secrets=["harness-secret-value-1"], scopes=SCOPES)
    emulator.set_tenant("harness")
    token = emulator.mint_refresh_token("harness-client", SCOPES)
    assert emulator.check_refresh_token(token) is True
    emulator.reset()  # the fixture's reset keeps what the emulator issued for the scan
    kept = {value for _kind, value in secret_registry.items()}
    assert token in kept and "harness-secret-value-1" in kept
    assert emulator.clients() in ([], {}, {"clients": []}) or "harness-client" not in str(emulator.clients())


def test_emulator_serves_default_tenant(emulator_clean):
    emulator = emulator_clean
    emulator.add_client("harness-cc", client_secrets=["harness-cc-secret-1"], grants=["client_credentials"], scopes=SCOPES)
    emulator.set_tenant("t1")
    session = emulator.session()
    grant = session.post(
        emulator.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": "harness-cc",
            "client_secret": "harness-cc-secret-1",
            "scope": "openid,commerce.accs",
        },
        timeout=30,
    )
    assert grant.status_code == 200, grant.text
    answer = session.get(
        emulator.accs_url("t1") + "/V1/store/storeConfigs",
        headers={"Authorization": "Bearer " + grant.json()["access_token"], "x-api-key": "harness-cc"},
        timeout=30,
    )
    assert answer.status_code == 200
    assert {config["code"] for config in answer.json()} == {"default", "fr"}


PLAYBOOK = """
- name: harness play
  hosts: all
  gather_facts: false
  tasks:
    - name: say hello
      ansible.builtin.debug:
        msg: "hello {{ who }}"
    - name: looped
      ansible.builtin.set_fact:
        seen: "{{ item }}"
      loop: [a, b]
    - name: ignored failure
      ansible.builtin.fail:
        msg: expected
      ignore_errors: true
    - name: skipped
      ansible.builtin.debug:
        msg: never
      when: false
    - name: changed in check mode
      ansible.builtin.copy:
        content: x
        dest: "{{ out }}/{{ inventory_hostname }}.txt"
"""


def test_run_playbook_json_results(run_playbook, tmp_path):
    result = run_playbook(PLAYBOOK, extra_vars={"who": "world", "out": str(tmp_path)}, json=True)
    result.assert_rc(0)
    assert result.task_results("say hello")["localhost"]["msg"] == "hello world"
    looped = result.task_results("looped")["localhost"]
    assert [item["ansible_facts"]["seen"] for item in looped["results"]] == ["a", "b"]
    failure = result.task_results("ignored failure")["localhost"]
    assert failure["failed"] is True and failure["ignored"] is True and failure["msg"] == "expected"
    assert result.task_results("skipped")["localhost"]["skipped"] is True
    assert result.task_results("changed in check mode")["localhost"]["changed"] is True
    assert result.stats["localhost"]["ignored"] == 1
    assert "say hello" in result.log
    with pytest.raises(KeyError):
        result.task_results("no such task")


def test_run_playbook_check_mode_and_inventory(run_playbook, tmp_path):
    inventory = {
        "all": {
            "hosts": {
                name: {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
                for name in ("h1", "h2")
            }
        }
    }
    result = run_playbook(
        PLAYBOOK, inventory=inventory, extra_vars={"who": "x", "out": str(tmp_path)}, check=True, json=True, forks=2
    )
    result.assert_rc(0)
    assert set(result.task_results("changed in check mode")) == {"h1", "h2"}
    assert not list(tmp_path.glob("h*.txt"))
    plain = run_playbook(PLAYBOOK, inventory=inventory, extra_vars={"who": "x", "out": str(tmp_path)})
    plain.assert_rc(0)
    assert plain.json is None and plain.stats["h1"]["changed"] == 1
    assert (tmp_path / "h2.txt").read_text() == "x"
    assert plain.output_dir != result.output_dir


def test_run_playbook_failure_and_env(run_playbook):
    result = run_playbook(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: boom\n      ansible.builtin.fail:\n        msg: \"{{ lookup('env', 'HARNESS_VALUE') }}\"\n",
        env={"HARNESS_VALUE": "from-env", "VAULT_TOKEN": None},
        json=True,
    )
    assert result.rc == 2
    assert result.task_results("boom")["localhost"]["msg"] == "from-env"
    with pytest.raises(AssertionError, match="exited 2"):
        result.assert_rc(0)


@pytest.mark.slow
def test_run_playbook_timeout_kills(run_playbook):
    result = run_playbook(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.pause:\n        seconds: 120\n",
        timeout=5,
    )
    assert result.timed_out and result.rc != 0
    assert result.duration < 60


def test_secret_scan_finds_plain_and_encoded(tmp_path):
    registry = SecretRegistry()
    registry.add("client secret", "abc/def+ghi=jkl")
    registry.add("short", "tooshort")  # under 12 characters: ignored
    (tmp_path / "plain.txt").write_text("x abc/def+ghi=jkl y")
    (tmp_path / "url.txt").write_text("client_secret=abc%2Fdef%2Bghi%3Djkl")
    (tmp_path / "clean.txt").write_text("tooshort and nothing else")
    findings = scan_tree(tmp_path, registry)
    assert sorted(Path(f.path).name for f in findings) == ["plain.txt", "url.txt"]
    assert all("abc/def" not in f.describe() for f in findings)


def test_parse_default_output_recap():
    parsed = parse_default_output(
        "PLAY [p] ***\n\nTASK [t] ***\nok: [h1] => {\"msg\": \"a => {b}\"}\n"
        "fatal: [h2]: FAILED! => {\"msg\": \"no\"}\n\nPLAY RECAP ***\n"
        "h1                         : ok=1    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0\n"
        "h2                         : ok=0    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0\n"
    )
    hosts = parsed["plays"][0]["tasks"][0]["hosts"]
    assert hosts["h1"]["msg"] == "a => {b}" and hosts["h2"]["failed"] is True
    assert parsed["stats"]["h2"]["failed"] == 1
