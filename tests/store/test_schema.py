"""Schema versions and forward migrations, on real DuckDB files."""

from __future__ import annotations

import pytest

import duckdb

from pytest_ipfs_accel.store import schema
from pytest_ipfs_accel.store.schema import SCHEMA_VERSION, StoreError
from pytest_ipfs_accel.store.writer import Writer


def table_columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table]).fetchall()]


def test_new_database_gets_every_table_at_the_current_version(tmp_path):
    con = duckdb.connect(str(tmp_path / "r.duckdb"))
    assert schema.migrate(con) == [v for v, _, _ in schema.MIGRATIONS]
    assert schema.version(con) == SCHEMA_VERSION
    for table in schema.TABLES:  # what the code writes is exactly what the tables hold
        assert sorted(table_columns(con, table)) == sorted(schema.columns(table))
    assert schema.migrate(con) == []  # idempotent
    assert con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == SCHEMA_VERSION


def test_older_version_migrates_forward_keeping_rows(tmp_path):
    path = tmp_path / "r.duckdb"
    con = duckdb.connect(str(path))
    schema.migrate(con, path, target=1)
    assert "p90_s" not in table_columns(con, "benchmark_results")
    con.execute("INSERT INTO runs (id, started_at, status) VALUES ('old', TIMESTAMP '2024-01-01', 'finished')")
    con.execute("INSERT INTO benchmark_results (run_id, node_id, median_s) VALUES ('old', 'n', 0.5)")
    con.close()

    Writer.open(path).close()

    con = duckdb.connect(str(path))
    assert schema.version(con) == SCHEMA_VERSION
    assert con.execute("SELECT run_id, median_s, p90_s, p99_s FROM benchmark_results").fetchall() == [
        ("old", 0.5, None, None)]
    assert [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()] == list(
        range(1, SCHEMA_VERSION + 1))


def test_v2_database_migrates_to_v3_with_null_new_columns(tmp_path):
    path = tmp_path / "r.duckdb"
    con = duckdb.connect(str(path))
    schema.migrate(con, path, target=2)
    con.execute("INSERT INTO runs (id, started_at, status) VALUES ('v2', TIMESTAMP '2024-01-01', 'finished')")
    con.execute("INSERT INTO test_results (run_id, node_id, outcome) VALUES ('v2', 'n', 'passed')")
    con.close()

    Writer.open(path).close()

    con = duckdb.connect(str(path))
    assert {"fingerprint", "machine_id"} <= set(table_columns(con, "runs"))
    assert con.execute("SELECT outcome, failure_class, max_abs_diff, executed_on, expected FROM test_results"
                       ).fetchall() == [("passed", None, None, None, None)]
    assert "rounds_s" in table_columns(con, "benchmark_results")


def test_newer_version_is_refused_naming_the_path(tmp_path):
    path = tmp_path / "r.duckdb"
    con = duckdb.connect(str(path))
    schema.migrate(con, path)
    con.execute("INSERT INTO schema_version VALUES (?, TIMESTAMP '2030-01-01', '9.0')", [SCHEMA_VERSION + 1])
    con.close()
    with pytest.raises(StoreError, match=rf"{path}.*version {SCHEMA_VERSION + 1}, newer.*upgrade pytest-ipfs-accel"):
        Writer.open(path)


def test_foreign_duckdb_file_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "r.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE inventory (sku VARCHAR)")
    con.close()
    with pytest.raises(StoreError, match=rf"{path} is a DuckDB database of something else \(tables: inventory;"):
        Writer.open(path)
    con = duckdb.connect(str(path))
    assert schema.table_names(con) == ["inventory"]


@pytest.mark.parametrize("content", [b"hello, I am notes\n", b"", b"SQLite format 3\x00" + b"\x00" * 200])
def test_corrupt_file_is_refused_naming_the_path(tmp_path, content):
    path = tmp_path / "r.duckdb"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=rf"{path} is not a DuckDB database.*Move it away or use another path"):
        Writer.open(path)
    assert path.read_bytes() == content


def test_a_failed_migration_step_leaves_the_previous_version(tmp_path):
    path = tmp_path / "r.duckdb"
    con = duckdb.connect(str(path))
    schema.migrate(con, path, target=1)
    con.execute("ALTER TABLE benchmark_results ADD COLUMN p90_s DOUBLE")  # step 2 will collide with this
    with pytest.raises(duckdb.Error):
        schema.migrate(con, path)
    assert schema.version(con) == 1
    assert "p99_s" not in table_columns(con, "benchmark_results")
