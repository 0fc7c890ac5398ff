#!/usr/bin/env bash
# ansible-lint (production profile, see .ansible-lint) on the collection's roles and playbooks.
#
#   tests/sanity/run_lint.sh                 lint everything .ansible-lint does not exclude
#   tests/sanity/run_lint.sh roles/x         extra arguments go to ansible-lint
#
# ansible-lint resolves adobe_commerce.accs.* names through ANSIBLE_COLLECTIONS_PATH: the work
# tree itself is linked as build/lint/collections/ansible_collections/adobe_commerce/accs, so the
# roles, modules and playbooks are checked as they stand, without a build.  --offline: nothing is
# fetched (no Galaxy install, no check for a newer ansible-lint).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
ANSIBLE_LINT="$(dirname "$PYTHON")/ansible-lint"
if [[ ! -x "$ANSIBLE_LINT" ]]; then
    echo "run_lint.sh: $ANSIBLE_LINT not found: run \`make venv\` first (or set PYTHON)." >&2
    exit 2
fi

COLLECTIONS="$REPO/build/lint/collections"
rm -rf "$REPO/build/lint"
mkdir -p "$COLLECTIONS/ansible_collections/adobe_commerce"
ln -s "$REPO" "$COLLECTIONS/ansible_collections/adobe_commerce/accs"

cd "$REPO"
# the environment of the caller must not change what is linted
for var in $(env | sed -n 's/^\(ANSIBLE_[A-Z_]*\)=.*/\1/p'); do unset "$var"; done
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS"
export ANSIBLE_HOME="$REPO/build/lint/ansible-home"
export ANSIBLE_LOCAL_TEMP="$REPO/build/lint/tmp"
VENV_BIN="$(dirname "$PYTHON")"
export PATH="$VENV_BIN:$PATH"
exec "$ANSIBLE_LINT" --offline --nocolor "$@"
