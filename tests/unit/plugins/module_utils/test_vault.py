"""VaultStore over hvac, Vault answered by ``responses``: reads are retried by the retry policy, writes are not."""

from __future__ import annotations

import pytest
import requests
import responses

from ansible_collections.adobe_commerce.accs.plugins.module_utils import _vault
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import (
    ConfigError,
    VaultPathError,
    VaultUnavailableError,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._http import (
    SAFE_METHODS,
    VAULT_READ_STATUSES,
    RetryPolicy,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import VaultOptions

VAULT = "https://vault.test:8200"
DATA = VAULT + "/v1/secret/data/accs/prod"
DOCUMENT = {"data": {"data": {"client_id": "cid"}, "metadata": {"version": 4}}}


@pytest.fixture
def mock():
    _vault._CLIENTS.clear()  # a cached client would keep another test's session
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps
    _vault._CLIENTS.clear()


def options(**given):
    values = dict(vault_url=VAULT, vault_token="hvs.test-token", vault_path="accs/prod")
    values.update(given)
    return VaultOptions.from_params(values.get)


def store(sleeps, retries=3):
    policy = RetryPolicy(retries=retries, statuses=VAULT_READ_STATUSES, methods=SAFE_METHODS, sleep=sleeps)
    return _vault.VaultStore(options(), read_policy=policy)


def test_options_take_the_spec_defaults():
    settings = options()
    assert (settings.auth_method, settings.mount, settings.validate_certs, settings.timeout) == ("token", "secret", True, 30)
    assert options(vault_mount="").mount == "secret"  # empty counts as not given, as `mount or "secret"` did


def test_options_are_checked_and_normalised():
    checked = _vault.validated(options(vault_url=VAULT + "/", vault_mount="/kv/"))
    assert (checked.url, checked.mount) == (VAULT, "kv")
    with pytest.raises(ConfigError):
        _vault.validated(options(vault_url=None))
    with pytest.raises(ConfigError):
        _vault.validated(options(vault_auth_method="approle"))


def test_the_default_read_policy_is_hashi_vaults():
    policy = _vault.read_retry_policy()
    assert policy.statuses == frozenset({412, 429, 500, 502, 503, 504})
    assert policy.methods == frozenset({"GET", "HEAD", "OPTIONS"})


@pytest.mark.parametrize("status", sorted(VAULT_READ_STATUSES))
def test_a_read_is_retried_on_a_transient_status(mock, sleeps, status):
    mock.add(responses.GET, DATA, status=status, json={"errors": []})
    mock.add(responses.GET, DATA, status=200, json=DOCUMENT)
    assert store(sleeps).read("accs/prod") == ({"client_id": "cid"}, 4)
    assert len(mock.calls) == 2 and len(sleeps) == 1


def test_a_read_is_retried_after_a_connection_error_then_reported(mock, sleeps):
    for _attempt in range(3):
        mock.add(responses.GET, DATA, body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(VaultUnavailableError) as info:
        store(sleeps, retries=2).read("accs/prod")
    assert info.value.message.startswith("Cannot reach Vault at https://vault.test:8200 to read 'secret/accs/prod'")
    assert len(mock.calls) == 3 and len(sleeps) == 2


def test_a_sealed_vault_is_reported_once_the_retries_are_spent(mock, sleeps):
    for _attempt in range(2):
        mock.add(responses.GET, DATA, status=503, json={"errors": ["Vault is sealed"]})
    with pytest.raises(VaultUnavailableError) as info:
        store(sleeps, retries=1).read("accs/prod")
    assert "sealed" in info.value.message and len(mock.calls) == 2


def test_retry_after_on_a_read_is_honoured(mock, sleeps):
    mock.add(responses.GET, DATA, status=429, headers={"Retry-After": "3"}, json={"errors": []})
    mock.add(responses.GET, DATA, status=200, json=DOCUMENT)
    store(sleeps).read("accs/prod")
    assert sleeps == [3.0]


def test_a_missing_secret_is_not_retried(mock, sleeps):
    mock.add(responses.GET, DATA, status=404, json={"errors": []})
    mock.add(responses.GET, VAULT + "/v1/sys/internal/ui/mounts/secret/accs/prod", status=404, json={"errors": []})
    mock.add(responses.GET, VAULT + "/v1/secret/metadata/accs/prod", status=404, json={"errors": []})
    with pytest.raises(VaultPathError):
        store(sleeps).read("accs/prod")
    assert sleeps == [] and [call.request.url for call in mock.calls].count(DATA) == 1


def test_a_write_is_sent_once_whatever_vault_answers(mock, sleeps):
    # CAS writes are retried by the token manager (write_retry_policy), which sees the whole rotation
    mock.add(responses.POST, DATA, status=503, json={"errors": ["sealed"]})
    with pytest.raises(VaultUnavailableError):
        store(sleeps).write("accs/prod", {"client_id": "cid"}, cas=4)
    assert len(mock.calls) == 1 and sleeps == []


def test_the_tls_setting_reaches_hvacs_session(mock, sleeps, tmp_path):
    ca = str(tmp_path / "ca.pem")
    settings = options(vault_ca_cert=ca)
    client = _vault.VaultStore(settings)._client()
    assert client.adapter._kwargs["verify"] == ca and client.adapter.session.verify == ca
