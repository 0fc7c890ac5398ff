# Reliability and security suite (issue 7): faults, bad input, concurrency and secret hygiene,
# recorded as a matrix (tests/reliability, rendered into tests/RELIABILITY.md).
#
#   make reliability          run tests/reliability, then check tests/RELIABILITY.md against what it observed
#   make reliability-matrix   run tests/reliability and regenerate tests/RELIABILITY.md (then commit it)
#
# `make test` runs `reliability` first (TEST_EXTRA), so a change in behaviour that the committed
# matrix does not show fails the build.  Extra pytest arguments: RELIABILITY_ARGS='-x'; a filtered
# run (-k, -m, deselection) writes a partial matrix, which the check and the regeneration refuse.

RELIABILITY_ARGS ?=
RELIABILITY_RENDER = $(VENV_PYTHON) tests/reliability/render_matrix.py
TEST_EXTRA += reliability

.PHONY: reliability reliability-matrix

reliability: $(VENV_STAMP)
	$(PYTEST) tests/reliability $(RELIABILITY_ARGS)
	$(RELIABILITY_RENDER) --check

# Renders the matrix even when cases failed (they show as FAIL), then exits with pytest's status.
reliability-matrix: $(VENV_STAMP)
	status=0; $(PYTEST) tests/reliability $(RELIABILITY_ARGS) || status=$$?; \
	$(RELIABILITY_RENDER) && exit $$status
