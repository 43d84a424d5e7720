"""``--ipfs-compare`` / ``--ipfs-fail-on-regression``: the regression gate inside a pytest session.

The engine is :mod:`pytest_ipfs_accel.regression.gate` (baseline selection, threshold, the baseline
runs' spread, a busy machine, Mann-Whitney, machine check); this module is the plugin around it.
The baseline is ``last``, ``last:N`` or a run id (UsageError naming the known ids otherwise). Every benchmark item's stats are collected from
the reports (on the xdist controller too) and compared at session end; the terminal summary lists
every item that is not "ok". With ``--ipfs-fail-on-regression`` the session exits with
:data:`REGRESSION_EXIT` (6) when it would otherwise have exited 0 (a run that already failed keeps
its own status), and each regressed item's ``test_results`` row gets ``failure_class = 'perf'``
(the outcome stays what the test did; the message says how much slower). ``inconclusive`` items
(too few rounds, machine busy) are listed and fail only with ``--ipfs-fail-on-inconclusive``. With
no earlier run to compare with (a fresh store: the first gated run) the run is recorded as usual,
the summary says "no baseline yet" and nothing fails. When the baseline ran on
another machine (``runs.machine_id``) the summary says "machine changed: ..." and nothing is
called a regression, unless ``--ipfs-compare-any-machine``.

Why a distinct exit code: CI fails on any non-zero status, and a script can still tell "a test
failed" (1) from "everything passed but got slower" (6). pytest's own codes are 0-5.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_ipfs_accel.plugin import bench_options, wire

from pytest_ipfs_accel.regression import gate
from pytest_ipfs_accel.runtime.record import BenchmarkRecord

#: Exit status of a session whose only problem is a benchmark regression beyond the threshold.
REGRESSION_EXIT = 6
_PLUGIN_NAME = "ipfs-accel-compare"


class Comparator:
    """Collects this run's benchmark stats from reports and compares them with the baseline runs."""

    def __init__(self, config: pytest.Config, path: Path, ref: str, threshold: float | None,
                 any_machine: bool = False, recorder: Any = None) -> None:
        self.config = config
        self.recorder = recorder  # plugin.recorder.Recorder (this run's id, row and writer), or None
        self.path = path
        self.ref = ref
        self.threshold = threshold
        self.any_machine = any_machine
        self.fail_on_inconclusive = bench_options.fail_on_inconclusive(config)
        self.option = _option_name(config, ref)
        self.baseline: gate.Baseline | None = None
        self.no_baseline = ""  # why there is no baseline yet (a fresh store), or ""
        self.cores: int | None = None
        self.machine_changed: list[str] = []
        self.current: dict[str, BenchmarkRecord] = {}  # node id -> this run's record
        self.results: list[gate.Comparison] = []
        self._per_item = gate.expectation_slowdowns(None)

    @property
    def found(self) -> list[gate.Comparison]:
        """The regressions (none while the machine changed)."""
        return [] if self.machine_changed else [c for c in self.results if c.status == "regression"]

    @property
    def failing(self) -> list[gate.Comparison]:
        """What fails the session: the regressions, and the inconclusive items when asked to."""
        if self.machine_changed or self.threshold is None:
            return []
        return [c for c in self.results
                if c.status == "regression" or (self.fail_on_inconclusive and c.inconclusive)]

    @pytest.hookimpl(trylast=True)  # after the recorder opened the database and wrote this run's row
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.config.option.collectonly:
            return
        from pytest_ipfs_accel.store import queries
        from pytest_ipfs_accel.store.schema import StoreError

        recorder = self.recorder
        run = getattr(recorder, "run", None)
        current = getattr(recorder, "run_id", None)
        import json

        fingerprint = json.loads(run.fingerprint) if getattr(run, "fingerprint", None) else None
        self.cores = gate.cores_of(fingerprint)
        self._per_item = gate.expectation_slowdowns(_expectations(self.config))
        if not self.path.is_file():  # the recorder could not create it: nothing recorded, nothing to compare
            self.no_baseline = f"no results database at {self.path} yet"
            return
        try:
            with queries.connect(self.path) as con:
                ids = gate.resolve(con, self.ref, current=current, machine_id=getattr(run, "machine_id", None),
                                   any_machine=self.any_machine)
                self.baseline = gate.load(con, ids)
        except gate.NoBaseline as exc:
            self.no_baseline = str(exc)
            return
        except (StoreError, gate.GateError) as exc:
            raise pytest.UsageError(f"{self.option}: {exc}") from None
        if not self.any_machine and run is not None:
            self.machine_changed = gate.machine_change(self.baseline, run.machine_id, fingerprint)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        record = wire.benchmark_record(report)
        if record is not None:
            self.current[report.nodeid] = record

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.baseline is None:
            return
        current = {node_id: record.gate_stats() for node_id, record in self.current.items()}
        self.results = gate.compare(current, self.baseline, self.threshold, self._per_item, self.cores)
        if not self.failing:
            return
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = REGRESSION_EXIT
        recorder = self.recorder
        writer = getattr(recorder, "writer", None)
        if writer is not None:
            for c in self.found:
                writer.classify(recorder.run_id, c.node_id, "perf", _message(c, self.baseline))

    def pytest_terminal_summary(self, terminalreporter, exitstatus: int) -> None:
        tr = terminalreporter
        if self.no_baseline:
            tr.write_sep("=", "ipfs-accel benchmark comparison")
            tr.write_line(f"{self.no_baseline}; this run's benchmarks are recorded and are the baseline of the "
                          "next gated run (nothing compared, nothing fails)", yellow=True)
            return
        if self.baseline is None:
            return
        from pytest_ipfs_accel.regression import table as gate_table

        fail = self.threshold is not None
        shown = gate.DEFAULT_THRESHOLD if self.threshold is None else self.threshold
        mode = f"fail above {shown:g}%" if fail else f"listing above {shown:g}%, not failing"
        if fail and self.fail_on_inconclusive:
            mode += ", inconclusive fails too"
        compared = sum(1 for c in self.results if c.status != "new")
        tr.write_sep("=", "ipfs-accel benchmark comparison")
        tr.write_line(f"baseline run {', '.join(self.baseline.run_ids)}: {compared} of {len(self.results)} "
                      "benchmark items compared by fastest round, the baseline runs' spread, the machine's speed "
                      f"and load and Mann-Whitney U ({mode}): {gate_table.summary(self.results)}")
        if self.machine_changed:
            tr.write_line(f"machine changed: {'; '.join(self.machine_changed)} — not calling anything a "
                          "regression (--ipfs-compare-any-machine compares anyway)", yellow=True, bold=True)
        failing = self.failing
        if not self.found:
            tr.write_line("no regressions", green=True)
        shown_rows = [c for c in self.results if c.status not in ("ok", "new")]
        for line in gate_table.terminal(shown_rows) if shown_rows else ():
            tr.write_line("  " + line, red=bool(failing), yellow=not failing)
        if failing:
            what = "benchmark regression beyond the threshold" if self.found else "inconclusive benchmark comparison"
            tr.write_line(f"ipfs-accel: {what} in {len(failing)} item(s): exit status {REGRESSION_EXIT}",
                          red=True, bold=True)


def _message(c: gate.Comparison, baseline: gate.Baseline) -> str:
    p = "" if c.p_value is None else f", Mann-Whitney p={c.p_value:.2g}"
    spread = (baseline.items.get(c.key) or {}).get("spread") or 0.0
    many = len(baseline.run_ids) > 1
    runs = f"the {len(baseline.run_ids)} baseline runs' spread +{spread * 100:.1f}%, " if many else ""
    return (f"perf: fastest round {c.percent:.1f}% slower than baseline {', '.join(baseline.run_ids)} "
            f"({runs}threshold {c.threshold * 100:g}%{p})")


def _option_name(config: pytest.Config, ref: str) -> str:
    """The option the user typed: ``--ipfs-compare=REF``, or ``--ipfs-fail-on-regression`` alone."""
    explicit = bench_options.explicit_compare(config)
    return f"--ipfs-compare={ref}" if explicit else "--ipfs-fail-on-regression"


def _expectations(config: pytest.Config) -> Any:
    """The expectations file's rules (for per-item ``max_slowdown``), read once at configure; or None."""
    from pytest_ipfs_accel.plugin.expectations import loaded

    found = loaded(config)
    return found if found.rules else None


def register(config: pytest.Config, recorder: Any = None) -> Comparator | None:
    """Validate the benchmark options and, when asked for, register the Comparator (returned)."""
    from pytest_ipfs_accel.plugin.store_options import db_path

    bench_options.validate(config)
    ref = bench_options.compare_ref(config)
    if ref is None:
        return None
    if config.pluginmanager.has_plugin(_PLUGIN_NAME):
        return config.pluginmanager.get_plugin(_PLUGIN_NAME)
    try:
        gate.parse_ref(ref)
    except gate.GateError as exc:
        raise pytest.UsageError(f"{_option_name(config, ref)}: {exc}") from None
    path = db_path(config)
    if path is None:
        raise pytest.UsageError(f"{_option_name(config, ref).split('=')[0]} needs the results database; "
                                "drop --ipfs-db=none.")
    comparator = Comparator(config, path, ref, bench_options.threshold(config), bench_options.any_machine(config),
                            recorder)
    config.pluginmanager.register(comparator, _PLUGIN_NAME)
    return comparator
