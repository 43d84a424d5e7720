"""Read helpers over a database the writer filled."""

from __future__ import annotations

from datetime import datetime

import pytest

import duckdb

from pytest_ipfs_accel.store import queries, schema
from pytest_ipfs_accel.store.schema import RunRow, StoreError, TestResultRow
from pytest_ipfs_accel.store.writer import Writer


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "r.duckdb"
    writer = Writer.open(path)
    for day, (run_id, status) in enumerate([("a", "finished"), ("b", "interrupted"), ("c", "finished"),
                                            ("d", "running")], start=1):
        writer.start_run(RunRow(id=run_id, started_at=datetime(2025, 1, day)))
        if status != "running":
            writer.finish_run(run_id, status)
    writer.add_results([
        TestResultRow(run_id="c", node_id="ipfs/test_bert.py::test_load[cpu]", outcome="passed", model="bert",
                      platform="cpu"),
        TestResultRow(run_id="c", node_id="ipfs/test_bert.py::test_load[cuda]", outcome="skipped", model="bert",
                      platform="cuda", message="cuda not available"),
        TestResultRow(run_id="c", node_id="ipfs/test_bert.py::test_forward[cuda]", outcome="skipped", model="bert",
                      platform="cuda", message="cuda not available"),
        TestResultRow(run_id="c", node_id="test_plain.py::test_ok", outcome="passed"),
    ])
    writer.close()
    return path


def test_runs_newest_first_with_counts(db):
    with queries.connect(db) as con:
        assert [(r["id"], r["status"], r["results"]) for r in queries.runs(con)] == [
            ("d", "running", 0), ("c", "finished", 4), ("b", "interrupted", 0), ("a", "finished", 0)]
        assert [r["id"] for r in queries.runs(con, limit=2)] == ["d", "c"]


def test_resolve_last_means_the_newest_finished_run(db):
    with queries.connect(db) as con:
        assert queries.resolve_run(con, "last") == "c"
        assert queries.resolve_run(con, "last", before="c") == "a"
        assert queries.resolve_run(con, "b") == "b"
        with pytest.raises(StoreError, match="no run 'zz'.*newest: d, c, b, a"):
            queries.resolve_run(con, "zz")


def test_counts_and_the_model_platform_matrix(db):
    with queries.connect(db) as con:
        assert queries.outcome_counts(con, "c") == {"passed": 2, "skipped": 2}
        cells = queries.matrix(con, "c")
        assert set(cells) == {("bert", "cpu"), ("bert", "cuda")}  # items that are not generated stay out
        assert cells[("bert", "cuda")]["counts"] == {"skipped": 2}
        assert cells[("bert", "cuda")]["messages"][0] == (
            "ipfs/test_bert.py::test_forward[cuda]", "skipped", "cuda not available")


def test_reading_an_older_database_migrates_it_first(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    schema.migrate(con, path, target=1)
    con.close()
    with queries.connect(path) as con:
        assert schema.version(con) == schema.SCHEMA_VERSION
        assert queries.benchmarks(con, "x") == []


def test_reading_while_this_process_writes(tmp_path):
    """A report rendered at the end of a session reads the database the session's writer holds open."""
    path = tmp_path / "r.duckdb"
    writer = Writer.open(path)
    writer.start_run(RunRow(id="now", started_at=datetime(2025, 1, 1)))
    with queries.connect(path) as con:
        assert queries.run(con, "now")["status"] == "running"
    writer.finish_run("now", "finished")
    writer.close()
