"""Spill files back into a database: ``import_spill(path)``, checked line by line before anything is written.

A spill file (``<stem>.<run-id>.spill.jsonl``, see ``store.writer``) is one JSON object per line:
a header (``op: spill``), then ``insert`` / ``finish`` / ``classify`` operations. Every line is
parsed and checked first; a bad line is a StoreError naming its number and nothing is written.
The one exception is a last line cut short (the writing process was killed mid-line): it is
skipped with a warning naming it, and the lines before it are imported. The import is one
transaction, and rows already in the database are skipped, so importing twice adds nothing.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from pytest_ipfs_accel.store import schema
from pytest_ipfs_accel.store.schema import StoreError
from pytest_ipfs_accel.store.writer import DEFAULT_LOCK_TIMEOUT, Writer

_OPS = ("insert", "finish", "classify")


class _BadLine(ValueError):
    """One line's problem (the caller adds the file and line number)."""


def read(spill: Path, warn: Callable[[str], None]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(header, checked operations) of a spill file; StoreError naming the first bad line."""
    try:
        lines = spill.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"{spill}: cannot read it as a spill file ({exc})") from None
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
    records = []
    for n, line in numbered:
        try:
            records.append((n, json.loads(line)))
        except json.JSONDecodeError as exc:
            if n == numbered[-1][0] and n > 1:
                warn(f"{spill} line {n} is cut short (the writing process stopped mid-line): skipped it, "
                     f"imported lines 1-{n - 1}")
                break
            raise StoreError(f"{spill} line {n}: not JSON ({exc.msg}); nothing was imported") from None
    if not records or not isinstance(records[0][1], dict) or records[0][1].get("op") != "spill":
        raise StoreError(f"{spill} is not a pytest-ipfs-accel spill file (line 1 is not its header).")
    header = records[0][1]
    found = header.get("schema_version", 0)
    if not isinstance(found, int) or found > schema.SCHEMA_VERSION:
        raise StoreError(f"{spill} was written with results schema {found}, newer than "
                         f"this pytest-ipfs-accel understands (up to {schema.SCHEMA_VERSION}): upgrade it.")
    ops = []
    for n, record in records[1:]:
        try:
            ops.append(_check(record))
        except _BadLine as exc:
            raise StoreError(f"{spill} line {n}: {exc}; nothing was imported") from None
    return header, ops


def _check(record: Any) -> dict[str, Any]:
    """The operation with its values converted (rows as dataclasses, times as datetimes)."""
    if not isinstance(record, dict) or record.get("op") not in _OPS:
        raise _BadLine(f"not a spill operation (op must be one of {', '.join(_OPS)})")
    if record["op"] == "insert":
        table = record.get("table")
        if table not in schema.TABLES or not isinstance(record.get("row"), dict):
            raise _BadLine(f"insert into {table!r}: not a results table row")
        return {"op": "insert", "table": table, "row": _row(table, record["row"])}
    _text(record, "run_id")
    if not isinstance(record.get("message" if record["op"] == "classify" else "note"), (str, type(None))):
        raise _BadLine(f"{record['op']}: its message is not text")
    if record["op"] == "classify":
        _text(record, "node_id")
        _text(record, "failure_class")
        return record
    if record.get("status") not in schema.RUN_STATUSES:
        raise _BadLine(f"status {record.get('status')!r} is not one of {', '.join(schema.RUN_STATUSES)}")
    if record.get("exit_status") is not None:
        _typed("exit_status", record["exit_status"], "int")
    return {**record, "finished_at": _time(record.get("finished_at"), "finished_at")}


def _row(table: str, data: dict[str, Any]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(schema.TABLES[table])}
    values = {k: v for k, v in data.items() if k in fields}
    for key in ("started_at", "finished_at"):
        if key in values and values[key] is not None:
            values[key] = _time(values[key], key)
    for key, value in values.items():
        if value is not None and fields[key].type.split(" | ")[0] in ("str", "int", "float"):
            _typed(key, value, fields[key].type.split(" | ")[0])
    required = [name for name, f in fields.items() if f.default is dataclasses.MISSING]
    empty = [name for name in required if values.get(name) is None]
    if empty:
        raise _BadLine(f"{table} row: no {', '.join(empty)}")
    row = schema.TABLES[table](**values)
    status = getattr(row, "status", None) if table == "runs" else getattr(row, "outcome", None)
    allowed = schema.RUN_STATUSES if table == "runs" else schema.OUTCOMES
    if table != "benchmark_results" and status not in allowed:
        raise _BadLine(f"{table} row: {status!r} is not one of {', '.join(allowed)}")
    return row


def _typed(key: str, value: Any, kind: str) -> None:
    ok = {"str": isinstance(value, str),
          "int": isinstance(value, int) and not isinstance(value, bool) and -2**31 <= value < 2**31,  # INTEGER
          "float": isinstance(value, (int, float)) and not isinstance(value, bool)}[kind]
    if not ok:
        raise _BadLine(f"{key} {value!r} is not a{'n' if kind == 'int' else ''} {kind}"
                       + (" (32-bit)" if kind == "int" else ""))


def _text(record: dict[str, Any], key: str) -> None:
    if not isinstance(record.get(key), str) or not record[key]:
        raise _BadLine(f"{record['op']}: {key} {record.get(key)!r} is not a non-empty string")


def _time(value: Any, key: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise _BadLine(f"{key} {value!r} is not an ISO date and time (YYYY-MM-DDTHH:MM:SS)") from None


def import_spill(spill: Path | str, db: Path | str | None = None, *, timeout: float = DEFAULT_LOCK_TIMEOUT,
                 warn: Callable[[str], None] | None = None) -> dict[str, int]:
    """Load a spill file into the database it was meant for (or ``db``), in one transaction.

    Returns the rows inserted per table; ``warn`` receives the line about a cut-short last line.
    """
    spill = Path(spill)
    header, ops = read(spill, warn or (lambda _line: None))
    target = db or header.get("db")
    if not isinstance(target, (str, Path)) or not str(target):
        raise StoreError(f"{spill}: its header names no database; give one (--db PATH)")
    writer = Writer.open(target, timeout=timeout, spill=False)
    try:
        with writer.transaction():
            for op in ops:
                _apply(writer, op)
    finally:
        writer.close()
    return dict(writer.stored)


def _apply(writer: Writer, op: dict[str, Any]) -> None:
    if op["op"] == "insert":
        row = op["row"]
        if op["table"] == "runs":
            if writer.con.execute("SELECT count(*) FROM runs WHERE id = ?", [row.id]).fetchone()[0]:
                return
        writer.insert(op["table"], [row])  # keyed tables: INSERT OR IGNORE skips rows already there
    elif op["op"] == "classify":
        writer.classify(op["run_id"], op["node_id"], op["failure_class"], op.get("message"))
    else:
        writer.finish_run(op["run_id"], op["status"], op.get("exit_status"), op["finished_at"], op.get("note"))
