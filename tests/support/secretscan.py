"""Search kept test output for secrets.

A :class:`SecretRegistry` collects ``(kind, value)`` pairs (the emulator's client
secrets and tokens, OpenBao's root token, tokens and secret ids made by the
helpers).  :func:`scan_tree` then reads every byte of every file under a folder
and reports each file that holds one of them: as is, URL-encoded, or
JSON-escaped.  Findings name the file and the kind of secret, never the value.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

MIN_SECRET_LENGTH = 12


@dataclass(frozen=True)
class Finding:
    path: str
    kind: str
    form: str

    def describe(self) -> str:
        form = "" if self.form == "plain" else f" ({self.form})"
        return f"{self.path}: holds a secret: {self.kind}{form}"


class SecretRegistry:
    """Secrets known to the test session, each with the kind of secret it is."""

    def __init__(self) -> None:
        self._kinds: dict[str, str] = {}

    def add(self, kind: str, value) -> None:
        if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH:
            return
        self._kinds.setdefault(value, kind)

    def add_many(self, pairs: Iterable[tuple[str, str]]) -> None:
        for kind, value in pairs:
            self.add(kind, value)

    def add_emulator(self, emulator) -> None:
        """Everything the emulator issued or was given (``/_control/secrets``)."""
        try:
            by_kind = emulator.secrets_by_kind()
        except AttributeError:
            by_kind = {"all": emulator.secrets()}
        for kind, values in by_kind.items():
            if kind == "all":
                continue
            for value in values or []:
                self.add("emulator " + kind.rstrip("s").replace("_", " "), value)
        for value in by_kind.get("all") or []:
            self.add("emulator secret", value)

    def __len__(self) -> int:
        return len(self._kinds)

    def items(self) -> list[tuple[str, str]]:
        return [(kind, value) for value, kind in self._kinds.items()]


def _needles(registry: SecretRegistry) -> list[tuple[bytes, str, str]]:
    needles = []
    for kind, value in registry.items():
        forms = {"plain": value}
        for name, encoded in (
            ("URL-encoded", urllib.parse.quote(value, safe="")),
            ("form-encoded", urllib.parse.quote_plus(value, safe="")),
            ("JSON-escaped", json.dumps(value)[1:-1]),
        ):
            if encoded not in forms.values():
                forms[name] = encoded
        for form, text in forms.items():
            needles.append((text.encode("utf-8"), kind, form))
    return needles


def scan_tree(root: Path, registry: SecretRegistry) -> list[Finding]:
    """Every (file, kind) under ``root`` holding a registered secret."""
    root = Path(root)
    if not root.exists() or not len(registry):
        return []
    needles = _needles(registry)
    findings: list[Finding] = []
    for dirpath, _dirnames, filenames in os.walk(root):
        for filename in sorted(filenames):
            path = Path(dirpath, filename)
            try:
                data = path.read_bytes()
            except OSError:
                continue
            seen = set()
            rel_name = str(path.relative_to(root)).encode("utf-8")
            for needle, kind, form in needles:
                if (needle in data or needle in rel_name) and kind not in seen:
                    seen.add(kind)
                    findings.append(Finding(str(path), kind, form))
    return findings
