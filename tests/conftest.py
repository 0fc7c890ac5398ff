"""Shared pytest fixtures: OpenBao, the IMS/ACCS emulator, the built collection, playbook runs.

Fixtures
--------
``openbao`` (session)
    One real OpenBao dev server for the whole session (``tests.support.openbao.OpenBao``).
    Never seal or stop it: use ``openbao_factory`` for that.
``openbao_factory`` (function)
    ``openbao_factory(port=None) -> OpenBao``: a private, throwaway dev server for destructive
    tests (seal, stop).  Every server it started is killed when the test ends.  After
    ``stop()`` a server's data is gone; ``start()`` brings up a new *empty* one.
``emulator`` (session)
    The HTTPS IMS + ACCS emulator (``tests.emulator.control.EmulatorControl``).
``emulator_clean`` (function)
    The same emulator, reset (no clients, tokens, tenants, faults) before the test.
``oauth_server`` (session)
    A real OAuth 2 server, django-oauth-toolkit configured like IMS, over HTTPS with its own CA
    (``tests.oauth_server.control.OAuthServer``; see ``tests/oauth_server/README.md``).  Its
    client secrets, codes, tokens and user password join the secret scan.
``collection_path`` (session)
    The collection built with ``ansible-galaxy collection build`` and installed from the
    tarball: the path to use as ANSIBLE_COLLECTIONS_PATH.  Tests see the collection exactly
    as users get it.
``test_output_dir`` (function)
    ``build/test-output/<test id>/``, emptied when the test starts, kept after the run and
    secret-scanned.  Put playbook reports here (e.g. ``accs_audit_report_dir``) so the scan
    covers them.
``emulator_module`` (module)
    The emulator, reset once for a test module whose module-scoped fixture seeds it and runs one
    playbook over many cases (the reliability suites).
``emulator_vars`` (session)
    Play variables naming the emulator: ``{"emu_url": ..., "emu_ca": ...}``.
``emulator_defaults`` (session)
    ``emulator_defaults(**options)`` -> ``module_defaults`` for ``group/adobe_commerce.accs.accs``
    that send IMS to the emulator through the ``emu_url``/``emu_ca`` play variables, with
    ``retries: 0`` and ``timeout: 10`` (``options`` add or override).
``store_credential`` (session)
    ``store_credential(path, document, mount="secret")`` -> version: writes a credential document
    to the session OpenBao.
``seed_client`` (session)
    ``seed_client(client, secret, path, grants=("refresh_token",), scopes=..., refresh_scopes=None,
    **document)`` -> document: an IMS client in the emulator and its credential document in the
    session OpenBao (client_id, client_secret, scopes, and a refresh token minted for
    ``refresh_scopes`` when the client has the refresh_token grant; ``document`` adds keys).
``role_playbook`` (module)
    ``role_playbook(label, playbook, hosts, work_dir=None, forks=10, json=True, **kwargs)`` ->
    PlaybookResult: ``playbook`` over the group ``accs`` of ``hosts`` (name -> variables) with the
    installed collection and the session OpenBao, kept in ``build/test-output/<test module>/<label>``
    (the role tests).
``run_playbook`` (function)
    ``run_playbook(playbook, inventory=None, extra_vars=None, env=None, check=False,
    diff=False, verbosity=0, json=False, timeout=600, forks=None, extra_args=None)``
    -> ``tests.support.ansible_runner.PlaybookResult`` (``rc``, ``stdout``, ``stderr``,
    ``log``, ``json``, ``stats``, ``output_dir``, ``task_results(name)``, ``assert_rc(n)``).
    Runs the virtualenv's ``ansible-playbook`` with the installed collection and the session
    OpenBao's VAULT_ADDR / VAULT_TOKEN.  ``run_playbook.output_dir`` is the test's kept folder.

Secret scan
-----------
At the end of the session every file under ``build/test-output/`` (every playbook run's
stdout, stderr, Ansible log and parsed result, plus whatever tests wrote there) is searched
for every secret the session knows: all the emulator issued or was given, the OpenBao root
tokens and unseal keys, and tokens / AppRole secret ids made through the OpenBao helpers
(plain, URL-encoded and JSON-escaped; values shorter than 12 characters are skipped).  Any
hit fails the session, naming the file and the kind of secret, never the secret.  (The tree
is not wiped per session, since sessions may run side by side in one checkout: files of
earlier sessions are scanned too; ``make clean`` empties it.)

A test that *deliberately* writes a secret to a file (for example the documented recovery
file holding a rotated refresh token) must put that file OUTSIDE ``build/test-output/``,
e.g. under ``tmp_path``.  To register an extra secret for the scan use the
``secret_registry`` fixture: ``secret_registry.add("kind", value)``.

Timeouts: each playbook run is a subprocess with a timeout (default 600 s; the process
group is killed when it runs out).  ``faulthandler_timeout`` in pytest.ini dumps the stacks
of a test that hangs elsewhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from pathlib import Path

import pytest

from tests.support.ansible_runner import REPO_ROOT, build_and_install_collection, run_ansible_playbook
from tests.support.openbao import OpenBao, running_openbao
from tests.support.secretscan import SecretRegistry, scan_tree

TEST_OUTPUT = REPO_ROOT / "build" / "test-output"
SCAN_FINDINGS = REPO_ROOT / "build" / "secret-scan"  # xdist workers' findings, per session
STALE_OUTPUT_SECONDS = 24 * 3600

_SECRETS = SecretRegistry()
_OPENBAO_SERVERS: list[OpenBao] = []
_EMULATORS: list = []
_OAUTH_SERVERS: list = []


def _is_xdist_worker(config) -> bool:
    return hasattr(config, "workerinput")


# --------------------------------------------------------------------------- hooks
def pytest_configure(config):
    TEST_OUTPUT.mkdir(parents=True, exist_ok=True)
    if not _is_xdist_worker(config):
        # One id per session, inherited by xdist workers (they start after this hook).
        os.environ["ACCS_TEST_SESSION_ID"] = uuid.uuid4().hex
        # Other sessions may be running in the same checkout: never wipe the whole tree.  Each
        # test's folder is emptied when the test starts; folders untouched for a day go here.
        cutoff = time.time() - STALE_OUTPUT_SECONDS
        for entry in TEST_OUTPUT.iterdir():
            with contextlib.suppress(OSError):
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def _findings_dir() -> Path:
    return SCAN_FINDINGS / os.environ.get("ACCS_TEST_SESSION_ID", "default")


def pytest_collection_modifyitems(config, items):
    integration_dir = REPO_ROOT / "tests" / "integration"
    for item in items:
        if Path(str(item.path)).is_relative_to(integration_dir):
            item.add_marker(pytest.mark.integration)


def _harvest_secrets() -> None:
    for server in _OPENBAO_SERVERS:
        _SECRETS.add_many(server.issued)
    for emulator in _EMULATORS:
        try:
            _SECRETS.add_emulator(emulator)
        except Exception:  # noqa: BLE001 - the emulator is gone; its secrets were harvested before
            pass
    for server in _OAUTH_SERVERS:
        _add_oauth_server_secrets(server)


def _add_oauth_server_secrets(server) -> None:
    try:
        by_kind = server.secrets_by_kind()
    except Exception:  # noqa: BLE001 - the server is gone; its secrets were harvested before
        return
    for kind, values in by_kind.items():
        if kind != "all":
            for value in values:
                _SECRETS.add("oauth server " + kind.rstrip("s").replace("_", " "), value)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """Secret scan of build/test-output (after the session fixtures were torn down)."""
    _harvest_secrets()
    findings = [finding.describe() for finding in scan_tree(TEST_OUTPUT, _SECRETS)]
    config = session.config
    if _is_xdist_worker(config):
        if findings:
            _findings_dir().mkdir(parents=True, exist_ok=True)
            worker = config.workerinput.get("workerid", "worker")
            (_findings_dir() / f"{worker}.json").write_text(json.dumps(findings), encoding="utf-8")
    else:
        for path in sorted(_findings_dir().glob("*.json")):
            findings.extend(json.loads(path.read_text(encoding="utf-8")))
        shutil.rmtree(_findings_dir(), ignore_errors=True)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write("\n")  # the progress line may still be open (-q)

    def say(line: str, **markup) -> None:
        if reporter is not None:
            reporter.write_line(line, **markup)
        else:
            print(line)

    if findings:
        say("")
        say(f"SECRET SCAN FAILED: {len(findings)} secret(s) found in kept test output:", red=True, bold=True)
        for line in sorted(set(findings)):
            say("  " + line, red=True)
        say("(the session fails: exit status 1)", red=True)
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif not _is_xdist_worker(config) and len(_SECRETS):
        say(f"secret scan: {len(_SECRETS)} known secrets, none in {TEST_OUTPUT.relative_to(REPO_ROOT)}/")


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def secret_registry() -> SecretRegistry:
    """Register extra secrets for the end-of-session scan: ``secret_registry.add(kind, value)``."""
    return _SECRETS


@pytest.fixture(scope="session")
def openbao(tmp_path_factory):
    with running_openbao(tmp_path_factory.mktemp("openbao")) as server:
        _OPENBAO_SERVERS.append(server)
        yield server
        _SECRETS.add_many(server.issued)


@pytest.fixture
def openbao_factory(tmp_path):
    started: list[OpenBao] = []

    def start(port: int | None = None) -> OpenBao:
        server = OpenBao(tmp_path / f"openbao-{len(started) + 1}", port)
        started.append(server)
        _OPENBAO_SERVERS.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()
        _SECRETS.add_many(server.issued)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    from tests.emulator.control import running_emulator

    with running_emulator(tmp_path_factory.mktemp("emulator")) as control:
        _EMULATORS.append(control)
        original_reset = control.reset

        def reset(*args, **kwargs):
            # a reset forgets the issued secrets: keep them for the scan first
            _SECRETS.add_emulator(control)
            return original_reset(*args, **kwargs)

        control.reset = reset
        try:
            yield control
        finally:
            try:
                _SECRETS.add_emulator(control)
            finally:
                _EMULATORS.remove(control)


@pytest.fixture(scope="session")
def oauth_server(tmp_path_factory):
    from tests.oauth_server.control import running_oauth_server

    with running_oauth_server(tmp_path_factory.mktemp("oauth-server")) as server:
        _OAUTH_SERVERS.append(server)
        try:
            yield server
        finally:
            _add_oauth_server_secrets(server)
            _OAUTH_SERVERS.remove(server)


@pytest.fixture
def emulator_clean(emulator):
    emulator.reset()
    return emulator


@pytest.fixture(scope="session")
def collection_path(tmp_path_factory) -> Path:
    return build_and_install_collection(tmp_path_factory.mktemp("collection"))


def _output_name(nodeid: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", nodeid.replace("::", "--")).strip("-")
    if len(name) > 120:
        name = name[:100] + "-" + hashlib.sha1(nodeid.encode()).hexdigest()[:12]
    return name


@pytest.fixture
def test_output_dir(request) -> Path:
    path = TEST_OUTPUT / _output_name(request.node.nodeid)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


class PlaybookRunner:
    """The ``run_playbook`` fixture's callable."""

    def __init__(self, *, work_dir: Path, output_dir: Path, collections_path: Path, base_env: dict):
        self.work_dir = work_dir
        self.output_dir = output_dir
        self.collections_path = collections_path
        self.base_env = base_env
        self.results: list = []

    def __call__(
        self,
        playbook,
        inventory=None,
        extra_vars=None,
        env=None,
        check=False,
        diff=False,
        verbosity=0,
        json=False,
        timeout=600,
        forks=None,
        extra_args=None,
    ):
        number = len(self.results) + 1
        result = run_ansible_playbook(
            playbook,
            work_dir=self.work_dir / f"run-{number:03d}",
            output_dir=self.output_dir / f"run-{number:03d}",
            collections_path=self.collections_path,
            inventory=inventory,
            extra_vars=extra_vars,
            env=env,
            base_env=self.base_env,
            check=check,
            diff=diff,
            verbosity=verbosity,
            json=json,
            timeout=timeout,
            forks=forks,
            extra_args=extra_args,
        )
        self.results.append(result)
        return result


@pytest.fixture
def run_playbook(tmp_path, test_output_dir, collection_path, openbao) -> PlaybookRunner:
    return PlaybookRunner(
        work_dir=tmp_path / "playbooks",
        output_dir=test_output_dir,
        collections_path=collection_path,
        base_env=openbao.env(),
    )


# --------------------------------------------------------------------------- seeding OpenBao and the emulator
@pytest.fixture(scope="module")
def emulator_module(emulator):
    emulator.reset()
    return emulator


@pytest.fixture(scope="session")
def emulator_vars(emulator) -> dict:
    return {"emu_url": emulator.url, "emu_ca": emulator.ca_path}


@pytest.fixture(scope="session")
def emulator_defaults():
    def make(**options) -> dict:
        values = {"ims_url": "{{ emu_url }}", "ca_path": "{{ emu_ca }}", "retries": 0, "timeout": 10}
        values.update(options)
        return {"group/adobe_commerce.accs.accs": values}

    return make


@pytest.fixture(scope="session")
def store_credential(openbao):
    kv = openbao.client().secrets.kv.v2

    def store(path: str, document: dict, mount: str = "secret") -> int:
        answer = kv.create_or_update_secret(path=path, secret=document, mount_point=mount)
        return answer["data"]["version"]

    return store


@pytest.fixture(scope="session")
def seed_client(emulator, store_credential):
    def seed(client: str, secret: str, path: str, grants=("refresh_token",),
             scopes=("openid", "commerce.accs"), refresh_scopes=None, **document) -> dict:
        emulator.add_client(client, client_secrets=[secret], grants=list(grants))
        values = {"client_id": client, "client_secret": secret}
        if "refresh_token" in grants:
            values["refresh_token"] = emulator.mint_refresh_token(client, list(refresh_scopes or scopes))
        values["scopes"] = ",".join(scopes)
        values.update(document)
        store_credential(path, values)
        return values

    return seed


def accs_inventory(hosts: dict) -> dict:
    """An inventory with the group ``accs`` of ``hosts`` (name -> variables), the roles' convention."""
    return {"all": {"children": {"accs": {"hosts": hosts}}}}


class RolePlaybookRunner:
    """The ``role_playbook`` fixture's callable."""

    def __init__(self, collection_path: Path, openbao, output_root: Path, work_root: Path):
        self.collection_path = collection_path
        self.openbao = openbao
        self.output_root = output_root
        self.work_root = work_root

    def __call__(self, label, playbook, hosts, work_dir=None, forks=10, json=True, **kwargs):
        return run_ansible_playbook(
            playbook, work_dir=work_dir or (self.work_root / label), output_dir=self.output_root / label,
            collections_path=self.collection_path, inventory=accs_inventory(hosts), base_env=self.openbao.env(),
            forks=forks, json=json, **kwargs)


@pytest.fixture(scope="module")
def role_playbook(request, collection_path, openbao, tmp_path_factory) -> RolePlaybookRunner:
    module = request.module.__name__.rsplit(".", 1)[-1]
    return RolePlaybookRunner(collection_path, openbao, TEST_OUTPUT / module, tmp_path_factory.mktemp(module))


def pytest_report_header(config):
    return [f"kept test output (secret-scanned): {TEST_OUTPUT}"]
