# The older ansible-core releases the collection supports (requirements.txt: >=2.17,<2.20).
# .venv holds the newest; each release named here gets its own virtualenv (.venv-core<release>) with
# the same test requirements and that ansible-core, and runs the unit, integration and reliability
# suites on it.  Sanity and lint run on the newest only (each ansible-test release has its own rules).
#
#   make compat                                every release in COMPAT_CORE (2.17 2.18)
#   make compat-2.17                           one release
#   make compat COMPAT_PYTEST_ARGS='-x -k vault'
#
# `make test` runs it after its own pytest run (TEST_LATER).

COMPAT_CORE ?= 2.17 2.18
COMPAT_TESTS ?= tests/unit tests/integration tests/reliability
COMPAT_PYTEST_ARGS ?=

.PHONY: compat
compat: $(addprefix compat-,$(COMPAT_CORE))

# Not .PHONY: make skips pattern rules for phony targets.
compat-%: .venv-core%/.requirements-installed
	@echo ">> ansible-core $*: $(COMPAT_TESTS)"
	.venv-core$*/bin/python -m pytest $(COMPAT_TESTS) $(COMPAT_PYTEST_ARGS)

# Kept after the run: make would delete it as an intermediate file of compat-%.
.PRECIOUS: .venv-core%/.requirements-installed
.venv-core%/.requirements-installed: $(REQUIREMENTS)
	@$(call make-venv,.venv-core$*)
	@echo ">> installing requirements-test.txt with ansible-core $*.* into .venv-core$*"
	@.venv-core$*/bin/python -m pip install $(PIP_FLAGS) -r requirements-test.txt "ansible-core==$*.*"
	@touch $@

TEST_LATER += compat
