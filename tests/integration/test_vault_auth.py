"""Vault logins where ops teams run, against a real OpenBao: ``kubernetes`` (the pod's service-account
token, reviewed by the emulator's Kubernetes TokenReview API), ``cert`` (a TLS client certificate on
OpenBao's TLS listener), ``userpass`` (a person), the token read from ``vault_token_file``, and
``VAULT_SKIP_VERIFY``.

Each method is driven the way ops teams run the collection: environment variables only (what an
AWX credential type injects), then a playbook whose ``ims_token`` task reads a cached token from
the credential document and whose lookup reads the document too. A login is shown accepted by the
document read through it and by the token OpenBao issued at ``auth/<mount>/login`` (root lists the
accessors); a refused login and a missing input each fail with their own sentence, and no secret
(password, client key, service-account token, Vault token) appears in any output.

OpenBao is set up with the ``bao`` commands of docs/guide.md ("Vault auth methods") as written,
only the cluster's address replaced by the emulator's, and the policy of its "Vault policies".
A private OpenBao (with a TLS listener) for this module; the session emulator for IMS and for
TokenReview.
"""

from __future__ import annotations

import re
import shlex
import shutil
import uuid

import pytest

from tests.integration.helpers import (
    IMS_TOKEN,
    LOOKUP,
    assert_no_secrets,
    assert_one_sentence,
    doc_policy,
    failed_msg,
    host_result,
    ims_token_requests,
    ims_token_task,
    play,
    seed_credential,
    sha256,
    token_summary_task,
)
from tests.support.ansible_runner import REPO_ROOT
from tests.support.openbao import running_openbao

POLICY = "accs-rotate"  # the guide's policy: read, create, update on secret/data/accs/*
# the names docs/guide.md ("Vault auth methods") uses in its set-up commands, run here as written
KUBERNETES_ROLE = "accs-awx"
NAMESPACE, SERVICE_ACCOUNT = "awx", "accs-jobs"
CERT_ROLE = "accs-hosts"
CERT_NAME = "ops-runner.example.com"  # allowed by the role's allowed_common_names="ops-*.example.com"
USERNAME = "alice"
GUIDE_CLUSTER = "https://api.cluster.example.com:6443"
DEFAULT_SA_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def guide_bao_commands(heading: str) -> list[list[str]]:
    """The ``bao`` commands of the ```` ```sh ```` blocks under ``### <heading>`` in docs/guide.md, as argv lists."""
    guide = (REPO_ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    match = re.search(r"\n### %s\n(.*?)(?=\n##)" % re.escape(heading), guide, re.S)
    assert match, "docs/guide.md has no section %r" % heading
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", match.group(1), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            argv = shlex.split(line, comments=True)
            if "|" in argv:  # printf '%s' "$SECRET" | bao write ... key=-: the test gives the stdin
                argv = argv[len(argv) - argv[::-1].index("|"):]
            if argv[:1] == ["bao"]:
                commands.append(argv[1:])
    assert commands, "no bao command under %r" % heading
    return commands


class AuthVault:
    """The module's OpenBao with userpass, kubernetes and cert set up as docs/guide.md says."""

    def __init__(self, server, emulator, registry, password):
        self.server = server
        self.emulator = emulator
        self.registry = registry
        self.password = password

    def logins(self, mount, since=None):
        """{accessor: what OpenBao knows} of the tokens it issued through ``auth/<mount>/login``, leaving out
        the accessors of ``since`` (an earlier answer)."""
        client = self.server.client()
        found = {}
        for accessor in client.auth.token.list_accessors()["data"]["keys"]:
            if since and accessor in since:
                continue
            data = client.auth.token.lookup_accessor(accessor)["data"]
            if data.get("path", "").startswith("auth/%s/login" % mount):  # userpass adds /<username>
                found[accessor] = data
        return found

    def pod_token(self, tmp_path, name=SERVICE_ACCOUNT, namespace=NAMESPACE):
        """A service account at the emulated cluster and its token in a file, as kubelet mounts it."""
        account = self.emulator.add_service_account(namespace, name)
        path = tmp_path / ("sa-token-" + uuid.uuid4().hex[:8])
        path.write_text(account["token"], encoding="ascii")
        return account, str(path)


@pytest.fixture(scope="module")
def auth_vault(tmp_path_factory, emulator, secret_registry):
    password = "pw-" + uuid.uuid4().hex
    secret_registry.add("userpass password", password)
    files = tmp_path_factory.mktemp("guide-files")  # what the guide's @file arguments name
    with running_openbao(tmp_path_factory.mktemp("openbao-auth"), tls=True) as server:
        try:
            server.write_policy(POLICY, doc_policy(POLICY))
            # kubernetes: Vault's reviewer is a service account bound to system:auth-delegator, the
            # cluster is the emulator's TokenReview API
            reviewer = emulator.add_service_account("vault-auth", "vault-reviewer", reviewer=True)
            (files / "reviewer.jwt").write_text(reviewer["token"], encoding="ascii")
            shutil.copy(emulator.ca_path, files / "cluster-ca.crt")
            (files / "clients-ca.pem").write_text(server.client_ca_pem, encoding="ascii")
            for heading in ("kubernetes (AWX and AAP on Kubernetes or OpenShift)", "cert (TLS client certificate)",
                            "userpass (a person)"):
                for argv in guide_bao_commands(heading):
                    argv = [arg.replace(GUIDE_CLUSTER, emulator.url) for arg in argv]
                    server.bao(*argv, cwd=files, input=password if "password=-" in argv else None)
            yield AuthVault(server, emulator, secret_registry, password)
        finally:
            secret_registry.add_many(server.issued)


def reading_tasks(cred):
    """ims_token reading the cached token, its secret-free summary, and the lookup of the document."""
    return [
        ims_token_task("token", "tok", vault_path=cred.vault_path),
        token_summary_task("summary", "tok"),
        {"name": "lookup", "ansible.builtin.debug": {
            "msg": "{{ lookup('%s', '%s').client_id }}" % (LOOKUP, cred.vault_path)}},
    ]


def refused_tasks(cred):
    return [
        {"name": "token", IMS_TOKEN: {"vault_path": cred.vault_path}, "register": "refused", "ignore_errors": True},
        {"name": "lookup", "ansible.builtin.debug": {"msg": "{{ lookup('%s', '%s') }}" % (LOOKUP, cred.vault_path)},
         "ignore_errors": True},
    ]


def assert_read(result, cred, emulator):
    """The cached token came out of the document (through the login), and the lookup read it too."""
    result.assert_rc(0)
    summary = host_result(result, "summary")["msg"]
    assert summary["has_token"] is True and summary["refreshed"] is False
    assert summary["token_sha256"] == sha256(cred.access_token)
    assert host_result(result, "lookup")["msg"] == cred.client_id
    assert ims_token_requests(emulator, cred.client_id) == []  # the cached token: IMS not asked


def assert_refused(result, expected, secrets):
    """Both the module and the lookup fail with ``expected``, and no secret shows."""
    result.assert_rc(0)
    message = failed_msg(result, "token")
    assert message == expected
    assert_one_sentence(message)
    assert expected in failed_msg(result, "lookup")
    assert_no_secrets(result.stdout + result.stderr + result.log, secrets)


def env_of(auth_vault, **variables):
    """Only what the credential type injects: no VAULT_TOKEN."""
    env = {"VAULT_ADDR": auth_vault.server.url, "VAULT_TOKEN": None, "VAULT_CACERT": None}
    env.update(variables)
    return env


# ------------------------------------------------------------------------------------ userpass
def test_userpass_login_reads_the_document(run_playbook, emulator, auth_vault):
    cred = seed_credential(emulator, auth_vault.server, cache="valid")
    before = auth_vault.logins("userpass")
    result = run_playbook(play(reading_tasks(cred), emulator=emulator), json=True, env=env_of(
        auth_vault, VAULT_AUTH_METHOD="userpass", VAULT_USERNAME=USERNAME, VAULT_PASSWORD=auth_vault.password))
    assert_read(result, cred, emulator)
    logins = list(auth_vault.logins("userpass", since=before).values())
    assert logins and all(login["meta"]["username"] == USERNAME for login in logins)
    assert all(POLICY in login["policies"] for login in logins)
    assert_no_secrets(result.stdout + result.stderr + result.log,
                      [auth_vault.password, cred.access_token, cred.client_secret, cred.refresh_token])


def test_userpass_refused_and_missing_password(run_playbook, emulator, auth_vault):
    cred = seed_credential(emulator, auth_vault.server, cache="valid")
    wrong = "pw-wrong-" + uuid.uuid4().hex
    auth_vault.registry.add("wrong userpass password", wrong)
    result = run_playbook(play(refused_tasks(cred), emulator=emulator), json=True, env=env_of(
        auth_vault, VAULT_AUTH_METHOD="userpass", VAULT_USERNAME=USERNAME, VAULT_PASSWORD=wrong))
    assert_refused(result, "Vault at %s refused the userpass login at auth mount 'userpass': check vault_username and "
                           "vault_password (or VAULT_USERNAME and VAULT_PASSWORD) and the mount (vault_auth_mount)."
                   % auth_vault.server.url, [wrong, auth_vault.password, cred.access_token])
    missing = run_playbook(play(refused_tasks(cred), emulator=emulator), json=True, env=env_of(
        auth_vault, VAULT_AUTH_METHOD="userpass", VAULT_USERNAME=USERNAME, VAULT_PASSWORD=None))
    assert_refused(missing, "The userpass login to Vault needs vault_username and vault_password: set both (or "
                            "VAULT_USERNAME and VAULT_PASSWORD).", [auth_vault.password, cred.access_token])


# ------------------------------------------------------------------------------------ kubernetes
def test_kubernetes_login_with_the_pods_token_reviewed_by_the_cluster(run_playbook, emulator, auth_vault, tmp_path):
    cred = seed_credential(emulator, auth_vault.server, cache="valid")
    account, token_path = auth_vault.pod_token(tmp_path)
    reviews_before = len(emulator.token_reviews())
    before = auth_vault.logins("kubernetes")
    # what docs/awx.md's credential type injects, with the token file where this host keeps it
    result = run_playbook(play(reading_tasks(cred), emulator=emulator), json=True, env=env_of(
        auth_vault, VAULT_AUTH_METHOD="kubernetes", VAULT_KUBERNETES_ROLE=KUBERNETES_ROLE,
        VAULT_KUBERNETES_TOKEN_PATH=token_path))
    assert_read(result, cred, emulator)
    # OpenBao asked the cluster about the pod's token, as its configured reviewer
    reviews = [r for r in emulator.token_reviews()[reviews_before:] if r["reviewed"] == {
        "namespace": NAMESPACE, "name": SERVICE_ACCOUNT, "uid": account["uid"]}]
    assert reviews and all(r["authenticated"] and r["status"] == 201 for r in reviews)
    assert all(r["reviewer"] == "system:serviceaccount:vault-auth:vault-reviewer" for r in reviews)
    logins = list(auth_vault.logins("kubernetes", since=before).values())
    assert logins and all(login["meta"]["service_account_name"] == SERVICE_ACCOUNT
                          and login["meta"]["service_account_namespace"] == NAMESPACE
                          and login["meta"]["role"] == KUBERNETES_ROLE and login["policies"] == [POLICY]
                          for login in logins)
    assert_no_secrets(result.stdout + result.stderr + result.log, [account["token"], cred.access_token])


def test_kubernetes_refused_for_an_unbound_or_deleted_service_account(run_playbook, emulator, auth_vault, tmp_path):
    cred = seed_credential(emulator, auth_vault.server, cache="valid")
    intruder, intruder_path = auth_vault.pod_token(tmp_path, name="intruder-" + uuid.uuid4().hex[:6])
    deleted, deleted_path = auth_vault.pod_token(tmp_path)
    emulator.delete_service_account(token=deleted["token"])
    reviews_before = len(emulator.token_reviews())
    for path in (intruder_path, deleted_path):
        result = run_playbook(play(refused_tasks(cred), emulator=emulator), json=True, env=env_of(
            auth_vault, VAULT_AUTH_METHOD="kubernetes", VAULT_KUBERNETES_ROLE=KUBERNETES_ROLE,
            VAULT_KUBERNETES_TOKEN_PATH=path))
        assert_refused(result, "Vault at %s refused the kubernetes login at auth mount 'kubernetes': check that role "
                               "'accs-awx' (vault_kubernetes_role) binds the service account and namespace of the token in "
                               "%s, and that Vault's TokenReview of it succeeds (auth/kubernetes/config)."
                       % (auth_vault.server.url, path), [intruder["token"], deleted["token"], cred.access_token])
    # the unbound account is refused by the role before any review; the deleted one by the cluster
    reviewed = emulator.token_reviews()[reviews_before:]
    assert reviewed and all(r["authenticated"] is False and r["reviewed"] is None for r in reviewed)


def test_kubernetes_missing_role_or_token_file(run_playbook, emulator, auth_vault, tmp_path):
    cred = seed_credential(emulator, auth_vault.server, cache="valid")
    _account, token_path = auth_vault.pod_token(tmp_path)
    no_role = run_playbook(play(refused_tasks(cred), emulator=emulator), json=True, env=env_of(
        auth_vault, VAULT_AUTH_METHOD="kubernetes", VAULT_KUBERNETES_ROLE=None, VAULT_KUBERNETES_TOKEN_PATH=token_path))
    assert_refused(no_role, "The kubernetes login to Vault needs vault_kubernetes_role (or VAULT_KUBERNETES_ROLE): set "
                            "the Vault role bound to the pod's service account.", [cred.access_token])
    # not in a pod: the default token file is not there
    no_file = run_playbook(play(refused_tasks(cred), emulator=emulator), json=True, env=env_of(
        auth_vault, VAULT_AUTH_METHOD="kubernetes", VAULT_KUBERNETES_ROLE=KUBERNETES_ROLE,
        VAULT_KUBERNETES_TOKEN_PATH=None))
    assert_refused(no_file, "The kubernetes login to Vault reads the service account token from %s "
                            "(vault_kubernetes_token_path), which is not a file: fix vault_kubernetes_token_path or "
                            "create the file." % DEFAULT_SA_TOKEN, [cred.access_token])


# ------------------------------------------------------------------------------------ cert
def test_cert_login_on_the_tls_listener(run_playbook, emulator, auth_vault):
    cred = seed_credential(emulator, auth_vault.server, cache="valid")
    client = auth_vault.server.client_cert(CERT_NAME)
    before = auth_vault.logins("cert")
    result = run_playbook(play(reading_tasks(cred), emulator=emulator), json=True, env=env_of(
        auth_vault, VAULT_ADDR=auth_vault.server.tls_url, VAULT_CACERT=auth_vault.server.ca_path,
        VAULT_AUTH_METHOD="cert", VAULT_CLIENT_CERT=client.cert_path, VAULT_CLIENT_KEY=client.key_path,
        VAULT_CERT_ROLE=CERT_ROLE))
    assert_read(result, cred, emulator)
    logins = list(auth_vault.logins("cert", since=before).values())
    assert logins and all(login["meta"]["cert_name"] == CERT_ROLE and login["meta"]["common_name"] == CERT_NAME
                          for login in logins)
    assert_no_secrets(result.stdout + result.stderr + result.log, [client.key_pem, cred.access_token])


def test_cert_refused_for_a_foreign_ca_and_missing_certificate(run_playbook, emulator, auth_vault):
    cred = seed_credential(emulator, auth_vault.server, cache="valid")
    foreign = auth_vault.server.client_cert("ops-stranger.example.com", trusted=False)
    tls = dict(VAULT_ADDR=auth_vault.server.tls_url, VAULT_CACERT=auth_vault.server.ca_path, VAULT_AUTH_METHOD="cert")
    result = run_playbook(play(refused_tasks(cred), emulator=emulator), json=True, env=env_of(
        auth_vault, VAULT_CLIENT_CERT=foreign.cert_path, VAULT_CLIENT_KEY=foreign.key_path, **tls))
    assert_refused(result, "Vault at %s refused the cert login at auth mount 'cert': check that a certificate role at "
                           "that mount trusts the CA of vault_client_cert (and that vault_cert_role, when set, names "
                           "such a role) and the mount (vault_auth_mount)." % auth_vault.server.tls_url,
                   [foreign.key_pem, cred.access_token])
    # the key of another certificate: the TLS handshake cannot even start
    other = auth_vault.server.client_cert(CERT_NAME)
    mismatched = run_playbook(play(refused_tasks(cred), emulator=emulator), json=True, env=env_of(
        auth_vault, VAULT_CLIENT_CERT=foreign.cert_path, VAULT_CLIENT_KEY=other.key_path, **tls))
    assert_refused(mismatched, "The TLS handshake of the cert login to Vault at %s failed: check that vault_client_key "
                               "is the key of vault_client_cert (both PEM) and that vault_ca_cert (or VAULT_CACERT) "
                               "verifies Vault's certificate." % auth_vault.server.tls_url,
                   [other.key_pem, foreign.key_pem, cred.access_token])
    missing = run_playbook(play(refused_tasks(cred), emulator=emulator), json=True, env=env_of(
        auth_vault, VAULT_CLIENT_CERT=None, VAULT_CLIENT_KEY=None, **tls))
    assert_refused(missing, "The cert login to Vault needs vault_client_cert (or VAULT_CLIENT_CERT), the PEM client "
                            "certificate, and vault_client_key (or VAULT_CLIENT_KEY) unless its key is in that file.",
                   [cred.access_token])


# ------------------------------------------------------------------------------------ token file, skip verify
def test_token_file_and_vault_skip_verify(run_playbook, emulator, auth_vault, tmp_path):
    server = auth_vault.server
    cred = seed_credential(emulator, server, cache="valid")
    token_file = tmp_path / "ops-vault-token"
    token_file.write_text(server.create_token([POLICY], no_default_policy=True) + "\n", encoding="ascii")
    base = dict(VAULT_ADDR=server.tls_url, VAULT_TOKEN_FILE=str(token_file))
    # VAULT_SKIP_VERIFY=true: no CA given, yet the TLS listener is read, and the module and the lookup
    # each warn (run apart: Ansible shows a repeated warning once)
    tasks = reading_tasks(cred)
    warning = ("[WARNING]: TLS certificate verification of Vault is off (vault_validate_certs: false): turn it back on "
               "and set vault_ca_cert instead.")
    for label, part in (("module", tasks[:2]), ("lookup", tasks[2:])):
        skipped = run_playbook(play(part, emulator=emulator), json=True,
                               env=env_of(auth_vault, VAULT_SKIP_VERIFY="true", **base))
        skipped.assert_rc(0)
        assert warning in skipped.stderr, label
        if label == "module":
            assert host_result(skipped, "summary")["msg"]["token_sha256"] == sha256(cred.access_token)
        else:
            assert host_result(skipped, "lookup")["msg"] == cred.client_id
    # VAULT_SKIP_VERIFY=false: verification stays on, and without the CA it fails
    verified = run_playbook(play(refused_tasks(cred), emulator=emulator), json=True,
                            env=env_of(auth_vault, VAULT_SKIP_VERIFY="false", **base))
    assert_refused(verified, "TLS verification of Vault at %s failed: give its CA with vault_ca_cert (or "
                             "VAULT_CACERT)." % server.tls_url, [token_file.read_text().strip(), cred.access_token])
    # a named token file that is not there
    gone = run_playbook(play(refused_tasks(cred), emulator=emulator), json=True, env=env_of(
        auth_vault, VAULT_ADDR=server.url, VAULT_TOKEN_FILE=str(tmp_path / "gone")))
    assert_refused(gone, "The token login to Vault reads the Vault token from %s (vault_token_file), which is not a "
                         "file: fix vault_token_file or create the file." % (tmp_path / "gone"), [cred.access_token])
