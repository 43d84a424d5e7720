"""The one writer of a results database: open (waiting out a lock), append, finish, close.

Rows go to DuckDB as they come, each insert its own commit, so a killed process keeps what it
wrote. When the database cannot be written (held by another process past the timeout, duckdb not
installed, an error mid-run) the rows go to a JSON-lines spill file next to it instead,
``<stem>.<run-id>.spill.jsonl``, which ``store.spill.import_spill`` loads later. A file that is not
ours (corrupt, foreign, newer schema) or that cannot be written (read-only) is a StoreError naming
the path: nothing is written to it. Opening reads every block of the tables once (DuckDB checks
each block's checksum as it reads), so a file corrupted in the middle is refused at open, and marks
this host's dead ``running`` runs ``interrupted`` (``store.liveness``).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator

from pytest_ipfs_accel.store import liveness, schema
from pytest_ipfs_accel.store.schema import BenchmarkRow, RunRow, StoreError, TestResultRow

#: Seconds to wait for another process to release the database before spilling.
DEFAULT_LOCK_TIMEOUT = 5.0
_LOCK_MESSAGES = ("could not set lock", "conflicting lock")
_READ_ONLY_MESSAGES = ("permission denied", "operation not permitted", "read-only file system")
#: Never reach for the network: the store needs no extension beyond those built in (json).
_NO_DOWNLOADS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


class DatabaseLocked(StoreError):
    """Another process holds the database (DuckDB allows one writing process)."""


class ReadOnlyDatabase(StoreError):
    """The file or its folder cannot be written (permissions, immutable, read-only file system)."""


def spill_path_for(db_path: Path, run_id: str) -> Path:
    return db_path.with_name(f"{db_path.stem}.{run_id}.spill.jsonl")


def connect(path: Path, *, read_only: bool = False, timeout: float = DEFAULT_LOCK_TIMEOUT):
    """A duckdb connection to ``path``; waits up to ``timeout`` s for a lock; StoreError otherwise."""
    import duckdb

    if path.is_file() and not _looks_like_duckdb(path):
        raise StoreError(_unreadable(path, "not a valid DuckDB database"))
    if not read_only:
        _check_writable_folder(path)
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
            if not read_only and any(m in text.lower() for m in _READ_ONLY_MESSAGES):
                raise ReadOnlyDatabase(_read_only(path, text.split(": ")[-1])) from None
            if not any(m in text.lower() for m in _LOCK_MESSAGES):
                raise StoreError(_unreadable(path, text)) from None
            if time.monotonic() >= deadline:
                holder = text.split("Conflicting lock is held in", 1)[-1].split(". See also")[0].strip()
                raise DatabaseLocked(f"{path} is locked by another process ({holder}); waited {timeout:g} s") \
                    from None
            time.sleep(min(delay, max(deadline - time.monotonic(), 0.01)))
            delay = min(delay * 2, 0.5)


def _check_writable_folder(path: Path) -> None:
    """DuckDB writes ``<file>.wal`` beside the file at the first commit: try to create a file there now."""
    if not path.parent.is_dir():
        return  # Writer.open makes it; duckdb reports anything else
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
    except OSError as exc:
        raise ReadOnlyDatabase(_read_only(path, f"its folder {path.parent} cannot take new files: "
                                                f"{exc.strerror or exc}")) from None
    os.close(fd)
    os.unlink(probe)


def _read_only(path: Path, why: str) -> str:
    return (f"{path} is read-only ({why}): results cannot be written there. Make it (and its folder) "
            "writable, or write the results to another file.")


def verify(con, path: Path | str) -> None:
    """Read every column of every results table once: DuckDB checks each block's checksum as it
    reads, so a file corrupted in the middle is a StoreError here instead of a failure mid-run."""
    import duckdb

    try:
        for table in schema.table_names(con):
            con.execute(f"SELECT bit_xor(hash(COLUMNS(*))) FROM {table}").fetchall()  # our identifiers
    except duckdb.Error as exc:
        raise StoreError(_unreadable(Path(path), str(exc).splitlines()[0])) from None


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
    elif "corrupt" in text.lower() or "checksum" in text.lower():
        what = f"is corrupt ({text})"
    else:
        what = f"cannot be opened as a DuckDB database ({text})"
    return f"{path} {what}: it is not a usable pytest-ipfs-accel results file. Move it away or use another path."


class Writer:
    """Appends one run's rows to ``path``, or to its spill file when the database cannot take them.

    Use ``Writer.open(path)``, then ``start_run``, ``add_result(s)``/``add_benchmark(s)``,
    ``finish_run`` and ``close``. The counters say what went where; ``reason`` says why rows were
    spilled (None while everything reached the database); ``failed`` is true when the database
    failed mid-run (not merely locked); ``duplicates`` lists node ids whose second row was refused.
    With ``spill=False`` (importers, merge) a failing write raises StoreError instead of spilling.
    """

    def __init__(self, path: Path, con: Any, reason: str | None = None, *, spill: bool = True) -> None:
        self.path = path
        self.reason = reason
        self.failed = False
        self.duplicates: list[str] = []
        self._may_spill = spill
        self.spill_path: Path | None = None
        self.stored = {"runs": 0, "test_results": 0, "benchmark_results": 0}
        self.spilled = {"runs": 0, "test_results": 0, "benchmark_results": 0}
        self.lost = 0  # rows neither the database nor the spill file took (reported, never hidden)
        self.lost_reason: str | None = None
        self._con = con
        self._spill = None
        self._run: RunRow | None = None

    @classmethod
    def open(cls, path: Path | str, *, timeout: float = DEFAULT_LOCK_TIMEOUT, spill: bool = True) -> Writer:
        """Open or create the database, migrate it forward, mark this host's dead runs interrupted.

        StoreError: the file is corrupt, foreign, newer or read-only, or its folder cannot be made.
        A lock still held after ``timeout`` seconds, or duckdb missing, gives a spilling Writer
        instead (``spill=False``: DatabaseLocked / StoreError).
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
            if not spill:
                raise StoreError("duckdb is not installed (pip install duckdb)") from None
            return cls(path, None, "duckdb is not installed (pip install duckdb)")
        try:
            con = connect(path, timeout=timeout)
        except DatabaseLocked as exc:
            if not spill:
                raise
            return cls(path, None, str(exc))
        try:
            schema.migrate(con, path)
            verify(con, path)
            liveness.mark_dead_runs(con)
        except StoreError:
            con.close()
            raise
        except duckdb.Error as exc:
            con.close()
            raise StoreError(f"{path}: cannot create or update the results tables ({exc}). "
                             "Move the file away or use another path.") from None
        return cls(path, con, spill=spill)

    @property
    def con(self) -> Any:
        """The open connection (None while spilling): for importers and merge, which write in bulk."""
        return self._con

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything written inside lands together or not at all (for importers: ``spill=False``)."""
        if self._con is None:
            yield
            return
        self._con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            if self._con is not None:
                self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

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

    def insert(self, table: str, rows: Iterable[Any]) -> None:
        """Rows of any results table (importers); keyed tables skip a (run, node id) already stored."""
        self._insert(table, list(rows))

    def finish_run(self, run_id: str, status: str, exit_status: int | None = None,
                   finished_at: datetime | None = None, note: str | None = None) -> None:
        """Mark the run ``finished`` or ``interrupted`` (``note``: why it is incomplete)."""
        if status not in schema.RUN_STATUSES:
            raise ValueError(f"run status {status!r} is not one of {schema.RUN_STATUSES}")
        finished_at = finished_at or schema.utcnow()
        if self._con is not None:
            try:
                self._con.execute("UPDATE runs SET status = ?, exit_status = ?, finished_at = ?, "
                                  "note = coalesce(?, note) WHERE id = ?",
                                  [status, exit_status, finished_at, note, run_id])
                return
            except Exception as exc:  # any database failure: the spill keeps the fact
                self._fall_back(f"writing to {self.path} failed: {exc}")
        self._spill_line({"op": "finish", "run_id": run_id, "status": status, "exit_status": exit_status,
                          "finished_at": finished_at.isoformat(), "note": note}, run_id)

    def discard_run(self, run_id: str) -> None:
        """Remove a run that recorded nothing (a session stopped by a usage error before any item ran)."""
        if self._con is not None:
            self._con.execute("DELETE FROM runs WHERE id = ? AND NOT EXISTS "
                              "(SELECT 1 FROM test_results WHERE run_id = ?)", [run_id, run_id])
        elif self._spill is not None and self.spill_path is not None and not any(
                n for table, n in self.spilled.items() if table != "runs"):
            self._spill.close()
            self._spill = None
            self.spill_path.unlink(missing_ok=True)
            self.spill_path = None

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
                    done = self._con.execute(schema.insert_sql(table), schema.values(rows[0])).fetchone()
                else:
                    cols = list(zip(*(schema.values(r) for r in rows)))
                    done = self._con.execute(schema.bulk_insert_sql(table), [list(c) for c in cols]).fetchone()
                self.stored[table] += done[0]
                if done[0] < len(rows):
                    self._refused(rows, done[0])
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

    def _refused(self, rows: list, stored: int) -> None:
        """Name what INSERT OR IGNORE refused: rows whose (run, node id) was already stored."""
        table = schema._table_of(rows[0])
        if len(rows) == 1:
            names = [rows[0].node_id]
        else:
            counts = Counter(r.node_id for r in rows)
            names = [n for n, c in counts.items() if c > 1] or [f"{len(rows) - stored} of {len(rows)} rows"]
        self.duplicates.extend(f"{name} ({table})" for name in names)

    def _fall_back(self, reason: str) -> None:
        """Stop using the database (it failed mid-run); the run row goes to the spill file too."""
        if not self._may_spill:
            raise StoreError(reason)
        con, self._con = self._con, None
        self.reason = reason
        self.failed = True
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
