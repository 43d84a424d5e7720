"""``ipfs-accel db merge | export --parquet | import``: real DuckDB files and Parquet folders."""

from __future__ import annotations

import argparse
from datetime import datetime

import duckdb
import pytest

from pytest_ipfs_accel.cli import db as db_cli
from pytest_ipfs_accel.cli.common import CliError
from pytest_ipfs_accel.store.schema import RunRow, TestResultRow
from pytest_ipfs_accel.store.writer import Writer, spill_path_for


def db(*argv) -> int:
    top = argparse.ArgumentParser()
    db_cli.add_parser(top.add_subparsers())
    args = top.parse_args(["db", *map(str, argv)])
    return args.func(args)


def add_run(path, run_id: str, writer: Writer | None = None) -> None:
    w = writer or Writer.open(path)
    w.start_run(RunRow(id=run_id, started_at=datetime(2025, 1, 1)))
    w.add_result(TestResultRow(run_id, "t.py::test_a", "passed"))
    w.finish_run(run_id, "finished", 0)
    if writer is None:
        w.close()


def rows(path, table="test_results") -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def test_export_then_merge_with_a_database_is_idempotent(tmp_path, capsys):
    a, b, out = tmp_path / "a.duckdb", tmp_path / "b.duckdb", tmp_path / "all.duckdb"
    add_run(a, "ra")
    add_run(b, "rb")
    assert db("export", "--parquet", tmp_path / "fleet" / "a", "--db", a) == 0
    assert "wrote 1 runs, 1 test_results, 1 benchmark_results Parquet files" in capsys.readouterr().out
    assert db("merge", tmp_path / "fleet", b, "-o", out) == 0
    assert db("merge", tmp_path / "fleet", b, "-o", out) == 0
    assert "added 0 runs, 0 test_results, 0 benchmark_results" in capsys.readouterr().out
    assert rows(out, "runs") == 2 and rows(out) == 2


def test_merge_error_names_the_file_and_keeps_the_output(tmp_path):
    out = tmp_path / "all.duckdb"
    add_run(out, "kept")
    (tmp_path / "junk.duckdb").write_text("junk")
    with pytest.raises(CliError, match=r"junk.duckdb is not a DuckDB database.*all.duckdb is unchanged"):
        db("merge", tmp_path / "junk.duckdb", "-o", out)
    assert rows(out, "runs") == 1


def test_import_a_spill_file(tmp_path, capsys):
    path = tmp_path / "r.duckdb"
    writer = Writer(path, None, "locked")  # a spilling writer, as when the database was locked
    add_run(path, "sp", writer)
    writer.close()
    spill = spill_path_for(path, "sp")
    assert db("import", spill) == 0
    assert "inserted 1 runs, 1 test_results" in capsys.readouterr().out and rows(path) == 1
    with pytest.raises(CliError, match="no such spill file"):
        db("import", tmp_path / "none.jsonl")
