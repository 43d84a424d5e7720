"""The noise-aware gate in real pytest sessions: stored runs of a generated benchmark item, then a
session with an injected slowdown -> exit 6; a baseline from another machine -> "machine changed".

The model really runs, but the rounds are timed with a deterministic clock (pytest-benchmark's
``--benchmark-timer``): each reading advances 1 ms x ``IPFS_TEST_CLOCK_FACTOR`` with 5 % seeded
jitter, and the load the sub-run sees is ``IPFS_TEST_LOAD`` (``host.load`` readings replaced in
its conftest: a quiet machine unless a test says otherwise), so these tests check the gate's
wiring, not the load of the machine that runs them (``benchmarks/gate_false_positives.py``
measures the gate on real timings and real load).
"""

from __future__ import annotations

import json
from datetime import timedelta

import duckdb
import pytest

from pytest_ipfs_accel.plugin import gate as compare
from pytest_ipfs_accel.store.schema import BenchmarkRow, RunRow, utcnow
from pytest_ipfs_accel.store.writer import Writer

DB = ".ipfs_accel/results.duckdb"
BERT_CPU = ("--benchmark-only", "--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-batch-sizes=1",
            "--ipfs-benchmark-rounds=60", "--ipfs-benchmark-warmup=1", "--benchmark-timer=fakeclock.clock")
NODE = "ipfs/test_bert.py::test_benchmark[cpu-bs1]"
FAKE_CLOCK = """
import os, random

_rng = random.Random(os.environ.get("IPFS_TEST_SEED", "0"))
_now = 0.0


def clock():
    global _now
    _now += 0.001 * float(os.environ.get("IPFS_TEST_CLOCK_FACTOR", "1")) * (1 + _rng.uniform(-0.05, 0.05))
    return _now
"""


@pytest.fixture
def clocked(pytester, monkeypatch, fake_load):
    """The sub-runs time with ``fakeclock.clock``; ``clocked(seed, factor, load)`` sets the next run's clock and
    the load average it reads."""
    pytester.makepyfile(fakeclock=FAKE_CLOCK)

    def set_clock(seed: int, factor: float = 1.0, load: float = 0.0) -> None:
        monkeypatch.setenv("IPFS_TEST_SEED", str(seed))
        monkeypatch.setenv("IPFS_TEST_CLOCK_FACTOR", str(factor))
        fake_load(load)

    return set_clock


def query(pytester, sql: str) -> list[tuple]:
    con = duckdb.connect(str(pytester.path / DB), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.slow
def test_same_code_passes_and_an_injected_slowdown_exits_6(run, pytester, clocked):
    for seed in (1, 2):
        clocked(seed)
        assert run(*BERT_CPU).ret == 0
    clocked(3)
    same = run(*BERT_CPU, "--ipfs-compare=last:2", "--ipfs-fail-on-regression=10%")
    assert same.ret == 0, same.stdout.str()
    same.stdout.fnmatch_lines(["*baseline run *, *: 1 of 1 benchmark items compared*fail above 10%*", "no regressions"])

    clocked(4, factor=1.2)  # 20 % slower
    slow = run(*BERT_CPU, "--ipfs-compare=last:2", "--ipfs-fail-on-regression=10%")
    assert slow.ret == compare.REGRESSION_EXIT, slow.stdout.str()
    slow.stdout.fnmatch_lines(["*test*baseline ms*now ms*change*threshold*p*verdict*",
                               "*ipfs/test_bert.py::test_benchmark?cpu-bs1?*+*%*10%*regression*",
                               "*benchmark regression beyond the threshold in 1 item(s): exit status 6*"])
    assert query(pytester, "SELECT node_id, outcome, failure_class FROM test_results WHERE failure_class = 'perf'"
                 ) == [(NODE, "passed", "perf")]
    assert query(pytester, "SELECT DISTINCT json_array_length(rounds_s) FROM benchmark_results") == [(60,)]


@pytest.mark.slow
def test_a_baseline_from_another_machine_is_reported_not_failed(run, pytester, clocked):
    clocked(1)
    writer = Writer.open(pytester.path / DB)
    fp = {"cpu": {"model": "Some Other CPU", "flags": []}, "gpus": []}
    writer.start_run(RunRow(id="20000101-000000-other0", started_at=utcnow() - timedelta(minutes=1),
                            fingerprint=json.dumps(fp), machine_id="0123456789ab"))
    writer.add_benchmark(BenchmarkRow("20000101-000000-other0", NODE, model="bert", platform="cpu", precision="fp32",
                                      batch_size=1, median_s=1e-9))
    writer.finish_run("20000101-000000-other0", "finished", 0)
    writer.close()
    result = run(*BERT_CPU, "--ipfs-compare=last", "--ipfs-fail-on-regression=10")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*machine changed: cpu model: Some Other CPU -> *not calling anything a regression*",
                                 "no regressions"])
    forced = run(*BERT_CPU, "--ipfs-compare=20000101-000000-other0", "--ipfs-fail-on-regression=10",
                 "--ipfs-compare-any-machine")
    assert forced.ret == compare.REGRESSION_EXIT


@pytest.mark.slow
def test_a_slowdown_on_a_busy_machine_is_inconclusive_and_fails_only_when_asked(run, pytester, clocked):
    """17.1 / 16.4: +50 % measured at load average 40: the table says "inconclusive: machine busy", exit 0;
    with --ipfs-fail-on-inconclusive exit 6. The stored row keeps the load, threads and spread."""
    clocked(1)
    assert run(*BERT_CPU, "--ipfs-benchmark-threads=1").ret == 0
    ((base,),) = query(pytester, "SELECT id FROM runs")
    clocked(2, factor=1.5, load=40.0)
    busy = run(*BERT_CPU, "--ipfs-benchmark-threads=1", f"--ipfs-compare={base}", "--ipfs-fail-on-regression=10%")
    assert busy.ret == 0, busy.stdout.str()
    busy.stdout.fnmatch_lines(["*1 inconclusive: machine busy*", "no regressions",
                               "*test_benchmark?cpu-bs1?*+*%*inconclusive: machine busy*load average 40.0 on * cores*"])
    clocked(3, factor=1.5, load=40.0)
    strict = run(*BERT_CPU, "--ipfs-benchmark-threads=1", f"--ipfs-compare={base}", "--ipfs-fail-on-regression=10%",
                 "--ipfs-fail-on-inconclusive")
    assert strict.ret == compare.REGRESSION_EXIT, strict.stdout.str()
    strict.stdout.fnmatch_lines(["*inconclusive benchmark comparison in 1 item(s): exit status 6*"])
    assert query(pytester, "SELECT threads, load_before, load_after, cv > 0 FROM benchmark_results ORDER BY run_id"
                 ) == [(1, 0.0, 0.0, True), (1, 40.0, 40.0, True), (1, 40.0, 40.0, True)]


@pytest.mark.slow
def test_an_item_waits_for_the_usual_speed_and_a_wait_that_runs_out_is_inconclusive(run, pytester, clocked,
                                                                                   monkeypatch):
    """17.1: the store's reference floor reaches the xdist workers; an item on a machine that stays 60 %
    slower waits --ipfs-benchmark-settle seconds for the usual speed, then times, and the gate calls a
    +50 % "inconclusive: machine busy" (the machine, not the code). Both figures are stored."""
    clocked(1)
    assert run(*BERT_CPU).ret == 0
    monkeypatch.setenv("IPFS_TEST_REFERENCE_S", "0.0008")
    clocked(2, factor=1.5)
    slowed = run(*BERT_CPU, "-n", "2", "--ipfs-benchmark-settle=0.3", "--ipfs-compare=last",
                 "--ipfs-fail-on-regression=10%")
    assert slowed.ret == 0, slowed.stdout.str()
    slowed.stdout.fnmatch_lines(["*test_benchmark?cpu-bs1?*inconclusive: machine busy*reference workload 60% slower*"])
    (first, second) = query(pytester, "SELECT reference_s, settle_s FROM benchmark_results b JOIN runs r "
                                      "ON r.id = b.run_id ORDER BY r.started_at")
    assert first == (0.0005, pytest.approx(0.0, abs=0.05))  # no floor yet: its own first probe
    assert second[0] == 0.0008 and 0.3 <= second[1] < 5
