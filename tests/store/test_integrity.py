"""The store never holds two rows for one (run, node id), refuses corrupt and read-only files with the
right words, and marks runs whose process died ``interrupted`` (real DuckDB files, real processes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime

import duckdb
import pytest

from pytest_ipfs_accel.store import liveness, queries, schema
from pytest_ipfs_accel.store.schema import BenchmarkRow, RunRow, TestResultRow
from pytest_ipfs_accel.store.writer import ReadOnlyDatabase, Writer

NODE = "ipfs/test_bert.py::test_load[cpu]"


def _status(path, run_id):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT status, note FROM runs WHERE id = ?", [run_id]).fetchone()
    finally:
        con.close()


# -- one row per (run, node id) ----------------------------------------------------------------------
def test_a_second_row_for_one_node_is_refused_and_named(tmp_path):
    writer = Writer.open(tmp_path / "r.duckdb")
    writer.start_run(RunRow(id="r1", started_at=datetime(2025, 1, 1)))
    writer.add_result(TestResultRow("r1", NODE, "passed"))
    writer.add_result(TestResultRow("r1", NODE, "failed"))  # the same node id collected twice
    writer.add_results([TestResultRow("r1", "b", "passed"), TestResultRow("r1", "b", "passed")])
    writer.add_benchmark(BenchmarkRow("r1", NODE, median_s=1.0))
    writer.add_benchmark(BenchmarkRow("r1", NODE, median_s=2.0))
    writer.add_result(TestResultRow("r2", NODE, "passed"))  # another run: its own row
    assert writer.reason is None and not writer.spilling  # a duplicate does not break the database
    assert writer.stored["test_results"] == 3 and writer.stored["benchmark_results"] == 1
    assert writer.duplicates == [f"{NODE} (test_results)", "b (test_results)", f"{NODE} (benchmark_results)"]
    con = writer.con
    assert con.execute("SELECT outcome FROM test_results WHERE run_id = 'r1' AND node_id = ?", [NODE]).fetchall() \
        == [("passed",)]
    writer.close()


def test_migrations_5_6_keep_the_first_of_duplicate_rows_and_add_the_unique_key(tmp_path):
    path = tmp_path / "v4.duckdb"
    con = duckdb.connect(str(path))
    schema.migrate(con, path, target=4)
    for outcome in ("passed", "failed"):
        con.execute("INSERT INTO test_results (run_id, node_id, outcome) VALUES ('r', ?, ?)", [NODE, outcome])
        con.execute("INSERT INTO benchmark_results (run_id, node_id, median_s) VALUES ('r', ?, 1)", [NODE])
    assert schema.migrate(con, path, target=6) == [5, 6]  # later versions add tables and columns only
    assert con.execute("SELECT outcome FROM test_results").fetchall() == [("passed",)]
    assert con.execute("SELECT count(*) FROM benchmark_results").fetchone()[0] == 1
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO test_results (run_id, node_id, outcome) VALUES ('r', ?, 'passed')", [NODE])
    con.close()


# -- corrupt and read-only files ---------------------------------------------------------------------
def test_a_file_corrupted_in_the_middle_is_refused_at_open_or_spills_from_the_first_failing_write(tmp_path, damaged):
    refused, spilled = [], []
    for offset, bad in damaged(tmp_path):
        before = bad.read_bytes()
        message, writer = damaged.write_a_run(bad)  # never an exception other than StoreError
        if message is not None:
            refused.append(message)
            assert bad.read_bytes() == before, offset  # refused before anything was written
        elif writer.failed:
            spilled.append(writer)
            assert writer.spill_path.is_file() and "Corrupt database file" in writer.reason
            assert writer.stored["test_results"] + writer.spilled["test_results"] == 6  # none lost
            assert writer.lost == 0
    assert refused and spilled, "expected damage that DuckDB detects at open and damage it finds at a write"
    assert all(" is corrupt (Corrupt database file" in m and "Move it away or use another path" in m
               and len(m.splitlines()) == 1 for m in refused), refused


@pytest.fixture
def immutable(tmp_path):
    """``immutable(path)``: chattr +i (root ignores chmod 444; the immutable flag stops root too)."""
    done = []

    def make(path):
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode:
            pytest.skip("chattr +i is not available here")
        done.append(path)

    yield make
    for path in done:
        subprocess.run(["chattr", "-i", str(path)])


def test_a_read_only_file_is_called_read_only(tmp_path, immutable):
    path = tmp_path / "r.duckdb"
    Writer.open(path).close()
    immutable(path)
    with pytest.raises(ReadOnlyDatabase) as info:
        Writer.open(path)
    message = str(info.value)
    assert message.startswith(f"{path} is read-only (Operation not permitted)") and "not a usable" not in message
    assert "writable, or write the results to another file" in message
    with queries.connect(path) as con:  # reading it still works
        assert queries.runs(con) == []


def test_a_file_in_a_read_only_folder_is_refused_at_open_not_at_the_first_commit(tmp_path, immutable):
    folder = tmp_path / "ro"
    folder.mkdir()
    Writer.open(folder / "r.duckdb").close()
    immutable(folder)
    with pytest.raises(ReadOnlyDatabase, match=r"is read-only \(its folder .* cannot take new files"):
        Writer.open(folder / "r.duckdb")


# -- runs whose process died ---------------------------------------------------------------------------
KILLED = """
import os, sys
from datetime import datetime
from pytest_ipfs_accel.store import liveness
from pytest_ipfs_accel.store.schema import RunRow, TestResultRow, utcnow
from pytest_ipfs_accel.store.writer import Writer
w = Writer.open(sys.argv[1])
w.start_run(RunRow(id="dead", started_at=utcnow(), host=liveness.host(), pid=os.getpid()))
w.add_result(TestResultRow("dead", "t.py::test_a", "passed"))
os._exit(9)  # killed: no finish_run, no close
"""


def test_a_dead_running_run_of_this_host_is_marked_interrupted_others_are_left(tmp_path):
    path = tmp_path / "r.duckdb"
    subprocess.run([sys.executable, "-c", KILLED, str(path)], check=False)
    con = duckdb.connect(str(path))  # plain duckdb: nothing marks anything here
    for run_id, host, pid in (("alive", liveness.host(), os.getpid()), ("other-host", "not-" + liveness.host(), 1)):
        con.execute("INSERT INTO runs (id, started_at, status, host, pid) VALUES (?, now(), 'running', ?, ?)",
                    [run_id, host, pid])
    con.close()
    assert _status(path, "dead")[0] == "running"
    with queries.connect(path) as con:  # a reader marks it
        runs = {r["id"]: r for r in queries.runs(con)}
    assert runs["dead"]["status"] == "interrupted" and runs["dead"]["results"] == 1
    assert runs["dead"]["note"].startswith("killed: its process ") and liveness.host() in runs["dead"]["note"]
    assert runs["alive"]["status"] == "running"  # this process is alive
    assert runs["other-host"]["status"] == "running"  # never judged from here


def test_the_next_writer_marks_a_dead_run(tmp_path):
    path = tmp_path / "r.duckdb"
    subprocess.run([sys.executable, "-c", KILLED, str(path)], check=False)
    assert _status(path, "dead")[0] == "running"
    Writer.open(path).close()
    assert _status(path, "dead")[0] == "interrupted"
