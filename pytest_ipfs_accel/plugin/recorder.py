"""pytest reports -> result rows, written once: by the xdist controller, or by the only process.

Workers only label their setup reports with the item's model/platform/kind/precision/batch size
(``report.ipfs_accel``, a plain dict that travels to the controller with the report); the
controller's ``pytest_runtest_logreport`` joins each item's setup/call/teardown reports into one
``test_results`` row when its teardown arrives. The run row is written at session start and
marked finished (or interrupted) at session end, so a killed run keeps the rows it finished.

At the end, every collected item without a row gets one saying it was not run (outcome ``error``,
message ``not run: ...``) and the run is ``interrupted`` with a ``note``: xdist workers that
crashed past ``--max-worker-restart``, ``-x``, Ctrl-C. A session stopped by a usage error before
any item ran leaves no run row (it is removed). A database that fails mid-run (corrupt) spills the
rest of the rows and makes the exit status 4.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform as _platform
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pytest_ipfs_accel.markers import labels
from pytest_ipfs_accel.plugin import wire
from pytest_ipfs_accel.plugin.bench_options import use_reference_floor
from pytest_ipfs_accel.store import liveness
from pytest_ipfs_accel.store.queries import reference_floor
from pytest_ipfs_accel.plugin.store_options import lock_timeout
from pytest_ipfs_accel.store.schema import (
    BenchmarkRow,
    RunRow,
    StoreError,
    TestResultRow,
    new_run_id,
    utcnow,
)
from pytest_ipfs_accel.store.writer import Writer

META, FAILURE = wire.ITEM_META, wire.FAILURE  # report attributes from the process that ran the item
FAILURE_KEYS = ("failure_class", "max_abs_diff", "max_rel_diff", "executed_on", "expected")
_MESSAGE_MAX = 1000


class ItemLabels:
    """In the process that runs an item (a worker, or a plain run): its labels (model, platform, kind,
    precision, batch size, runtime, device) ride on its setup report to whoever records it."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        report = yield
        if call.when == "setup":
            meta = item_meta(item)
            if meta is not None:
                setattr(report, META, meta)
        return report


class Recorder:
    """The plugin object that stores a session's results in ``path`` (see the module docstring)."""

    def __init__(self, config: pytest.Config, path: Path | str) -> None:
        self.config = config
        self.path = Path(path)
        self.run_id = new_run_id()
        self.writer: Writer | None = None
        self.run: RunRow | None = None  # this session's run row (fingerprint, machine_id) once started
        self._timeout = lock_timeout(config)  # a bad value is a UsageError now, at configure time
        self._phases: dict[str, dict[str, pytest.TestReport]] = {}
        self._collected: dict[str, dict[str, Any] | None] = {}  # node id -> labels (None under xdist)
        self._written: set[str] = set()

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.config.option.collectonly:
            return
        _ignore_in_git(self.path.parent)
        try:
            writer = Writer.open(self.path, timeout=self._timeout)
        except StoreError as exc:
            raise pytest.UsageError(f"--ipfs-db: {exc} (--ipfs-db=PATH stores results elsewhere, "
                                    "--ipfs-db=none stores nothing)") from None
        self.writer = writer
        self.run = run_row(self.config, self.run_id)
        writer.start_run(self.run)
        if writer.con is not None:  # benchmark items settle towards this machine's usual speed
            use_reference_floor(self.config, reference_floor(writer.con, self.run.machine_id))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.writer is not None:
            self._collected.update((item.nodeid, item_meta(item)) for item in session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """The controller's view of what will run (workers collect identically)."""
        if self.writer is not None:
            for nodeid in ids:
                self._collected.setdefault(nodeid, None)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.writer is None:
            return
        self._phases.setdefault(report.nodeid, {})[report.when] = report
        if report.when == "call":
            row = benchmark_row(self.run_id, report)
            if row is not None:
                self.writer.add_benchmark(row)
        if report.when not in ("setup", "call"):  # teardown, or xdist's report of a crashed worker
            self._write(report.nodeid)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.writer is None:
            return
        for nodeid in list(self._phases):  # items cut short by -x or Ctrl-C: keep what they reported
            self._write(nodeid)
        if session.exitstatus == pytest.ExitCode.USAGE_ERROR and not self._written:
            self.writer.discard_run(self.run_id)  # e.g. a template error at collection: nothing ran
            self.writer.close()
            return
        note = self._not_run(session)
        stopped = exitstatus == pytest.ExitCode.INTERRUPTED or session.shouldstop or session.shouldfail
        if stopped and note is None:
            note = f"stopped early: {session.shouldstop or session.shouldfail or 'interrupted'}"
        if self.writer.failed:  # the database broke mid-run: the rest is in the spill file; say so loudly
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        # session.exitstatus, not the argument: the regression gate may have raised it to 6 since
        self.writer.finish_run(self.run_id, "interrupted" if stopped or note else "finished",
                               int(session.exitstatus), note=note)
        self.writer.close()

    def _not_run(self, session: pytest.Session) -> str | None:
        """Store a row for each collected item that never reported; the run's note, or None if all ran."""
        missing = [nodeid for nodeid in self._collected if nodeid not in self._written]
        if not missing:
            return None
        dsession = self.config.pluginmanager.get_plugin("dsession")
        why = getattr(dsession, "_summary_report", None) or session.shouldstop or session.shouldfail or (
            "interrupted (Ctrl-C)" if session.exitstatus == pytest.ExitCode.INTERRUPTED
            else "the session ended before it ran")
        message = f"not run: {why}"
        self.writer.add_results(TestResultRow(
            run_id=self.run_id, node_id=nodeid, outcome="error", message=_clip(message),
            **{k: (self._collected[nodeid] or {}).get(k) for k in
               ("model", "platform", "runtime", "device", "kind", "precision", "batch_size")})
            for nodeid in missing)
        return f"{len(missing)} of {len(self._collected)} collected items not run: {why}"

    def pytest_terminal_summary(self, terminalreporter) -> None:
        writer = self.writer
        if writer is None:
            return
        for line, markup in summary_lines(writer, self.run_id, self.config.invocation_params.dir):
            terminalreporter.write_line(line, **markup)

    def add_benchmark(self, row: BenchmarkRow) -> None:
        """For the benchmark kind: store one benchmark row of this run (its run_id is this run's)."""
        if self.writer is not None:
            self.writer.add_benchmark(dataclasses.replace(row, run_id=self.run_id))

    def _write(self, nodeid: str) -> None:
        phases = self._phases.pop(nodeid)
        row = result_row(self.run_id, nodeid, phases)
        if row is not None:
            self.writer.add_result(row)
            self._written.add(nodeid)


def _ignore_in_git(folder: Path) -> None:
    """The default folder, ``.ipfs_accel``, gets a ``.gitignore`` when we create it (as pytest's cache does)."""
    if folder.name != ".ipfs_accel" or folder.exists():
        return
    try:
        folder.mkdir(parents=True)
        (folder / ".gitignore").write_text("# created by pytest-ipfs-accel\n*\n", encoding="utf-8")
    except OSError:
        pass  # Writer.open reports a folder it cannot make


# -- reports -> rows -------------------------------------------------------------------------------
def item_meta(item: pytest.Item) -> dict[str, Any] | None:
    """Model, platform, runtime, device, kind, precision, batch size of a generated item; None otherwise."""
    model, platform, kind = labels(item)
    params = getattr(getattr(item, "callspec", None), "params", {})
    if model is None and kind is None and platform is None:
        return None
    meta = {"model": model, "kind": kind, "platform": platform, "runtime": None, "device": None,
            "precision": params.get("precision"), "batch_size": params.get("batch_size")}
    if platform is not None:
        from pytest_ipfs_accel.hardware import runtime_and_device

        try:
            meta["runtime"], meta["device"] = runtime_and_device(str(platform))
        except (KeyError, ValueError):
            pass
        meta["precision"] = meta["precision"] or "fp32"  # generate.matrix.Target's defaults
        meta["batch_size"] = meta["batch_size"] or 1
    return {k: v if v is None or isinstance(v, int) else str(v) for k, v in meta.items()}


def result_row(run_id: str, nodeid: str, phases: dict[str, Any]) -> TestResultRow | None:
    """One row for an item from its reports; None if it never got as far as an outcome."""
    decided = outcome(phases)
    if decided is None:
        return None
    setup = phases.get("setup")
    meta = wire.attribute(setup, META) or {}
    any_report = next(iter(phases.values()))
    failure: dict[str, Any] = {}
    for report in phases.values():  # the call's classification wins over the setup's
        failure.update({k: v for k, v in (wire.attribute(report, FAILURE) or {}).items() if v is not None})
    accuracy = wire.user_property(phases.get("call"), wire.ACCURACY) or {}  # parity/batch vs torch cpu fp32
    return TestResultRow(
        run_id=run_id, node_id=nodeid, outcome=decided[0], message=decided[1],
        duration_s=sum(getattr(r, "duration", 0.0) or 0.0 for r in phases.values()),
        worker=getattr(any_report, "worker_id", None),
        **{k: meta.get(k) for k in ("model", "platform", "runtime", "device", "kind", "precision", "batch_size")},
        **{k: failure.get(k) for k in FAILURE_KEYS},
        **{k: accuracy.get(k) for k in ("cosine", "top1", "top5")},
    )


def benchmark_row(run_id: str, report: Any) -> BenchmarkRow | None:
    """The call report's benchmark record (``wire.benchmark_record``: the benchmark or generate_benchmark
    kind's) as a row; None for any other report."""
    record = wire.benchmark_record(report)
    return None if record is None else record.to_row(run_id, report.nodeid)


def outcome(phases: dict[str, Any]) -> tuple[str, str | None] | None:
    """(outcome, message): setup failure -> error; setup skip -> skipped (or xfailed); the call's
    outcome with wasxfail -> xfailed/xpassed; a failing teardown turns a non-failure into error."""
    if any(r.outcome not in ("passed", "failed", "skipped") for r in phases.values()):
        return None  # an attempt another plugin will run again (pytest-rerunfailures' "rerun")
    setup, call, teardown = phases.get("setup"), phases.get("call"), phases.get("teardown")
    other = [r for when, r in phases.items() if when not in ("setup", "call", "teardown")]
    if setup is not None and setup.failed:
        return "error", failure_line(setup)
    if setup is not None and setup.skipped:
        result = _not_failed(setup)
    elif call is not None:
        result = ("failed", failure_line(call)) if call.failed else _not_failed(call)
    elif other and other[0].failed:
        result = "failed", failure_line(other[0])
    else:
        return None
    if teardown is not None and teardown.failed and result[0] != "failed":
        return "error", failure_line(teardown)
    return result


def _not_failed(report: Any) -> tuple[str, str | None]:
    xfail = getattr(report, "wasxfail", None)
    if report.skipped:
        return ("xfailed", _clip(xfail)) if xfail is not None else ("skipped", skip_reason(report))
    return ("xpassed", _clip(xfail)) if xfail is not None else ("passed", None)


def skip_reason(report: Any) -> str | None:
    longrepr = report.longrepr
    if isinstance(longrepr, (tuple, list)) and len(longrepr) == 3:
        text = str(longrepr[2])
        return _clip(text[len("Skipped: "):] if text.startswith("Skipped: ") else text)
    return failure_line(report)


def failure_line(report: Any) -> str | None:
    """The first line of the failure: the exception line if pytest kept one, else the report text."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None) or getattr(report, "longreprtext", "") or str(report.longrepr or "")
    return _clip(next((line.strip() for line in str(text).splitlines() if line.strip()), None))


def _clip(text: str | None) -> str | None:
    if text is None:
        return None
    return text if len(text) <= _MESSAGE_MAX else text[:_MESSAGE_MAX - 3] + "..."


# -- the run row -----------------------------------------------------------------------------------
def run_row(config: pytest.Config, run_id: str) -> RunRow:
    from pytest_ipfs_accel.plugin import RUN_CONFIG

    from pytest_ipfs_accel.host.fingerprint import fingerprint, machine_id

    cfg = config.stash.get(RUN_CONFIG, None)
    packages = package_versions()
    probed = json.loads(json.dumps(hardware(list(cfg.hw) if cfg is not None and cfg.hw else None), default=str))
    fp = fingerprint(probed, packages)
    return RunRow(
        id=run_id, started_at=utcnow(), status="running",
        host=liveness.host(), os=_platform.platform(), python=_platform.python_version(),
        packages=json.dumps(packages), fingerprint=json.dumps(fp), machine_id=machine_id(fp),
        hardware=json.dumps(probed),
        options=json.dumps(dataclasses.asdict(cfg) if cfg is not None else None, default=str),
        args=json.dumps(list(config.invocation_params.args), default=str),
        rootdir=str(config.rootpath), git_commit=git_commit(config.rootpath), pid=os.getpid(),
    )


def package_versions() -> dict[str, str | None]:
    """Installed versions of pytest, this package and every registered platform's distributions
    (its PlatformSpec: built-in or a plugin's), read from metadata (nothing is imported)."""
    from pytest_ipfs_accel.hardware.registry import recorded_versions

    return recorded_versions()


def hardware(names: list[str] | None) -> list[dict[str, Any]]:
    """What the probes say about the run's platforms (every known family when none were named)."""
    from pytest_ipfs_accel.hardware import detect, probe

    platforms = [probe(name) for name in names] if names else detect()
    return [dataclasses.asdict(p) for p in platforms]


def git_commit(root: Path) -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


# -- the summary -----------------------------------------------------------------------------------
def summary_lines(writer: Writer, run_id: str, cwd: Path) -> list[tuple[str, dict]]:
    def shown(path: Path | None) -> str:
        try:
            return str(Path(path).relative_to(cwd))
        except ValueError:
            return str(path)

    def count(where: dict) -> str:
        n, b = where["test_results"], where["benchmark_results"]
        return f"{n} results" + (f" and {b} benchmark results" if b else "")

    lines = []
    if writer.stored["runs"] or not writer.reason:
        lines.append((f"ipfs-accel: {count(writer.stored)} stored in {shown(writer.path)} "
                      f"(run {run_id})", {}))
    if writer.reason:
        lines.append((f"ipfs-accel: {writer.reason}", {"yellow": True, "bold": True}))
        if writer.spill_path is not None:
            lines.append((f"ipfs-accel: {count(writer.spilled)} written to "
                          f"{shown(writer.spill_path)} instead (run {run_id}); load them into the database "
                          f"later with: ipfs-accel db import {shown(writer.spill_path)} (or from Python: "
                          f"pytest_ipfs_accel.store.import_spill(path))", {"yellow": True, "bold": True}))
    if writer.duplicates:
        shown_ids = ", ".join(writer.duplicates[:3]) + (", ..." if len(writer.duplicates) > 3 else "")
        lines.append((f"ipfs-accel: {len(writer.duplicates)} rows not stored: their node id already has a row in "
                      f"run {run_id} (one row per item and run): {shown_ids}", {"red": True, "bold": True}))
    if writer.lost:
        lines.append((f"ipfs-accel: {writer.lost} rows could not be stored anywhere: {writer.lost_reason}",
                      {"red": True, "bold": True}))
    return lines
