"""The credential document: validation, client secret order, grant inference, timestamps."""

from __future__ import annotations

import pytest

from ansible_collections.adobe_commerce.accs.plugins.module_utils._credential import (
    Credential,
    format_time,
    parse_time,
    split_scopes,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import ConfigError

WHERE = "'secret/accs/prod' in Vault at https://vault.test"


def cred(doc, overrides=None, require_grant=True):
    return Credential.from_document(doc, WHERE, overrides, require_grant=require_grant)


# --------------------------------------------------------------------------- client secrets
def test_client_secret_order_option_then_document_then_list():
    c = cred({"client_id": "cid", "client_secret": "doc-secret", "client_secrets": ["next-1", "doc-secret", " next-2 "],
              "refresh_token": "rt"}, overrides={"client_secret": "option-secret"})
    assert c.client_secrets == ["option-secret", "doc-secret", "next-1", "next-2"]


def test_client_secrets_list_alone():
    c = cred({"client_id": "cid", "client_secrets": ["a-secret", "b-secret"], "refresh_token": "rt"})
    assert c.client_secrets == ["a-secret", "b-secret"]


@pytest.mark.parametrize("value", ["one-string", [1, 2], {"a": "b"}])
def test_client_secrets_must_be_a_list_of_strings(value):
    with pytest.raises(ConfigError) as info:
        cred({"client_id": "cid", "client_secrets": value, "refresh_token": "rt"})
    assert "client_secrets" in info.value.message and "one-string" not in info.value.message


def test_blank_values_of_options_do_not_override():
    c = cred({"client_id": "cid", "client_secret": "s", "refresh_token": "rt-doc", "scopes": "a,b"},
             overrides={"client_id": "", "refresh_token": None, "scopes": []})
    assert (c.client_id, c.refresh_token, c.scopes) == ("cid", "rt-doc", ["a", "b"])


# --------------------------------------------------------------------------- grant inference and requirements
@pytest.mark.parametrize("doc,grant", [
    ({"client_id": "c", "client_secret": "s", "refresh_token": "rt"}, "refresh_token"),
    ({"client_id": "c", "client_secret": "s", "scopes": "openid", "grant_type": "client_credentials"},
     "client_credentials"),
    ({"client_id": "c", "client_secret": "s", "refresh_token": "rt", "grant_type": "client_credentials",
      "scopes": ["openid"]}, "client_credentials"),
])
def test_grant_inference(doc, grant):
    assert cred(doc).grant_type == grant


@pytest.mark.parametrize("doc,fragment", [
    ({"client_secret": "s", "refresh_token": "rt"}, "has no client_id"),
    ({"client_id": "c"}, "has neither a refresh_token nor a client secret"),
    ({"client_id": "c", "client_secret": "s", "grant_type": "refresh_token"}, "has no refresh_token"),
    ({"client_id": "c", "grant_type": "client_credentials", "scopes": "openid"}, "has no client_secret"),
    ({"client_id": "c", "client_secret": "s", "grant_type": "client_credentials"}, "has no scopes"),
    ({"client_id": "c", "client_secret": "s", "grant_type": "password", "refresh_token": "rt"}, "grant_type 'password'"),
    ({"client_id": 5, "refresh_token": "rt"}, "Key 'client_id'"),
])
def test_invalid_documents(doc, fragment):
    with pytest.raises(ConfigError) as info:
        cred(doc)
    assert fragment in info.value.message and WHERE in info.value.message
    assert info.value.message.endswith(".")


def test_a_stored_secret_without_grant_or_refresh_token_asks_for_the_bootstrap():
    """Issue 19: a user credential stored before its bootstrap is not taken for a server-to-server one."""
    doc = {"client_id": "c", "client_secret": "s", "scopes": "AdobeID,openid,offline_access,commerce.accs"}
    with pytest.raises(ConfigError) as info:
        cred(doc)
    assert info.value.message == (
        "The credential %s has no refresh_token and names no grant_type: run the bootstrap_refresh_token.yml "
        "playbook to store one (user credential), or add grant_type client_credentials (server-to-server "
        "credential)." % WHERE)
    # the same secret given as options (a task without vault_path) still means client_credentials
    given = Credential.from_document({}, "given as options", dict(doc), infer_client_credentials=True)
    assert given.grant_type == "client_credentials"
    # an explicit grant_type, in the document or as the option, is taken as it is
    assert cred(dict(doc, grant_type="client_credentials")).grant_type == "client_credentials"
    assert cred(doc, overrides={"grant_type": "client_credentials"}).grant_type == "client_credentials"
    # the bootstrap reads such a document without a grant
    assert cred(doc, require_grant=False).grant_type is None


def test_not_a_dict():
    with pytest.raises(ConfigError):
        cred(["client_id"])


def test_authorization_code_needs_no_grant_yet():
    c = cred({"client_id": "c"}, require_grant=False)
    assert c.grant_type is None and c.client_secrets == []


# --------------------------------------------------------------------------- cache fields and time
def test_cached_ttl():
    now = 1_800_000_000
    c = cred({"client_id": "c", "client_secret": "s", "refresh_token": "rt", "access_token": "at",
              "access_token_expires_at": format_time(now + 900)})
    assert c.cached_ttl(now) == 900
    assert cred({"client_id": "c", "client_secret": "s", "refresh_token": "rt",
                 "access_token_expires_at": format_time(now + 900)}).cached_ttl(now) is None
    assert cred({"client_id": "c", "client_secret": "s", "refresh_token": "rt", "access_token": "at"}).cached_ttl(now) is None


def test_format_and_parse_time():
    assert format_time(1_800_000_000) == "2027-01-15T08:00:00Z"
    assert format_time(1_800_000_000.9) == "2027-01-15T08:00:00Z"
    assert parse_time("2027-01-15T08:00:00Z") == 1_800_000_000
    assert parse_time("2027-01-15T09:00:00+01:00") == 1_800_000_000
    assert parse_time("2027-01-15T08:00:00.5Z") == 1_800_000_000.5


@pytest.mark.parametrize("value", [None, "", "2027-01-15T08:00:00", "2027-01-15", "tomorrow", 1800000000,
                                   "2027-13-45T08:00:00Z"])
def test_parse_time_refuses_what_it_cannot_place(value):
    assert parse_time(value) is None


def test_split_scopes():
    assert split_scopes("openid, AdobeID commerce.accs,,openid") == ["openid", "AdobeID", "commerce.accs"]
    assert split_scopes(["openid,email", "profile"]) == ["openid", "email", "profile"]
    assert split_scopes(None) == []
    with pytest.raises(ConfigError):
        split_scopes(5)
    with pytest.raises(ConfigError):
        split_scopes(["ok", 5])
