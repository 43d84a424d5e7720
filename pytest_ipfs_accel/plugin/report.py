"""The pytest side of reports: the terminal table, ``--ipfs-report=PATH`` and ``$GITHUB_STEP_SUMMARY``.

Everything is read back from the store in ``pytest_terminal_summary``, which pytest calls after
every ``pytest_sessionfinish`` (the recorder marks the run finished in its trylast one), so the
report shows the run as the store has it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pytest_ipfs_accel.files import FileWriteError
from pytest_ipfs_accel.plugin.report_options import report_path

STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


class ReportPlugin:
    def __init__(self, config: pytest.Config, recorder: Any = None, comparator: Any = None) -> None:
        self.config = config
        self.recorder = recorder  # plugin.recorder.Recorder, or None (--ipfs-db=none)
        self.comparator = comparator  # plugin.gate.Comparator, or None (no --ipfs-compare)
        self.path = report_path(config)  # a bad suffix is a UsageError now, at configure time

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.config.option.collectonly:
            return
        summary = os.environ.get(STEP_SUMMARY) or None
        recorder = self.recorder
        writer = getattr(recorder, "writer", None)

        def warn(text: str) -> None:
            terminalreporter.write_line(f"ipfs-accel: {text}", yellow=True, bold=True)

        if recorder is None or writer is None:
            if self.path is not None:
                warn(f"no report written to {self.path}: reports are rendered from the results store, "
                     "and this run stored nothing (--ipfs-db=none)")
            return
        if writer.reason:
            if self.path is not None or summary:
                warn(f"no report written: this run's results are not in {recorder.path} ({writer.reason})")
            return
        from pytest_ipfs_accel.store.schema import StoreError
        from pytest_ipfs_accel.report import data as report_data, write
        from pytest_ipfs_accel.report import terminal

        try:
            data = report_data.load(recorder.path, recorder.run_id)
        except StoreError as exc:
            warn(f"no report: {exc}")
            return
        attach_comparison(data, self.comparator)
        self._add_sections(data)
        terminal.write(terminalreporter, data)
        if self.path is not None:
            try:
                write(data, self.path, flag="another --ipfs-report path")
                terminalreporter.write_line(f"ipfs-accel: report written to {_shown(self.path)}")
            except FileWriteError as exc:
                warn(f"cannot write the report {self.path}: {exc}")
        if summary:
            try:
                from pytest_ipfs_accel.report.markdown import render

                with open(summary, "a", encoding="utf-8") as f:
                    f.write(render(data) + "\n")
            except OSError as exc:
                warn(f"cannot append to ${STEP_SUMMARY} ({summary}): {exc}")


    def _add_sections(self, data) -> None:
        """What ``pytest_ipfs_report_sections`` hooks return, after the built-in sections."""
        from pytest_ipfs_accel.report.data import Section

        for returned in self.config.hook.pytest_ipfs_report_sections(config=self.config, data=data):
            for section in returned or ():
                if not isinstance(section, Section):
                    raise TypeError(f"pytest_ipfs_report_sections returned {section!r}; return a list of "
                                    "pytest_ipfs_accel.report.data.Section(title, html, markdown)")
                data.sections.append(section)


def attach_comparison(data, comparator) -> None:
    """The regressions ``--ipfs-compare`` found this session (store.compare.Comparator), into the report."""
    baseline = getattr(comparator, "baseline", None)
    if baseline is None:
        return
    data.baseline = ", ".join(baseline.run_ids)
    data.regressions = [{"test": r.node_id, "baseline median ms": f"{r.baseline_median_s * 1e3:.4f}",
                         "median ms": f"{r.median_s * 1e3:.4f}", "slower %": f"{r.percent:.1f}",
                         "p": "–" if r.p_value is None else f"{r.p_value:.2g}"}
                        for r in getattr(comparator, "found", ())]


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
