"""Vault login with a pipeline's OIDC token (``vault_auth_method: jwt``), and the Vault policies of
the documentation, against a real OpenBao.

OpenBao's jwt auth method is configured with a static public key (``jwt_validation_pubkeys``),
the way a Vault trusts GitLab's or GitHub's OIDC issuer, but with a key made here: the test signs
its own RS256 JWTs (``cryptography``), with the claims a GitLab CI ``id_tokens`` token carries.
The collection gets the JWT exactly as a pipeline hands it over: ``VAULT_AUTH_METHOD=jwt``,
``VAULT_ROLE`` and ``VAULT_JWT`` in the environment, no ``VAULT_TOKEN``, default auth mount
``jwt`` (docs/pipelines.md).

The policies are read from the documents users copy them from: the pipeline role's from
docs/pipelines.md, ``accs-read`` and ``accs-rotate`` from docs/guide.md ("Vault policies"), whose
read-only trade-off is checked here too.

A private OpenBao per module (its ``jwt/`` mount and ``secret/`` KV v2 are this module's alone).
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.integration.helpers import (
    ACCS_REST,
    IMS_TOKEN,
    assert_no_secrets,
    assert_one_sentence,
    doc_policy,
    failed_msg,
    host_result,
    ims_token_requests,
    ims_token_task,
    play,
    read_doc,
    seed_credential,
    sha256,
    token_summary_task,
)
from tests.support.openbao import running_openbao

ISSUER = "https://gitlab.example.com"
AUDIENCE = "https://vault.example.com"
PROJECT = "acme/shop"
ROLE = "accs-pipeline"
POLICY = "accs-pipeline"


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def sign_jwt(key: rsa.RSAPrivateKey, claims: dict, kid: str = "test-key") -> str:
    """An RS256 JWT (RFC 7515 compact serialization) signed with ``key``."""
    header = {"alg": "RS256", "typ": "JWT", "kid": kid}
    signing_input = _b64(json.dumps(header, separators=(",", ":")).encode()) + b"." + _b64(
        json.dumps(claims, separators=(",", ":")).encode()
    )
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return (signing_input + b"." + _b64(signature)).decode("ascii")


def gitlab_claims(ref: str = "main", audience: str = AUDIENCE, lifetime: int = 300) -> dict:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": audience,
        "sub": "project_path:%s:ref_type:branch:ref:%s" % (PROJECT, ref),
        "project_path": PROJECT,
        "ref": ref,
        "ref_type": "branch",
        "iat": now,
        "nbf": now - 5,
        "exp": now + lifetime,
    }


class JwtVault:
    def __init__(self, server, key, registry):
        self.server = server
        self.key = key
        self.registry = registry

    def jwt(self, key=None, **claims) -> str:
        token = sign_jwt(key or self.key, gitlab_claims(**claims))
        self.registry.add("pipeline jwt", token)
        return token

    def pipeline_env(self, jwt: str) -> dict:
        """What docs/pipelines.md exports: no VAULT_TOKEN, jwt login with the pipeline's token."""
        return {"VAULT_ADDR": self.server.url, "VAULT_TOKEN": None, "VAULT_AUTH_METHOD": "jwt",
                "VAULT_ROLE": ROLE, "VAULT_JWT": jwt}

    def jwt_logins(self) -> list[dict]:
        """Tokens OpenBao issued through auth/jwt/login (root lists accessors and looks them up)."""
        client = self.server.client()
        accessors = client.auth.token.list_accessors()["data"]["keys"]
        found = []
        for accessor in accessors:
            data = client.auth.token.lookup_accessor(accessor)["data"]
            if data.get("path") == "auth/jwt/login":
                found.append(data)
        return found


@pytest.fixture(scope="module")
def jwt_vault(tmp_path_factory, secret_registry):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    with running_openbao(tmp_path_factory.mktemp("openbao-jwt")) as server:
        try:
            client = server.client()
            client.sys.enable_auth_method(method_type="jwt", path="jwt")
            client.auth.jwt.configure(jwt_validation_pubkeys=[public_pem], bound_issuer=ISSUER, path="jwt")
            server.write_policy(POLICY, doc_policy(POLICY))
            client.auth.jwt.create_role(
                name=ROLE,
                role_type="jwt",
                user_claim="sub",
                bound_audiences=[AUDIENCE],
                bound_claims={"project_path": PROJECT, "ref": "main"},
                token_policies=[POLICY],
                token_ttl="10m",
                token_no_default_policy=True,
                allowed_redirect_uris=[],
                path="jwt",
            )
            yield JwtVault(server, key, secret_registry)
        finally:
            secret_registry.add_many(server.issued)


def test_ims_token_logs_in_with_the_pipeline_jwt_and_writes_the_refresh_back(run_playbook, emulator, jwt_vault):
    cred = seed_credential(emulator, jwt_vault.server)  # refresh token, nothing cached
    jwt = jwt_vault.jwt()
    logins_before = len(jwt_vault.jwt_logins())
    tasks = [
        ims_token_task("token", "tok", vault_path=cred.vault_path),
        token_summary_task("summary", "tok"),
    ]
    result = run_playbook(play(tasks, emulator=emulator), env=jwt_vault.pipeline_env(jwt), json=True)
    result.assert_rc(0)
    summary = host_result(result, "summary")["msg"]
    assert summary["refreshed"] is True and summary["changed"] is True
    # the refreshed token was written back through the jwt login's policy
    document, version = read_doc(jwt_vault.server, cred.vault_path)
    assert version == cred.version + 1
    assert sha256(document["access_token"]) == summary["token_sha256"]
    assert document["refresh_token"] != cred.refresh_token
    assert len(ims_token_requests(emulator, cred.client_id, "refresh_token")) == 1
    # exactly one login, through auth/jwt/login, as the role, with the pipeline policy only
    logins = jwt_vault.jwt_logins()
    assert len(logins) == logins_before + 1
    login = logins[-1]
    assert login["meta"]["role"] == ROLE
    assert login["policies"] == [POLICY]
    assert_no_secrets(result.stdout + result.stderr + result.log,
                      [jwt, cred.refresh_token, cred.client_secret, document["access_token"], document["refresh_token"]])


def test_refused_jwts_fail_with_the_login_sentence_and_never_show_the_token(run_playbook, emulator, jwt_vault):
    cred = seed_credential(emulator, jwt_vault.server, cache="valid")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong_branch = jwt_vault.jwt(ref="feature/x")
    wrong_audience = jwt_vault.jwt(audience="https://elsewhere.example.com")
    foreign_key = jwt_vault.jwt(key=other_key)
    expired = jwt_vault.jwt(lifetime=-120)
    cases = {"wrong branch": wrong_branch, "wrong audience": wrong_audience, "foreign key": foreign_key,
             "expired": expired}
    # each JWT reaches the task through a play variable, as a pipeline's would through the environment
    variables = {"jwt_%d" % number: value for number, value in enumerate(cases.values())}
    tasks = [
        {"name": name, IMS_TOKEN: {"vault_path": cred.vault_path, "vault_jwt": "{{ jwt_%d }}" % number},
         "register": "refused", "ignore_errors": True}
        for number, name in enumerate(cases)
    ]
    result = run_playbook(play(tasks, emulator=emulator, vars=variables), env=jwt_vault.pipeline_env(expired),
                          json=True)
    result.assert_rc(0)
    expected = (
        "Vault at %s refused the jwt login at auth mount 'jwt': check the role and its credentials "
        "(vault_role_id/vault_secret_id, or vault_role/vault_jwt) and the mount (vault_auth_mount)." % jwt_vault.server.url
    )
    for name in cases:
        message = failed_msg(result, name)
        assert message == expected, (name, message)
        assert_one_sentence(message)
    # nothing read: the cached token was never handed out
    assert len(ims_token_requests(emulator, cred.client_id)) == 0
    assert_no_secrets(result.stdout + result.stderr + result.log, list(cases.values()) + [cred.access_token])


def test_validate_access_playbook_runs_as_the_pipeline_examples_run_it(run_playbook, emulator, jwt_vault, tmp_path):
    """docs/pipelines.md: `ansible-playbook -i inventory.yml adobe_commerce.accs.validate_access` with
    VAULT_AUTH_METHOD=jwt, VAULT_ROLE and VAULT_JWT set from the pipeline's OIDC token."""
    cred = seed_credential(emulator, jwt_vault.server, cache="valid", cache_expires_in=7200)
    jwt = jwt_vault.jwt()
    inventory = {
        "all": {
            "children": {
                "accs": {
                    "vars": {"ansible_connection": "local",
                             "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                             "accs_ims_url": emulator.url, "accs_ca_path": emulator.ca_path},
                    "hosts": {"shop-prod": {"accs_base_url": cred.base_url, "accs_vault_path": cred.vault_path}},
                }
            }
        }
    }
    reports = tmp_path / "reports"
    result = run_playbook(
        [{"ansible.builtin.import_playbook": "adobe_commerce.accs.validate_access"}],
        inventory=inventory,
        extra_vars={"accs_access_check_report_dir": str(reports)},
        env=jwt_vault.pipeline_env(jwt),
    )
    result.assert_rc(0)
    assert result.stats["shop-prod"]["failed"] == 0
    junit = (reports / "shop-prod-access-check.junit.xml").read_text(encoding="utf-8")
    assert 'failures="0"' in junit and 'errors="0"' in junit
    # the cached token was used: no IMS call, one ACCS call with it
    assert ims_token_requests(emulator, cred.client_id) == []
    assert_no_secrets(result.stdout + result.stderr + result.log, [jwt, cred.access_token, cred.refresh_token])


def test_guide_policies_read_only_audit_and_rotation(run_playbook, emulator, jwt_vault, tmp_path):
    """docs/guide.md: accs-read serves audits while the cached token is fresh; an expiring token then
    fails the task and leaves the rotated refresh token in the recovery file, which the next run
    with accs-rotate stores in Vault."""
    server = jwt_vault.server
    for name in ("accs-read", "accs-rotate"):
        server.write_policy(name, doc_policy(name))
    read_token = server.create_token(["accs-read"], no_default_policy=True)
    rotate_token = server.create_token(["accs-rotate"], no_default_policy=True)
    fresh = seed_credential(emulator, server, cache="valid", cache_expires_in=7200)
    stale = seed_credential(emulator, server, cache="expired")
    recovery = tmp_path / "recovery"  # holds a refresh token: outside the kept, scanned output

    def task(name, cred, vault_token):
        return {"name": name, ACCS_REST: {"base_url": cred.base_url, "path": "/V1/store/websites",
                                          "vault_path": cred.vault_path, "vault_token": vault_token},
                "ignore_errors": True}

    result = run_playbook(
        play([
            task("read-only, fresh token", fresh, "{{ read_token }}"),
            task("read-only, expired token", stale, "{{ read_token }}"),
        ], emulator=emulator, vars={"read_token": read_token}),
        env={"VAULT_ADDR": server.url, "VAULT_TOKEN": None, "ACCS_RECOVERY_DIR": str(recovery)}, json=True)
    result.assert_rc(0)
    assert host_result(result, "read-only, fresh token")["status"] == 200
    message = failed_msg(result, "read-only, expired token")
    saved = sorted(recovery.glob("*.json"))
    assert len(saved) == 1
    assert message == (
        "IMS issued a new refresh token for 'secret/%s' in Vault at %s but storing it failed (Vault denied the "
        "write); it is saved in %s (mode 0600), and the next run stores it in Vault by itself once Vault accepts "
        "writes again." % (stale.vault_path, server.url, saved[0]))
    assert read_doc(server, stale.vault_path) == (stale.document, stale.version)  # nothing written
    assert emulator.refresh_token_status(stale.refresh_token) == "used"  # the one in Vault is spent

    rotated = run_playbook(
        play([task("rotation, expired token", stale, "{{ rotate_token }}")], emulator=emulator,
             vars={"rotate_token": rotate_token}),
        env={"VAULT_ADDR": server.url, "VAULT_TOKEN": None, "ACCS_RECOVERY_DIR": str(recovery)}, json=True)
    rotated.assert_rc(0)
    assert host_result(rotated, "rotation, expired token")["status"] == 200
    document, version = read_doc(server, stale.vault_path)
    assert version == stale.version + 1
    assert emulator.refresh_token_status(document["refresh_token"]) == "valid"
    assert list(recovery.glob("*.json")) == [], "the recovery file was not consumed"
    for run in (result, rotated):
        assert_no_secrets(run.stdout + run.stderr + run.log,
                          [read_token, rotate_token, stale.refresh_token, document["refresh_token"],
                           document["access_token"], fresh.access_token])
