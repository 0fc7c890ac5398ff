#!/usr/bin/env bash
# Prints the path of a Python interpreter of one minor version (e.g. 3.13), for the Makefile's
# virtualenvs: the main one (.venv) and those of `make compat` (.venv-core<release>).
#
#   mk/find_python.sh 3.13
#
# Looked for, in order (the first that runs and reports that version wins):
#   1. $PYTHON<major><minor> (e.g. PYTHON313=/opt/py/bin/python3.13): an explicit choice
#   2. `pyenv which python3.13` (when pyenv is on PATH and that version is selected)
#   3. pyenv's version directories: $PYENV_ROOT/versions/3.13.*/bin/python3.13 (PYENV_ROOT
#      defaults to ~/.pyenv; the newest patch release first).  This works in a non-interactive
#      shell where pyenv is installed but neither on PATH nor initialised.
#   4. python3.13 on PATH (a system package, or a pyenv shim that works)
# Exits 1, saying what is missing and how to get it, when none is found.
set -euo pipefail

want="${1:?usage: find_python.sh <major.minor>, e.g. 3.13}"
if [[ ! "$want" =~ ^[0-9]+\.[0-9]+$ ]]; then
    echo "find_python.sh: '$want' is not a Python version like 3.13" >&2
    exit 2
fi
exe="python$want"
override_var="PYTHON${want//./}"
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"

# runs and is that version (a pyenv shim of a version that is not selected fails here)
usable() {
    [[ -n "$1" && -x "$1" ]] &&
        "$1" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$want' else 1)" \
            >/dev/null 2>&1
}

candidates=()
if [[ -n "${!override_var:-}" ]]; then
    if usable "${!override_var}"; then
        echo "${!override_var}"
        exit 0
    fi
    echo "find_python.sh: $override_var=${!override_var} is not a working Python $want" >&2
    exit 1
fi
if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv which "$exe" 2>/dev/null || true)")
fi
if [[ -d "$pyenv_root/versions" ]]; then
    while IFS= read -r dir; do
        candidates+=("$dir/bin/$exe")
    done < <(find "$pyenv_root/versions" -mindepth 1 -maxdepth 1 -name "$want.*" \
                 | grep -E "/$want\.[0-9]+$" | sort -rV)
fi
candidates+=("$(command -v "$exe" 2>/dev/null || true)")

for candidate in "${candidates[@]}"; do
    if usable "$candidate"; then
        echo "$candidate"
        exit 0
    fi
done

cat >&2 <<EOF
find_python.sh: no Python $want found.  Looked for:
  - \$$override_var (not set)
  - \`pyenv which $exe\`$(command -v pyenv >/dev/null 2>&1 || echo ' (pyenv is not on PATH)')
  - $pyenv_root/versions/$want.*/bin/$exe (none there)
  - $exe on PATH (none that runs)
Install it, for example with \`pyenv install $want\`, or point $override_var at one.
EOF
exit 1
