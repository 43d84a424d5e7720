"""store.merge: fleets of databases and Parquet exports merged into one, idempotently and safely."""

from __future__ import annotations

import duckdb
import pytest

from pytest_ipfs_accel.store import merge, queries, schema
from pytest_ipfs_accel.store.schema import StoreError


def counts(db) -> dict[str, int]:
    with queries.connect(db) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in merge.TABLES}


def test_merge_twice_adds_nothing_and_keeps_runs_of_both_machines(tmp_path, plant):
    a, b, out = tmp_path / "a.duckdb", tmp_path / "b.duckdb", tmp_path / "all.duckdb"
    plant(a, "ra1", [1.0, 1.1], minutes=1)
    plant(a, "ra2", [1.0, 1.2], minutes=2)
    plant(b, "rb1", [2.0, 2.1], machine="m2", minutes=3)
    assert merge.merge([a, b], out) == {"runs": 3, "test_results": 3, "benchmark_results": 3}
    assert merge.merge([a, b, a], out) == {"runs": 0, "test_results": 0, "benchmark_results": 0}
    assert counts(out) == {"runs": 3, "test_results": 3, "benchmark_results": 3}
    with queries.connect(out) as con:
        assert len({r["machine_id"] for r in queries.runs(con)}) == 2
        assert queries.benchmarks(con, "rb1")[0]["median_s"] == pytest.approx(2.05)


def test_parquet_export_round_trip_and_folders_dropped_together(tmp_path, plant):
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    plant(a, "ra1", [1.0, 1.1, 1.2])
    plant(b, "rb1", [2.0], machine="m2")
    fleet = tmp_path / "fleet"
    assert merge.export_parquet(a, fleet / "box-a") == {"runs": 1, "test_results": 1, "benchmark_results": 1}
    merge.export_parquet(b, fleet / "box-b")
    merge.export_parquet(a, fleet / "box-a-again")  # the same run exported twice: still one run
    assert (fleet / "box-a" / "benchmark_results" / "ra1.parquet").is_file()
    out = tmp_path / "all.duckdb"
    assert merge.merge([fleet], out) == {"runs": 2, "test_results": 2, "benchmark_results": 2}
    with queries.connect(a) as con_a, queries.connect(out) as con_out:
        assert queries.run(con_out, "ra1") == queries.run(con_a, "ra1")  # every column, JSON included
        assert con_out.execute("SELECT rounds_s FROM benchmark_results WHERE run_id = 'ra1'").fetchone() == \
            con_a.execute("SELECT rounds_s FROM benchmark_results WHERE run_id = 'ra1'").fetchone()


def test_old_inputs_are_migrated_in_a_copy_and_left_untouched(tmp_path):
    old = tmp_path / "old.duckdb"
    con = duckdb.connect(str(old))
    schema.migrate(con, old, target=2)
    con.execute("INSERT INTO runs (id, started_at, status) VALUES ('v2', TIMESTAMP '2024-01-01', 'finished')")
    con.close()
    out = tmp_path / "all.duckdb"
    assert merge.merge([old], out)["runs"] == 1
    con = duckdb.connect(str(old), read_only=True)
    assert schema.version(con) == 2  # the input was not migrated in place
    con.close()


def test_corrupt_or_foreign_input_leaves_the_output_as_it_was(tmp_path, plant):
    out = tmp_path / "all.duckdb"
    plant(out, "kept", [1.0])
    before = out.read_bytes()
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"not a database at all")
    foreign = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE cities (name VARCHAR)")
    con.close()
    empty = tmp_path / "empty"
    empty.mkdir()
    for source, message in ((bad, "bad.duckdb is not a DuckDB database"),
                            (foreign, "foreign.duckdb is a DuckDB database of something else"),
                            (empty, "holds no <table>/\\*.parquet files"),
                            (tmp_path / "missing.duckdb", "missing.duckdb: no such file")):
        with pytest.raises(StoreError, match=message):
            merge.merge([source], out)
    assert out.read_bytes() == before and counts(out)["runs"] == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".merge-")) == []
