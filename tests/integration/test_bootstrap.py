"""playbooks/bootstrap_refresh_token.yml with a simulated browser, against OpenBao and the emulator.

The playbook runs as a subprocess; the test reads its output until the authorize URL appears on a
line of its own, then acts as the browser: the emulator's authorize auto-approves and redirects to
the loopback redirect URI, and the test follows that redirect to the playbook's listener (listen
mode) or pastes it (paste mode: at the pause prompt on a pseudo-terminal, or in a second run).
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import re
import stat
import subprocess
import termios
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import yaml

from tests.support.ansible_runner import hermetic_env, venv_tool

STATE_SENTENCE = ("The state in the redirect did not match the one this bootstrap sent, so its code was not used "
                  "(possible cross-site request forgery): start the bootstrap again and open only the URL it prints.")
INVENTORY = {"all": {"hosts": {"localhost": {"ansible_connection": "local",
                                             "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}
URL_WAIT = 90


def _query(url):
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


class Bootstrap:
    """One ansible-playbook run of the bootstrap playbook, read line by line while it runs."""

    def __init__(self, name, extra_vars, *, collection_path, openbao, emulator, work_dir, output_dir, tty=False):
        self.name = name
        self.emulator = emulator
        self.output_dir = Path(output_dir)
        self.lines = []
        self._queue = queue.Queue()
        work_dir = Path(work_dir) / name
        work_dir.mkdir(parents=True)
        (work_dir / "inventory.yml").write_text(yaml.safe_dump(INVENTORY), encoding="utf-8")
        # extra vars in a file outside the kept output: a second paste-mode run carries the code in them
        (work_dir / "vars.json").write_text(json.dumps(extra_vars), encoding="utf-8")
        env = hermetic_env({
            "ANSIBLE_COLLECTIONS_PATH": str(collection_path), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "0",
            "ANSIBLE_HOME": str(work_dir / "ansible-home"), "ANSIBLE_LOCAL_TEMP": str(work_dir / "tmp"),
            "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_DEPRECATION_WARNINGS": "0", "ANSIBLE_STDOUT_CALLBACK": "default",
            "ANSIBLE_LOG_PATH": str(self.output_dir / (name + ".ansible.log")), **openbao.env()})
        cmd = [venv_tool("ansible-playbook"), "-i", str(work_dir / "inventory.yml"), "-e", "@" + str(work_dir / "vars.json"),
               "adobe_commerce.accs.bootstrap_refresh_token"]
        self.master = None
        if tty:
            master, slave = os.openpty()

            def controlling_terminal():
                os.setsid()
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)

            self.proc = subprocess.Popen(cmd, cwd=work_dir, env=env, stdin=slave, stdout=slave, stderr=slave,
                                         preexec_fn=controlling_terminal, close_fds=True)
            os.close(slave)
            self.master = master
            reader = self._read_tty
        else:
            self.proc = subprocess.Popen(cmd, cwd=work_dir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, start_new_session=True)
            reader = self._read_pipe
        self._thread = threading.Thread(target=reader, daemon=True)
        self._thread.start()

    def _read_pipe(self):
        for raw in self.proc.stdout:
            self._queue.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        self._queue.put(None)

    def _read_tty(self):
        pending = b""
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                self._queue.put(line.decode("utf-8", "replace").rstrip("\r"))
            if pending:  # a prompt waits for input without a newline
                self._queue.put(("partial", pending.decode("utf-8", "replace")))
        if pending:
            self._queue.put(pending.decode("utf-8", "replace"))
        self._queue.put(None)

    def wait_for(self, predicate, timeout=URL_WAIT):
        """The first output line (or pending prompt) that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if item is None:
                raise AssertionError("%s ended before the expected output:\n%s" % (self.name, self.text[-3000:]))
            if isinstance(item, tuple):
                if predicate(item[1]):
                    return item[1]
                continue
            self.lines.append(item)
            if predicate(item):
                return item
        raise AssertionError("%s: expected output did not appear within %s s:\n%s" % (self.name, timeout, self.text[-3000:]))

    def authorize_url(self):
        return self.wait_for(lambda line: line.startswith(self.emulator.authorize_url + "?"))

    def type_line(self, text):
        """Type at the pause prompt once the terminal is in its no-echo mode."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            lflag = termios.tcgetattr(self.master)[3]
            if not lflag & termios.ECHO and not lflag & termios.ICANON:
                break
            time.sleep(0.05)
        time.sleep(0.5)  # the prompt flushes pending input right after switching modes
        os.write(self.master, text.encode("utf-8") + b"\r")

    def finish(self, timeout=120):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        self._thread.join(10)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None and not isinstance(item, tuple):
                self.lines.append(item)
        if self.master is not None:
            os.close(self.master)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        (self.output_dir / (self.name + ".stdout.txt")).write_text(self.text, encoding="utf-8")
        return self.proc.returncode

    @property
    def text(self):
        return "\n".join(self.lines)


@pytest.fixture
def bootstrap(collection_path, openbao, emulator_clean, tmp_path, test_output_dir):
    started = []

    def start(name, extra_vars, tty=False):
        run = Bootstrap(name, extra_vars, collection_path=collection_path, openbao=openbao, emulator=emulator_clean,
                        work_dir=tmp_path, output_dir=test_output_dir, tty=tty)
        started.append(run)
        return run

    yield start
    for run in started:
        if run.proc.poll() is None:
            os.killpg(run.proc.pid, 9)
            run.proc.wait()


def _base_vars(emulator, path, client_id, **more):
    values = {"accs_vault_path": path, "accs_client_id": client_id, "accs_ims_url": emulator.url,
              "accs_ca_path": emulator.ca_path}
    values.update(more)
    return values


def _follow_authorize(emulator, url):
    """The browser at IMS: the emulator auto-approves and redirects to the loopback redirect URI."""
    answer = requests.get(url, verify=emulator.ca_path, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def _read(openbao, path):
    try:
        data = openbao.client().secrets.kv.v2.read_secret_version(path=path, raise_on_deleted_version=True)["data"]
    except Exception:  # noqa: BLE001 - absent
        return None, 0
    return data["data"], data["metadata"]["version"]


def _assert_output_clean(text, emulator, *urls):
    """No code, verifier or token; a state only inside the authorize URL printed for it."""
    leaked = [kind for kind, values in emulator.secrets_by_kind().items() if kind != "all"
              for value in values if len(value) >= 12 and value in text]
    assert not leaked, "the output holds secrets of kind(s) %s" % sorted(set(leaked))
    for url in urls:
        assert _query(url)["state"] not in text.replace(url, ""), "a state appears outside the authorize URL"


def _assert_pkce_authorize(emulator, client_id):
    authorize = [r for r in emulator.requests(key="ims.authorize") if r.get("client_id") == client_id]
    assert len(authorize) == 1, "expected one authorize request"
    assert "offline_access" in authorize[0]["scope"].split(",")
    assert authorize[0]["code_challenge_present"] is True
    assert authorize[0]["code_challenge_method"] == "S256"
    assert authorize[0]["state_present"] is True
    exchanges = [r for r in emulator.requests(key="ims.token") if r.get("client_id") == client_id]
    assert [(r["grant_type"], r["code_verifier_present"], r["status"]) for r in exchanges] == [
        ("authorization_code", True, 200)]
    return authorize[0], exchanges[0]


# ------------------------------------------------------------------------------------------- listen mode

def test_listen_mode_stores_a_working_refresh_token(bootstrap, emulator_clean, openbao):
    emulator = emulator_clean
    client_id, secret = "cid-" + uuid.uuid4().hex[:8], "sec-" + uuid.uuid4().hex
    emulator.add_client(client_id, client_secrets=[secret], grants=["authorization_code", "refresh_token"])
    path = "bootstrap-%s/prod" % uuid.uuid4().hex[:8]
    # An existing document: client fields kept, a dead refresh token replaced. No client secret given
    # to the playbook: the exchange takes the document's.
    stale = emulator.mint_refresh_token(client_id, ["openid", "offline_access"])
    emulator.revoke(stale)
    openbao.client().secrets.kv.v2.create_or_update_secret(path=path, secret={
        "client_id": client_id, "client_secret": secret, "org_id": "ORG1@AdobeOrg", "refresh_token": stale})

    run = bootstrap("listen", _base_vars(emulator, path, client_id, accs_redirect_port=0))
    url = run.authorize_url()
    query = _query(url)
    assert query["client_id"] == client_id and query["code_challenge_method"] == "S256"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/callback", query["redirect_uri"])
    location = _follow_authorize(emulator, url)
    assert location.startswith(query["redirect_uri"] + "?")
    page = requests.get(location, timeout=30)
    assert page.status_code == 200 and "You can close this tab" in page.text
    assert run.finish() == 0, run.text[-3000:]

    assert "Stored a new refresh token in Vault at %s" % path in run.text
    doc, version = _read(openbao, path)
    assert version == 2
    assert doc["client_id"] == client_id and doc["client_secret"] == secret and doc["org_id"] == "ORG1@AdobeOrg"
    assert doc["refresh_token"] != stale and doc["grant_type"] == "refresh_token"
    assert emulator.check_refresh_token(doc["refresh_token"]) is True
    assert doc["refresh_token_issued_at"].endswith("Z") and doc["access_token_expires_at"].endswith("Z")
    _authorize, exchange = _assert_pkce_authorize(emulator, client_id)
    assert exchange["client_auth"] == "basic"
    _assert_output_clean(run.text, emulator, url)


def test_listen_mode_refuses_a_forged_state(bootstrap, emulator_clean, openbao):
    emulator = emulator_clean
    client_id = "cid-" + uuid.uuid4().hex[:8]
    emulator.add_client(client_id, public=True, grants=["authorization_code", "refresh_token"])
    path = "bootstrap-%s/forged" % uuid.uuid4().hex[:8]
    openbao.client().secrets.kv.v2.create_or_update_secret(path=path, secret={"client_id": client_id})
    before = _read(openbao, path)

    run = bootstrap("forged", _base_vars(emulator, path, client_id, accs_redirect_port=0))
    url = run.authorize_url()
    location = _follow_authorize(emulator, url)
    forged = re.sub(r"([?&])state=[^&]*", r"\1state=forged-by-someone-else", location)
    assert forged != location
    page = requests.get(forged, timeout=30)
    assert page.status_code == 400 and "state did not match" in page.text
    assert run.finish() == 2, run.text[-3000:]

    assert STATE_SENTENCE in run.text
    assert _read(openbao, path) == before, "Vault changed after a forged redirect"
    assert emulator.requests(key="ims.token") == [], "the code of a forged redirect was exchanged"
    _assert_output_clean(run.text, emulator, url)


def test_listen_mode_reports_an_ims_error(bootstrap, emulator_clean, openbao):
    emulator = emulator_clean
    client_id = "cid-" + uuid.uuid4().hex[:8]
    emulator.add_client(client_id, public=True, grants=["refresh_token"])  # the code flow is not allowed
    path = "bootstrap-%s/denied" % uuid.uuid4().hex[:8]

    run = bootstrap("denied", _base_vars(emulator, path, client_id, accs_redirect_port=0))
    url = run.authorize_url()
    location = _follow_authorize(emulator, url)
    assert _query(location)["error"] == "unauthorized_client"
    page = requests.get(location, timeout=30)
    assert page.status_code == 400 and "unauthorized_client" in page.text
    assert run.finish() == 2, run.text[-3000:]

    assert ("IMS did not authorize the request (unauthorized_client: client is not allowed the authorization_code "
            "grant): fix what IMS names") in run.text
    assert _read(openbao, path) == (None, 0)


# ------------------------------------------------------------------------------------------- paste mode

def test_paste_mode_at_the_prompt(bootstrap, emulator_clean, openbao, tmp_path):
    """Interactive paste: the pause prompt reads the address on a terminal, without echoing it."""
    emulator = emulator_clean
    client_id, secret = "cid-" + uuid.uuid4().hex[:8], "sec-" + uuid.uuid4().hex
    emulator.add_client(client_id, client_secrets=[secret], grants=["authorization_code", "refresh_token"])
    path = "bootstrap-%s/paste" % uuid.uuid4().hex[:8]
    sessions = tmp_path / "sessions"

    run = bootstrap("paste-tty", _base_vars(emulator, path, client_id, accs_client_secret=secret,
                                            accs_bootstrap_mode="paste", accs_bootstrap_session_dir=str(sessions)),
                    tty=True)
    url = run.authorize_url()
    assert _query(url)["redirect_uri"] == "http://127.0.0.1:8765/callback"
    location = _follow_authorize(emulator, url)
    run.wait_for(lambda line: "(output is hidden):" in line)
    assert len(os.listdir(sessions)) == 1
    run.type_line(location)
    assert run.finish() == 0, run.text[-3000:]

    assert "Stored a new refresh token in Vault at %s" % path in run.text
    doc, version = _read(openbao, path)
    assert version == 1 and doc["client_id"] == client_id and doc["client_secret"] == secret
    assert emulator.check_refresh_token(doc["refresh_token"]) is True
    assert os.listdir(sessions) == [], "the session file was not deleted"
    _assert_pkce_authorize(emulator, client_id)
    assert _query(location)["code"] not in run.text, "the pasted address was echoed"
    _assert_output_clean(run.text, emulator, url)


def test_paste_mode_without_a_terminal_in_two_runs(bootstrap, emulator_clean, openbao, tmp_path):
    """No terminal (CI, AWX): the first run prints the URL and a session handle, a second run finishes."""
    emulator = emulator_clean
    client_id = "cid-" + uuid.uuid4().hex[:8]
    emulator.add_client(client_id, public=True, grants=["authorization_code", "refresh_token"])
    path = "bootstrap-%s/two-runs" % uuid.uuid4().hex[:8]
    sessions = tmp_path / "sessions"
    common = _base_vars(emulator, path, client_id, accs_bootstrap_mode="paste",
                        accs_bootstrap_session_dir=str(sessions))

    first = bootstrap("paste-first", common)
    url = first.authorize_url()
    assert first.finish() == 0, first.text[-3000:]
    assert "Nothing was pasted" in first.text
    session = re.search(r"-e accs_bootstrap_session=(\S+) ", first.text).group(1)
    files = os.listdir(sessions)
    assert files == [session + ".json"]
    assert stat.S_IMODE(os.stat(sessions / files[0]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(sessions).st_mode) == 0o700
    assert _read(openbao, path) == (None, 0)

    location = _follow_authorize(emulator, url)
    second = bootstrap("paste-second", dict(common, accs_bootstrap_session=session, accs_redirect_url=location))
    assert second.finish() == 0, second.text[-3000:]
    assert "Stored a new refresh token in Vault at %s" % path in second.text

    doc, version = _read(openbao, path)
    assert version == 1 and doc["client_id"] == client_id and "client_secret" not in doc
    assert emulator.check_refresh_token(doc["refresh_token"]) is True
    assert os.listdir(sessions) == []
    _authorize, exchange = _assert_pkce_authorize(emulator, client_id)
    assert exchange["client_auth"] == "none"
    for run in (first, second):
        _assert_output_clean(run.text, emulator, url)


# ------------------------------------------------------------------------------------------- existing documents

def test_bootstrap_stores_the_client_it_was_given_over_a_different_stored_one(bootstrap, emulator_clean, openbao):
    """Issue 13, defect 3: the new refresh token is stored with the client it was issued to, with a warning."""
    emulator = emulator_clean
    old_id, old_secret = "cid-old-" + uuid.uuid4().hex[:8], "sec-old-" + uuid.uuid4().hex
    new_id, new_secret = "cid-new-" + uuid.uuid4().hex[:8], "sec-new-" + uuid.uuid4().hex
    for cid, sec in ((old_id, old_secret), (new_id, new_secret)):
        emulator.add_client(cid, client_secrets=[sec], grants=["authorization_code", "refresh_token"])
    path = "bootstrap-%s/moved" % uuid.uuid4().hex[:8]
    openbao.client().secrets.kv.v2.create_or_update_secret(path=path, secret={
        "client_id": old_id, "client_secret": old_secret, "client_secrets": [old_secret], "org_id": "ORG1@AdobeOrg"})

    run = bootstrap("listen-new-client",
                    _base_vars(emulator, path, new_id, accs_client_secret=new_secret, accs_redirect_port=0))
    url = run.authorize_url()
    requests.get(_follow_authorize(emulator, url), timeout=30)
    assert run.finish() == 0, run.text[-3000:]

    doc, version = _read(openbao, path)
    assert version == 2
    assert doc["client_id"] == new_id and doc["client_secret"] == new_secret and "client_secrets" not in doc
    assert doc["org_id"] == "ORG1@AdobeOrg"
    _assert_pkce_authorize(emulator, new_id)
    # the refresh token belongs to the client stored with it: IMS refreshes it for that client
    refreshed = requests.post(emulator.token_url, verify=emulator.ca_path, timeout=30,
                              auth=(doc["client_id"], doc["client_secret"]), data={"grant_type": "refresh_token", "refresh_token": doc["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    warnings = " ".join(run.text.split())
    assert "replacing a different stored client_id" in warnings
    assert "client_secret" in warnings and "client_secrets" in warnings
    _assert_output_clean(run.text, emulator, url)


def test_bootstrap_takes_the_client_id_of_the_document(bootstrap, emulator_clean, openbao):
    """Issue 13, defect 3: accs_client_id is optional when the document already names the client."""
    emulator = emulator_clean
    client_id, secret = "cid-" + uuid.uuid4().hex[:8], "sec-" + uuid.uuid4().hex
    emulator.add_client(client_id, client_secrets=[secret], grants=["authorization_code", "refresh_token"])
    path = "bootstrap-%s/known" % uuid.uuid4().hex[:8]
    openbao.client().secrets.kv.v2.create_or_update_secret(path=path, secret={
        "client_id": client_id, "client_secret": secret})

    variables = _base_vars(emulator, path, client_id, accs_redirect_port=0)
    del variables["accs_client_id"]
    run = bootstrap("listen-document-client", variables)
    url = run.authorize_url()
    assert _query(url)["client_id"] == client_id
    requests.get(_follow_authorize(emulator, url), timeout=30)
    assert run.finish() == 0, run.text[-3000:]
    doc, version = _read(openbao, path)
    assert version == 2 and doc["client_id"] == client_id and doc["client_secret"] == secret
    assert emulator.check_refresh_token(doc["refresh_token"]) is True
    assert "WARNING" not in run.text
    _assert_output_clean(run.text, emulator, url)
