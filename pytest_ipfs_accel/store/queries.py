"""Read helpers for reports and comparisons: plain dicts out, parameterized SQL in.

Open with ``connect(path)`` (read-only; an older file is migrated first, a foreign, newer or
corrupt one is a StoreError; this host's dead ``running`` runs are marked ``interrupted`` first
when the file can be written), then pass the connection to the helpers.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from pytest_ipfs_accel.store import liveness, schema
from pytest_ipfs_accel.store.schema import StoreError
from pytest_ipfs_accel.store.writer import DEFAULT_LOCK_TIMEOUT, Writer, verify
from pytest_ipfs_accel.store.writer import connect as _connect

_JSON_COLUMNS = ("packages", "hardware", "options", "args", "fingerprint")


@contextmanager
def connect(path: Path | str, *, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[Any]:
    """A read-only connection to a results database (StoreError if missing, foreign, newer or locked)."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"{path}: no results database there (run pytest with --ipfs-models to create one).")
    con = _connect(path, read_only=True, timeout=timeout)
    try:
        if schema.check(con, path) < schema.SCHEMA_VERSION or liveness.dead_runs(con):
            con.close()
            _update(path, timeout)
            con = _connect(path, read_only=True, timeout=timeout)
        verify(con, path)
        yield con
    finally:
        con.close()


def _update(path: Path, timeout: float) -> None:
    """Migrate forward and mark dead runs (Writer.open does both); a file we may not write is read as it is,
    unless it needs a migration."""
    try:
        Writer.open(path, timeout=timeout, spill=False).close()
    except StoreError:
        con = _connect(path, read_only=True, timeout=timeout)
        try:
            if schema.check(con, path) < schema.SCHEMA_VERSION:
                raise
        finally:
            con.close()


def _dicts(cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def runs(con, limit: int | None = None, *, run_id: str | None = None) -> list[dict[str, Any]]:
    """Runs, newest first (or the one ``run_id``), JSON columns decoded, with their result count."""
    sql = "SELECT r.*, (SELECT count(*) FROM test_results t WHERE t.run_id = r.id) AS results FROM runs r"
    params: list[Any] = []
    if run_id is not None:
        sql += " WHERE r.id = ?"
        params.append(run_id)
    sql += " ORDER BY r.started_at DESC, r.id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    rows = _dicts(con.execute(sql, params))
    for row in rows:
        for key in _JSON_COLUMNS:
            row[key] = json.loads(row[key]) if row.get(key) is not None else None
    return rows


def run(con, run_id: str) -> dict[str, Any] | None:
    found = runs(con, run_id=run_id)
    return found[0] if found else None


def resolve_run(con, ref: str, *, before: str | None = None) -> str:
    """``last`` (the newest finished run, older than ``before`` if given) or a run id -> a run id."""
    if ref == "last":
        sql, params = "SELECT id FROM runs WHERE status = 'finished'", []
        if before is not None:
            sql += " AND started_at < (SELECT started_at FROM runs WHERE id = ?)"
            params.append(before)
        found = con.execute(sql + " ORDER BY started_at DESC, id DESC LIMIT 1", params).fetchone()
        if found is None:
            raise StoreError("no finished run in the results database yet")
        return found[0]
    if con.execute("SELECT count(*) FROM runs WHERE id = ?", [ref]).fetchone()[0] == 0:
        known = [r[0] for r in con.execute("SELECT id FROM runs ORDER BY started_at DESC LIMIT 5").fetchall()]
        raise StoreError(f"no run {ref!r} in the results database; newest: {', '.join(known) or 'none'}")
    return ref


def results(con, run_id: str) -> list[dict[str, Any]]:
    return _dicts(con.execute("SELECT * FROM test_results WHERE run_id = ? ORDER BY node_id", [run_id]))


def outcome_counts(con, run_id: str) -> dict[str, int]:
    rows = con.execute("SELECT outcome, count(*) FROM test_results WHERE run_id = ? GROUP BY outcome",
                       [run_id]).fetchall()
    return dict(sorted(rows))


def matrix(con, run_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(model, platform) -> {"counts": {outcome: n}, "messages": [(node_id, outcome, message)]} of generated items."""
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for row in con.execute("SELECT model, platform, node_id, outcome, message FROM test_results "
                           "WHERE run_id = ? AND model IS NOT NULL AND platform IS NOT NULL "
                           "ORDER BY model, platform, node_id", [run_id]).fetchall():
        model, platform, node_id, outcome, message = row
        cell = cells.setdefault((model, platform), {"counts": {}, "messages": []})
        cell["counts"][outcome] = cell["counts"].get(outcome, 0) + 1
        if message:
            cell["messages"].append((node_id, outcome, message))
    return cells


def benchmarks(con, run_id: str) -> list[dict[str, Any]]:
    """A run's benchmark rows (``rounds_s`` left out: it can be long), with the item's ``failure_class``."""
    return _dicts(con.execute(
        "SELECT b.* EXCLUDE (rounds_s), (SELECT any_value(t.failure_class) FROM test_results t WHERE "
        "t.run_id = b.run_id AND t.node_id = b.node_id) AS failure_class FROM benchmark_results b "
        "WHERE b.run_id = ? ORDER BY b.model, b.platform, b.batch_size, b.node_id", [run_id]))


#: Newest benchmark rows :func:`reference_floor` looks at.
FLOOR_ROWS = 200


def reference_floor(con, machine_id: str | None) -> float | None:
    """This machine's usual time of the fixed reference workload (``host.reference``): the 10th
    percentile of ``reference_s`` over its newest :data:`FLOOR_ROWS` benchmark rows (noise only adds
    time, and a slowed machine was measured up to half the time; the percentile, unlike the least,
    ignores one freak); None without a machine id or rows."""
    if not machine_id:
        return None
    found = con.execute(
        "SELECT quantile_cont(reference_s, 0.1) FROM (SELECT b.reference_s FROM benchmark_results b "
        "JOIN runs r ON r.id = b.run_id WHERE r.machine_id = ? AND b.reference_s > 0 "
        "ORDER BY r.started_at DESC LIMIT ?)", [machine_id, FLOOR_ROWS]).fetchone()
    return float(found[0]) if found and found[0] is not None else None
