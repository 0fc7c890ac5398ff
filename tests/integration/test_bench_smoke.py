"""Smoke test of the benchmark harness (tests/bench/run_bench.py, issue 6).

A tiny run (N=2, one round, the six cases `make bench` runs by default, both sides where the case has a
baseline) through the harness's own code paths: the audited OpenBao, the seeding (tokens, the drifted
system configuration before every run of the system configuration and fleet cases, the App Builder wiring of
the fleet case), the alternating runs, the request counting (the emulator's counters and request log,
OpenBao's audit log) and the result files.
It checks that the harness works and that both the collection's playbooks and the uri baselines
make exactly the requests the limit allows (config-enforce: 1 PUT per environment, then 0 on its second
run; fleet-cached: its floor).  It makes no timing claim: `make bench` does that.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.bench import run_bench

pytestmark = pytest.mark.slow

SIZE = 2


@pytest.fixture
def bench_env(collection_path, emulator_clean, tmp_path, test_output_dir, secret_registry):
    with run_bench.audited_openbao(tmp_path / "vault") as (openbao, audit_log):
        secret_registry.add("openbao root token", openbao.root_token)
        environments = run_bench.seed(emulator_clean, openbao, SIZE, prefix="smoke")
        runner = run_bench.Runner(collections_path=collection_path, openbao=openbao, audit_log=audit_log,
                                  emulator=emulator_clean, environments=environments, out_dir=test_output_dir,
                                  work_dir=tmp_path / "work")
        yield runner


def test_harness_runs_every_case_at_the_request_limit(bench_env, test_output_dir):
    runner = bench_env
    started = time.monotonic()
    cases = run_bench.DEFAULT_CASES.split(",")
    assert {"system-config", "config-enforce", "fleet-cached"} <= set(cases)
    results = run_bench.run_benchmark(runner, cases, [SIZE], 1, progress=lambda line: None)
    meta = run_bench.bench_meta(runner.forks, 1, time.monotonic() - started)
    summary, found = run_bench.write_results(test_output_dir, results, [SIZE], cases, meta)

    def sides(case):
        return run_bench.SIDES if run_bench.CASES[case].baseline_playbook else ("collection",)

    assert sorted((r.case, r.side) for r in results) == sorted(
        (case, side) for case in cases for side in sides(case))
    for case in cases:
        row = summary[case][SIZE]
        expired = run_bench.CASES[case].expired
        limit = {
            "ims": SIZE if expired else 0,
            "accs": run_bench.CASES[case].accs_per_env * SIZE,
            "vault_read": SIZE,
            "vault_write": SIZE if expired else 0,
            "vault_login": 0,
        }
        if run_bench.CASES[case].system_config:
            # one GET per scope and code (default, website base, store view default), no PUT in audit mode
            assert run_bench.CASES[case].accs_per_env == len(run_bench.SC_SCOPES) == 3
            limit["accs_put"] = SIZE if run_bench.CASES[case].system_config == "enforce" else 0
        if run_bench.CASES[case].fleet:
            # the 4 store GETs (accs), 3 system configuration GETs, 1 list GET per App Builder kind, nothing else
            limit.update({"accs_put": 0, "fleet_config_get": 3 * SIZE, "fleet_webhooks": SIZE,
                          "fleet_subscriptions": SIZE, "fleet_providers": SIZE, "fleet_other": 0})
        assert row["limit"] == limit
        for side in sides(case):
            measured = row[side]
            counts = {key: measured[key] for key in row["limit"]}
            assert counts == row["limit"], f"{case} {side}: {counts} is not the limit {row['limit']}"
            assert measured["vault_other"] == 0, f"{case} {side}: other Vault requests"
            # the writes the audit log saw really changed the documents: one new version each
            assert measured["vault_writes_seen"] == (SIZE if expired else 0), f"{case} {side}"
            assert measured["wall_median"] > 0 and measured["peak_pss"] > 0 and measured["cpu_median"] > 0
        if run_bench.CASES[case].baseline_playbook:
            assert row["ratio"] > 0
        else:
            assert "ratio" not in row and "baseline" not in row
    # the enforce case's second run: everything held, so it read and wrote nothing more than the minimum
    second = summary["config-enforce"][SIZE]["collection"]["second"]
    assert (second["accs"], second["accs_put"], second["runs"]) == (3 * SIZE, 0, 1)

    limit_targets = {t["target"].split(" N=")[0]: t["met"] for t in found
                     if t["target"].endswith("requests at the limit")}
    assert limit_targets == {case: True for case in cases}
    assert [r.floor_missed for r in results if r.case == "fleet-cached"] == [[], []]
    assert [t["met"] for t in found if "second run writes nothing" in t["target"]] == [True]
    saved = json.loads((test_output_dir / "results.json").read_text(encoding="utf-8"))
    assert len(saved["runs"]) == sum(len(sides(case)) for case in cases)
    assert all(len(run["load_start"]) == 3 and len(run["load_end"]) == 3 for run in saved["runs"])
    table = (test_output_dir / "results.md").read_text(encoding="utf-8")
    for case in cases:
        assert f"## {case}" in table


def test_harness_counts_vault_requests_and_stops_on_a_failed_run(bench_env, tmp_path):
    runner = bench_env
    env = runner.environments[0]
    # the audit-log counter sees exactly what a client did between two offsets
    start = run_bench.audit_offset(runner.audit_log)
    runner.openbao.client().secrets.kv.v2.read_secret_version(
        path=env.vault_path, mount_point=run_bench.VAULT_MOUNT, raise_on_deleted_version=True)
    counts = run_bench.count_vault_requests(runner.audit_log, start, run_bench.audit_offset(runner.audit_log))
    assert (counts["read"], counts["write"], counts["login"], counts["other"]) == (1, 0, 0, 0)

    # a run that fails (here: a baseline that leaves no reports) stops the benchmark with a message
    broken = tmp_path / "broken.yml"
    broken.write_text("- hosts: accs\n  gather_facts: false\n  tasks:\n"
                      "    - ansible.builtin.assert:\n        that: false\n", encoding="utf-8")
    case = run_bench.Case("broken", broken, broken, False, 1, ("-access-check.junit.xml",))
    with pytest.raises(run_bench.BenchError, match="exited 2"):
        runner.run(case, "baseline", SIZE, 1, 1)


def test_cpu_profile_groups_stacks_by_area_and_process():
    """tests/bench/cpu_profile.py over py-spy's raw format: the innermost frame that names an area decides, and a
    stack under two process frames is a worker's."""
    from tests.bench import cpu_profile

    main = 'process 10:"ansible-playbook x"'
    worker = main + ';process 11:"ansible-playbook x"'
    raw = "\n".join([
        main + ";run (ansible/plugins/strategy/linear.py:10);_queue_task (ansible/plugins/strategy/__init__.py:5);"
               "_launch (multiprocessing/popen_fork.py:66) 6",
        worker + ";run (accs_audit.py:40);read (module_utils/_http.py:120);send (requests/sessions.py:589) 3",
        worker + ";run (accs_audit.py:40);compute_drift (plugin_utils/_drift.py:160) 2",
        worker + ";post_validate (ansible/playbook/task.py:3);compile (jinja2/environment.py:7) 1",
        "not a stack line",
    ])
    summary = cpu_profile.summarize(raw)
    assert summary["total"] == 12
    assert summary["main"] == {"forking workers, queues, pickling": 6}
    assert summary["worker"] == {"HTTP and TLS (requests, urllib3, hvac, ssl, socket)": 3,
                                 "the collection: audit, comparison, reports": 2,
                                 "templating (Jinja2, Ansible's templar)": 1}
    table = cpu_profile.table(summary, size=2, rate=100)
    assert "| forking workers, queues, pickling | 50% | 50% | 0% | 30.0 |" in table
    assert table.rstrip().endswith("| all | 100% | 50% | 50% | 60.0 |")
