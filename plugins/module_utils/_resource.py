# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource engine: hold one kind of remote state in its declared state (for internal collection use only).

A resource kind is a :class:`Resource` declaration: how to name an item (``key``), how to read the
current state of some keys, how to compare, which items are sensitive, and how to write a batch of
changes and read the write's per-item errors. :func:`converge` does the rest once for every kind:
the plan (fewest reads, diff), check mode, ``--diff`` output, masking, the one re-read after an
ambiguous write failure (never a blind re-send), partial-failure reporting and the result shape::

    {"changed", "changes": [{...identity, "action", "before", "after"}], "unchanged": int,
     "rejected": [{...identity, "message"}], "requests": {"GET": n, "PUT": n, ...}, "diff": [...]}
"""

from __future__ import annotations

import json
from collections import Counter

from ansible_collections.adobe_commerce.accs.plugins.module_utils._accs import commerce_message
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import (
    AccsApiError,
    AccsError,
    ConfigError,
    TransportError,
)

SENSITIVE_MASK = "(sensitive)"
ABSENT = object()  # the current state of a key the remote side does not hold

CREATE, UPDATE, REPLACE, DELETE = "create", "update", "replace", "delete"
# How results name each action (replace: the service has no update, so the item is removed and made again).
ACTION_TAKEN = {CREATE: "created", UPDATE: "updated", REPLACE: "recreated", DELETE: "removed"}


class RejectedItemsError(AccsError):
    """The service saved some items and refused others; ``details`` keeps both."""

    kind = "rejected"


class Change:
    """One planned write: ``action`` on ``key``, from ``before`` (current or ABSENT) to ``after`` (desired or None)."""

    __slots__ = ("key", "action", "before", "after")

    def __init__(self, key, action, before, after):
        self.key = key
        self.action = action
        self.before = before
        self.after = after


class WriteOutcome:
    """What a write call reports: the keys it saved, the keys it refused with the service's reason,
    and the keys it said nothing about (confirmed by reading them again)."""

    def __init__(self, applied=(), rejected=None, unconfirmed=()):
        self.applied = list(applied)
        self.rejected = dict(rejected or {})
        self.unconfirmed = list(unconfirmed)


class Resource:
    """Declaration of one resource kind; subclasses override what differs.

    ``requests`` counts the calls made, by HTTP method, for the result.
    """

    noun = "item"           # singular, for messages: "setting", "webhook"
    nouns = "items"
    where = "The service"   # who answers, for messages: "ACCS at https://..."

    def __init__(self):
        self.requests = Counter()

    # -- identity and display
    def key(self, item):
        raise NotImplementedError

    def identity(self, key):
        """The key as the dict that names the item in results, e.g. {path, scope, scope_code}."""
        raise NotImplementedError

    def label(self, key):
        """The key as people read it in messages."""
        return ", ".join("%s=%s" % (k, v) for k, v in self.identity(key).items() if v is not None)

    def is_sensitive(self, key):
        return False

    def show(self, key, value):
        """The value as results and diffs show it: masked when the item is sensitive."""
        if value is ABSENT or value is None:
            return None
        return SENSITIVE_MASK if self.is_sensitive(key) else value

    # -- reading and comparing
    def read(self, keys):
        """{key: current value} for ``keys`` (a missing key means ABSENT); may hold more keys."""
        raise NotImplementedError

    def same(self, key, desired, current):
        return desired == current

    def plan_item(self, key, desired, current):
        """The action that brings ``current`` to ``desired`` (None: nothing to do)."""
        if current is ABSENT:
            return CREATE
        return None if self.same(key, desired, current) else UPDATE

    def check_plan(self, changes):
        """Refuse a plan before anything is written (also in check mode); raise ConfigError."""

    # -- writing
    def write(self, changes):
        """Apply ``changes``; return a WriteOutcome. Raise on a failure that says nothing per item."""
        raise NotImplementedError


class ItemwiseResource(Resource):
    """A resource the service writes one call per item: subclasses define ``create``, ``update``,
    ``replace`` and ``delete`` (each taking a Change). A refusal (HTTP 4xx) rejects that item with the
    service's own words and the others go on; an ambiguous failure stops the batch, and the engine
    lists again before trying anything else (a write may have half-succeeded)."""

    def write(self, changes):
        outcome = WriteOutcome()
        for change in changes:
            try:
                getattr(self, change.action)(change)
            except AccsApiError as err:
                if _ambiguous(err):
                    raise
                outcome.rejected[change.key] = self.refusal(change, err)
            else:
                outcome.applied.append(change.key)
        return outcome

    def refusal(self, change, err):
        """The rejected item's reason: the service's own message when it gave one."""
        return service_words(err)


def service_words(err):
    """What the service said in an AccsApiError: Commerce's message with its placeholders filled."""
    return commerce_message(getattr(err, "body", None)) or err.message


class Plan:
    def __init__(self, changes, unchanged):
        self.changes = changes
        self.unchanged = unchanged


def plan(resource, desired, absent=(), prune=None):
    """Read the current state once and list the changes.

    ``desired``: {key: value} to hold; ``absent``: keys to remove; ``prune``: a predicate on
    keys the remote side holds but the declaration does not name (True: remove it).
    """
    wanted = list(desired) + [k for k in absent if k not in desired]
    current = resource.read(wanted)
    changes, unchanged = [], 0
    for key, value in desired.items():
        action = resource.plan_item(key, value, current.get(key, ABSENT))
        if action is None:
            unchanged += 1
        else:
            changes.append(Change(key, action, current.get(key, ABSENT), value))
    removable = [k for k in absent if k not in desired]
    if prune is not None:
        removable += [k for k in current if k not in desired and k not in removable and prune(k)]
    for key in removable:
        if current.get(key, ABSENT) is ABSENT:
            unchanged += 1
        else:
            changes.append(Change(key, DELETE, current[key], None))
    return Plan(changes, unchanged)


def converge(resource, desired, absent=(), prune=None, check_mode=False):
    """Bring the remote state to ``desired``; the result dict (see the module docstring).

    Raises RejectedItemsError (with the whole result in ``details``) when the service refused items.
    """
    first = plan(resource, desired, absent, prune)
    if first.changes:
        resource.check_plan(first.changes)
    done, rejected = first.changes, {}
    if first.changes and not check_mode:
        done, rejected = _apply(resource, first.changes, desired, absent, prune)
    result = {
        "changed": bool(done),
        "changes": [_change_row(resource, c) for c in done],
        "unchanged": first.unchanged,
        "rejected": [dict(resource.identity(k), message=m) for k, m in rejected.items()],
        "requests": dict(resource.requests),
        "diff": [_diff(resource, c) for c in done],
    }
    if rejected:
        raise RejectedItemsError(_rejected_message(resource, done, rejected), **result)
    return result


def _apply(resource, changes, desired, absent, prune):
    """Write ``changes``; after an ambiguous failure read back once and write only what still differs."""
    try:
        outcome = resource.write(changes)
    except (TransportError, AccsApiError) as err:
        if not _ambiguous(err):
            raise
        # The write may or may not have reached the service: what it holds now decides.
        again = plan(resource, desired, absent, prune)
        pending = {c.key for c in again.changes}
        done = [c for c in changes if c.key not in pending]
        if not again.changes:
            return done, {}
        try:
            outcome = resource.write(again.changes)
        except (TransportError, AccsApiError) as second:
            raise type(second)(
                "%s; of the %d %s to write, %d %s saved and %d still differ%s: %s; run again once the service answers."
                % (str(second).rstrip("."), len(changes), resource.noun if len(changes) == 1 else resource.nouns,
                   len(done), "was" if len(done) == 1 else "were", len(again.changes),
                   "s" if len(again.changes) == 1 else "", "; ".join(resource.label(c.key) for c in again.changes)),
                **getattr(second, "details", {}))
        changes = again.changes
    else:
        done = []
    confirmed = _confirm(resource, changes, outcome)
    return done + [c for c in changes if c.key in confirmed], outcome.rejected


def _confirm(resource, changes, outcome):
    """Keys the write saved: those it echoed, and those it did not mention that now read as desired."""
    saved = set(outcome.applied)
    silent = [c for c in changes if c.key not in saved and c.key not in outcome.rejected]
    if silent:
        current = resource.read([c.key for c in silent])
        for change in silent:
            now = current.get(change.key, ABSENT)
            if (change.action == DELETE and now is ABSENT) or (
                    change.action != DELETE and now is not ABSENT and resource.same(change.key, change.after, now)):
                saved.add(change.key)
            else:
                outcome.rejected[change.key] = "the service did not confirm the write and it does not read back as written"
    return saved


def _ambiguous(err):
    if isinstance(err, TransportError):
        return True
    return isinstance(err, AccsApiError) and (err.status or 0) >= 500


def _change_row(resource, change):
    row = dict(resource.identity(change.key))
    row.update(action=ACTION_TAKEN[change.action], before=resource.show(change.key, change.before),
               after=resource.show(change.key, change.after))
    return row


def _diff(resource, change):
    header = resource.label(change.key)
    return {"before_header": header, "after_header": header,
            "before": _diff_text(resource.show(change.key, change.before)),
            "after": _diff_text(resource.show(change.key, change.after))}


def _diff_text(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2, sort_keys=True) + "\n"
    return "%s\n" % (value,)


def _rejected_message(resource, done, rejected):
    reasons = "; ".join('%s: "%s"' % (resource.label(k), str(m).replace('"', "'")) for k, m in rejected.items())
    saved = ("the other %d %s saved" % (len(done), "was" if len(done) == 1 else "were")) if done else "nothing else was changed"
    return ("%s rejected %d %s (%s); %s. Fix or remove the rejected %s and run again."
            % (resource.where, len(rejected), resource.noun if len(rejected) == 1 else resource.nouns, reasons, saved,
               resource.noun if len(rejected) == 1 else resource.nouns))


def declared_once(items, label, noun):
    """{key: value} of ``items``; refuses a key declared twice with different values (before any request)."""
    seen = {}
    for key, value in items:
        if key in seen and seen[key] != value:
            raise ConfigError("%s %s is declared twice with different values: keep one of them."
                              % (noun.capitalize(), label(key)))
        seen[key] = value
    return seen
