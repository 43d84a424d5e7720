"""The results database: tables, their version, and the forward migrations that build them.

Tables (times are UTC ``TIMESTAMP``; durations in seconds, memory in MB; JSON columns hold text):

``schema_version``
    one row per applied migration: ``version``, ``applied_at``, ``package_version``.
    The database's version is ``max(version)``.
``runs``
    one row per pytest session, written first: ``id`` (``YYYYMMDD-HHMMSS-xxxxxx``), ``started_at``,
    ``finished_at`` (NULL until the session ends), ``status`` (``running`` until it ends, then
    ``finished`` or ``interrupted``; a killed run stays ``running``), ``exit_status`` (pytest's),
    ``host``, ``os``, ``python``, ``packages`` (JSON {distribution: version or null}), ``hardware``
    (JSON list of probed platforms: name, runtime, device, available, reason, emulated, details),
    ``options`` (JSON of the RunConfig fields), ``args`` (JSON list of the command-line arguments),
    ``rootdir``, ``git_commit`` (NULL outside a git work tree); since v3 ``fingerprint`` (JSON: CPU
    model and flags, cores, memory, accelerators and versions, see ``store.fingerprint``) and
    ``machine_id`` (short hash of the fingerprint's stable hardware part); since v4 ``pid`` (the
    writing process, so a later run on the same host can tell a dead ``running`` run); since v5
    ``note`` (why a run is ``interrupted``: killed, workers crashed, stopped early).
``test_results``
    one row per executed item, appended when it finishes: ``run_id``, ``node_id``, ``model``,
    ``platform``, ``runtime``, ``device``, ``kind``, ``precision``, ``batch_size`` (NULL for items
    that are not generated), ``outcome`` (passed|failed|skipped|xfailed|xpassed|error),
    ``duration_s`` (setup + call + teardown), ``message`` (skip/xfail reason or the failure's
    first line), ``worker`` (xdist worker id or NULL); since v3 ``failure_class`` (export, compile,
    numeric, runtime, timeout, perf; NULL when not classified), ``max_abs_diff``/``max_rel_diff``
    (numeric failures), ``executed_on`` (what actually ran the work), ``expected`` (pass|xfail|skip
    from the expectations file); since v8 ``cosine``, ``top1``, ``top5`` (a parity or batch check's
    cosine similarity and top-1/top-5 agreement with torch cpu fp32).
``benchmark_results``
    one row per benchmarked item: ``run_id``, ``node_id``, ``model``, ``platform``, ``runtime``,
    ``device``, ``precision``, ``batch_size``, ``min_s``, ``max_s``, ``mean_s``, ``median_s``,
    ``stddev_s``, ``p90_s``, ``p99_s``, ``rounds``, ``iterations``, ``ops_per_s``, ``items_per_s``,
    ``peak_rss_mb``, ``device_memory_mb`` (NULL where the runtime cannot tell); since v3 ``rounds_s``
    (JSON list of the raw per-round seconds, at most :data:`MAX_ROUNDS_STORED`; the gate's input);
    since v4 ``cv`` (stddev / mean of the rounds), ``load_before``/``load_after`` (1-minute load
    average), ``other_cpu_s`` (CPU seconds other processes used or stole while timing), ``threads``
    (the thread count timed with), ``lock_wait_s`` (seconds waited for the device timing lock);
    since v7 the ``generate_benchmark`` kind's figures (NULL for every other row; see
    ``generation.metrics``): ``prompt_tokens``, ``new_tokens``, ``ttft_s`` (prefill latency, the
    median time to the first new token), ``decode_s`` (median total minus prefill),
    ``token_p50_s``/``token_p90_s``/``token_p99_s`` (time between consecutive new tokens, every
    step of every repeat), ``prefill_tokens_per_s`` (batch x prompt tokens / ttft),
    ``decode_tokens_per_s`` (batch x (new tokens - 1) / decode), ``token_times_s`` (JSON list, one
    ``{"ttft", "steps", "total"}`` per repeat); for those rows ``median_s``/``rounds_s`` are whole
    generations, so the regression gate covers them like any benchmark; since v8 ``cosine``,
    ``top1``, ``top5`` (accuracy on the timed inputs) and ``artifact_mb`` (the exported or quantized
    model's size on disk; NULL for eager torch); since v9 ``reference_s`` (the fastest round of a
    fixed pure-Python workload timed in the same process before the item's rounds: ``host.reference``;
    the gate compares it with the baseline's to tell a slower machine from slower code); since v10
    ``settle_s`` (seconds the item waited, before its rounds, for the machine to run that workload
    at its usual speed).

Since v6 ``(run_id, node_id)`` is unique in ``test_results`` and in ``benchmark_results`` (a unique
index; step 5 first deletes all but the first-written of any duplicates, in its own transaction
because DuckDB builds an index from committed rows). The writer inserts with
``INSERT OR IGNORE`` and counts what it refused, so a node id collected twice never gives two rows.

An incomplete run -- a killed process, xdist workers that crashed and stopped the session, ``-x`` or
Ctrl-C -- is ``interrupted`` (not a new status: DuckDB cannot alter the ``status`` CHECK, and every
reader already treats ``interrupted`` as "not a baseline"); ``note`` says why. Collected items that
never ran get a ``test_results`` row with outcome ``error`` and a message starting ``not run:``
(not a new outcome, for the same reason and so every report counts them as a problem). A ``running``
run whose ``pid`` is dead on this same ``host`` is marked ``interrupted`` by the next writer or reader
of the file (``store.liveness``); runs of other hosts are never touched.

``run_id`` refers to ``runs.id`` (no FOREIGN KEY: DuckDB checks those on every append, and a
spill file may be imported before its run row). Migrations are append-only: a released step is
never edited; a change is a new step. Each step runs in one transaction, so a database is always
at exactly one version.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

#: The version this code writes; it reads and migrates every version up to this one.
SCHEMA_VERSION = 10
#: Raw benchmark rounds kept per row (the first ones; the stats columns cover every round).
MAX_ROUNDS_STORED = 2000
RUN_STATUSES = ("running", "finished", "interrupted")
OUTCOMES = ("passed", "failed", "skipped", "xfailed", "xpassed", "error")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"CHECK ({column} IN ({', '.join(repr(v) for v in values)}))"


#: (version, what it does, statements). Append-only.
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (1, "runs, test_results, benchmark_results", (
        """CREATE TABLE IF NOT EXISTS schema_version (
            version INTEGER NOT NULL,
            applied_at TIMESTAMP NOT NULL,
            package_version VARCHAR)""",
        f"""CREATE TABLE runs (
            id VARCHAR PRIMARY KEY,
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP,
            status VARCHAR NOT NULL {_in("status", RUN_STATUSES)},
            exit_status INTEGER,
            host VARCHAR,
            os VARCHAR,
            python VARCHAR,
            packages JSON,
            hardware JSON,
            options JSON,
            args JSON,
            rootdir VARCHAR,
            git_commit VARCHAR)""",
        f"""CREATE TABLE test_results (
            run_id VARCHAR NOT NULL,
            node_id VARCHAR NOT NULL,
            model VARCHAR,
            platform VARCHAR,
            runtime VARCHAR,
            device VARCHAR,
            kind VARCHAR,
            precision VARCHAR,
            batch_size INTEGER,
            outcome VARCHAR NOT NULL {_in("outcome", OUTCOMES)},
            duration_s DOUBLE,
            message VARCHAR,
            worker VARCHAR)""",
        """CREATE TABLE benchmark_results (
            run_id VARCHAR NOT NULL,
            node_id VARCHAR NOT NULL,
            model VARCHAR,
            platform VARCHAR,
            runtime VARCHAR,
            device VARCHAR,
            precision VARCHAR,
            batch_size INTEGER,
            min_s DOUBLE,
            max_s DOUBLE,
            mean_s DOUBLE,
            median_s DOUBLE,
            stddev_s DOUBLE,
            rounds INTEGER,
            iterations INTEGER,
            ops_per_s DOUBLE,
            items_per_s DOUBLE,
            peak_rss_mb DOUBLE,
            device_memory_mb DOUBLE)""",
    )),
    (2, "benchmark tail latencies p90/p99 (kept by the benchmark kind)", (
        "ALTER TABLE benchmark_results ADD COLUMN p90_s DOUBLE",
        "ALTER TABLE benchmark_results ADD COLUMN p99_s DOUBLE",
    )),
    (3, "machine fingerprints, failure classes, raw benchmark rounds", (
        "ALTER TABLE runs ADD COLUMN fingerprint JSON",
        "ALTER TABLE runs ADD COLUMN machine_id VARCHAR",
        "ALTER TABLE test_results ADD COLUMN failure_class VARCHAR",
        "ALTER TABLE test_results ADD COLUMN max_abs_diff DOUBLE",
        "ALTER TABLE test_results ADD COLUMN max_rel_diff DOUBLE",
        "ALTER TABLE test_results ADD COLUMN executed_on VARCHAR",
        "ALTER TABLE test_results ADD COLUMN expected VARCHAR",
        "ALTER TABLE benchmark_results ADD COLUMN rounds_s JSON",
    )),
    (4, "the writer's pid; how noisy each benchmark was and how it was timed", (
        "ALTER TABLE runs ADD COLUMN pid INTEGER",
        "ALTER TABLE benchmark_results ADD COLUMN cv DOUBLE",
        "ALTER TABLE benchmark_results ADD COLUMN load_before DOUBLE",
        "ALTER TABLE benchmark_results ADD COLUMN load_after DOUBLE",
        "ALTER TABLE benchmark_results ADD COLUMN other_cpu_s DOUBLE",
        "ALTER TABLE benchmark_results ADD COLUMN threads INTEGER",
        "ALTER TABLE benchmark_results ADD COLUMN lock_wait_s DOUBLE",
    )),
    (5, "why a run is interrupted; drop duplicate (run, node id) rows, keeping the first written", (
        "ALTER TABLE runs ADD COLUMN note VARCHAR",
        *(f"DELETE FROM {table} WHERE rowid NOT IN (SELECT min(rowid) FROM {table} GROUP BY run_id, node_id)"
          for table in ("test_results", "benchmark_results")),
    )),
    # its own step: DuckDB builds an index from committed rows, so the deletes above must commit first
    (6, "one row per (run, node id): unique keys", tuple(
        f"CREATE UNIQUE INDEX {table}_run_node ON {table} (run_id, node_id)"
        for table in ("test_results", "benchmark_results"))),
    (7, "generation benchmarks: TTFT, decode, per-token percentiles, tokens/s, raw per-token timings", tuple(
        f"ALTER TABLE benchmark_results ADD COLUMN {column} {sql}" for column, sql in (
            ("prompt_tokens", "INTEGER"), ("new_tokens", "INTEGER"), ("ttft_s", "DOUBLE"), ("decode_s", "DOUBLE"),
            ("token_p50_s", "DOUBLE"), ("token_p90_s", "DOUBLE"), ("token_p99_s", "DOUBLE"),
            ("prefill_tokens_per_s", "DOUBLE"), ("decode_tokens_per_s", "DOUBLE"), ("token_times_s", "JSON")))),
    (8, "accuracy of lossy precisions (cosine, top-1/top-5 agreement) with results and benchmarks; artifact size", (
        *(f"ALTER TABLE {table} ADD COLUMN {column} DOUBLE" for table in ("test_results", "benchmark_results")
          for column in ("cosine", "top1", "top5")),
        "ALTER TABLE benchmark_results ADD COLUMN artifact_mb DOUBLE",
    )),
    (9, "benchmark_results: the reference workload's fastest round (host.reference)", (
        "ALTER TABLE benchmark_results ADD COLUMN reference_s DOUBLE",
    )),
    (10, "benchmark_results: seconds waited for the machine's usual speed before the rounds", (
        "ALTER TABLE benchmark_results ADD COLUMN settle_s DOUBLE",
    )),
)
#: Tables whose rows are keyed by (run_id, node_id) since v5.
KEYED_TABLES = ("test_results", "benchmark_results")  # since v6


class StoreError(Exception):
    """A results file that must not be written or read: the message names the path and the fix."""


@dataclass
class RunRow:
    id: str
    started_at: datetime
    status: str = "running"
    finished_at: datetime | None = None
    exit_status: int | None = None
    host: str | None = None
    os: str | None = None
    python: str | None = None
    packages: str | None = None  # JSON text
    hardware: str | None = None  # JSON text
    options: str | None = None  # JSON text
    args: str | None = None  # JSON text
    rootdir: str | None = None
    git_commit: str | None = None
    fingerprint: str | None = None  # JSON text (store.fingerprint)
    machine_id: str | None = None
    pid: int | None = None  # the controller's process id (with host: is a `running` run still alive?)
    note: str | None = None  # why the run is interrupted (v5)


@dataclass
class TestResultRow:
    __test__ = False  # not a pytest test class

    run_id: str
    node_id: str
    outcome: str
    model: str | None = None
    platform: str | None = None
    runtime: str | None = None
    device: str | None = None
    kind: str | None = None
    precision: str | None = None
    batch_size: int | None = None
    duration_s: float | None = None
    message: str | None = None
    worker: str | None = None
    failure_class: str | None = None
    max_abs_diff: float | None = None
    max_rel_diff: float | None = None
    executed_on: str | None = None
    expected: str | None = None
    cosine: float | None = None  # v8: least cosine similarity of the float outputs with torch cpu fp32
    top1: float | None = None  # v8: top-1 / top-5 agreement on the scored output (runtime.parity)
    top5: float | None = None


@dataclass
class BenchmarkRow:
    run_id: str
    node_id: str
    model: str | None = None
    platform: str | None = None
    runtime: str | None = None
    device: str | None = None
    precision: str | None = None
    batch_size: int | None = None
    min_s: float | None = None
    max_s: float | None = None
    mean_s: float | None = None
    median_s: float | None = None
    stddev_s: float | None = None
    p90_s: float | None = None
    p99_s: float | None = None
    rounds: int | None = None
    iterations: int | None = None
    ops_per_s: float | None = None
    items_per_s: float | None = None
    peak_rss_mb: float | None = None
    device_memory_mb: float | None = None
    rounds_s: str | None = None  # JSON list of per-round seconds (at most MAX_ROUNDS_STORED)
    cv: float | None = None  # coefficient of variation of the rounds (stddev / mean)
    load_before: float | None = None  # 1-minute load average before timing
    load_after: float | None = None  # ... and after
    other_cpu_s: float | None = None  # CPU seconds used (or stolen) by other processes while timing
    threads: int | None = None  # the thread count the runtime timed with
    lock_wait_s: float | None = None  # seconds waited for the device timing lock
    prompt_tokens: int | None = None  # v7: the generate_benchmark kind (generation.metrics)
    new_tokens: int | None = None
    ttft_s: float | None = None  # prefill latency: median time to the first new token
    decode_s: float | None = None  # median total - prefill
    token_p50_s: float | None = None  # time between consecutive new tokens
    token_p90_s: float | None = None
    token_p99_s: float | None = None
    prefill_tokens_per_s: float | None = None  # batch * prompt_tokens / ttft_s
    decode_tokens_per_s: float | None = None  # batch * (new_tokens - 1) / decode_s
    token_times_s: str | None = None  # JSON list of {"ttft", "steps", "total"} per repeat
    cosine: float | None = None  # v8: accuracy of this platform x precision (batch 1, vs torch cpu fp32)
    top1: float | None = None
    top5: float | None = None
    artifact_mb: float | None = None  # v8: the exported / quantized artifact's size on disk
    reference_s: float | None = None  # v9: fastest round of host.reference's fixed workload, same process
    settle_s: float | None = None  # v10: seconds waited for the machine's usual speed before the rounds


#: table -> row class; the columns this code writes are the dataclass fields.
TABLES: dict[str, type] = {"runs": RunRow, "test_results": TestResultRow, "benchmark_results": BenchmarkRow}


def columns(table: str) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(TABLES[table]))


def _insert_into(table: str) -> str:
    """``INSERT [OR IGNORE] INTO``: keyed tables ignore a second row for a (run, node id)."""
    return f"INSERT {'OR IGNORE ' if table in KEYED_TABLES else ''}INTO {table}"


def insert_sql(table: str) -> str:
    """``INSERT INTO table (cols) VALUES (?, ...)``: identifiers are ours, values parameters."""
    cols = columns(table)
    return f"{_insert_into(table)} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


_SQL_TYPES = {"str": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "datetime": "TIMESTAMP"}


def bulk_insert_sql(table: str) -> str:
    """One INSERT for many rows: each parameter is a typed list (one per column), unnested together."""
    cols = columns(table)
    types = [_SQL_TYPES[f.type.split(" | ")[0]] for f in dataclasses.fields(TABLES[table])]
    select = ", ".join(f"unnest(?::{t}[])" for t in types)
    return f"{_insert_into(table)} ({', '.join(cols)}) SELECT {select}"


def values(row: Any) -> list[Any]:
    return [getattr(row, name) for name in columns(_table_of(row))]


def _table_of(row: Any) -> str:
    for table, cls in TABLES.items():
        if isinstance(row, cls):
            return table
    raise TypeError(f"not a row of a results table: {row!r}")


def new_run_id() -> str:
    """Sortable and short enough to type: ``20250101-120000-a1b2c3``."""
    import secrets

    return f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def utcnow() -> datetime:
    """Now in UTC, naive (the columns are ``TIMESTAMP``, documented as UTC)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _package_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version as dist_version

    try:
        return dist_version("pytest-ipfs-accel")
    except PackageNotFoundError:
        return None


def table_names(con) -> list[str]:
    """User tables and views in the main schema."""
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_catalog = current_database() ORDER BY table_name").fetchall()]


def version(con) -> int | None:
    """The database's schema version; 0 if ``schema_version`` is empty; None if it has no such table."""
    if "schema_version" not in table_names(con):
        return None
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]


def check(con, path: Path | str) -> int:
    """The version of an existing file, or StoreError if it is foreign or newer than this code."""
    found = version(con)
    tables = table_names(con)
    if found is None and tables:
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        raise StoreError(f"{path} is a DuckDB database of something else (tables: {shown}; no schema_version "
                         "table): it is not a pytest-ipfs-accel results file. Move it away or use another path.")
    if found is not None and found > SCHEMA_VERSION:
        raise StoreError(f"{path} has results schema version {found}, newer than this pytest-ipfs-accel "
                         f"understands (up to {SCHEMA_VERSION}): upgrade pytest-ipfs-accel, or use another path.")
    return found or 0


def migrate(con, path: Path | str = "<db>", target: int = SCHEMA_VERSION) -> list[int]:
    """Bring a new or older database forward to ``target``; idempotent. Returns the versions applied."""
    current = check(con, path)
    applied = []
    for number, _what, statements in MIGRATIONS:
        if number <= current or number > target:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in statements:
                con.execute(statement)
            con.execute("INSERT INTO schema_version VALUES (?, ?, ?)", [number, utcnow(), _package_version()])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        applied.append(number)
    return applied
