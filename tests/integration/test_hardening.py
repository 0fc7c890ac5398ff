"""Issue 13's defects, each pinned by what IMS, ACCS (the emulator) and OpenBao received and hold.

Every test seeds its own client and Vault document (helpers.seed_credential), so nothing here
resets the emulator.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.integration.helpers import (
    ACCS_REST,
    S2S_SCOPES,
    accs_requests,
    add_client,
    ims_token_requests,
    ims_token_task,
    play,
    seed_credential,
    sha256,
    summary,
    token_summary_task,
)


# --------------------------------------------------------------------------- defect 1: .netrc
def test_netrc_never_replaces_our_credentials(run_playbook, emulator, openbao, tmp_path, secret_registry):
    """A ~/.netrc entry for the emulator's host and a default entry: IMS, ACCS and Vault still get ours."""
    netrc_password = "netrc-password-must-never-travel"
    secret_registry.add("netrc password", netrc_password)
    host = urlsplit(emulator.url).hostname
    netrc = tmp_path / "netrc"
    netrc.write_text("machine %s login netrc-user password %s\ndefault login netrc-default password %s\n"
                     % (host, netrc_password, netrc_password), encoding="utf-8")
    netrc.chmod(0o600)
    cred = seed_credential(emulator, openbao, cache="valid")
    plain_id, plain_secrets = add_client(emulator, grants=["client_credentials"], scopes=S2S_SCOPES)
    tasks = [
        ims_token_task("refresh", "refreshed", vault_path=cred.vault_path, force_refresh=True),
        token_summary_task("refresh summary", "refreshed"),
        {"name": "read ACCS", ACCS_REST: {"base_url": cred.base_url, "path": "/V1/store/storeConfigs",
                                          "vault_path": cred.vault_path}, "register": "answer"},
        ims_token_task("client credentials", "s2s", grant_type="client_credentials", client_id=plain_id,
                       client_secret="{{ plain_secret }}", scopes=S2S_SCOPES),
        token_summary_task("client credentials summary", "s2s"),
    ]
    result = run_playbook(play(tasks, emulator), extra_vars={"plain_secret": plain_secrets[0]}, json=True,
                          env={"NETRC": str(netrc)}).assert_rc(0)

    # IMS saw our Basic client credentials, and only ours
    calls = ims_token_requests(emulator, cred.client_id)
    assert [(c["grant_type"], c["status"], c["client_auth"]) for c in calls] == [("refresh_token", 200, "basic")]
    assert [(c["grant_type"], c["status"]) for c in ims_token_requests(emulator, plain_id)] == [
        ("client_credentials", 200)]
    assert ims_token_requests(emulator, "netrc-user") == [] and ims_token_requests(emulator, "netrc-default") == []
    # ACCS got the bearer token IMS issued, which OpenBao holds
    document, version = cred.read(openbao)
    assert version == cred.version + 1
    assert sha256(document["access_token"]) == summary(result, "refresh summary")["token_sha256"]
    records = accs_requests(emulator, cred.tenant)
    assert [(r["status"], r["authorization_scheme"]) for r in records] == [(200, "Bearer")]
    assert summary(result, "client credentials summary")["has_token"] is True
