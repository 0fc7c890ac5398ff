"""TokenManager's decisions: reuse, refresh, write-back, concurrency, recovery.

The code under test is the real TokenManager over the real ImsClient and HttpClient; IMS is
answered by the ``responses`` library, and Vault by ``FakeVaultStore``, an in-memory KV v2
double with versions and check-and-set.  A fake clock drives expiry and the waits.
"""

from __future__ import annotations

import json
import os
from urllib.parse import parse_qs

import pytest
import responses

from ansible_collections.adobe_commerce.accs.plugins.module_utils import _token_manager as tm
from ansible_collections.adobe_commerce.accs.plugins.module_utils._credential import format_time, parse_time
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import (
    InvalidGrantError,
    VaultAccessError,
    VaultConflictError,
    VaultError,
    VaultPathError,
    VaultUnavailableError,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._http import HttpClient, RetryPolicy
from ansible_collections.adobe_commerce.accs.plugins.module_utils._ims import ImsClient
from ansible_collections.adobe_commerce.accs.plugins.module_utils._token_manager import (
    TokenManager,
    TokenRequest,
)

IMS = "https://ims.test"
TOKEN_URL = IMS + "/ims/token/v3"
PATH = "accs/prod"
NOW = 1_800_000_000.0


# --------------------------------------------------------------------------- doubles
class Clock:
    """Fake time: ``sleep`` advances it and is recorded."""

    def __init__(self, now=NOW):
        self.now = now
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class FakeSettings:
    def __init__(self, url="https://vault.test:8200"):
        self.url = url


class FakeVaultStore:
    """In-memory KV v2: every write makes a version; ``cas`` must equal the current version (0: absent).

    Hooks let a test play the other writer: ``before_read(store, path, n)`` and
    ``before_write(store, path, n)`` run before the n-th (1-based) read / write attempt.
    ``write_errors`` are raised, in order, by the next write attempts.
    """

    def __init__(self, url="https://vault.test:8200", mount="secret"):
        self.settings = FakeSettings(url)
        self.mount = mount
        self.versions = {}
        self.read_count = 0
        self.write_attempts = []
        self.write_errors = []
        self.before_read = None
        self.before_write = None

    def describe(self, path):
        return "'%s/%s' in Vault at %s" % (self.mount, path, self.settings.url)

    def identity(self):
        return ("fake-vault", self.settings.url, id(self))

    def put(self, path, document):
        self.versions.setdefault(path, []).append(dict(document))
        return len(self.versions[path])

    def current(self, path):
        versions = self.versions.get(path) or [None]
        return versions[-1], len(self.versions.get(path) or [])

    def read(self, path):
        self.read_count += 1
        if self.before_read:
            self.before_read(self, path, self.read_count)
        document, version = self.current(path)
        if document is None:
            raise VaultPathError("No credential at %s." % self.describe(path))
        return dict(document), version

    def write(self, path, document, cas):
        self.write_attempts.append((path, dict(document), cas))
        if self.before_write:
            self.before_write(self, path, len(self.write_attempts))
        if self.write_errors:
            raise self.write_errors.pop(0)
        _doc, version = self.current(path)
        if cas != version:
            raise VaultConflictError("Another writer changed %s first (check-and-set)." % self.describe(path))
        return self.put(path, document)


class Ims:
    """Scripted IMS token endpoint: each call takes the next answer; requests are recorded (form, headers)."""

    def __init__(self, mock):
        self.mock = mock
        self.answers = []
        self.calls = []
        self.on_call = None
        mock.add_callback(responses.POST, TOKEN_URL, callback=self._answer)

    def _answer(self, request):
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        self.calls.append({"form": form, "headers": dict(request.headers)})
        if self.on_call:
            self.on_call(len(self.calls), form)
        if not self.answers:
            raise AssertionError("unexpected IMS call %d: %r" % (len(self.calls), form.get("grant_type")))
        status, body = self.answers.pop(0)
        return status, {"Content-Type": "application/json", "x-debug-id": "dbg-%d" % len(self.calls)}, json.dumps(body)

    def issue(self, access="at-new", refresh="rt-new", expires_in=86399):
        body = {"access_token": access, "token_type": "bearer", "expires_in": expires_in}
        if refresh:
            body["refresh_token"] = refresh
        self.answers.append((200, body))

    def error(self, error, description="emulated", status=400):
        self.answers.append((status, {"error": error, "error_description": description}))

    def grants(self):
        return [c["form"].get("grant_type") for c in self.calls]


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    tm._DOCUMENTS.clear()
    yield
    tm._DOCUMENTS.clear()


@pytest.fixture
def ims():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield Ims(mock)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store():
    return FakeVaultStore()


def manager(store, clock, tmp_path, check_mode=False, rotation_wait=3.0):
    http = HttpClient(timeout=5, policy=RetryPolicy(retries=0, sleep=clock.sleep))
    return TokenManager(ImsClient(http, IMS), store, check_mode=check_mode, recovery_dir=str(tmp_path / "recovery"),
                        clock=clock, sleep=clock.sleep, rotation_wait=rotation_wait, lock_dir=str(tmp_path / "locks"))


def document(clock, ttl=None, access="at-cached", refresh="rt-old", **extra):
    doc = {"client_id": "cid", "client_secret": "cs-1", "scopes": "openid,offline_access,commerce.accs",
           "org_id": "ORG@AdobeOrg"}
    if refresh:
        doc["refresh_token"] = refresh
    if ttl is not None:
        doc["access_token"] = access
        doc["access_token_expires_at"] = format_time(clock.now + ttl)
    doc.update(extra)
    return doc


def request(**options):
    options.setdefault("vault_path", PATH)
    return TokenRequest(**options)


# --------------------------------------------------------------------------- cache
@pytest.mark.parametrize("remaining,min_ttl,refresh", [
    (600, 600, False),    # exactly min_ttl left: still reused
    (601, 600, False),
    (599, 600, True),     # one second short: refreshed
    (30, 0, False),       # min_ttl 0: any unexpired token
    (-1, 0, True),        # expired
    (86000, 86399, True),
])
def test_cache_reuse_against_min_ttl(store, clock, ims, tmp_path, remaining, min_ttl, refresh):
    store.put(PATH, document(clock, ttl=remaining))
    ims.issue()
    result = manager(store, clock, tmp_path).token(request(min_ttl=min_ttl))
    if refresh:
        assert ims.grants() == ["refresh_token"]
        assert (result.access_token, result.refreshed, result.changed) == ("at-new", True, True)
        assert store.current(PATH)[1] == 2
    else:
        assert ims.calls == [] and store.write_attempts == []
        assert (result.access_token, result.refreshed, result.changed) == ("at-cached", False, False)
        assert result.expires_at == clock.now + remaining


def test_document_without_expiry_is_not_reused(store, clock, ims, tmp_path):
    doc = document(clock, ttl=3600)
    doc["access_token_expires_at"] = "tomorrow"
    store.put(PATH, doc)
    ims.issue()
    assert manager(store, clock, tmp_path).token(request()).access_token == "at-new"


def test_force_refresh_ignores_a_valid_cache(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=80000))
    ims.issue(access="at-forced", refresh="rt-forced")
    result = manager(store, clock, tmp_path).token(request(force_refresh=True))
    assert result.access_token == "at-forced" and result.refreshed and result.changed
    assert ims.calls[0]["form"]["refresh_token"] == "rt-old"
    doc, version = store.current(PATH)
    assert version == 2 and doc["refresh_token"] == "rt-forced" and doc["access_token"] == "at-forced"


def test_rotation_is_written_with_check_and_set_on_the_version_read(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=10))
    store.put(PATH, document(clock, ttl=10))  # version 2
    ims.issue(access="at-2", refresh="rt-2", expires_in=3600)
    manager(store, clock, tmp_path).token(request())
    (_path, written, cas), = store.write_attempts
    assert cas == 2
    assert written["access_token"] == "at-2" and written["refresh_token"] == "rt-2"
    assert written["access_token_expires_at"] == format_time(NOW + 3600)
    assert written["refresh_token_issued_at"] == format_time(NOW)
    assert {k: written[k] for k in ("client_id", "client_secret", "scopes", "org_id")} == {
        "client_id": "cid", "client_secret": "cs-1", "scopes": "openid,offline_access,commerce.accs",
        "org_id": "ORG@AdobeOrg"}


@pytest.mark.parametrize("age,max_age,refresh", [
    (100, 3600, False),
    (3599, 3600, False),
    (3600, 3600, True),
    (86400, 3600, True),
    (None, 3600, True),   # unknown age: rotate
])
def test_refresh_token_max_age(store, clock, ims, tmp_path, age, max_age, refresh):
    extra = {} if age is None else {"refresh_token_issued_at": format_time(clock.now - age)}
    store.put(PATH, document(clock, ttl=80000, **extra))
    ims.issue()
    result = manager(store, clock, tmp_path).token(request(refresh_token_max_age=max_age))
    assert result.refreshed is refresh
    assert len(ims.calls) == (1 if refresh else 0)


def test_refresh_token_max_age_does_not_apply_to_client_credentials(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=80000, refresh=None, grant_type="client_credentials"))
    result = manager(store, clock, tmp_path).token(request(refresh_token_max_age=1))
    assert result.refreshed is False and ims.calls == []


def test_token_rejected_by_accs_forces_a_renewal(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=80000))
    ims.issue(access="at-renewed")
    mgr = manager(store, clock, tmp_path)
    assert mgr.token(request()).access_token == "at-cached"
    reads = store.read_count
    result = mgr.token(request(), rejected="at-cached")
    assert result.access_token == "at-renewed" and result.refreshed
    assert store.read_count == reads + 1  # re-read, not the process cache


def test_process_cache_reads_vault_once(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=80000))
    mgr = manager(store, clock, tmp_path)
    for call_no in range(5):
        assert mgr.token(request()).access_token == "at-cached"
    assert store.read_count == 1


# --------------------------------------------------------------------------- concurrency
def test_invalid_grant_adopts_the_winners_rotation(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=-5))
    winner = document(clock, ttl=86000, access="at-winner", refresh="rt-winner")

    # the winner's write lands in Vault a moment after our refresh was refused
    def publish(s, path, n):
        if n == 3:
            s.put(path, winner)

    store.before_read = publish
    ims.error("invalid_grant", "refresh token is used")
    result = manager(store, clock, tmp_path).token(request())
    assert (result.access_token, result.refreshed, result.changed, result.source) == (
        "at-winner", False, False, "concurrent_refresh")
    assert store.write_attempts == []
    assert store.current(PATH) == (winner, 2)
    assert ims.grants() == ["refresh_token"]
    assert clock.sleeps and sum(clock.sleeps) < 3.0  # it waited, within rotation_wait


def test_invalid_grant_then_winners_token_is_too_short_lived_refreshes_with_the_winners_refresh_token(
        store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=-5))
    ims.on_call = lambda n, form: n == 1 and store.put(PATH, document(clock, ttl=60, access="at-w", refresh="rt-w"))
    ims.error("invalid_grant")
    ims.issue(access="at-mine", refresh="rt-mine")
    result = manager(store, clock, tmp_path).token(request())
    assert [c["form"]["refresh_token"] for c in ims.calls] == ["rt-old", "rt-w"]
    assert result.access_token == "at-mine" and result.changed
    (_p, written, cas), = store.write_attempts
    assert cas == 2 and written["refresh_token"] == "rt-mine"


def test_invalid_grant_without_rotation_fails_with_the_bootstrap_sentence(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=-5))
    ims.error("invalid_grant", "refresh token is revoked")
    with pytest.raises(InvalidGrantError) as info:
        manager(store, clock, tmp_path, rotation_wait=2.0).token(request())
    assert info.value.message == (
        "IMS refused the refresh token stored at 'secret/accs/prod' in Vault at https://vault.test:8200 "
        "(invalid_grant: refresh token is revoked; HTTP 400, x-debug-id dbg-1): it expired (refresh tokens last about 14 days), was revoked, "
        "or was used by a tool that did not store the rotated one; run playbooks/bootstrap_refresh_token.yml to "
        "store a new one.")
    assert "rt-old" not in info.value.message
    assert 2.0 <= sum(clock.sleeps) <= 2.6 and store.write_attempts == []
    assert len(ims.calls) == 1


def test_invalid_grant_on_client_credentials_is_not_waited_for(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, refresh=None, grant_type="client_credentials"))
    ims.error("invalid_grant")
    with pytest.raises(InvalidGrantError):
        manager(store, clock, tmp_path).token(request())
    assert clock.sleeps == []


def test_cas_loss_to_a_different_refresh_token_returns_the_winners_cache(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=-5))
    winner = document(clock, ttl=86000, access="at-w", refresh="rt-w")
    store.before_write = lambda s, path, n: n == 1 and s.put(path, winner)
    ims.issue(access="at-mine", refresh="rt-mine")
    result = manager(store, clock, tmp_path).token(request())
    assert (result.access_token, result.changed, result.source) == ("at-w", False, "concurrent_refresh")
    assert store.current(PATH) == (winner, 2)  # the winner's document stays
    assert len(store.write_attempts) == 1


def test_cas_loss_to_a_different_refresh_token_with_expiring_cache_returns_our_token(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=-5))
    winner = document(clock, ttl=30, access="at-w", refresh="rt-w")
    store.before_write = lambda s, path, n: n == 1 and s.put(path, winner)
    ims.issue(access="at-mine", refresh="rt-mine")
    result = manager(store, clock, tmp_path).token(request())
    assert (result.access_token, result.refreshed, result.changed) == ("at-mine", True, False)
    assert store.current(PATH) == (winner, 2)


def test_cas_loss_to_an_unrelated_change_retries_the_write_on_the_new_version(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=-5))
    changed = dict(document(clock, ttl=-5), org_id="NEWORG@AdobeOrg")
    store.before_write = lambda s, path, n: n == 1 and s.put(path, changed)
    ims.issue(access="at-mine", refresh="rt-mine")
    result = manager(store, clock, tmp_path).token(request())
    assert result.access_token == "at-mine" and result.changed
    assert [cas for _p, _d, cas in store.write_attempts] == [1, 2]
    doc, version = store.current(PATH)
    assert version == 3 and doc["org_id"] == "NEWORG@AdobeOrg" and doc["refresh_token"] == "rt-mine"


def test_cas_lost_twice_saves_the_rotated_token_to_the_recovery_file(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=-5))
    store.before_write = lambda s, path, n: s.put(path, dict(s.current(path)[0], org_id="ORG%d" % n))
    ims.issue(access="at-mine", refresh="rt-mine")
    mgr = manager(store, clock, tmp_path)
    with pytest.raises(VaultError) as info:
        mgr.token(request())
    target = mgr.recovery_file(PATH)
    assert info.value.details["recovery_file"] == target
    assert "concurrent writers kept changing it" in info.value.message and target in info.value.message
    assert "rt-mine" not in info.value.message
    assert json.loads(open(target).read())["refresh_token"] == "rt-mine"


def test_cas_lost_twice_on_client_credentials_returns_the_token_and_warns_it_was_not_cached(
        store, clock, ims, tmp_path):
    """Issue 13, defect 5: nothing to recover, so no recovery file, and the valid token is not thrown away."""
    store.put(PATH, document(clock, ttl=-5, refresh=None, grant_type="client_credentials"))
    store.before_write = lambda s, path, n: s.put(path, dict(s.current(path)[0], org_id="ORG%d" % n))
    ims.issue(access="at-s2s", refresh=None)
    warnings = []
    mgr = TokenManager(ImsClient(HttpClient(timeout=5, policy=RetryPolicy(retries=0, sleep=clock.sleep)), IMS), store,
                       recovery_dir=str(tmp_path / "recovery"), clock=clock, sleep=clock.sleep, warnings=warnings)
    result = mgr.token(request())
    assert result.access_token == "at-s2s" and result.refreshed and result.changed
    assert [cas for _p, _d, cas in store.write_attempts] == [1, 2]
    assert store.current(PATH)[0].get("access_token") == "at-cached"  # the others' writes stay
    assert not os.path.exists(str(tmp_path / "recovery"))
    assert warnings == [
        "IMS issued a new access token for 'secret/accs/prod' in Vault at https://vault.test:8200 but it was not "
        "cached there, as concurrent writers kept changing the document: the next run asks IMS for another one."]


# --------------------------------------------------------------------------- recovery file names
def test_recovery_files_of_paths_that_sanitise_alike_do_not_collide(store, clock, ims, tmp_path):
    """Issue 13, defect 6: accs/prod and accs_prod each keep their own recovery file."""
    store.put("accs/prod", document(clock, ttl=-5, refresh="rt-old-a"))
    store.put("accs_prod", document(clock, ttl=-5, refresh="rt-old-b"))
    down = VaultUnavailableError("Vault at https://vault.test:8200 is sealed.")
    mgr = manager(store, clock, tmp_path)
    for path, rotated in (("accs/prod", "rt-saved-a"), ("accs_prod", "rt-saved-b")):
        store.write_errors = [down] * 3
        ims.issue(refresh=rotated)
        with pytest.raises(VaultError):
            mgr.token(request(vault_path=path))
        tm._DOCUMENTS.clear()
    assert mgr.recovery_file("accs/prod") != mgr.recovery_file("accs_prod")
    assert sorted(os.listdir(mgr.recovery_dir)) == sorted(
        os.path.basename(mgr.recovery_file(p)) for p in ("accs/prod", "accs_prod"))
    record = json.loads(open(mgr.recovery_file("accs/prod")).read())
    assert record["vault_path"] == "accs/prod" and record["refresh_token"] == "rt-saved-a"

    # Vault writable again: each credential's next run uses its own saved token, and drops only its file
    ims.issue(refresh="rt-next-a")
    mgr.token(request(vault_path="accs/prod"))
    assert ims.calls[-1]["form"]["refresh_token"] == "rt-saved-a"
    assert os.listdir(mgr.recovery_dir) == [os.path.basename(mgr.recovery_file("accs_prod"))]
    ims.issue(refresh="rt-next-b")
    mgr.token(request(vault_path="accs_prod"))
    assert ims.calls[-1]["form"]["refresh_token"] == "rt-saved-b"
    assert os.listdir(mgr.recovery_dir) == []


def test_recovery_file_of_the_earlier_naming_is_still_used_when_it_names_the_path(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=-5))
    mgr = manager(store, clock, tmp_path)
    os.makedirs(mgr.recovery_dir)
    legacy = os.path.join(mgr.recovery_dir, "https_vault.test_8200_secret_accs_prod.json")
    other = {"vault_url": "https://vault.test:8200", "vault_mount": "secret", "vault_path": "accs_prod",
             "refresh_token": "rt-of-another-path", "replaces_sha256": tm._fingerprint("rt-old")}
    with open(legacy, "w") as handle:
        json.dump(other, handle)
    ims.issue(refresh="rt-1")
    mgr.token(request())
    assert ims.calls[-1]["form"]["refresh_token"] == "rt-old"  # the file names another path: not used, kept
    assert os.path.exists(legacy)
    tm._DOCUMENTS.clear()
    store.put(PATH, document(clock, ttl=-5, refresh="rt-stale"))
    with open(legacy, "w") as handle:
        json.dump(dict(other, vault_path=PATH, refresh_token="rt-legacy", replaces_sha256=tm._fingerprint("rt-stale")),
                  handle)
    ims.issue(refresh="rt-2")
    mgr.token(request())
    assert ims.calls[-1]["form"]["refresh_token"] == "rt-legacy"
    assert not os.path.exists(legacy)


# --------------------------------------------------------------------------- Vault write failures
def test_vault_unavailable_on_write_keeps_the_rotated_token_in_a_0600_file_and_the_next_run_stores_it(
        store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=-5))
    down = VaultUnavailableError("Vault at https://vault.test:8200 is sealed.")
    store.write_errors = [down, down, down]
    ims.issue(access="at-1", refresh="rt-rotated")
    mgr = manager(store, clock, tmp_path)
    with pytest.raises(VaultError) as info:
        mgr.token(request())
    target = mgr.recovery_file(PATH)
    assert len(store.write_attempts) == tm.WRITE_ATTEMPTS
    assert info.value.message == (
        "IMS issued a new refresh token for 'secret/accs/prod' in Vault at https://vault.test:8200 but storing it "
        "failed (Vault was unreachable or sealed); it is saved in %s (mode 0600), and the next run stores it in "
        "Vault by itself once Vault accepts writes again." % target)
    assert os.path.dirname(target) == str(tmp_path / "recovery")
    assert (os.stat(target).st_mode & 0o777) == 0o600
    assert (os.stat(str(tmp_path / "recovery")).st_mode & 0o777) == 0o700
    record = json.loads(open(target).read())
    assert record["refresh_token"] == "rt-rotated" and record["vault_path"] == PATH
    assert record["replaces_sha256"] == tm._fingerprint("rt-old")
    assert store.current(PATH)[1] == 1  # Vault never got it

    # next run, Vault is back: the saved token is used (the stored one is spent) and the file removed
    tm._DOCUMENTS.clear()
    ims.issue(access="at-2", refresh="rt-after")
    result = manager(store, clock, tmp_path).token(request())
    assert ims.calls[1]["form"]["refresh_token"] == "rt-rotated"
    assert result.access_token == "at-2"
    doc, version = store.current(PATH)
    assert version == 2 and doc["refresh_token"] == "rt-after"
    assert not os.path.exists(target)


def test_recovered_token_that_again_cannot_be_stored_stays_recoverable(store, clock, ims, tmp_path):
    # Vault refuses two rotations in a row: the second recovery file must still name the token Vault
    # holds (the spent rt-old), not the recovered one it used, or the third run would ignore it.
    store.put(PATH, document(clock, ttl=-5))
    down = VaultUnavailableError("Vault at https://vault.test:8200 is sealed.")
    store.write_errors = [down] * tm.WRITE_ATTEMPTS
    ims.issue(access="at-1", refresh="rt-first")
    with pytest.raises(VaultError):
        manager(store, clock, tmp_path).token(request())

    tm._DOCUMENTS.clear()
    store.write_errors = [down] * tm.WRITE_ATTEMPTS
    ims.issue(access="at-2", refresh="rt-second")
    mgr = manager(store, clock, tmp_path)
    with pytest.raises(VaultError):
        mgr.token(request())
    assert ims.calls[1]["form"]["refresh_token"] == "rt-first"
    record = json.loads(open(mgr.recovery_file(PATH)).read())
    assert record["refresh_token"] == "rt-second"
    assert record["replaces_sha256"] == tm._fingerprint("rt-old")

    tm._DOCUMENTS.clear()
    ims.issue(access="at-3", refresh="rt-third")
    result = manager(store, clock, tmp_path).token(request())
    assert ims.calls[2]["form"]["refresh_token"] == "rt-second"
    assert result.access_token == "at-3" and store.current(PATH)[0]["refresh_token"] == "rt-third"
    assert not os.path.exists(mgr.recovery_file(PATH))


def test_recovery_file_for_another_refresh_token_is_ignored(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=-5, refresh="rt-newer"))
    mgr = manager(store, clock, tmp_path)
    os.makedirs(mgr.recovery_dir)
    with open(mgr.recovery_file(PATH), "w") as handle:
        json.dump({"refresh_token": "rt-stale", "replaces_sha256": tm._fingerprint("rt-old")}, handle)
    ims.issue()
    mgr.token(request())
    assert ims.calls[0]["form"]["refresh_token"] == "rt-newer"


def test_vault_recovers_within_the_write_retries(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=-5))
    store.write_errors = [VaultUnavailableError("down")]
    ims.issue()
    result = manager(store, clock, tmp_path).token(request())
    assert result.changed and len(store.write_attempts) == 2 and store.current(PATH)[1] == 2
    assert not os.path.exists(str(tmp_path / "recovery"))


def test_vault_denies_the_write_of_a_refresh_token(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=-5))
    store.write_errors = [VaultAccessError("denied")]
    ims.issue(refresh="rt-keep")
    mgr = manager(store, clock, tmp_path)
    with pytest.raises(VaultError) as info:
        mgr.token(request())
    assert len(store.write_attempts) == 1  # access errors are not retried
    assert "(Vault denied the write)" in info.value.message
    assert json.loads(open(mgr.recovery_file(PATH)).read())["refresh_token"] == "rt-keep"


def test_vault_unavailable_for_client_credentials_needs_no_recovery_file(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, refresh=None, grant_type="client_credentials"))
    store.write_errors = [VaultUnavailableError("Vault at https://vault.test:8200 is sealed.")] * 3
    ims.issue(refresh=None)
    with pytest.raises(VaultError) as info:
        manager(store, clock, tmp_path).token(request())
    assert info.value.message == ("IMS issued a new access token for 'secret/accs/prod' in Vault at "
                                  "https://vault.test:8200 but storing it failed: vault at https://vault.test:8200 "
                                  "is sealed.")
    assert not os.path.exists(str(tmp_path / "recovery"))


def test_unwritable_recovery_dir_says_the_credential_must_be_bootstrapped_again(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=-5))
    store.write_errors = [VaultAccessError("denied")]
    blocker = tmp_path / "recovery"
    blocker.write_text("a file where the folder should be")
    ims.issue(refresh="rt-lost")
    with pytest.raises(VaultError) as info:
        manager(store, clock, tmp_path).token(request())
    assert "bootstrap_refresh_token.yml" in info.value.message and "rt-lost" not in info.value.message


# --------------------------------------------------------------------------- check mode, grants
def test_check_mode_returns_a_valid_cache_and_otherwise_reports_a_change_without_calls(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=7200))
    result = manager(store, clock, tmp_path, check_mode=True).token(request())
    assert (result.access_token, result.changed) == ("at-cached", False)
    tm._DOCUMENTS.clear()
    store.put(PATH, document(clock, ttl=-5))
    result = manager(store, clock, tmp_path, check_mode=True).token(request())
    assert (result.access_token, result.changed, result.refreshed) == (None, True, False)
    result = manager(store, clock, tmp_path, check_mode=True).token(
        TokenRequest(grant_type="client_credentials", client_id="cid", client_secret="s", scopes=["openid"]))
    assert (result.access_token, result.changed) == (None, True)
    assert ims.calls == [] and store.write_attempts == []


def test_without_vault_the_rotated_refresh_token_is_returned(store, clock, ims, tmp_path):
    ims.issue(access="at-x", refresh="rt-x", expires_in=100)
    result = manager(None, clock, tmp_path).token(
        TokenRequest(client_id="cid", client_secret="cs", refresh_token="rt-given"))
    assert (result.access_token, result.refresh_token, result.expires_at) == ("at-x", "rt-x", NOW + 100)
    assert ims.calls[0]["form"] == {"grant_type": "refresh_token", "refresh_token": "rt-given"}


def test_authorization_code_creates_the_document_with_cas_zero(store, clock, ims, tmp_path):
    ims.issue(access="at-code", refresh="rt-code")
    result = manager(store, clock, tmp_path).token(request(
        grant_type="authorization_code", client_id="cid", client_secret="cs-new", code="code-1",
        code_verifier="v" * 43, scopes=["openid", "offline_access"]))
    assert result.changed and result.refreshed and result.refresh_token is None
    (_p, written, cas), = store.write_attempts
    assert cas == 0
    assert written["client_id"] == "cid" and written["client_secret"] == "cs-new"
    assert written["scopes"] == "openid,offline_access" and written["grant_type"] == "refresh_token"
    assert written["refresh_token"] == "rt-code" and parse_time(written["refresh_token_issued_at"]) == NOW
    assert ims.calls[0]["form"]["code_verifier"] == "v" * 43


def test_authorization_code_keeps_the_client_fields_of_an_existing_document(store, clock, ims, tmp_path):
    store.put(PATH, {"client_id": "cid", "client_secrets": ["cs-a", "cs-b"], "org_id": "ORG", "scopes": "openid"})
    ims.issue(refresh="rt-code")
    manager(store, clock, tmp_path).token(request(grant_type="authorization_code", code="code-1"))
    doc, version = store.current(PATH)
    assert version == 2
    assert doc["client_secrets"] == ["cs-a", "cs-b"] and "client_secret" not in doc
    assert doc["org_id"] == "ORG" and doc["scopes"] == "openid" and doc["refresh_token"] == "rt-code"
