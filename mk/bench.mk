# Performance benchmark (issues 6, 14, 16): the collection's playbooks and roles against plain uri baselines.
# Included by the Makefile.  See tests/bench/README.md for what each case does and how to read the results.
#
#   make bench     every case (audit-cached, audit-expired, access-cached, system-config, config-enforce at
#                  N=10, 50, 200; fleet-cached at N=10, 200, 1000), 3 rounds; the baseline runs (3 alternating
#                  rounds) only where a ratio is claimed: N=10 for every case with a baseline.  The other rows
#                  measure the collection's scaling only.  About 31 minutes on 2 loaded cores (estimate, with an
#                  audit_fleet.yml at issue 16's pace; tests/bench/README.md).
#   make bench BENCH_ARGS="--baseline-rounds ''"          the baseline at every N too (issue 6's full method, hours)
#   make bench BENCH_ARGS='--sizes 10,50 --cases system-config,config-enforce'
#
# Results: build/bench/results.md and results.json; each run's output in build/bench/runs/.

BENCH_ARGS ?=

.PHONY: bench
bench: $(VENV_STAMP)
	$(VENV_PYTHON) tests/bench/run_bench.py $(BENCH_ARGS)
