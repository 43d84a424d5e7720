"""``db merge`` into a file other processes use: it takes the writer's lock, lands in one transaction,
and loses nothing (real processes, real DuckDB files)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime

import duckdb
import pytest

from pytest_ipfs_accel.store import merge, queries
from pytest_ipfs_accel.store.schema import RunRow, StoreError, TestResultRow
from pytest_ipfs_accel.store.writer import DatabaseLocked, Writer

CLI = [sys.executable, "-m", "pytest_ipfs_accel"]


def make_input(path, run_id: str, rows: int = 3) -> None:
    writer = Writer.open(path)
    writer.start_run(RunRow(id=run_id, started_at=datetime(2025, 1, 1)))
    writer.add_results(TestResultRow(run_id, f"t.py::test_{i}", "passed") for i in range(rows))
    writer.finish_run(run_id, "finished", 0)
    writer.close()


def stored(path) -> dict[str, tuple[str, int]]:
    with queries.connect(path) as con:
        return {r["id"]: (r["status"], r["results"]) for r in queries.runs(con)}


@pytest.mark.slow
def test_three_merges_at_once_into_one_output_all_land(tmp_path):
    inputs = [tmp_path / f"in{k}.duckdb" for k in range(3)]
    for k, path in enumerate(inputs):
        make_input(path, f"run{k}", rows=k + 2)
    out = tmp_path / "all.duckdb"
    procs = [subprocess.Popen([*CLI, "db", "merge", str(path), "-o", str(out), "--timeout", "60"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for path in inputs]
    done = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], done
    assert all("added 1 runs" in out_ for out_, _ in done), done
    assert stored(out) == {"run0": ("finished", 2), "run1": ("finished", 3), "run2": ("finished", 4)}


RUN_LIKE = """
import sys, time
from pytest_ipfs_accel.store.schema import RunRow, TestResultRow, utcnow
from pytest_ipfs_accel.store.writer import Writer
w = Writer.open(sys.argv[1])
w.start_run(RunRow(id="live", started_at=utcnow()))
print("open", flush=True)
for i in range(14):
    w.add_result(TestResultRow("live", f"t.py::test_{i}", "passed"))
    time.sleep(0.1)
w.finish_run("live", "finished", 0)
w.close()
print("closed", flush=True)
"""


@pytest.mark.slow
def test_a_merge_waits_for_a_pytest_run_writing_the_output_and_nothing_is_lost(tmp_path):
    source, out = tmp_path / "box.duckdb", tmp_path / "all.duckdb"
    make_input(source, "merged")
    make_input(out, "old")
    writer = subprocess.Popen([sys.executable, "-c", RUN_LIKE, str(out)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "open"  # it holds the output now
    started = time.monotonic()
    done = subprocess.run([*CLI, "db", "merge", str(source), "-o", str(out), "--timeout", "60"],
                          capture_output=True, text=True, timeout=120)
    assert writer.wait(timeout=60) == 0
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started >= 1.0  # it waited for the writer (14 rows, 0.1 s apart)
    assert stored(out) == {"old": ("finished", 3), "live": ("finished", 14), "merged": ("finished", 3)}


def test_a_merge_that_cannot_get_the_lock_says_so_in_one_line_and_writes_nothing(tmp_path):
    source, out = tmp_path / "box.duckdb", tmp_path / "all.duckdb"
    make_input(source, "merged")
    make_input(out, "old")
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); time.sleep(30)", str(out)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(DatabaseLocked, match=r"is locked by another process .*waited 0.3 s"):
            merge.merge([source], out, timeout=0.3)
        done = subprocess.run([*CLI, "db", "merge", str(source), "-o", str(out), "--timeout", "0.2"],
                              capture_output=True, text=True, timeout=60)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "in use (a pytest run or another merge); try again when it ends, or wait longer with --timeout" \
        in done.stderr
    assert "Traceback" not in done.stderr
    assert stored(out) == {"old": ("finished", 3)}


KILLED = """
import os, sys
from pytest_ipfs_accel.store.schema import RunRow, TestResultRow, utcnow
from pytest_ipfs_accel.store.writer import Writer
w = Writer.open(sys.argv[1])
w.start_run(RunRow(id="killed", started_at=utcnow()))
for i in range(5):
    w.add_result(TestResultRow("killed", f"t.py::test_{i}", "passed"))
os._exit(9)
"""


def test_a_stale_wal_of_a_killed_writer_is_replayed_and_the_output_stays_readable(tmp_path):
    source, out = tmp_path / "box.duckdb", tmp_path / "all.duckdb"
    make_input(source, "merged")
    subprocess.run([sys.executable, "-c", KILLED, str(out)], check=False)
    assert out.with_name(out.name + ".wal").stat().st_size > 0  # the killed run's rows are only in the WAL
    assert merge.merge([source], out) == {"runs": 1, "test_results": 3, "benchmark_results": 0}
    for _ in range(2):  # readable afterwards, and again
        assert stored(out) == {"killed": ("running", 5), "merged": ("finished", 3)}
    con = duckdb.connect(str(out), read_only=True)
    assert con.execute("SELECT count(*) FROM test_results").fetchone()[0] == 8
    con.close()


def test_a_failing_input_leaves_the_output_as_it_was_in_one_transaction(tmp_path):
    good, out, junk = tmp_path / "good.duckdb", tmp_path / "all.duckdb", tmp_path / "junk.duckdb"
    make_input(good, "good")
    make_input(out, "old")
    junk.write_text("not a database\n")
    before = out.read_bytes()
    with pytest.raises(StoreError, match=r"junk.duckdb is not a DuckDB database"):
        merge.merge([good, junk], out)
    assert out.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".merge-")]  # scratch removed
    assert os.listdir(tmp_path)  # (sanity)
    assert stored(out) == {"old": ("finished", 3)}
