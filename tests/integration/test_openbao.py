"""The OpenBao the tests use is a real server: KV v2, check-and-set, seal/unseal, AppRole."""

from __future__ import annotations

import uuid

import hvac
import hvac.exceptions
import pytest


def _path(prefix: str) -> str:
    return f"{prefix}/{uuid.uuid4().hex}"


def test_kv2_write_read(openbao):
    client = openbao.client()
    assert client.is_authenticated()
    path = _path("roundtrip")
    client.secrets.kv.v2.create_or_update_secret(path=path, secret={"client_id": "abc", "scopes": "openid"})
    read = client.secrets.kv.v2.read_secret_version(path=path, raise_on_deleted_version=True)
    assert read["data"]["data"] == {"client_id": "abc", "scopes": "openid"}
    assert read["data"]["metadata"]["version"] == 1


def test_kv2_check_and_set_refuses_stale_write(openbao):
    client = openbao.client()
    kv = client.secrets.kv.v2
    path = _path("cas")
    first = kv.create_or_update_secret(path=path, secret={"refresh_token": "one"}, cas=0)
    assert first["data"]["version"] == 1
    second = kv.create_or_update_secret(path=path, secret={"refresh_token": "two"}, cas=1)
    assert second["data"]["version"] == 2
    with pytest.raises(hvac.exceptions.InvalidRequest) as excinfo:
        kv.create_or_update_secret(path=path, secret={"refresh_token": "stale"}, cas=1)
    assert "check-and-set parameter did not match" in str(excinfo.value)
    current = kv.read_secret_version(path=path, raise_on_deleted_version=True)["data"]
    assert current["metadata"]["version"] == 2
    assert current["data"] == {"refresh_token": "two"}
    # cas=0 only creates: refused once the secret exists
    with pytest.raises(hvac.exceptions.InvalidRequest):
        kv.create_or_update_secret(path=path, secret={"refresh_token": "again"}, cas=0)


def test_kv1_mount_and_policy_token(openbao):
    mount = "kv1-" + uuid.uuid4().hex[:8]
    openbao.enable_kv1(mount)
    client = openbao.client()
    client.secrets.kv.v1.create_or_update_secret(path="accs/demo", secret={"a": "b"}, mount_point=mount)
    assert client.secrets.kv.v1.read_secret(path="accs/demo", mount_point=mount)["data"] == {"a": "b"}

    policy = f"read-{mount}"
    openbao.write_policy(policy, f'path "{mount}/*" {{ capabilities = ["read"] }}\n')
    token = openbao.create_token([policy], ttl="10m")
    limited = openbao.client(token=token)
    assert limited.secrets.kv.v1.read_secret(path="accs/demo", mount_point=mount)["data"] == {"a": "b"}
    with pytest.raises(hvac.exceptions.Forbidden):
        limited.secrets.kv.v1.create_or_update_secret(path="accs/demo", secret={"a": "c"}, mount_point=mount)


def test_approle_login(openbao):
    policy = "approle-" + uuid.uuid4().hex[:8]
    openbao.write_policy(policy, 'path "secret/data/accs/*" { capabilities = ["read", "create", "update"] }\n')
    role_name = "role-" + uuid.uuid4().hex[:8]
    creds = openbao.enable_approle(role_name=role_name, policies=[policy])
    assert creds.role_id and creds.secret_id
    client = hvac.Client(url=openbao.url, timeout=10)
    login = client.auth.approle.login(role_id=creds.role_id, secret_id=creds.secret_id)
    openbao.note_secret("openbao approle login token", login["auth"]["client_token"])
    assert policy in login["auth"]["policies"]
    assert client.is_authenticated()
    client.secrets.kv.v2.create_or_update_secret(path="accs/approle-check", secret={"ok": "yes"})
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.read_secret_version(path="other/thing", raise_on_deleted_version=True)
    # a second role on the same mount works as well
    again = openbao.enable_approle(role_name=role_name + "-b", policies=[policy])
    assert again.role_id != creds.role_id


@pytest.mark.slow
def test_seal_and_unseal_private_server(openbao_factory):
    server = openbao_factory()
    client = server.client()
    client.secrets.kv.v2.create_or_update_secret(path="accs/sealed", secret={"k": "v"})
    assert server.unseal_key

    server.seal()
    status, body = server.health()
    assert status == 503 and body["sealed"] is True
    with pytest.raises((hvac.exceptions.VaultDown, hvac.exceptions.InternalServerError)):
        client.secrets.kv.v2.read_secret_version(path="accs/sealed", raise_on_deleted_version=True)

    server.unseal()
    assert server.health()[0] == 200
    read = client.secrets.kv.v2.read_secret_version(path="accs/sealed", raise_on_deleted_version=True)
    assert read["data"]["data"] == {"k": "v"}


@pytest.mark.slow
def test_stopped_server_is_gone_and_restart_is_empty(openbao_factory):
    import requests

    server = openbao_factory()
    server.client().secrets.kv.v2.create_or_update_secret(path="accs/gone", secret={"k": "v"})
    url = server.url
    server.stop()
    assert not server.is_running()
    with pytest.raises(requests.exceptions.ConnectionError):
        hvac.Client(url=url, token=server.root_token, timeout=3).sys.read_health_status(method="GET")

    server.start()  # a new, empty dev server on the same address and root token
    assert server.url == url
    with pytest.raises(hvac.exceptions.InvalidPath):
        server.client().secrets.kv.v2.read_secret_version(path="accs/gone", raise_on_deleted_version=True)


def test_session_server_env(openbao):
    env = openbao.env()
    assert env == {"VAULT_ADDR": openbao.url, "VAULT_TOKEN": openbao.root_token}
    assert openbao.url.startswith("http://127.0.0.1:")
    assert openbao.log_path.is_file()
