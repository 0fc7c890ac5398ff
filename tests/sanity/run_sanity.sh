#!/usr/bin/env bash
# ansible-test sanity on the collection as it stands in the work tree (committed, changed and
# untracked-but-not-ignored files), run locally with the project's virtualenv.
#
#   tests/sanity/run_sanity.sh                     every sanity test
#   tests/sanity/run_sanity.sh --test pylint       extra arguments go to ansible-test sanity
#
# PYTHON selects the interpreter whose ansible-test runs (default: .venv/bin/python).
#
# ansible-test needs the collection at .../ansible_collections/<namespace>/<name>: the files are
# copied to build/sanity/ansible_collections/adobe_commerce/accs, which gets its own `git init`
# (ansible-test lists a collection's files with git when the collection root is a git work tree;
# the copy lives under the ignored build/ folder of this repository, so it needs a repository of
# its own).
#
# Each sanity test that needs Python packages (pylint, pycodestyle, yamllint, voluptuous, ...)
# runs in a virtualenv that ansible-test creates once under ~/.ansible/test/venv and reuses (the
# first run takes a few minutes, later runs about two).  ansible-test bootstraps pip into those
# virtualenvs with a get-pip script it downloads from a host outside the package registries; where
# that host cannot be reached, the cached copy that ansible-test looks for first is supplied here: a
# few lines that bootstrap pip with the standard library's ensurepip, then install the pip version
# ansible-test asked for from PyPI.  A real get-pip script already in the cache is left alone.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
if [[ ! -x "$PYTHON" ]]; then
    echo "run_sanity.sh: $PYTHON not found: run \`make venv\` first (or set PYTHON)." >&2
    exit 2
fi
# absolute: the run below happens in the copy of the collection (make passes a relative PYTHON)
ANSIBLE_TEST="$(cd "$(dirname "$PYTHON")" && pwd)/ansible-test"
PY_VERSION="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
DEST="$REPO/build/sanity/ansible_collections/adobe_commerce/accs"

# --- the collection copy ------------------------------------------------------------------------
rm -rf "$REPO/build/sanity"
mkdir -p "$DEST"
cd "$REPO"
# -c and -o: tracked and untracked-but-not-ignored; a tracked file deleted in the work tree is skipped
git ls-files -z -co --exclude-standard \
    | while IFS= read -r -d '' path; do
          if [[ -f "$path" || -L "$path" ]]; then printf '%s\0' "$path"; fi
      done \
    | tar --null -T - -cf - \
    | tar -xf - -C "$DEST"
git -C "$DEST" init -q

# --- the pip bootstrap script ansible-test looks for in its cache --------------------------------
PIP_VERSION="$("$PYTHON" - <<'PY'
import re, pathlib, ansible_test
source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", source.read_text()).group(1))
PY
)"
GET_PIP="$HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py"
if [[ ! -s "$GET_PIP" ]]; then
    mkdir -p "$(dirname "$GET_PIP")"
    cat > "$GET_PIP" <<'PY'
# Written by adobe_commerce.accs tests/sanity/run_sanity.sh in place of the get-pip script that
# ansible-test downloads: bootstrap pip with ensurepip, then run `pip install <the arguments>`.
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
status = subprocess.call([sys.executable, "-m", "pip", "install", *args])
if status == 0 and "--no-setuptools" in sys.argv:
    status = subprocess.call([sys.executable, "-m", "pip", "uninstall", "-q", "-y", "setuptools"])
sys.exit(status)
PY
fi

# --- the run ------------------------------------------------------------------------------------
# No --skip-test: every test applies.  Two of them run only where their program is installed and
# are skipped with a warning otherwise: pslint (pwsh; the collection has no PowerShell) and the
# check of shell scripts (the Debian package of the same name).  No --requirements: --local uses
# the virtualenv as it is, and ansible-test creates the per-test virtualenvs in any case.
cd "$DEST"
exec "$ANSIBLE_TEST" sanity --local --python "$PY_VERSION" --color no "$@"
