"""``--ipfs-report=PATH`` / ini ``ipfs_report``: write a report at the end of the run (.html or .md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ipfs_accel.plugin.options import given, once
from pytest_ipfs_accel.report import format_for

_REPORT = pytest.StashKey["Path | None"]()


def addoptions(parser: pytest.Parser) -> None:
    group = parser.getgroup("ipfs-accel", "pytest-ipfs-accel: models x hardware")
    text = ("write a report of this run to PATH at the end of the session: .html (one offline file with "
            "charts) or .md; relative paths: to the current directory on the command line, to the ini "
            "file's folder in the ini")
    group.addoption("--ipfs-report", dest="ipfs_report", default=None, metavar="PATH", help=text)
    parser.addini("ipfs_report", text, default="")


def report_path(config: pytest.Config) -> Path | None:
    """The report path, or None; UsageError for a suffix that is neither .html nor .md."""
    return once(config, _REPORT, _report_path)


def _report_path(config: pytest.Config) -> Path | None:
    found = given(config, "ipfs_report")
    if not found.text:
        return None
    path = Path(found.text).expanduser()
    try:
        format_for(path)
    except ValueError as exc:
        raise pytest.UsageError(f"{found.where}: {exc}") from None
    return path if path.is_absolute() else found.base / path
