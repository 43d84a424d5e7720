"""Baseline selection and the regression check of ``--ipfs-compare`` / ``--ipfs-fail-on-regression``.

The baseline is a stored run: ``last`` is the newest *finished* run, older than the current one,
that has benchmark rows; anything else must be a run id in the database (UsageError naming the
known ids otherwise). Each benchmark item of this run is matched to the baseline row with the
same model, platform, precision and batch size, and its median compared with the baseline's
median. Slower by more than the threshold is a regression: listed in the terminal summary and,
with ``--ipfs-fail-on-regression``, the session exits with :data:`REGRESSION_EXIT` (6) when it
would otherwise have exited 0 (a run that already failed keeps its own status).

Why a distinct exit code: CI fails on any non-zero status, and a script can still tell "a test
failed" (1) from "everything passed but got slower" (6). pytest's own codes are 0-5.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from . import bench_options

#: Exit status of a session whose only problem is a benchmark regression beyond the threshold.
REGRESSION_EXIT = 6
#: Slower-than-baseline lines are listed above this percentage when no threshold was given.
DEFAULT_SHOWN = 10.0
_PLUGIN_NAME = "ipfs-accel-compare"

Key = tuple  # (model, platform, precision, batch_size)


@dataclass(frozen=True)
class Regression:
    node_id: str
    baseline_median_s: float
    median_s: float

    @property
    def percent(self) -> float:
        return (self.median_s / self.baseline_median_s - 1.0) * 100.0


def key_of(row: dict[str, Any]) -> Key:
    return (row.get("model"), row.get("platform"), row.get("precision") or "fp32", int(row.get("batch_size") or 1))


def resolve_baseline(con, ref: str, *, current: str | None = None) -> str:
    """``last`` or a run id -> the baseline run id (pytest.UsageError when there is none)."""
    if ref == "last":
        sql = ("SELECT r.id FROM runs r WHERE r.status = 'finished' "
               "AND EXISTS (SELECT 1 FROM benchmark_results b WHERE b.run_id = r.id)")
        params: list[Any] = []
        if current is not None:
            sql += " AND r.id <> ? AND r.started_at <= coalesce((SELECT started_at FROM runs WHERE id = ?), now())"
            params += [current, current]
        found = con.execute(sql + " ORDER BY r.started_at DESC, r.id DESC LIMIT 1", params).fetchone()
        if found is None:
            raise pytest.UsageError("--ipfs-compare=last: no finished earlier run with benchmark results in the "
                                    "results database; run the benchmarks once without --ipfs-compare first.")
        return found[0]
    if con.execute("SELECT count(*) FROM runs WHERE id = ?", [ref]).fetchone()[0] == 0:
        known = [r[0] for r in con.execute(
            "SELECT id FROM runs WHERE id <> ? ORDER BY started_at DESC, id DESC LIMIT 10", [current or ""]).fetchall()]
        raise pytest.UsageError(f"--ipfs-compare: no run {ref!r} in the results database; known runs (newest "
                                f"first): {', '.join(known) or 'none'}. Use --ipfs-compare=last or one of these.")
    return ref


def baseline_medians(con, run_id: str) -> dict[Key, tuple[str, float]]:
    """(model, platform, precision, batch_size) -> (node_id, median_s) of a run's benchmark rows."""
    cursor = con.execute("SELECT node_id, model, platform, precision, batch_size, median_s FROM benchmark_results "
                         "WHERE run_id = ? AND median_s IS NOT NULL ORDER BY node_id", [run_id])
    names = [d[0] for d in cursor.description]
    found = {}
    for values in cursor.fetchall():
        row = dict(zip(names, values))
        found[key_of(row)] = (row["node_id"], float(row["median_s"]))
    return found


def regressions(current: dict[str, dict[str, Any]], baseline: dict[Key, tuple[str, float]],
                percent: float) -> tuple[list[Regression], int]:
    """(items slower than the baseline by more than ``percent``, how many items had a baseline)."""
    found, compared = [], 0
    for node_id, stats in sorted(current.items()):
        base = baseline.get(key_of(stats))
        median = stats.get("median_s")
        if base is None or median is None or base[1] <= 0:
            continue
        compared += 1
        if median > base[1] * (1.0 + percent / 100.0):
            found.append(Regression(node_id, base[1], float(median)))
    return found, compared


class Comparator:
    """Collects this run's benchmark stats from reports and compares them with the baseline run."""

    def __init__(self, config: pytest.Config, path: Path, ref: str, threshold: float | None) -> None:
        self.config = config
        self.path = path
        self.ref = ref
        self.threshold = threshold
        self.baseline_id: str | None = None
        self.baseline: dict[Key, tuple[str, float]] = {}
        self.current: dict[str, dict[str, Any]] = {}
        self.found: list[Regression] = []
        self.compared = 0
        self._is_worker = hasattr(config, "workerinput")

    @pytest.hookimpl(trylast=True)  # after the recorder opened the database and wrote this run's row
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self._is_worker or self.config.option.collectonly:
            return
        from . import queries
        from .schema import StoreError

        recorder = self.config.pluginmanager.get_plugin("ipfs-accel-recorder")
        current = getattr(recorder, "run_id", None)
        if not self.path.is_file():
            raise pytest.UsageError(f"--ipfs-compare: no results database at {self.path} to compare with.")
        try:
            with queries.connect(self.path) as con:
                self.baseline_id = resolve_baseline(con, self.ref, current=current)
                self.baseline = baseline_medians(con, self.baseline_id)
        except StoreError as exc:
            raise pytest.UsageError(f"--ipfs-compare: {exc}") from None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self._is_worker or report.when != "call":
            return
        from ..runtime.bench import KEY

        for name, value in getattr(report, "user_properties", ()) or ():
            if name == KEY and isinstance(value, dict):
                self.current[report.nodeid] = value

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self._is_worker or self.baseline_id is None:
            return
        shown = DEFAULT_SHOWN if self.threshold is None else self.threshold
        self.found, self.compared = regressions(self.current, self.baseline, shown)
        if self.found and self.threshold is not None and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = REGRESSION_EXIT

    def pytest_terminal_summary(self, terminalreporter, exitstatus: int) -> None:
        if self.baseline_id is None:
            return
        tr = terminalreporter
        shown = DEFAULT_SHOWN if self.threshold is None else self.threshold
        gate = f"fail above {shown:g}%" if self.threshold is not None else f"listing above {shown:g}%, not failing"
        tr.write_sep("=", "ipfs-accel benchmark comparison")
        tr.write_line(f"baseline run {self.baseline_id}: {self.compared} of {len(self.current)} benchmark "
                      f"items compared by median ({gate})")
        if not self.found:
            tr.write_line("no regressions", green=True)
            return
        fail = self.threshold is not None
        tr.write_line(f"{len(self.found)} regression(s):", red=fail, yellow=not fail, bold=True)
        for r in self.found:
            tr.write_line(f"  {r.node_id}: baseline median {r.baseline_median_s * 1e3:.4g} ms, "
                          f"now {r.median_s * 1e3:.4g} ms, {r.percent:.1f}% slower", red=fail, yellow=not fail)
        if fail:
            tr.write_line(f"ipfs-accel: benchmark regression beyond {shown:g}%: exit status {REGRESSION_EXIT}",
                          red=True, bold=True)


def register(config: pytest.Config) -> None:
    """Validate the benchmark options and, when a comparison is asked for, register the Comparator."""
    from .options import db_path

    bench_options.validate(config)
    ref = bench_options.compare_ref(config)
    if ref is None or config.pluginmanager.has_plugin(_PLUGIN_NAME):
        return
    path = db_path(config)
    if path is None:
        raise pytest.UsageError("--ipfs-compare needs the results database; drop --ipfs-db=none.")
    config.pluginmanager.register(Comparator(config, path, ref, bench_options.threshold(config)), _PLUGIN_NAME)
