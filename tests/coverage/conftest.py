"""Fixtures for coverage tests: plugin sub-runs that record into a DuckDB store."""

from __future__ import annotations

import pytest

# duckdb aborts the process when imported twice; import it before pytester snapshots sys.modules.
import duckdb  # noqa: F401


@pytest.fixture
def sweep(pytester, monkeypatch, tmp_path):
    """``sweep(models, *args) -> (result, db)``: a plugin run in a subprocess recording into ``db``."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)  # an outer -n 2 must not leak into the sub-run
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    db = tmp_path / "coverage.duckdb"

    def _sweep(models: str, *args: str):
        result = pytester.runpytest_subprocess(
            f"--ipfs-models={models}", f"--ipfs-db={db}", "-p", "no:cacheprovider", *args)
        return result, db

    return _sweep


@pytest.fixture
def last_run():
    """``last_run(db) -> (con, run_id)`` of the newest run in a store (read-only connection)."""
    from pytest_ipfs_accel.store import queries

    opened = []

    def _last(db):
        cm = queries.connect(db)
        con = cm.__enter__()
        opened.append(cm)
        return con, queries.runs(con, limit=1)[0]["id"]

    yield _last
    for cm in opened:
        cm.__exit__(None, None, None)
