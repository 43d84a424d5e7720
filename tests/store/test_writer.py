"""The writer on real DuckDB files: appends, bulk appends, a lock held by another process, spills."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime

import pytest

import duckdb

from pytest_ipfs_accel.store import queries
from pytest_ipfs_accel.store.schema import BenchmarkRow, RunRow, StoreError, TestResultRow
from pytest_ipfs_accel.store.spill import import_spill
from pytest_ipfs_accel.store.writer import Writer


def a_run(run_id: str = "r1") -> RunRow:
    return RunRow(id=run_id, started_at=datetime(2025, 1, 1, 12, 0), host="h", packages=json.dumps({"x": "1"}))


def results(run_id: str, n: int) -> list[TestResultRow]:
    return [TestResultRow(run_id=run_id, node_id=f"ipfs/test_bert.py::test_load[p{i}]", outcome="passed",
                          model="bert", platform="cpu", duration_s=0.5, batch_size=1) for i in range(n)]


@pytest.fixture
def holder(tmp_path):
    """A second process holding a read-write connection to a database (DuckDB's one-writer lock)."""
    procs = []

    def hold(path):
        proc = subprocess.Popen(
            [sys.executable, "-c", "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
                                   "print('ready', flush=True); time.sleep(120)", str(path)],
            stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout.readline().strip() == "ready"
        return proc

    yield hold
    for proc in procs:
        proc.kill()
        proc.wait()


def test_rows_are_appended_and_the_run_finished(tmp_path):
    path = tmp_path / "deep" / "er" / "r.duckdb"  # folders are created
    writer = Writer.open(path)
    writer.start_run(a_run())
    writer.add_result(results("r1", 1)[0])
    writer.add_results(results("r1", 3)[1:])
    writer.add_benchmark(BenchmarkRow(run_id="r1", node_id="b", median_s=0.25, p90_s=0.3, items_per_s=4.0))
    writer.finish_run("r1", "finished", 0)
    writer.close()
    assert writer.stored == {"runs": 1, "test_results": 3, "benchmark_results": 1} and writer.reason is None

    with queries.connect(path) as con:
        run = queries.run(con, "r1")
        assert (run["status"], run["exit_status"], run["results"], run["packages"]) == ("finished", 0, 3, {"x": "1"})
        assert run["finished_at"] is not None
        assert [r["node_id"] for r in queries.results(con, "r1")] == [r.node_id for r in results("r1", 3)]
        assert queries.benchmarks(con, "r1")[0]["p90_s"] == 0.3


def test_bulk_append_of_many_rows_is_one_statement(tmp_path):
    # (its speed is measured by benchmarks/store_append.py, not timed here)
    writer = Writer.open(tmp_path / "r.duckdb")
    writer.start_run(a_run())
    writer.add_results(results("r1", 20_000))
    writer.close()
    assert writer.stored["test_results"] == 20_000


def test_values_are_parameters_never_sql(tmp_path):
    path = tmp_path / "r.duckdb"
    writer = Writer.open(path)
    nasty = "x'); DROP TABLE runs; --"
    writer.start_run(a_run(nasty))
    writer.add_result(TestResultRow(run_id=nasty, node_id=nasty, outcome="failed", message=nasty))
    writer.close()
    with queries.connect(path) as con:
        assert queries.results(con, nasty)[0]["message"] == nasty


def test_a_locked_database_is_waited_for_then_spilled_and_imported_later(tmp_path, holder):
    path = tmp_path / "results.duckdb"
    proc = holder(path)
    started = time.monotonic()
    writer = Writer.open(path, timeout=0.6)
    assert time.monotonic() - started >= 0.6
    assert writer.spilling and f"{path} is locked by another process" in writer.reason
    assert f"PID {proc.pid}" in writer.reason
    writer.start_run(a_run("r9"))
    writer.add_results(results("r9", 2))
    writer.add_benchmark(BenchmarkRow(run_id="r9", node_id="b", median_s=0.1))
    writer.finish_run("r9", "finished", 0)
    writer.close()
    assert writer.spill_path == tmp_path / "results.r9.spill.jsonl"
    assert writer.spilled == {"runs": 1, "test_results": 2, "benchmark_results": 1}
    lines = [json.loads(x) for x in writer.spill_path.read_text().splitlines()]
    assert [x["op"] for x in lines] == ["spill", "insert", "insert", "insert", "insert", "finish"]

    with pytest.raises(StoreError, match="is locked by another process"):
        import_spill(writer.spill_path, timeout=0.1)
    proc.kill()
    proc.wait()
    assert import_spill(writer.spill_path) == {"runs": 1, "test_results": 2, "benchmark_results": 1}
    assert import_spill(writer.spill_path) == {"runs": 0, "test_results": 0, "benchmark_results": 0}
    with queries.connect(path) as con:
        assert queries.run(con, "r9")["status"] == "finished"
        assert len(queries.results(con, "r9")) == 2


def test_a_lock_released_while_waiting_is_taken(tmp_path, holder):
    path = tmp_path / "results.duckdb"
    proc = holder(path)
    killer = subprocess.Popen([sys.executable, "-c", f"import os, time; time.sleep(0.5); os.kill({proc.pid}, 9)"])
    writer = Writer.open(path, timeout=10)
    killer.wait()
    assert not writer.spilling and writer.reason is None
    writer.close()


def test_readers_get_a_clear_error_for_a_missing_file(tmp_path):
    with pytest.raises(StoreError, match=r"no results database there"), queries.connect(tmp_path / "nope.duckdb"):
        pass


def test_a_write_the_database_refuses_sends_it_and_the_rest_to_the_spill(tmp_path):
    path = tmp_path / "results.duckdb"
    writer = Writer.open(path)
    writer.start_run(a_run("r5"))
    writer.add_results(results("r5", 2))
    writer.add_result(TestResultRow(run_id="r5", node_id="odd", outcome="exploded"))  # CHECK constraint fails
    writer.add_result(results("r5", 3)[2])
    writer.finish_run("r5", "finished", 0)
    writer.close()
    assert f"writing to {path} failed: Constraint Error" in writer.reason
    assert writer.stored == {"runs": 1, "test_results": 2, "benchmark_results": 0}
    assert writer.spilled == {"runs": 1, "test_results": 2, "benchmark_results": 0}
    lines = [json.loads(x) for x in writer.spill_path.read_text().splitlines()]
    assert [(x["op"], x.get("row", {}).get("node_id")) for x in lines] == [
        ("spill", None), ("insert", None), ("insert", "odd"), ("insert", results("r5", 3)[2].node_id),
        ("finish", None)]
    with queries.connect(path) as con:  # what reached the database before stays there
        assert queries.run(con, "r5")["status"] == "running" and len(queries.results(con, "r5")) == 2
