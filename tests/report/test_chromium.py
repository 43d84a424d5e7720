"""The HTML report in real headless Chromium: no console errors, plotly charts drawn, a screenshot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from pytest_ipfs_accel.report import data, write

from .conftest import fill

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--virtual-time-budget=10000"]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                                 "(apt-get install -y chromium; .ci/run installs it)")]


def chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "HOME": str(tmp_path)})


def test_report_renders_charts_without_console_errors(tmp_path):
    db = tmp_path / "r.duckdb"
    fill(db, runs=2, evil=True, emulated=True)
    page = write(data.load(db), tmp_path / "report.html")
    url = page.resolve().as_uri()

    dom = chromium(tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]  # every console message
    assert console == []
    assert dom.stdout.count('class="main-svg"') >= 4  # two plotly charts, two svg layers each
    assert len(re.findall(r'<div class="[^"]*\bjs-plotly-plot\b', dom.stdout)) == 2  # both charts plotted
    assert 'class="legendtext"' in dom.stdout
    assert "<script>alert" not in dom.stdout.split("</script>")[-1]  # the DOM after the scripts: escaped text only

    shot = tmp_path / "report.png"
    done = chromium(tmp_path, "--window-size=1280,2200", f"--screenshot={shot}", url)
    assert done.returncode == 0 and shot.stat().st_size > 20_000
    keep = os.environ.get("IPFS_ACCEL_SCREENSHOT")
    if keep:  # for looking at it by eye
        shutil.copy(shot, keep)
