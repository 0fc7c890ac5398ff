"""module_utils/_resource.py: the resource engine, over an in-memory declaration of a remote service.

The declaration below stands for a remote API (it holds state, counts calls and can fail or reject
like one); the engine under test is the real one.
"""

from __future__ import annotations

import pytest

from ansible_collections.adobe_commerce.accs.plugins.module_utils import _resource as engine
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import (
    AccsApiError,
    ConfigError,
    TransportError,
)


class Remote(engine.Resource):
    """Key -> value store behind a 'service' that can reject keys and fail writes."""

    noun, nouns, where = "thing", "things", "The test service"

    def __init__(self, held=None, reject=(), fail_writes=(), echo=True, secret_keys=()):
        super().__init__()
        self.held = dict(held or {})
        self.reject = dict(reject) if isinstance(reject, dict) else {k: "not allowed" for k in reject}
        self.fail_writes = list(fail_writes)   # per write call: None, or (exception, applied_first)
        self.echo = echo
        self.secret_keys = set(secret_keys)
        self.writes = []

    def key(self, item):
        return item["name"]

    def identity(self, key):
        return {"name": key}

    def is_sensitive(self, key):
        return key in self.secret_keys

    def read(self, keys):
        self.requests["GET"] += 1
        return dict(self.held)

    def write(self, changes):
        self.requests["PUT"] += 1
        self.writes.append([(c.key, c.action, c.after) for c in changes])
        fault = self.fail_writes.pop(0) if self.fail_writes else None
        outcome = engine.WriteOutcome()
        if fault is not None and not fault[1]:
            raise fault[0]
        for change in changes:
            if change.key in self.reject:
                outcome.rejected[change.key] = self.reject[change.key]
                continue
            if change.action == engine.DELETE:
                self.held.pop(change.key, None)
            else:
                self.held[change.key] = change.after
            if self.echo:
                outcome.applied.append(change.key)
        if fault is not None:
            raise fault[0]  # applied, then the answer was lost
        return outcome


def test_nothing_to_do_reads_once_and_writes_nothing():
    remote = Remote(held={"a": "1", "b": "2"})
    result = engine.converge(remote, {"a": "1", "b": "2"})
    assert result["changed"] is False
    assert result["changes"] == [] and result["unchanged"] == 2 and result["rejected"] == []
    assert result["requests"] == {"GET": 1}
    assert remote.writes == []


def test_writes_only_what_differs_in_one_call():
    remote = Remote(held={"a": "1", "b": "2"})
    result = engine.converge(remote, {"a": "1", "b": "3", "c": "4"})
    assert remote.writes == [[("b", "update", "3"), ("c", "create", "4")]]
    assert result["changed"] is True and result["unchanged"] == 1
    assert result["changes"] == [
        {"name": "b", "action": "updated", "before": "2", "after": "3"},
        {"name": "c", "action": "created", "before": None, "after": "4"},
    ]
    assert result["requests"] == {"GET": 1, "PUT": 1}
    assert result["diff"][0] == {"before_header": "name=b", "after_header": "name=b", "before": "2\n", "after": "3\n"}
    # Idempotent: the second run writes nothing.
    again = engine.converge(remote, {"a": "1", "b": "3", "c": "4"})
    assert again["changed"] is False and len(remote.writes) == 1


def test_check_mode_reports_without_writing():
    remote = Remote(held={"a": "1"})
    result = engine.converge(remote, {"a": "2"}, check_mode=True)
    assert result["changed"] is True
    assert result["changes"] == [{"name": "a", "action": "updated", "before": "1", "after": "2"}]
    assert remote.writes == [] and remote.held == {"a": "1"}
    assert "PUT" not in result["requests"]


def test_sensitive_values_are_compared_but_never_shown():
    remote = Remote(held={"pw": "old-secret-value"}, secret_keys={"pw"})
    result = engine.converge(remote, {"pw": "new-secret-value"})
    assert remote.held["pw"] == "new-secret-value"
    assert result["changes"] == [{"name": "pw", "action": "updated", "before": "(sensitive)", "after": "(sensitive)"}]
    assert "secret-value" not in repr(result)
    unchanged = engine.converge(remote, {"pw": "new-secret-value"})
    assert unchanged["changed"] is False


def test_rejected_items_fail_naming_each_and_keep_what_was_saved():
    remote = Remote(held={}, reject={"x": 'Path "x" was not found.', "y": "not allowed for this role"})
    with pytest.raises(engine.RejectedItemsError) as caught:
        engine.converge(remote, {"x": "1", "y": "2", "z": "3"})
    err = caught.value
    assert remote.held == {"z": "3"}
    assert err.kind == "rejected"
    assert err.details["changed"] is True
    assert [c["name"] for c in err.details["changes"]] == ["z"]
    assert err.details["rejected"] == [
        {"name": "x", "message": 'Path "x" was not found.'}, {"name": "y", "message": "not allowed for this role"}]
    assert err.message == ("The test service rejected 2 things (name=x: \"Path 'x' was not found.\"; name=y: "
                           "\"not allowed for this role\"); the other 1 was saved. Fix or remove the rejected things "
                           "and run again.")
    assert len(remote.writes) == 1  # a rejection is an answer: never retried


def test_ambiguous_failure_after_saving_reads_back_and_sends_nothing_again():
    remote = Remote(held={"a": "1"}, fail_writes=[(TransportError("ACCS dropped the connection."), True)])
    result = engine.converge(remote, {"a": "2", "b": "3"})
    assert remote.held == {"a": "2", "b": "3"}
    assert len(remote.writes) == 1  # the read-back found both saved
    assert result["changed"] is True and {c["name"] for c in result["changes"]} == {"a", "b"}
    assert result["requests"] == {"GET": 2, "PUT": 1}


def test_ambiguous_failure_before_saving_writes_what_still_differs_once():
    remote = Remote(held={"a": "1"}, fail_writes=[(AccsApiError("ACCS answered HTTP 503.", status=503), False)])
    result = engine.converge(remote, {"a": "2"})
    assert remote.writes == [[("a", "update", "2")], [("a", "update", "2")]]
    assert remote.held == {"a": "2"} and result["changed"] is True


def test_second_ambiguous_failure_names_what_still_differs():
    fault = (AccsApiError("ACCS answered HTTP 502.", status=502), False)
    remote = Remote(held={"a": "1"}, fail_writes=[fault, fault])
    with pytest.raises(AccsApiError) as caught:
        engine.converge(remote, {"a": "2", "b": "1"})
    assert caught.value.message == ("ACCS answered HTTP 502; of the 2 things to write, 0 were saved and 2 still "
                                    "differ: name=a; name=b; run again once the service answers.")
    assert len(remote.writes) == 2


def test_client_errors_are_not_retried():
    remote = Remote(held={}, fail_writes=[(AccsApiError("ACCS answered HTTP 400.", status=400), False)])
    with pytest.raises(AccsApiError):
        engine.converge(remote, {"a": "1"})
    assert len(remote.writes) == 1


def test_unconfirmed_items_are_read_back():
    remote = Remote(held={}, echo=False)
    result = engine.converge(remote, {"a": "1"})
    assert result["changed"] is True and result["requests"] == {"GET": 2, "PUT": 1}


def test_absent_and_prune():
    remote = Remote(held={"app-a": "1", "app-b": "2", "other": "3"})
    result = engine.converge(remote, {"app-a": "1"}, absent=["gone"], prune=lambda k: k.startswith("app-"))
    assert remote.held == {"app-a": "1", "other": "3"}
    assert result["changes"] == [{"name": "app-b", "action": "removed", "before": "2", "after": None}]
    assert result["unchanged"] == 2  # app-a held, "gone" already absent


def test_declared_once_refuses_conflicting_duplicates():
    assert engine.declared_once([("a", "1"), ("a", "1")], str, "thing") == {"a": "1"}
    with pytest.raises(ConfigError, match=r"^Thing a is declared twice with different values: keep one of them\.$"):
        engine.declared_once([("a", "1"), ("a", "2")], str, "thing")
