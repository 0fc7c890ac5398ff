"""``python -m tests.oauth_server --workdir DIR --state-file FILE``: django-oauth-toolkit over HTTPS.

Creates a fresh SQLite database in DIR (migrations), one user with a random password, a
throw-away CA and a certificate for 127.0.0.1 and localhost (trustme), serves Django on a free
loopback port with one thread per connection, then writes the state file atomically:
``{"url", "ca_path", "pid", "username", "password"}``.  SIGTERM/SIGINT or the end of
``--parent-pid`` stop it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import socketserver
import ssl
import sys
import threading
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer


class _Handler(WSGIRequestHandler):
    def setup(self):
        self.request.settimeout(30)
        self.request.do_handshake()
        super().setup()

    def get_environ(self):
        env = super().get_environ()
        env["HTTPS"] = "on"
        env["wsgi.url_scheme"] = "https"
        return env

    def log_message(self, *args):  # quiet: a query string may hold a code
        pass


class _TLSServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, context):
        self.ssl_context = context
        super().__init__(address, _Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        pass


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(".%s.%d.tmp" % (path.name, os.getpid()))
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.oauth_server")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--state-file", required=True)
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args(argv)
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ["OAUTH_SERVER_DB"] = str(workdir / "oauth-server.sqlite3")
    os.environ["OAUTH_SERVER_SECRET_KEY"] = secrets.token_urlsafe(40)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oauth_server.settings"

    import django
    import trustme
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from django.contrib.auth import get_user_model

    from tests.oauth_server.wsgi import application, note_secret

    username, password = "ims.tester", "pw-" + secrets.token_urlsafe(24)
    get_user_model().objects.create_user(username=username, password=password, email="ims.tester@example.com")
    note_secret("user_passwords", password)

    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    leaf.configure_cert(context)
    ca_path = workdir / "oauth-server-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))

    server = _TLSServer(("127.0.0.1", 0), context)
    server.set_app(application())
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    state = {"url": "https://127.0.0.1:%d" % server.server_address[1], "ca_path": str(ca_path),
             "pid": os.getpid(), "username": username, "password": password}
    _write_atomic(Path(args.state_file), json.dumps(state, indent=2) + "\n")
    try:
        while not stop.wait(0.5):
            if args.parent_pid:
                try:
                    os.kill(args.parent_pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
