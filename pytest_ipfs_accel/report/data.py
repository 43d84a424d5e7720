"""Store queries -> ReportData, the plain facts every renderer (HTML, Markdown, terminal) shows.

Nothing here makes up a value: an empty store gives ``ReportData(run=None)``, which the renderers
show as "no runs recorded".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from pytest_ipfs_accel.report.precision import by_model
from pytest_ipfs_accel.store import queries
from pytest_ipfs_accel.store.schema import OUTCOMES, StoreError

#: Messages kept per matrix cell (the count says how many there were).
MESSAGES_PER_ENTRY = 10
HISTORY_RUNS = 20
#: Outcomes that make a cell "failing", in the order a cell's colour is decided.
_BAD = ("failed", "error", "xpassed")


class Section(NamedTuple):
    """An extra report section (extension point): ``html`` is trusted markup made by code, never input."""

    title: str
    html: str
    markdown: str


@dataclass
class MatrixEntry:
    """One model x platform entry of the report's matrix: outcome counts and the first few (node id, outcome, message, failure class)."""

    counts: dict[str, int] = field(default_factory=dict)
    messages: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    classes: dict[str, int] = field(default_factory=dict)  # failure_class -> n

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def status(self) -> str:
        """``fail`` if anything failed, else ``pass`` if anything passed, else ``xfail`` or ``skip``."""
        if any(self.counts.get(o) for o in _BAD):
            return "fail"
        if self.counts.get("passed"):
            return "pass"
        if self.counts.get("xfailed"):
            return "xfail"
        return "skip"

    def short(self) -> str:
        """``3P 1F 2S``: counts by outcome letter (see ``LETTERS``), then failure classes: ``(1 numeric)``."""
        text = " ".join(f"{n}{LETTERS[o]}" for o in OUTCOMES if (n := self.counts.get(o)))
        classes = ", ".join(f"{n} {c}" for c, n in sorted(self.classes.items()))
        return f"{text} ({classes})" if classes else text


LETTERS = {"passed": "P", "failed": "F", "error": "E", "skipped": "S", "xfailed": "X", "xpassed": "XP"}


@dataclass
class ReportData:
    db_path: str
    run: dict[str, Any] | None = None  # the runs row (JSON columns decoded) with "results" count
    counts: dict[str, int] = field(default_factory=dict)  # outcome -> n over every result of the run
    models: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    matrix: dict[tuple[str, str], MatrixEntry] = field(default_factory=dict)
    benchmarks: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)  # newest first, with outcome counts
    baseline: str | None = None  # run id the regressions were computed against; None: no baseline
    regressions: list[dict[str, Any]] = field(default_factory=list)
    machines: list[dict[str, Any]] = field(default_factory=list)  # report.fleet.machines: id, label, runs
    by_machine: list[dict[str, Any]] = field(default_factory=list)  # model/platform/... rows, medians per machine
    sections: list[Section] = field(default_factory=list)  # extra sections, rendered after the built-in ones
    #: model -> benchmark rows side by side (platform x precision, speed-ups, accuracy, size): report.precision
    precision_tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.run is None

    @property
    def hardware(self) -> list[dict[str, Any]]:
        return list((self.run or {}).get("hardware") or [])

    @property
    def emulated(self) -> list[dict[str, Any]]:
        """Platforms the hardware probe says are emulated / software stand-ins."""
        return [h for h in self.hardware if str(h.get("emulated") or "no").lower() not in ("no", "false", "")]

    @property
    def emulated_by_name(self) -> dict[str, str]:
        """platform name -> what stands in for it (``simulator``, ``software``...), for every emulated one."""
        return {str(h.get("name")): str(h.get("emulated")) for h in self.emulated}

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def load(db_path: Path | str, run: str | None = "last", *, history: int = HISTORY_RUNS) -> ReportData:
    """The report facts of run ``run`` (an id, or ``last``: newest finished, else newest of any status).

    StoreError: the file is missing, foreign, newer or locked, or there is no such run id.
    """
    with queries.connect(db_path) as con:
        return from_connection(con, db_path, run, history=history)


def from_connection(con, db_path: Path | str, run: str | None = "last", *, history: int = HISTORY_RUNS) -> ReportData:
    data = ReportData(db_path=str(db_path))
    run_id = _resolve(con, run or "last")
    if run_id is None:
        return data
    data.run = queries.run(con, run_id)
    data.counts = queries.outcome_counts(con, run_id)
    data.matrix = _matrix(con, run_id)
    data.models = sorted({m for m, _ in data.matrix})
    data.platforms = sorted({p for _, p in data.matrix})
    data.benchmarks = queries.benchmarks(con, run_id)
    _mark_busy(data.benchmarks, data.run.get("fingerprint"))
    data.precision_tables = by_model(data.benchmarks)  # also sets speedup_fp32 / speedup_torch on every row
    data.history = _history(con, history)
    data.baseline, data.regressions = _regressions(con, run_id)
    from pytest_ipfs_accel.report.coverage import section
    from pytest_ipfs_accel.report.fleet import machines

    data.machines, data.by_machine = machines(con)
    coverage = section(con, [run_id])  # a sweep (--ipfs-models=all, task:..., modality:...): its matrix
    if coverage is not None:
        data.sections.append(Section(*coverage))
    return data


def _mark_busy(rows: list[dict[str, Any]], fingerprint: dict[str, Any] | None) -> None:
    """``row["busy"]``: why a benchmark was measured on a busy machine (the gate's own rule), else None."""
    from pytest_ipfs_accel.regression.gate import cores_of
    from pytest_ipfs_accel.regression.noise import busy_reason

    cores = cores_of(fingerprint)
    for row in rows:
        row["busy"] = busy_reason(row, cores)


def _resolve(con, ref: str) -> str | None:
    if ref != "last":
        return queries.resolve_run(con, ref)
    try:
        return queries.resolve_run(con, "last")
    except StoreError:  # no finished run: the newest of any status (a running or killed one), if any
        newest = con.execute("SELECT id FROM runs ORDER BY started_at DESC, id DESC LIMIT 1").fetchone()
        return newest[0] if newest else None


def _matrix(con, run_id: str) -> dict[tuple[str, str], MatrixEntry]:
    entries: dict[tuple[str, str], MatrixEntry] = {}
    for model, platform, outcome, n in con.execute(
            "SELECT model, platform, outcome, count(*) FROM test_results WHERE run_id = ? "
            "AND model IS NOT NULL AND platform IS NOT NULL GROUP BY ALL ORDER BY ALL", [run_id]).fetchall():
        entries.setdefault((model, platform), MatrixEntry()).counts[outcome] = n
    for model, platform, cls, n in con.execute(
            "SELECT model, platform, failure_class, count(*) FROM test_results WHERE run_id = ? "
            "AND model IS NOT NULL AND platform IS NOT NULL AND failure_class IS NOT NULL GROUP BY ALL ORDER BY ALL",
            [run_id]).fetchall():
        entries[(model, platform)].classes[cls] = n
    for model, platform, node_id, outcome, message, cls in con.execute(
            "SELECT model, platform, node_id, outcome, message, failure_class FROM ("
            " SELECT *, row_number() OVER (PARTITION BY model, platform ORDER BY node_id) AS k"
            " FROM test_results WHERE run_id = ? AND model IS NOT NULL AND platform IS NOT NULL"
            " AND message IS NOT NULL) WHERE k <= ? ORDER BY model, platform, node_id",
            [run_id, MESSAGES_PER_ENTRY]).fetchall():
        entries[(model, platform)].messages.append((node_id, outcome, message, cls))
    return entries


def _history(con, limit: int) -> list[dict[str, Any]]:
    counts = ", ".join(f"count(*) FILTER (WHERE t.outcome = '{o}') AS {o}" for o in OUTCOMES)
    cur = con.execute(
        f"SELECT r.id, r.started_at, r.finished_at, r.status, r.exit_status, r.host, r.git_commit, "
        f"count(t.run_id) AS results, {counts}, "
        f"(SELECT count(*) FROM benchmark_results b WHERE b.run_id = r.id) AS benchmarks "
        f"FROM runs r LEFT JOIN test_results t ON t.run_id = r.id "
        f"GROUP BY r.id, r.started_at, r.finished_at, r.status, r.exit_status, r.host, r.git_commit "
        f"ORDER BY r.started_at DESC, r.id DESC LIMIT ?", [int(limit)])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _regressions(con, run_id: str) -> tuple[str | None, list[dict[str, Any]]]:
    """Regressions the gate stored (``failure_class = 'perf'`` rows, their message names the baseline);
    the baseline stays None (the report says "stored by the regression gate") unless a live gate attaches one."""
    rows = con.execute("SELECT node_id, message FROM test_results WHERE run_id = ? AND failure_class = 'perf' "
                       "ORDER BY node_id", [run_id]).fetchall()
    if not rows:
        return None, []
    return None, [{"test": node, "verdict": message} for node, message in rows]


def load_sources(paths: list[Path | str], run: str | None = "last"):
    """ReportData of one database, or of several databases / Parquet folders merged into a temporary
    one (machines side by side: ``report.fleet``)."""
    paths = [Path(p) for p in paths]
    if len(paths) == 1 and paths[0].is_file():
        return load(paths[0], run)
    from pytest_ipfs_accel.store.merge import merge

    import tempfile

    with tempfile.TemporaryDirectory(prefix="ipfs-accel-report-") as tmp:
        merged = Path(tmp) / "merged.duckdb"
        merge(paths, merged)
        found = load(merged, run)
    found.db_path = ", ".join(str(p) for p in paths)
    return found
