"""One refresh per credential among the runs on one host (issue 13, found with django-oauth-toolkit).

A server with refresh-token reuse protection revokes the whole token family when a rotated-out
refresh token is used again, so runs that all send the same refresh token and let the losers
adopt the winner's would leave Vault holding a revoked token.  The token manager holds a
per-credential file lock around a refresh; a run that waited re-reads the document the holder
stored instead of asking IMS again.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time

from tests.unit.plugins.module_utils import test_token_manager as base
from tests.unit.plugins.module_utils.test_token_manager import PATH, document, manager, request

# the fixtures of test_token_manager, for the tests here
_fresh_process_caches = base._fresh_process_caches
store, clock, ims = base.store, base.clock, base.ims


def test_a_run_that_waited_uses_the_token_another_run_stored(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=-5))
    mgr = manager(store, clock, tmp_path)
    lock_path = mgr.lock_file(PATH)
    os.makedirs(os.path.dirname(lock_path))
    winner = document(clock, ttl=86000, access="at-winner", refresh="rt-winner")
    holder = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)

    def other_run():  # refreshes meanwhile, stores version 2, records it and lets go
        time.sleep(0.3)
        store.put(PATH, winner)
        os.pwrite(holder, b"2", 0)
        fcntl.flock(holder, fcntl.LOCK_UN)
        os.close(holder)

    thread = threading.Thread(target=other_run)
    thread.start()
    started = time.monotonic()
    result = mgr.token(request())
    thread.join()
    assert time.monotonic() - started >= 0.25  # it waited for the holder
    assert (result.access_token, result.refreshed, result.source) == ("at-winner", False, "concurrent_refresh")
    assert ims.calls == [] and store.write_attempts == []


def test_the_holder_records_the_version_it_stored(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=-5))
    ims.issue(access="at-mine", refresh="rt-mine")
    mgr = manager(store, clock, tmp_path)
    result = mgr.token(request())
    assert result.refreshed and store.current(PATH)[1] == 2
    with open(mgr.lock_file(PATH), encoding="ascii") as handle:
        assert handle.read() == "2"
    assert oct(os.stat(mgr.lock_file(PATH)).st_mode & 0o777) == "0o600"
    assert "rt-mine" not in open(mgr.lock_file(PATH)).read()


def test_a_stale_record_does_not_cancel_a_forced_refresh(store, clock, ims, tmp_path):
    # the document was deleted and written again: its versions start over below the record
    store.put(PATH, document(clock, ttl=80000))
    ims.issue(access="at-forced")
    mgr = manager(store, clock, tmp_path)
    os.makedirs(os.path.dirname(mgr.lock_file(PATH)))
    with open(mgr.lock_file(PATH), "w", encoding="ascii") as handle:
        handle.write("99")
    result = mgr.token(request(force_refresh=True))
    assert result.access_token == "at-forced" and result.refreshed
    assert len(ims.calls) == 1


def test_an_unusable_lock_directory_leaves_the_refresh_unlocked(store, clock, ims, tmp_path):
    store.put(PATH, document(clock, ttl=-5))
    ims.issue(access="at-mine")
    (tmp_path / "locks").write_text("a file where the folder should be")
    result = manager(store, clock, tmp_path).token(request())
    assert result.access_token == "at-mine" and result.refreshed
