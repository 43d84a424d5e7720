"""Fleets: merge results databases and Parquet exports from many machines into one database.

``export_parquet(db, folder)`` writes one file per table per run, ``<folder>/<table>/<run_id>.parquet``,
so export folders of many machines can be copied into one folder (or side by side under it)
and read together: a run exported twice lands on the same file name.

``merge(inputs, output)`` takes DuckDB files and folders of such exports (searched recursively)
and adds what ``output`` lacks: runs keyed by ``id``; result and benchmark rows keyed by
``(run_id, node_id)``, so merging twice adds nothing and a run split over two inputs is joined
without duplicates. A run stored as ``running`` is updated when an input has it finished. Inputs
are never modified: every DuckDB input is copied to a temporary folder (with its ``.wal``) and
opened and migrated there first, so a corrupt or foreign input is a StoreError naming it before
``output`` is touched. Then ``output`` is opened in place like any writer opens it -- the same
DuckDB lock, waited for up to ``timeout`` seconds (DatabaseLocked after that), its own ``.wal``
replayed by DuckDB (or a one-line StoreError if it cannot be) -- and every input lands in one
transaction: all of it or none. Merges into one output at the same time take turns and all land;
a pytest run writing to ``output`` keeps its rows (the merge waits for it).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pytest_ipfs_accel.store.schema import StoreError
from pytest_ipfs_accel.store.writer import DEFAULT_LOCK_TIMEOUT, Writer

#: Tables merged and exported, in the order they are written.
TABLES = ("runs", "test_results", "benchmark_results")
_KEYS = {"runs": ("id",), "test_results": ("run_id", "node_id"), "benchmark_results": ("run_id", "node_id")}
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def _columns(con, relation: str) -> list[str]:
    """Column names of a table or view (``relation`` is one of our identifiers, never user input)."""
    return [d[0] for d in con.execute(f"SELECT * FROM {relation} LIMIT 0").description]


# -- export ----------------------------------------------------------------------------------------
def export_parquet(db: Path | str, folder: Path | str) -> dict[str, int]:
    """Write ``folder/<table>/<run_id>.parquet`` for every run of ``db``; files written per table."""
    from pytest_ipfs_accel.store import queries

    folder = Path(folder)
    written = dict.fromkeys(TABLES, 0)
    with queries.connect(db) as con:
        run_ids = [r[0] for r in con.execute("SELECT id FROM runs ORDER BY started_at, id").fetchall()]
        for table in TABLES:
            (folder / table).mkdir(parents=True, exist_ok=True)
            key = "id" if table == "runs" else "run_id"
            for run_id in run_ids:
                target = folder / table / f"{_SAFE.sub('_', run_id)}.parquet"
                tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
                con.execute(f"COPY (SELECT * FROM {table} WHERE {key} = ?) TO '{_quoted(tmp)}' (FORMAT parquet)",
                            [run_id])
                os.replace(tmp, target)
                written[table] += 1
    return written


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


# -- merge -----------------------------------------------------------------------------------------
def parquet_files(folder: Path) -> dict[str, list[Path]]:
    """table -> the ``<table>/*.parquet`` files anywhere under ``folder``."""
    return {t: sorted(p for p in folder.rglob(f"{t}/*.parquet") if p.is_file()) for t in TABLES}


def merge(inputs: list[Path | str], output: Path | str, *, timeout: float = DEFAULT_LOCK_TIMEOUT) -> dict[str, int]:
    """Add every input's runs and rows to ``output`` (created if absent); rows added per table."""
    output = Path(output)
    for path in map(Path, inputs):
        if not path.exists():
            raise StoreError(f"{path}: no such file or folder to merge")
        if path.resolve() == output.resolve():
            raise StoreError(f"{path} is the output itself; merge other files into it")
    output.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".merge-", dir=output.parent))
    try:
        sources = [_prepared(path, work / f"in{n}.duckdb") for n, path in enumerate(map(Path, inputs))]
        writer = Writer.open(output, timeout=timeout, spill=False)
        try:
            with writer.transaction():
                added = dict.fromkeys(TABLES, 0)
                for path, source in sources:
                    for table, count in _merge_one(writer.con, path, source).items():
                        added[table] += count
        finally:
            writer.close()
        return added
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _prepared(path: Path, scratch: Path) -> tuple[Path, Path]:
    """(input, what to read): a folder as it is; a DuckDB file copied to ``scratch`` and migrated there."""
    if path.is_dir():
        return path, path
    _copy_db(path, scratch)
    try:
        Writer.open(scratch, spill=False).close()  # a copy, migrated: the input itself is never written
    except StoreError as exc:
        raise StoreError(f"cannot merge: {str(exc).replace(str(scratch), str(path))}") from None
    return path, scratch


def _copy_db(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    wal = src.with_name(src.name + ".wal")
    if wal.is_file():
        shutil.copyfile(wal, dst.with_name(dst.name + ".wal"))


def _merge_one(con, path: Path, scratch: Path) -> dict[str, int]:
    import duckdb

    try:
        if path.is_dir():
            return _merge_parquet(con, path)
        con.execute(f"ATTACH '{_quoted(scratch)}' AS src (READ_ONLY)")
        try:
            return {t: _insert(con, t, f"src.main.{t}", _columns(con, f"src.main.{t}")) for t in TABLES}
        finally:
            con.execute("DETACH src")
    except StoreError as exc:
        raise StoreError(f"cannot merge: {exc}") from None
    except duckdb.Error as exc:
        raise StoreError(f"cannot merge {path}: {str(exc).splitlines()[0]} (is it a pytest-ipfs-accel results "
                         "database or a folder written by 'ipfs-accel db export --parquet'?)") from None


def _merge_parquet(con, folder: Path) -> dict[str, int]:
    files = parquet_files(folder)
    if not any(files.values()):
        raise StoreError(f"{folder} holds no <table>/*.parquet files (runs/, test_results/, benchmark_results/); "
                         "write them with 'ipfs-accel db export --parquet'")
    added = dict.fromkeys(TABLES, 0)
    for table in TABLES:
        if not files[table]:
            continue
        listing = ", ".join(f"'{_quoted(p)}'" for p in files[table])
        con.execute(f"CREATE OR REPLACE TEMP VIEW src_{table} AS "
                    f"SELECT * FROM read_parquet([{listing}], union_by_name = true)")
        added[table] = _insert(con, table, f"src_{table}", _columns(con, f"src_{table}"))
        con.execute(f"DROP VIEW src_{table}")
    return added


def _insert(con, table: str, source: str, source_columns: list[str]) -> int:
    """Insert the rows of ``source`` whose key ``table`` lacks; returns how many (identifiers are ours)."""
    cols = [c for c in _columns(con, table) if c in source_columns]
    keys = _KEYS[table]
    missing = set(keys) - set(cols)
    if missing:
        raise StoreError(f"{source} has no {', '.join(sorted(missing))} column: not a results table")
    match = " AND ".join(f"d.{k} = s.{k}" for k in keys)
    before = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    if table == "runs":  # a run stored unfinished and finished elsewhere: take the finished state
        con.execute(f"UPDATE runs AS d SET status = s.status, finished_at = s.finished_at, "
                    f"exit_status = s.exit_status FROM {source} AS s WHERE {match} AND d.status = 'running' "
                    f"AND s.status <> 'running'")
    col_list = ", ".join(cols)
    con.execute(f"INSERT INTO {table} ({col_list}) SELECT DISTINCT ON ({', '.join(keys)}) {col_list} "
                f"FROM {source} AS s WHERE NOT EXISTS (SELECT 1 FROM {table} AS d WHERE {match})")
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] - before


def summary(added: dict[str, Any]) -> str:
    return ", ".join(f"{n} {table}" for table, n in added.items())

