# Performance benchmark of issue 6: the collection's playbooks against a plain uri baseline.
# Included by the Makefile.  See tests/bench/README.md for how to read the results.
#
#   make bench                       sizes 10,50,200, 3 rounds, cases audit-cached, audit-expired, access-cached
#   make bench BENCH_ARGS='--sizes 10,50 --rounds 3 --baseline-rounds 50=1'
#
# Results: build/bench/results.md and results.json; each run's output in build/bench/runs/.

BENCH_ARGS ?=

.PHONY: bench
bench: $(VENV_STAMP)
	$(VENV_PYTHON) tests/bench/run_bench.py $(BENCH_ARGS)
