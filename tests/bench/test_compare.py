"""--ipfs-compare / --ipfs-fail-on-regression against a baseline planted with the store's Writer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pytest_ipfs_accel.plugin import bench_options, gate as compare
from pytest_ipfs_accel.store.schema import BenchmarkRow, RunRow, utcnow
from pytest_ipfs_accel.store.writer import Writer

DB = ".ipfs_accel/results.duckdb"
BERT_CPU = ("--benchmark-only", "--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-batch-sizes=1",
            "--ipfs-benchmark-rounds=100", "--ipfs-benchmark-warmup=1")
NODE = "ipfs/test_bert.py::test_benchmark[cpu-bs1]"


def plant(pytester, run_id: str, median_s: float, status: str = "finished") -> None:
    writer = Writer.open(pytester.path / DB)
    writer.start_run(RunRow(id=run_id, started_at=utcnow() - timedelta(minutes=1)))
    writer.add_benchmark(BenchmarkRow(run_id=run_id, node_id=NODE, model="bert", platform="cpu", precision="fp32",
                                      batch_size=1, median_s=median_s))
    if status != "running":
        writer.finish_run(run_id, status, 0)
    writer.close()


@pytest.mark.slow
def test_forced_regression_fails_the_session_and_names_the_test(run, pytester, fake_load):
    plant(pytester, "20000101-000000-base00", median_s=1e-9)  # impossibly fast baseline
    result = run(*BERT_CPU, "--ipfs-compare=last", "--ipfs-fail-on-regression=10%")
    result.assert_outcomes(passed=1)
    assert result.ret == compare.REGRESSION_EXIT != 0
    result.stdout.fnmatch_lines([
        "*baseline run 20000101-000000-base00: 1 of 1 benchmark items compared*fail above 10%*",
        "  ipfs/test_bert.py::test_benchmark?cpu-bs1?*1e-06*+*%*10%*%*–*regression",
        "*benchmark regression beyond the threshold in 1 item(s): exit status 6*",
    ])


@pytest.mark.slow
def test_no_regression_exits_zero(run, pytester):
    plant(pytester, "20000101-000000-slow00", median_s=10.0)  # a baseline nothing is slower than
    plant(pytester, "20000101-000000-unfin0", median_s=1e-9, status="running")  # unfinished: never "last"
    result = run(*BERT_CPU, "--ipfs-fail-on-regression=10")  # implies --ipfs-compare=last
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*baseline run 20000101-000000-slow00: 1 of 1*", "no regressions"])


def test_unknown_run_id_is_a_usage_error_naming_the_known_ids(run, pytester):
    plant(pytester, "20000101-000000-known0", median_s=1.0)
    result = run(*BERT_CPU, "--ipfs-compare=nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ipfs-compare=nope: no run 'nope'*known runs*20000101-000000-known0*"])


@pytest.mark.slow
def test_the_first_gated_run_is_recorded_says_no_baseline_yet_and_passes(run, pytester):
    """17.2: a fresh store and --ipfs-fail-on-regression: exit 0, the run recorded, the next run compares with it."""
    first = run(*BERT_CPU, "--ipfs-fail-on-regression=10%")
    assert first.ret == 0, first.stdout.str() + first.stderr.str()
    first.stdout.fnmatch_lines(["*ipfs-accel benchmark comparison*", "no baseline yet: *recorded*nothing fails*"])
    assert "--ipfs-compare" not in first.stdout.str() + first.stderr.str()  # an option the user did not type
    import duckdb

    con = duckdb.connect(str(pytester.path / DB), read_only=True)
    try:
        (recorded,) = con.execute("SELECT count(*) FROM benchmark_results").fetchone()
    finally:
        con.close()
    assert recorded == 1
    second = run(*BERT_CPU, "--ipfs-compare=last")  # listing only: whatever the verdict, it does not fail
    assert second.ret == 0
    second.stdout.fnmatch_lines(["*baseline run *: 1 of 1 benchmark items compared*"])


def test_the_gate_names_the_option_the_user_typed(run, pytester):
    result = run(*BERT_CPU, "--ipfs-fail-on-regression=10", "--ipfs-db=none", "--co")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ipfs-fail-on-regression needs the results database; drop --ipfs-db=none.*"])
    assert "--ipfs-compare" not in result.stderr.str()


def test_bad_thread_count_is_a_usage_error(run, pytester):
    result = run(*BERT_CPU, "--ipfs-benchmark-threads=many", "--ipfs-db=none", "--co")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ipfs-benchmark-threads: 'many' is not an integer >= 1 or 'auto'.*"])


def test_bad_threshold_and_rounds_are_usage_errors(run, pytester):
    result = run(*BERT_CPU, "--ipfs-fail-on-regression=ten", "--ipfs-db=none", "--co")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ipfs-fail-on-regression: 'ten' is not a percentage*"])


def test_rows_without_raw_rounds_compare_medians_per_model_platform_precision_batch():
    from pytest_ipfs_accel.regression import gate

    baseline = gate.Baseline(["b"], items={
        ("bert", "cpu", "fp32", 1): {"node_id": "n1", "median_s": 1.0, "rounds": []},
        ("bert", "cpu", "fp32", 2): {"node_id": "n2", "median_s": 1.0, "rounds": []}})
    current = {
        "a": {"model": "bert", "platform": "cpu", "precision": "fp32", "batch_size": 1, "median_s": 1.2},
        "b": {"model": "bert", "platform": "cpu", "precision": "fp32", "batch_size": 2, "median_s": 1.05},
        "c": {"model": "bert", "platform": "cpu", "precision": "fp32", "batch_size": 4, "median_s": 9.0},
    }
    found = gate.compare(current, baseline, 10.0)
    assert [(c.node_id, c.status, round(c.percent, 6)) for c in found] == [
        ("a", "regression", 20.0), ("b", "ok", 5.0), ("c", "new", 0.0)]


@pytest.mark.parametrize(("raw", "pct"), [("10%", 10.0), ("10", 10.0), (" 2.5 % ", 2.5), ("0", 0.0)])
def test_threshold_parsing(pytester, raw, pct):
    config = pytester.parseconfig(f"--ipfs-fail-on-regression={raw}")
    assert bench_options.threshold(config) == pct
    assert bench_options.compare_ref(config) == "last"
    assert not bench_options.explicit_compare(config)


def test_compare_options_from_the_ini(pytester):
    pytester.makeini("[pytest]\nipfs_fail_on_regression = 5%\nipfs_compare = last:3\nipfs_fail_on_inconclusive = true\n")
    config = pytester.parseconfig()
    found = bench_options.compare_settings(config)
    assert (found.ref, found.explicit, found.threshold, found.fail_on_inconclusive, found.any_machine) == (
        "last:3", True, 5.0, True, False)
