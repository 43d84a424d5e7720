"""The benchmark kind as users meet it: real pytest sub-runs timing tiny bert, then the DuckDB rows."""

from __future__ import annotations

import json

import pytest

from pytest_ipfs_accel.store import queries
from pytest_ipfs_accel.host.threads import default_threads

DB = ".ipfs_accel/results.duckdb"
FAST = ("--ipfs-benchmark-rounds=5", "--ipfs-benchmark-warmup=1")
PLAIN = "def test_plain():\n    pass\n"
IDS = ["test_benchmark[cpu-bs1]", "test_benchmark[cpu-bs2]",
       "test_benchmark[onnxruntime-bs1]", "test_benchmark[onnxruntime-bs2]"]


def only_run(pytester) -> tuple[dict, list[dict], list[dict]]:
    with queries.connect(pytester.path / DB) as con:
        (run,) = queries.runs(con)
        return run, queries.results(con, run["id"]), queries.benchmarks(con, run["id"])


@pytest.mark.slow
def test_benchmark_only_times_every_batch_size_and_stores_rows_and_json(run, pytester):
    pytester.makepyfile(test_plain=PLAIN)
    result = run("--benchmark-only", "--ipfs-models=bert", "--ipfs-hw=cpu,onnxruntime", "--ipfs-batch-sizes=1,2",
                 *FAST, "--benchmark-json=bench.json")
    result.assert_outcomes(passed=4, skipped=1)  # --benchmark-only: only the benchmark kind is generated
    assert result.ret == 0
    run_row, results, rows = only_run(pytester)
    assert run_row["status"] == "finished"
    assert sorted(r["node_id"].split("::")[-1] for r in results if r["kind"] == "benchmark") == IDS
    assert {r["kind"] for r in results if r["model"]} == {"benchmark"}
    assert [(r["platform"], r["batch_size"]) for r in rows] == [
        ("cpu", 1), ("cpu", 2), ("onnxruntime", 1), ("onnxruntime", 2)]
    for row in rows:
        assert row["node_id"].startswith("ipfs/test_bert.py::test_benchmark[")
        assert (row["model"], row["precision"], row["rounds"], row["iterations"]) == ("bert", "fp32", 5, 1)
        assert row["runtime"] == {"cpu": "torch", "onnxruntime": "onnxruntime"}[row["platform"]]
        assert row["items_per_s"] == pytest.approx(row["batch_size"] / row["median_s"])
        assert 0 < row["min_s"] <= row["median_s"] <= row["p90_s"] <= row["p99_s"] <= row["max_s"]
        assert row["ops_per_s"] == pytest.approx(1 / row["mean_s"])
        assert row["peak_rss_mb"] > 50 and row["device_memory_mb"] is None  # torch is imported: > 50 MB
        # 17.1: the noise around each timing, and the threads it timed with (auto: the physical cores usable)
        assert row["threads"] == default_threads() and row["cv"] > 0
        assert row["load_before"] >= 0 and row["load_after"] >= 0 and row["other_cpu_s"] >= 0
    data = json.loads((pytester.path / "bench.json").read_text())
    by_name = {b["name"]: b for b in data["benchmarks"]}
    assert sorted(by_name) == IDS
    extra = by_name["test_benchmark[onnxruntime-bs2]"]["extra_info"]
    assert (extra["model"], extra["platform"], extra["batch_size"]) == ("bert", "onnxruntime", 2)
    assert len(by_name["test_benchmark[cpu-bs1]"]["stats"]["data"]) == 5
    assert extra["threads"] == default_threads() and "load_before" in extra and "cv" in extra


@pytest.mark.slow
def test_calibrated_timing_runs_enough_rounds_for_the_gate_with_the_threads_asked_for(run, pytester):
    """pytest-benchmark's own calibration (no --ipfs-benchmark-rounds) times at least the gate's minimum of
    rounds; --ipfs-benchmark-threads=1 is recorded."""
    from pytest_ipfs_accel.regression.noise import MIN_ROUNDS

    result = run("--benchmark-only", "--ipfs-models=bert", "--ipfs-hw=onnxruntime", "--ipfs-batch-sizes=1",
                 "--ipfs-benchmark-threads=1", "--benchmark-max-time=0.000001")
    assert result.ret == 0, result.stdout.str()
    _, _, (row,) = only_run(pytester)
    assert row["rounds"] >= MIN_ROUNDS and row["threads"] == 1


def test_benchmark_skip_skips_them_before_anything_is_built(run, pytester):
    result = run("--benchmark-skip", "--ipfs-models=bert", "--ipfs-hw=cpu,onnxruntime", "--ipfs-kinds=benchmark",
                 "-rs")
    result.assert_outcomes(skipped=4)
    result.stdout.fnmatch_lines(["*--benchmark-skip*"])
    _, results, rows = only_run(pytester)
    assert [r["outcome"] for r in results] == ["skipped"] * 4 and rows == []


def test_benchmark_kind_is_not_a_default_kind(run, pytester):
    result = run("--co", "-q", "--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-db=none")
    assert result.ret == 0
    out = result.stdout.str()
    assert "test_forward[cpu]" in out and "test_benchmark" not in out
