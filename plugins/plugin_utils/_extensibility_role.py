# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The extensibility role's controller-side logic: merge the declarations, sum up the steps (controller only).

Pure functions over plain data. ``merge`` joins the fleet's and the environment's declarations (the
environment wins on the same identity); ``role_result`` turns the registered answers of the role's
module steps into the fact ``accs_extensibility_result``. Neither returns a secret: the merge output
goes straight into module arguments, and the result holds only what the modules returned (secrets
already shown as ``(sensitive)``) and the identities of the declared items.
"""

from __future__ import annotations

import re

KINDS = ("webhooks", "subscriptions", "providers")
NOUN = {"webhooks": "webhook", "subscriptions": "event subscription", "providers": "event provider",
        "eventing": "eventing configuration", "check": "Adobe I/O Events check"}
PLURAL = {"webhook": "webhooks", "event subscription": "event subscriptions", "event provider": "event providers",
          "eventing configuration": "eventing configurations"}
WEBHOOK_IDENTITY = ("webhook_method", "webhook_type", "batch_name", "hook_name")
# The role's steps, in the order they run, and the kind each one holds.
STEPS = (("eventing", "eventing"), ("check", "check"), ("providers", "providers"),
         ("subscriptions", "subscriptions"), ("webhooks", "webhooks"), ("providers_removed", "providers"))
IO_CHECKS = (
    ("technical_service_account_configured", "no technical service account is configured"),
    ("technical_service_account_can_connect_to_io_events", "the technical service account cannot connect to "
                                                           "Adobe I/O Events"),
    ("provider_id_valid", "the configured provider id is not valid in Adobe I/O Events"),
)


class WiringError(ValueError):
    """A declaration the role cannot use; the message is one sentence."""


# --------------------------------------------------------------------------- identities
def webhook_method(name):
    """Commerce stores plugin.magento.X as plugin.X: one identity for both spellings."""
    return re.sub(r"^plugin\.magento\.", "plugin.", str(name or ""))


def identity(kind, item):
    """The dict that names a declared item (the modules' identity)."""
    if kind == "webhooks":
        found = {k: item.get(k) for k in WEBHOOK_IDENTITY}
        found["webhook_method"] = webhook_method(found["webhook_method"])
        return found
    if kind == "subscriptions":
        return {"name": str(item.get("name") or "").lower()}
    return {"provider_id": item.get("provider_id")}


def label(kind, ident):
    """How messages and reports name an item, as the modules do."""
    if kind == "webhooks":
        return "%s %s %s/%s" % tuple(ident.get(k) for k in WEBHOOK_IDENTITY)
    if kind == "subscriptions":
        return str(ident.get("name"))
    if kind == "providers":
        return str(ident.get("provider_id"))
    return str(ident.get("name") or NOUN.get(kind, kind))


def _key(kind, item):
    return tuple(sorted(identity(kind, item).items()))


# --------------------------------------------------------------------------- merge
def _part(source, where):
    if source is None:
        return {}
    if not isinstance(source, dict):
        raise WiringError("%s must be a dictionary with webhooks, subscriptions and providers lists, not %s."
                          % (where, type(source).__name__))
    unknown = sorted(set(source) - set(KINDS))
    if unknown:
        raise WiringError("%s has unknown key%s %s: use webhooks, subscriptions and providers."
                          % (where, "s" if len(unknown) > 1 else "", ", ".join(unknown)))
    return source


def _items(source, kind, where):
    items = source.get(kind)
    if items is None:
        return []
    if not isinstance(items, list):
        raise WiringError("%s.%s must be a list, not %s." % (where, kind, type(items).__name__))
    required = {"webhooks": WEBHOOK_IDENTITY, "subscriptions": ("name",), "providers": ("provider_id",)}[kind]
    out = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise WiringError("Item %d of %s.%s must be a dictionary, not %s."
                              % (number, where, kind, type(item).__name__))
        missing = [k for k in required if not item.get(k)]
        if missing:
            raise WiringError("Item %d of %s.%s has no %s: every %s needs %s."
                              % (number, where, kind, " or ".join(missing), NOUN[kind], ", ".join(required)))
        entry = dict(item)
        entry["state"] = entry.get("state") or "present"
        out.append(entry)
    return out


def merge(common, host, common_name="accs_extensibility_common", host_name="accs_extensibility"):
    """``{webhooks, subscriptions, providers}``: the fleet's items, each replaced by the environment's item of
    the same identity, then the environment's other items. Every item carries ``state``.

    Duplicates inside one source are kept, so that the modules refuse them naming the item.
    """
    common = _part(common, common_name)
    host = _part(host, host_name)
    merged = {}
    for kind in KINDS:
        base = _items(common, kind, common_name)
        own = _items(host, kind, host_name)
        own_keys = {_key(kind, item) for item in own}
        merged[kind] = [item for item in base if _key(kind, item) not in own_keys] + own
    return merged


def declared_identities(declared):
    """``[{kind, name, identity, state}]`` of a merged declaration: names only, never a value."""
    out = []
    for kind in KINDS:
        for item in (declared or {}).get(kind) or []:
            if isinstance(item, dict):
                ident = identity(kind, item)
                out.append({"kind": NOUN[kind], "name": label(kind, ident), "identity": ident,
                            "state": item.get("state") or "present"})
    return out


# --------------------------------------------------------------------------- result
def _ran(answer):
    return isinstance(answer, dict) and not answer.get("skipped")


def _row(kind, entry, **extra):
    ident = {k: v for k, v in entry.items() if k not in ("action", "before", "after", "message")}
    row = {"kind": NOUN[kind], "name": label(kind, ident), "identity": ident}
    row.update(extra)
    return row


def io_check_failures(check):
    """The failed checks of a check_configuration answer, as phrases."""
    if not isinstance(check, dict) or not check:
        return []
    failed = [text for key, text in IO_CHECKS if check.get(key) is False]
    if "provider_id_configured" in check and not check.get("provider_id_configured"):
        failed.append("no provider id is configured")
    if check.get("status") not in (None, "ok") and not failed:
        failed.append("its status is %s" % check.get("status"))
    return failed


def _count(number, noun):
    return "%d %s" % (number, noun if number == 1 else PLURAL.get(noun, noun + "s"))


def _verb(action, audit, check_mode):
    if audit or check_mode:
        return {"created": "would be created", "updated": "would be updated", "recreated": "would be recreated",
                "removed": "would be removed", "configured": "would be configured"}.get(action, action)
    return action


def role_result(answers, mode="audit", check_mode=False, declared=None, error=None, require_io_ok=False,
                name=None, base_url=None, fail_on_drift=True):
    """The fact ``accs_extensibility_result`` from the registered answers of the role's steps.

    ``answers``: {step: registered result or None} for the steps of STEPS; ``declared``: the merged
    declaration (only identities are kept); ``error``: why the role stopped when no step says so;
    ``name``, ``base_url`` and ``fail_on_drift`` make ``failure``, the sentence the host fails with.
    """
    answers = answers or {}
    audit = mode == "audit"
    changes, rejected, errors = [], [], []
    requests = {}
    steps = {}
    for step, kind in STEPS:
        answer = answers.get(step)
        if not _ran(answer):
            steps[step] = "not run"
            continue
        for method, number in (answer.get("requests") or {}).items():
            requests[method] = requests.get(method, 0) + int(number or 0)
        if answer.get("failed") and not (kind == "check" and answer.get("failed_when_result")
                                         and isinstance(answer.get("check"), dict)):
            steps[step] = "failed"
            errors.append({"step": step, "kind": NOUN[kind], "message": answer.get("msg") or "The step failed."})
            continue
        steps[step] = "ran"
        if kind == "eventing":
            if answer.get("changed"):
                changes.append({"kind": NOUN[kind], "name": "default event provider", "identity": {},
                                "action": "configured", "sent": list(answer.get("sent") or [])})
            continue
        if kind == "check":
            continue
        for entry in answer.get("changes") or []:
            changes.append(_row(kind, entry, action=entry.get("action"), before=entry.get("before"),
                                after=entry.get("after")))
        for entry in answer.get("rejected") or []:
            rejected.append(_row(kind, entry, message=entry.get("message")))
    check_answer = answers.get("check")
    check = check_answer.get("check") if _ran(check_answer) and steps.get("check") == "ran" else None
    check_failed = io_check_failures(check)
    if check_failed and require_io_ok:
        errors.append({"step": "check", "kind": NOUN["check"],
                       "message": "The Adobe I/O Events check failed: %s; fix the eventing configuration (or set "
                                  "accs_extensibility_require_io_events_ok: false)." % "; ".join(check_failed)})
    if error and not errors:
        errors.append({"step": None, "kind": None, "message": str(error)})

    items = _items_status(declared, changes, rejected, steps, audit, check_mode)
    result = {
        "mode": mode,
        "check_mode": bool(check_mode),
        "declared": {kind: len((declared or {}).get(kind) or []) for kind in KINDS} if declared is not None else {},
        "items": items,
        "drift": changes if audit else [],
        "changes": [] if audit else changes,
        "unchanged": sum(int(a.get("unchanged") or 0) for s, a in answers.items()
                         if _ran(a) and s not in ("eventing", "check")),
        "rejected": rejected,
        "eventing": ({"changed": bool(answers["eventing"].get("changed")),
                      "sent": list(answers["eventing"].get("sent") or [])}
                     if _ran(answers.get("eventing")) and not answers["eventing"].get("failed") else None),
        "io_events_check": ({"status": check.get("status"), "failed": check_failed} if check is not None else None),
        "requests": requests,
        "steps": steps,
    }
    if errors:
        result["error"] = " ".join(e["message"] for e in errors)
        result["errors"] = errors
    result["passed"] = not errors and not rejected and not (audit and changes)
    result["message"] = _message(result, audit, check_mode)
    result["failure"] = failure_message(name or "host", base_url, result, fail_on_drift)
    return result


def _items_status(declared, changes, rejected, steps, audit, check_mode):
    """One entry per declared item and per undeclared item a change touches: its status for the JUnit report."""
    by_name = {}
    for entry in declared_identities(declared):
        by_name[(entry["kind"], entry["name"])] = dict(entry, status="in sync")
    for entry in changes:
        found = by_name.setdefault((entry["kind"], entry["name"]),
                                   {"kind": entry["kind"], "name": entry["name"], "identity": entry["identity"],
                                    "state": "absent" if entry["action"] == "removed" else "present"})
        found["status"] = "drift" if audit else ("to change" if check_mode else "changed")
        found["action"] = entry["action"]
    for entry in rejected:
        found = by_name.setdefault((entry["kind"], entry["name"]),
                                   {"kind": entry["kind"], "name": entry["name"], "identity": entry["identity"]})
        found["status"] = "rejected"
        found["message"] = entry["message"]
    step_of = {"webhook": "webhooks", "event subscription": "subscriptions", "event provider": "providers"}
    for entry in by_name.values():
        if entry.get("status") == "in sync" and entry["kind"] in step_of:
            step = step_of[entry["kind"]]
            if step == "providers" and entry.get("state") == "absent":
                step = "providers_removed"
            if steps.get(step) != "ran":
                entry["status"] = "not checked"
    return list(by_name.values())


def _phrase(entry, audit, check_mode):
    if entry.get("action") == "configured":
        return "the %s %s (%s)" % (entry["kind"], _verb("configured", audit, check_mode), ", ".join(entry["sent"]))
    return "%s %s %s" % (entry["kind"], entry["name"], _verb(entry["action"], audit, check_mode))


def _message(result, audit, check_mode):
    """The outcome in one sentence."""
    if result.get("error"):
        return result["error"]
    declared = result.get("declared") or {}
    held = ", ".join(_count(declared.get(k, 0), NOUN[k]) for k in KINDS)
    found = result["drift"] if audit else result["changes"]
    if result["rejected"]:
        reasons = "; ".join('%s %s: "%s"' % (e["kind"], e["name"], str(e["message"]).replace('"', "'"))
                            for e in result["rejected"])
        applied = len(result["changes"])
        rest = ("the other %d change%s %s applied" % (applied, "" if applied == 1 else "s",
                                                      "was" if applied == 1 else "were")) if applied else \
            "nothing else was changed"
        return ("ACCS rejected %d item%s of the App Builder wiring (%s); %s. Fix or remove the rejected item%s and "
                "run again." % (len(result["rejected"]), "" if len(result["rejected"]) == 1 else "s", reasons, rest,
                                "" if len(result["rejected"]) == 1 else "s"))
    if not found:
        return "The App Builder wiring holds its declared state (%s)." % held
    listed = "; ".join(_phrase(e, audit, check_mode) for e in found)
    count = len(found)
    if audit:
        return "The App Builder wiring differs from its declaration in %d item%s: %s." % (
            count, "" if count == 1 else "s", listed)
    if check_mode:
        return "Would make %d change%s to the App Builder wiring: %s." % (count, "" if count == 1 else "s", listed)
    return "Made %d change%s to the App Builder wiring: %s." % (count, "" if count == 1 else "s", listed)


def failure_message(name, base_url, result, fail_on_drift=True):
    """The sentence the role fails the host with, or None when the host passes."""
    where = "%s (%s): " % (name, base_url) if base_url else "%s: " % name
    if result.get("error") or result.get("rejected"):
        return where + result["message"]
    if result.get("mode") == "audit" and result.get("drift") and fail_on_drift:
        advice = "; set accs_extensibility_mode: enforce to apply them, or change the declaration."
        return where + result["message"].rstrip(".") + advice
    return None
