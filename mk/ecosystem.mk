# Ecosystem checks of issue 8: ansible-test sanity, ansible-lint, changelog fragments.
# Included by the Makefile, which makes `make test` depend on them (TEST_EXTRA).
#
#   make sanity           ansible-test sanity on a copy of the collection (tests/sanity/run_sanity.sh)
#                         SANITY_ARGS='--test pylint' runs one test; the first run builds ansible-test's
#                         per-test virtualenvs under ~/.ansible/test/venv (a few minutes), later runs reuse them
#   make lint             ansible-lint, production profile, on roles and playbooks (tests/sanity/run_lint.sh)
#   make changelog-lint   antsibull-changelog lint of changelogs/fragments
#   make changelog        fold the fragments into CHANGELOG.md for galaxy.yml's version (until it is tagged)

SANITY_ARGS ?=
LINT_ARGS ?=
ANTSIBULL_CHANGELOG = PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/antsibull-changelog
GALAXY_VERSION = $(shell sed -n 's/^version: *//p' galaxy.yml)

.PHONY: sanity lint changelog-lint changelog

sanity: $(VENV_STAMP)
	PYTHON=$(VENV_PYTHON) tests/sanity/run_sanity.sh $(SANITY_ARGS)

lint: $(VENV_STAMP)
	PYTHON=$(VENV_PYTHON) tests/sanity/run_lint.sh $(LINT_ARGS)

changelog-lint: $(VENV_STAMP)
	$(ANTSIBULL_CHANGELOG) lint

# --update-existing: the release of galaxy.yml's version is rewritten with every fragment added since,
# and --reload-plugins lists plugins added since as new in it (its plugin cache is not kept).
changelog: $(VENV_STAMP)
	$(ANTSIBULL_CHANGELOG) release --version $(GALAXY_VERSION) --update-existing --reload-plugins
	rm -f changelogs/.plugin-cache.yaml

# `make test` runs ansible-test sanity, ansible-lint and the changelog fragment check first.
TEST_EXTRA += sanity lint changelog-lint
