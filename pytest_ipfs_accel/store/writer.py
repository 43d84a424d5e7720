"""The one writer of a results database: open (waiting out a lock), append, finish, close.

Rows go to DuckDB as they come, each insert its own commit, so a killed process keeps what it
wrote. When the database cannot be written (held by another process past the timeout, duckdb not
installed, an error mid-run) the rows go to a JSON-lines spill file next to it instead,
``<stem>.<run-id>.spill.jsonl``, which ``import_spill`` loads later. A file that is not ours
(corrupt, foreign, newer schema) is a StoreError naming the path: nothing is written to it.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from . import schema
from .schema import BenchmarkRow, RunRow, StoreError, TestResultRow

#: Seconds to wait for another process to release the database before spilling.
DEFAULT_LOCK_TIMEOUT = 5.0
_LOCK_MESSAGES = ("could not set lock", "conflicting lock")
#: Never reach for the network: the store needs no extension beyond those built in (json).
_NO_DOWNLOADS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


class DatabaseLocked(StoreError):
    """Another process holds the database (DuckDB allows one writing process)."""


def spill_path_for(db_path: Path, run_id: str) -> Path:
    return db_path.with_name(f"{db_path.stem}.{run_id}.spill.jsonl")


def connect(path: Path, *, read_only: bool = False, timeout: float = DEFAULT_LOCK_TIMEOUT):
    """A duckdb connection to ``path``; waits up to ``timeout`` s for a lock; StoreError otherwise."""
    import duckdb

    if path.is_file() and not _looks_like_duckdb(path):
        raise StoreError(_unreadable(path, "not a valid DuckDB database"))
    deadline = time.monotonic() + max(timeout, 0.0)
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=_NO_DOWNLOADS)
        except duckdb.Error as exc:
            text = str(exc)
            if read_only and "different configuration" in text:  # this process writes it: share that instance
                read_only = False
                continue
            if not any(m in text.lower() for m in _LOCK_MESSAGES):
                raise StoreError(_unreadable(path, text)) from None
            if time.monotonic() >= deadline:
                holder = text.split("Conflicting lock is held in", 1)[-1].split(". See also")[0].strip()
                raise DatabaseLocked(f"{path} is locked by another process ({holder}); waited {timeout:g} s") \
                    from None
            time.sleep(min(delay, max(deadline - time.monotonic(), 0.01)))
            delay = min(delay * 2, 0.5)


def _looks_like_duckdb(path: Path) -> bool:
    """DuckDB files carry ``DUCK`` at byte 8. Checked first: DuckDB would try to download a reader
    for some foreign formats (SQLite) instead of failing."""
    try:
        with open(path, "rb") as f:
            return f.read(12)[8:12] == b"DUCK"
    except OSError:
        return True  # let duckdb say what is wrong


def _unreadable(path: Path, text: str) -> str:
    if "not a valid DuckDB database" in text:
        what = "is not a DuckDB database (corrupt, or some other kind of file)"
    else:
        what = f"cannot be opened as a DuckDB database ({text})"
    return f"{path} {what}: it is not a usable pytest-ipfs-accel results file. Move it away or use another path."


class Writer:
    """Appends one run's rows to ``path``, or to its spill file when the database cannot take them.

    Use ``Writer.open(path)``, then ``start_run``, ``add_result(s)``/``add_benchmark(s)``,
    ``finish_run`` and ``close``. The counters say what went where; ``reason`` says why rows were
    spilled (None while everything reached the database).
    """

    def __init__(self, path: Path, con: Any, reason: str | None = None) -> None:
        self.path = path
        self.reason = reason
        self.spill_path: Path | None = None
        self.stored = {"runs": 0, "test_results": 0, "benchmark_results": 0}
        self.spilled = {"runs": 0, "test_results": 0, "benchmark_results": 0}
        self.lost = 0  # rows neither the database nor the spill file took (reported, never hidden)
        self.lost_reason: str | None = None
        self._con = con
        self._spill = None
        self._run: RunRow | None = None

    @classmethod
    def open(cls, path: Path | str, *, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Writer:
        """Open or create the database and migrate it forward.

        StoreError: the file is corrupt, foreign or newer, or its folder cannot be made. A lock
        still held after ``timeout`` seconds, or duckdb missing, gives a spilling Writer instead.
        """
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of {path}: {exc}") from None
        if path.is_dir():
            raise StoreError(f"{path} is a directory; give a file path for the results database.")
        try:
            import duckdb
        except ImportError:
            return cls(path, None, "duckdb is not installed (pip install duckdb)")
        try:
            con = connect(path, timeout=timeout)
        except DatabaseLocked as exc:
            return cls(path, None, str(exc))
        try:
            schema.migrate(con, path)
        except StoreError:
            con.close()
            raise
        except duckdb.Error as exc:
            con.close()
            raise StoreError(f"{path}: cannot create or update the results tables ({exc}). "
                             "Move the file away or use another path.") from None
        return cls(path, con)

    # -- appending ---------------------------------------------------------------------------
    @property
    def spilling(self) -> bool:
        return self._con is None

    def start_run(self, run: RunRow) -> None:
        self._run = run
        self._insert("runs", [run])

    def add_result(self, row: TestResultRow) -> None:
        self._insert("test_results", [row])

    def add_results(self, rows: Iterable[TestResultRow]) -> None:
        self._insert("test_results", list(rows))

    def add_benchmark(self, row: BenchmarkRow) -> None:
        self._insert("benchmark_results", [row])

    def add_benchmarks(self, rows: Iterable[BenchmarkRow]) -> None:
        self._insert("benchmark_results", list(rows))

    def finish_run(self, run_id: str, status: str, exit_status: int | None = None,
                   finished_at: datetime | None = None) -> None:
        """Mark the run ``finished`` or ``interrupted``."""
        if status not in schema.RUN_STATUSES:
            raise ValueError(f"run status {status!r} is not one of {schema.RUN_STATUSES}")
        finished_at = finished_at or schema.utcnow()
        if self._con is not None:
            try:
                self._con.execute("UPDATE runs SET status = ?, exit_status = ?, finished_at = ? WHERE id = ?",
                                  [status, exit_status, finished_at, run_id])
                return
            except Exception as exc:  # any database failure: the spill keeps the fact
                self._fall_back(f"writing to {self.path} failed: {exc}")
        self._spill_line({"op": "finish", "run_id": run_id, "status": status, "exit_status": exit_status,
                          "finished_at": finished_at.isoformat()}, run_id)

    def classify(self, run_id: str, node_id: str, failure_class: str, message: str | None = None) -> None:
        """Set an item's ``failure_class`` (and its message when it had none), e.g. ``perf`` by the gate."""
        if self._con is not None:
            try:
                self._con.execute("UPDATE test_results SET failure_class = ?, message = coalesce(message, ?) "
                                  "WHERE run_id = ? AND node_id = ?", [failure_class, message, run_id, node_id])
                return
            except Exception as exc:  # any database failure: the spill keeps the fact
                self._fall_back(f"writing to {self.path} failed: {exc}")
        self._spill_line({"op": "classify", "run_id": run_id, "node_id": node_id, "failure_class": failure_class,
                          "message": message}, run_id)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._spill is not None:
            self._spill.close()
            self._spill = None

    def _insert(self, table: str, rows: list) -> None:
        if not rows:
            return
        if self._con is not None:
            try:
                if len(rows) == 1:
                    self._con.execute(schema.insert_sql(table), schema.values(rows[0]))
                else:
                    cols = list(zip(*(schema.values(r) for r in rows)))
                    self._con.execute(schema.bulk_insert_sql(table), [list(c) for c in cols])
                self.stored[table] += len(rows)
                return
            except Exception as exc:  # any database failure: the spill keeps the rows
                self._fall_back(f"writing to {self.path} failed: {exc}")
                if table == "runs":
                    return  # _fall_back already spilled the run row
        for row in rows:
            self._spill_line({"op": "insert", "table": table, "row": _jsonable(asdict(row))},
                             getattr(row, "run_id", None) or getattr(row, "id", ""))
            if self._spill is not None:
                self.spilled[table] += 1

    def _fall_back(self, reason: str) -> None:
        """Stop using the database (it failed mid-run); the run row goes to the spill file too."""
        con, self._con = self._con, None
        self.reason = reason
        try:
            con.close()
        except Exception:
            pass
        if self._run is not None:
            self._insert("runs", [self._run])

    def _spill_line(self, record: dict, run_id: str) -> None:
        try:
            if self._spill is None:
                self.spill_path = spill_path_for(self.path, run_id or "unknown")
                self._spill = open(self.spill_path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())
                header = {"op": "spill", "db": str(self.path), "reason": self.reason,
                          "schema_version": schema.SCHEMA_VERSION}
                self._spill.write(json.dumps(header) + "\n")
            self._spill.write(json.dumps(record) + "\n")
            self._spill.flush()  # a killed process keeps every line written so far
        except OSError as exc:
            self._spill = None
            self.lost += 1
            self.lost_reason = f"cannot write {self.spill_path}: {exc}"


def _jsonable(row: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def _row(table: str, data: dict):
    cls = schema.TABLES[table]
    fields = {k: v for k, v in data.items() if k in schema.columns(table)}
    for key in ("started_at", "finished_at"):
        if isinstance(fields.get(key), str):
            fields[key] = datetime.fromisoformat(fields[key])
    return cls(**fields)


def import_spill(spill: Path | str, db: Path | str | None = None, *,
                 timeout: float = DEFAULT_LOCK_TIMEOUT) -> dict[str, int]:
    """Load a spill file into the database it was meant for (or ``db``); rows already there are skipped.

    Returns the number of rows inserted per table. Safe to run twice.
    """
    spill = Path(spill)
    records = [json.loads(line) for line in spill.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not records or records[0].get("op") != "spill":
        raise StoreError(f"{spill} is not a pytest-ipfs-accel spill file (no header line).")
    if records[0].get("schema_version", 0) > schema.SCHEMA_VERSION:
        raise StoreError(f"{spill} was written with results schema {records[0]['schema_version']}, newer than "
                         f"this pytest-ipfs-accel understands (up to {schema.SCHEMA_VERSION}): upgrade it.")
    writer = Writer.open(db or records[0]["db"], timeout=timeout)
    if writer.spilling:
        writer.close()
        raise StoreError(f"cannot import {spill}: {writer.reason}")
    con = writer._con
    inserted = {"runs": 0, "test_results": 0, "benchmark_results": 0}
    try:
        for record in records[1:]:
            if record["op"] == "insert":
                table, row = record["table"], _row(record["table"], record["row"])
                if table == "runs":
                    exists = con.execute("SELECT count(*) FROM runs WHERE id = ?", [row.id]).fetchone()[0]
                else:
                    exists = con.execute(f"SELECT count(*) FROM {table} WHERE run_id = ? AND node_id = ?",
                                         [row.run_id, row.node_id]).fetchone()[0]
                if not exists:
                    writer._insert(table, [row])
                    inserted[table] += 1
            elif record["op"] == "classify":
                writer.classify(record["run_id"], record["node_id"], record["failure_class"], record.get("message"))
            elif record["op"] == "finish":
                writer.finish_run(record["run_id"], record["status"], record.get("exit_status"),
                                  datetime.fromisoformat(record["finished_at"]))
    finally:
        writer.close()
    if writer.reason:
        raise StoreError(f"importing {spill} failed: {writer.reason}")
    return inserted
