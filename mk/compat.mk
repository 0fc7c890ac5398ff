# The older ansible-core releases the collection supports (requirements.txt: >=2.19,<2.22).
# .venv holds the newest (2.21, Python 3.13); each release named here gets its own virtualenv
# (.venv-core<release>) on the Python given below, with the same test requirements and that
# ansible-core, and runs COMPAT_TESTS on it.  Sanity and lint run on the newest only (each
# ansible-test release has its own rules).
#
#   make compat                                every release in COMPAT_CORE (2.19 2.20)
#   make compat-2.20                           one release
#   make compat COMPAT_TESTS=tests/unit        other suites
#   make compat COMPAT_IGNORE=                 also the files compat leaves out (below)
#   make compat COMPAT_PYTEST_ARGS='-x -k vault'
#
# `make test` runs it after its own pytest run (TEST_LATER).
#
# What it repeats: the unit, integration and reliability suites, which hold the tests that pin what
# differs between releases (marker core_differences: tests/integration/test_core_differences.py),
# minus the integration files that do not depend on the ansible-core release (COMPAT_IGNORE: the
# emulator and OpenBao helpers, the benchmark harness, the execution environment, which installs
# 2.21 whatever runs the test, and the docs test, which reads files only); they ran on .venv
# already.  Measured on 2 shared cores: about 3 minutes of tests per release plus its virtualenv (under a minute from a warm pip cache, about 1.5
# minutes from a cold one), so `make test` as a whole stays well under 30 minutes.

COMPAT_CORE ?= 2.19 2.20
# the Python each release's virtualenv is made with (mk/find_python.sh finds it):
# 2.19 is the last release that runs on 3.11; 2.20 and 2.21 need 3.12 or newer
COMPAT_PYTHON_2.19 ?= 3.11
COMPAT_PYTHON_2.20 ?= 3.12
COMPAT_TESTS ?= tests/unit tests/integration tests/reliability
COMPAT_IGNORE ?= tests/integration/test_emulator.py tests/integration/test_openbao.py \
	tests/integration/test_bench_smoke.py tests/integration/test_execution_environment.py \
	tests/integration/test_docs.py
COMPAT_PYTEST_ARGS ?=

.PHONY: compat
compat: $(addprefix compat-,$(COMPAT_CORE))

# Not .PHONY: make skips pattern rules for phony targets.
compat-%: .venv-core%/.requirements-installed
	@echo ">> ansible-core $* (Python $(COMPAT_PYTHON_$*)): $(COMPAT_TESTS)"
	.venv-core$*/bin/python -m pytest $(COMPAT_TESTS) $(addprefix --ignore=,$(COMPAT_IGNORE)) $(COMPAT_PYTEST_ARGS)

# Kept after the run: make would delete it as an intermediate file of compat-%.
.PRECIOUS: .venv-core%/.requirements-installed
.venv-core%/.requirements-installed: $(REQUIREMENTS)
	@if [ -z "$(COMPAT_PYTHON_$*)" ]; then \
		echo "mk/compat.mk: no Python chosen for ansible-core $*: set COMPAT_PYTHON_$*=3.x" >&2; exit 1; fi
	@$(call make-venv,.venv-core$*,$(COMPAT_PYTHON_$*))
	@echo ">> installing requirements-test.txt with ansible-core $*.* into .venv-core$*"
	@.venv-core$*/bin/python -m pip install $(PIP_FLAGS) -r requirements-test.txt "ansible-core==$*.*"
	@touch $@

TEST_LATER += compat
