"""Make the collection importable as ``ansible_collections.adobe_commerce.accs`` in unit tests.

Fixture ``sleeps``: a list that records each wait when given as a RetryPolicy's ``sleep``.

Unit tests import the source tree directly (no build).  When the repository already sits at
``.../ansible_collections/adobe_commerce/accs`` that parent folder goes on ``sys.path``;
otherwise a folder outside the repository gets ``ansible_collections/adobe_commerce/accs``
as a symlink to the repository root, and that folder goes on ``sys.path``.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _collections_root() -> Path:
    if REPO_ROOT.parent.name == "adobe_commerce" and REPO_ROOT.parent.parent.name == "ansible_collections":
        return REPO_ROOT.parents[2]
    digest = hashlib.sha1(str(REPO_ROOT).encode("utf-8")).hexdigest()[:12]
    root = Path(tempfile.gettempdir()) / f"adobe_commerce-accs-unit-{digest}"
    namespace = root / "ansible_collections" / "adobe_commerce"
    link = namespace / "accs"
    namespace.mkdir(parents=True, exist_ok=True)
    if not (link.is_symlink() and link.resolve() == REPO_ROOT):
        temporary = namespace / f".accs-{os.getpid()}"
        if temporary.is_symlink():
            temporary.unlink()
        temporary.symlink_to(REPO_ROOT, target_is_directory=True)
        os.replace(temporary, link)
    return root


COLLECTIONS_ROOT = str(_collections_root())
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()
