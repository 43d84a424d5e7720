"""Markdown report (GitHub-flavoured, for ``$GITHUB_STEP_SUMMARY``): the facts of the HTML one, no charts."""

from __future__ import annotations

from pytest_ipfs_accel.report.data import LETTERS, ReportData
from pytest_ipfs_accel.report.html import environment


def render(data: ReportData) -> str:
    return environment(False).get_template("report.md.j2").render(data=data, letters=LETTERS)
