"""mk/find_python.sh: the Makefile's way to the Python of each virtualenv (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "mk" / "find_python.sh"
# no pyenv (it lives in ~/.pyenv/bin) and no pythonX.Y of the made-up versions below
BARE_PATH = "/usr/bin:/bin"


def _find(version: str, tmp_path: Path, **env) -> subprocess.CompletedProcess:
    environ = {"PATH": BARE_PATH, "HOME": str(tmp_path / "home"), "PYENV_ROOT": str(tmp_path / "pyenv"), **env}
    return subprocess.run(["bash", str(SCRIPT), version], env=environ, capture_output=True, text=True,  # noqa: S603
                          timeout=60, check=False)


def _fake_python(root: Path, directory: str, version: str) -> Path:
    """An executable that answers the script's version check like Python ``version`` would."""
    path = root / "versions" / directory / "bin" / ("python" + version)
    path.parent.mkdir(parents=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_pyenv_version_directories_without_pyenv_on_path(tmp_path):
    """CI's non-interactive shell: pyenv installed, not initialised; the newest patch release wins."""
    for directory in ("3.97.2", "3.97.10", "3.97.9", "3.970.1"):
        _fake_python(tmp_path / "pyenv", directory, "3.97")
    proc = _find("3.97", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tmp_path / "pyenv" / "versions" / "3.97.10" / "bin" / "python3.97")


def test_explicit_interpreter_wins_and_is_checked(tmp_path):
    version = "%d.%d" % sys.version_info[:2]
    variable = "PYTHON" + version.replace(".", "")
    proc = _find(version, tmp_path, **{variable: sys.executable})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == sys.executable
    wrong = _find("3.97", tmp_path, PYTHON397=sys.executable)
    assert wrong.returncode == 1
    assert "PYTHON397=%s is not a working Python 3.97" % sys.executable in wrong.stderr


def test_missing_python_is_named_with_where_it_was_looked_for(tmp_path):
    proc = _find("3.98", tmp_path)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "no Python 3.98 found" in proc.stderr
    assert "%s/versions/3.98.*/bin/python3.98 (none there)" % (tmp_path / "pyenv") in proc.stderr
    assert "pyenv is not on PATH" in proc.stderr
    assert "pyenv install 3.98" in proc.stderr and "PYTHON398" in proc.stderr


def test_not_a_version(tmp_path):
    proc = _find("3", tmp_path)
    assert proc.returncode == 2 and "is not a Python version like 3.13" in proc.stderr
    assert os.access(SCRIPT, os.X_OK), "the Makefile runs mk/find_python.sh directly"
