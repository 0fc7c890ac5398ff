# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACCS system configuration (``GET``/``PUT /V1/system/config``) as a resource (for internal collection use only).

A setting is named by (path, scope, scope_code). Reads: one ``in``-filtered GET per scope and code
(split only when the path list would make the URL too long). Writes: one PUT of the settings that
differ (batches of PUT_BATCH), never re-sent blindly. The answer's ``errors`` are per-item rejections.

Undocumented reads (docs/guide.md, "Configuration as code"): a read at website or store scope may
give the inherited value or only the stored one; an unknown path may be left out or read as null;
items may or may not carry ``scope_code``. The declaration keys every answer by the scope and code it
asked for, treats a missing path like null, and compares against what the API reads.
"""

from __future__ import annotations

import fnmatch
import re
from decimal import Decimal, InvalidOperation

from ansible_collections.adobe_commerce.accs.plugins.module_utils._accs import commerce_message
from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import AccsApiError, ConfigError, TransportError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._operations import Operation, open_accs, token_facts
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import (
    ACCS_CONNECTION_RULES,
    SYSTEM_CONFIG_INFO_RULES,
    SYSTEM_CONFIG_INFO_SPEC,
    SYSTEM_CONFIG_SPEC,
    ResourceOptions,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._resource import (
    ABSENT,
    UPDATE,
    Resource,
    WriteOutcome,
    converge,
    declared_once,
)

API_PATH = "/V1/system/config"
SCOPES = ("default", "website", "store")
PUT_BATCH = 500
PAGE_SIZE = 500                # the API's own maximum page
MAX_FILTER_CHARS = 3000        # paths per GET, joined: keeps the URL well under gateway limits
OBSCURED = re.compile(r"^\*{3,}$")

# Values that are credentials in standard Commerce configuration (glob patterns over the path).
DEFAULT_SENSITIVE_PATHS = (
    "*password*", "*passwd*", "*secret*", "*token*", "*api_key*", "*apikey*", "*api_secret*",
    "*merchant_key*", "*merchant_id_key*", "*private_key*", "*encryption_key*", "*signature*",
    "*access_key*", "*license_key*", "*credentials*",
)

_FILTER = "searchCriteria[filterGroups][0][filters][0][%s]"


class UnknownScopeError(ConfigError):
    """A website or store view code the environment does not have."""

    kind = "unknown_scope"


class ListValue(str):
    """A value declared as a list: compared as a set of comma-separated entries."""


def commerce_value(value, label):
    """The string Commerce stores for a declared value; refuses what the API cannot hold."""
    if value is None:
        raise ConfigError("Setting %s has value null, and the API cannot remove a value: give the value to hold, "
                          "or leave the setting out." % label)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        if any(isinstance(v, (dict, list, tuple)) or v is None for v in value):
            raise ConfigError("Setting %s has a list holding a list, dictionary or null: a list value may hold only "
                              "strings, numbers and booleans." % label)
        return ListValue(",".join(commerce_value(v, label) for v in value))
    kind = "dictionary" if isinstance(value, dict) else type(value).__name__
    raise ConfigError("Setting %s has a %s value: give a string, number, boolean or list." % (label, kind))


def same_value(desired, current):
    if current is None:
        return False
    current = str(current)
    if desired == current:
        return True
    if isinstance(desired, ListValue):
        return _entries(desired) == _entries(current)
    try:
        return Decimal(desired.strip()) == Decimal(current.strip())
    except (InvalidOperation, ValueError):
        return False


def _entries(text):
    return {part.strip() for part in text.split(",") if part.strip()}


def setting_key(item):
    scope = item.get("scope") or "default"
    code = item.get("scope_code") or None
    return (item["path"], scope, code if scope != "default" else None)


def _label(key):
    path, scope, code = key
    return "%s at %s scope" % (path, scope) if code is None else "%s at %s '%s'" % (path, scope, code)


class SystemConfig(Resource):
    noun = "setting"
    nouns = "settings"

    def __init__(self, client, sensitive_paths, obscured_values="skip"):
        super().__init__()
        self.client = client
        self.where = "ACCS at %s" % client.base_url
        self.patterns = list(sensitive_paths)
        self.obscured_values = obscured_values
        self.unverifiable = []

    def key(self, item):
        return setting_key(item)

    def identity(self, key):
        return {"path": key[0], "scope": key[1], "scope_code": key[2]}

    def label(self, key):
        return _label(key)

    def is_sensitive(self, key):
        return _matches(key[0], self.patterns)

    # -- reading
    def read(self, keys):
        groups = {}
        for path, scope, code in keys:
            groups.setdefault((scope, code), []).append(path)
        current = {}
        for (scope, code), paths in groups.items():
            for chunk in _chunks(sorted(set(paths))):
                for item in self._get(scope, code, chunk):
                    if isinstance(item, dict) and item.get("path") in chunk:
                        # Keyed by what was asked: items may or may not echo scope_code.
                        value = item.get("value")
                        current[(item["path"], scope, code)] = None if value is None else str(value)
        return current

    def _get(self, scope, code, paths):
        query = [(_FILTER % "field", "path"), (_FILTER % "value", ",".join(paths)),
                 (_FILTER % "conditionType", "in" if len(paths) > 1 else "eq"), ("scope", scope)]
        if code is not None:
            query.append(("scopeCode", code))
        self.requests["GET"] += 1
        try:
            body = self.client.request("GET", API_PATH, query=query).json
        except AccsApiError as err:
            raise _scope_error(err, scope, code, self.where) or err
        return _items(body, "GET", self.where)

    def read_all(self, scope, code):
        """Every setting visible at one scope and code, paged until total_count."""
        query = {"scope": scope}
        if code is not None:
            query["scopeCode"] = code
        try:
            body, pages = self.client.paginate(API_PATH, query, PAGE_SIZE)
        except AccsApiError as err:
            raise _scope_error(err, scope, code, self.where) or err
        self.requests["GET"] += pages
        return {(item["path"], scope, code): (None if item.get("value") is None else str(item["value"]))
                for item in _items(body, "GET", self.where) if isinstance(item, dict) and item.get("path")}

    # -- comparing
    def same(self, key, desired, current):
        return same_value(desired, current)

    def plan_item(self, key, desired, current):
        if current is ABSENT or current is None:
            return UPDATE
        if self.is_sensitive(key) and OBSCURED.match(current):
            # ACCS shows a stored credential as asterisks: it cannot be compared.
            if self.obscured_values == "write":
                return UPDATE
            self.unverifiable.append(self.identity(key))
            return None
        return None if self.same(key, desired, current) else UPDATE

    # -- writing
    def write(self, changes):
        outcome = WriteOutcome()
        for start in range(0, len(changes), PUT_BATCH):
            batch = changes[start:start + PUT_BATCH]
            items = []
            for change in batch:
                path, scope, code = change.key
                item = {"path": path, "value": str(change.after), "scope": scope}
                if code is not None:
                    item["scope_code"] = code
                items.append(item)
            self.requests["PUT"] += 1
            # A failure here (after earlier batches were saved) makes the engine read back and write what still differs.
            body = self.client.request("PUT", API_PATH, body={"items": items}, idempotent=False).json
            _match_answer(batch, body, outcome, self.where)
        return outcome


def _matches(path, patterns):
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)


def _chunks(paths):
    chunk, size = [], 0
    for path in paths:
        if chunk and size + len(path) + 1 > MAX_FILTER_CHARS:
            yield chunk
            chunk, size = [], 0
        chunk.append(path)
        size += len(path) + 1
    if chunk:
        yield chunk


def _items(body, method, where):
    if not isinstance(body, dict) or not isinstance(body.get("items", []), list):
        raise TransportError("%s answered %s %s without an items list: check that base_url points at an ACCS instance "
                             "that has the system configuration API." % (where, method, API_PATH))
    return body.get("items") or []


def _scope_error(err, scope, code, where):
    if scope == "default" or err.status not in (400, 404):
        return None
    said = (commerce_message(err.body) or "HTTP %d" % err.status).replace('"', "'")
    noun = "website" if scope == "website" else "store view"
    return UnknownScopeError("%s does not know the %s code '%s' (it answered \"%s\"): fix scope_code, or create that %s "
                             "first; nothing was written." % (where, noun, code, said, noun))


def _match_answer(batch, body, outcome, where):
    """Fill ``outcome`` from a PUT answer: echoed items are saved, ``errors`` are rejections."""
    if not isinstance(body, dict):
        return  # said nothing per item: the engine reads back
    by_path_scope = {}
    for change in batch:
        by_path_scope.setdefault(change.key[:2], []).append(change.key)
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        for key in _answer_keys(error, by_path_scope):
            outcome.rejected[key] = str(error.get("message") or "rejected without a reason")
    for item in body.get("items") or []:
        if isinstance(item, dict):
            outcome.applied.extend(k for k in _answer_keys(item, by_path_scope) if k not in outcome.rejected)


def _answer_keys(entry, by_path_scope):
    keys = by_path_scope.get((entry.get("path"), entry.get("scope") or "default"), [])
    if entry.get("scope_code"):
        return [k for k in keys if k[2] == entry["scope_code"]]
    return keys


def _desired(settings):
    pairs = []
    for item in settings or []:
        key = setting_key(item)
        if key[1] != "default" and not key[2]:
            raise ConfigError("Setting %s at %s scope needs scope_code: the %s code it applies to."
                              % (key[0], key[1], "website" if key[1] == "website" else "store view"))
        if item.get("scope_code") and key[1] == "default":
            raise ConfigError("Setting %s has scope_code '%s' but scope default: set scope to website or store, or "
                              "leave scope_code out." % (key[0], item["scope_code"]))
        pairs.append((key, commerce_value(item.get("value"), _label(key))))
    return declared_once(pairs, _label, SystemConfig.noun)


def sensitive_patterns(params):
    patterns = params.get("sensitive_paths")
    if patterns is None:
        patterns = list(DEFAULT_SENSITIVE_PATHS)
    return list(patterns) + list(params.get("extra_sensitive_paths") or [])


def system_config_holder(params):
    """Check the declaration in ``params`` (accs_system_config's own options) now, before anything is sent;
    returns ``hold(client, check_mode, warnings)``, which holds it over an ACCS client and returns the result."""
    patterns = sensitive_patterns(params)
    desired = _desired(params.get("settings"))
    obscured_values = params.get("obscured_values") or "skip"

    def hold(client, check_mode, warnings):
        resource = SystemConfig(client, patterns, obscured_values)
        result = converge(resource, desired, check_mode=check_mode)
        if resource.unverifiable:
            result["unverifiable"] = resource.unverifiable
            warnings.append("ACCS shows %d sensitive setting%s only as asterisks, so %s not compared or written: %s; "
                            "set obscured_values: write to send them on every run." % (
                                len(resource.unverifiable), "" if len(resource.unverifiable) == 1 else "s",
                                "it was" if len(resource.unverifiable) == 1 else "they were",
                                ", ".join(_label(setting_key(u)) for u in resource.unverifiable)))
        return result

    return hold


def run_system_config(options, check_mode=False, warnings=None):
    """The accs_system_config result; raises AccsError subclasses (RejectedItemsError keeps the result)."""
    warnings = [] if warnings is None else warnings
    hold = system_config_holder(options.resource)
    client, tokens = open_accs(options, warnings)
    result = hold(client, check_mode, warnings)
    result.update(token_facts(tokens, client))
    return result


def run_system_config_info(options, check_mode=False, warnings=None):
    """The accs_system_config_info result: settings in the shape accs_system_config takes."""
    warnings = [] if warnings is None else warnings
    params = options.resource
    scopes = _info_scopes(params)
    client, tokens = open_accs(options, warnings)
    resource = SystemConfig(client, sensitive_patterns(params))
    reveal = params.get("reveal_sensitive")
    include, exclude = params.get("include") or [], params.get("exclude") or []
    current = {}
    for scope, code in scopes:
        if params.get("paths"):
            current.update(resource.read([(p, scope, code) for p in params["paths"]]))
        else:
            current.update(resource.read_all(scope, code))
    settings, masked, unset, revealed = [], [], 0, 0
    for key in sorted(current, key=lambda k: (SCOPES.index(k[1]), k[2] or "", k[0])):
        path = key[0]
        if (include and not _matches(path, include)) or _matches(path, exclude):
            continue
        value = current[key]
        if value is None:
            unset += 1
            continue
        if resource.is_sensitive(key):
            if not reveal:
                masked.append(resource.identity(key))
                continue
            revealed += 1
        setting = {"path": path, "value": value, "scope": key[1]}
        if key[2] is not None:
            setting["scope_code"] = key[2]
        settings.append(setting)
    result = {"changed": False, "settings": settings, "sensitive_left_out": masked, "unset": unset,
              "revealed_sensitive": revealed, "requests": dict(resource.requests)}
    result.update(token_facts(tokens, client))
    return result


def _info_scopes(params):
    entries = params.get("config_scopes") or [{"scope": params.get("scope") or "default", "scope_code": params.get("scope_code")}]
    scopes = []
    for entry in entries:
        scope = entry.get("scope") or "default"
        code = entry.get("scope_code") or None
        if scope != "default" and not code:
            raise ConfigError("Scope %s needs scope_code: the %s code to read." % (scope, "website" if scope == "website" else "store view"))
        scopes.append((scope, code if scope != "default" else None))
    return scopes


SYSTEM_CONFIG = Operation("adobe_commerce.accs.accs_system_config", SYSTEM_CONFIG_SPEC, ACCS_CONNECTION_RULES,
                          ResourceOptions, run_system_config)
SYSTEM_CONFIG_INFO = Operation("adobe_commerce.accs.accs_system_config_info", SYSTEM_CONFIG_INFO_SPEC,
                               SYSTEM_CONFIG_INFO_RULES, ResourceOptions, run_system_config_info)
