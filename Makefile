# adobe_commerce.accs: set-up and tests.  GNU make; needs only Python 3.11 (or python3) and git.
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
	@sed -n '1,12p' Makefile

# $(call make-venv,DIR): a fresh virtualenv in DIR, with python3.11 when there is one
make-venv = echo ">> creating $(1)"; rm -rf $(1); \
	if command -v python3.11 >/dev/null 2>&1 && python3.11 -m venv $(1); then :; \
	else rm -rf $(1); python3 -m venv $(1); fi

$(VENV_PYTHON):
	@$(call make-venv,$(VENV))

$(VENV_STAMP): $(REQUIREMENTS) | $(VENV_PYTHON)
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
