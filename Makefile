# adobe_commerce.accs: set-up and tests.  GNU make and git; Python 3.13 for .venv (ansible-core 2.21),
# 3.11 and 3.12 for `make compat` (2.19, 2.20), found through pyenv or PATH (mk/find_python.sh).
#
#   make demo         local OpenBao + IMS/ACCS emulator, seeded; runs the audit playbook
#   make test         the whole suite (TEST_EXTRA prerequisites, unit + integration tests, then TEST_LATER)
#   make unit | integration
#   make env          OpenBao + emulator for playing by hand; Ctrl-C stops them
#   make clean        build output;  make distclean  also the virtualenvs
#
# Extra pytest arguments: make test PYTEST_ARGS='-x -k vault'

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test
.DELETE_ON_ERROR:

VENV        ?= .venv
VENV_PYTHON := $(VENV)/bin/python
# written once the requirements are installed; redone when a requirements file changes
VENV_STAMP  := $(VENV)/.requirements-installed
REQUIREMENTS := requirements.txt requirements-test.txt
PIP_FLAGS   ?= -qq --disable-pip-version-check --progress-bar off
PYTEST_ARGS ?=
PYTEST      := $(VENV_PYTHON) -m pytest

# Extra prerequisites of `make test`: sanity and lint targets are added here
# (e.g. TEST_EXTRA += sanity lint, with their rules below or in an included file).
# TEST_LATER: targets `make test` runs after its own pytest run (the older ansible-core releases).
TEST_EXTRA ?=
TEST_LATER ?=
-include $(wildcard mk/*.mk)

.PHONY: venv test unit integration demo env clean distclean help

help:
	@sed -n '1,/^$$/p' Makefile

# $(call make-venv,DIR,PYTHON_VERSION): makes sure DIR is a virtualenv of that Python minor version
# (e.g. 3.13): kept when it already is one, made afresh otherwise (a .venv of an older Python is
# replaced, not upgraded in place).  The interpreter comes from mk/find_python.sh: pyenv (`pyenv
# which`, or its version directories when pyenv is not on PATH) or PATH; it stops the build with a
# message naming what is missing when there is none.
make-venv = if [ "$$($(1)/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' \
		2>/dev/null)" != "$(2)" ]; then \
	interpreter="$$(mk/find_python.sh $(2))" || exit 1; \
	echo ">> creating $(1) with $$interpreter"; rm -rf $(1); "$$interpreter" -m venv $(1); fi

# The Python of .venv: ansible-core 2.21 (requirements.txt) runs on 3.12 to 3.14.
VENV_PYTHON_VERSION ?= 3.13

$(VENV_STAMP): $(REQUIREMENTS)
	@$(call make-venv,$(VENV),$(VENV_PYTHON_VERSION))
	@echo ">> installing requirements-test.txt into $(VENV)"
	@$(VENV_PYTHON) -m pip install $(PIP_FLAGS) -r requirements-test.txt
	@touch $@

venv: $(VENV_STAMP)

# pytest exits non-zero on failures and with 5 when no test ran: both fail the target.
test: $(VENV_STAMP) $(TEST_EXTRA)
	$(PYTEST) tests/unit tests/integration $(PYTEST_ARGS)
	$(foreach target,$(TEST_LATER),$(MAKE) --no-print-directory $(target) &&) true

unit: $(VENV_STAMP)
	$(PYTEST) tests/unit $(PYTEST_ARGS)

integration: $(VENV_STAMP)
	$(PYTEST) tests/integration $(PYTEST_ARGS)

demo: $(VENV_STAMP)
	$(VENV_PYTHON) tests/support/devenv.py demo

env: $(VENV_STAMP)
	$(VENV_PYTHON) tests/support/devenv.py up

clean:
	rm -rf build .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -f adobe_commerce-accs-*.tar.gz

distclean: clean
	rm -rf $(VENV) .venv-core*
