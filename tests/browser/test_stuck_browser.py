"""A browser that never answers: real processes (a shell script standing in for Chromium), no mocks.

The script forks a child and a detached grandchild, then sleeps: the launch must time out,
kill all three (the whole process group), remove the ``ipfs-accel-chromium-*`` profile folder,
and say how long it waited.
"""

from __future__ import annotations

import os
import tempfile
import time

import pytest

from pytest_ipfs_accel.browser import driver, settings

STUCK = """#!/bin/sh
echo $$ >> "{pids}"
sleep 300 &
echo $! >> "{pids}"
(sleep 301 & echo $! >> "{pids}"; wait) &
sleep 302
"""


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for init, which may never reap it here)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def stuck(tmp_path, monkeypatch):
    """``(script, pid file, temp dir)``: a stuck 'browser'; temp folders go to a private temp dir."""
    if not hasattr(os, "killpg") or not os.path.isdir("/proc"):
        pytest.skip("needs POSIX process groups and /proc")
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    pids = tmp_path / "pids"
    script = tmp_path / "stuck-chromium"
    script.write_text(STUCK.format(pids=pids))
    script.chmod(0o755)
    driver.close_all()
    yield script, pids, temp
    driver.close_all()
    for pid in _pids(pids):  # never leave one behind, even when the test failed
        if _running(pid):
            os.kill(pid, 9)


def _pids(path) -> list[int]:
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _wait_for_pids(path, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(_pids(path)) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_stuck_launch_kills_the_process_group_and_removes_the_profile(stuck):
    script, pids, temp = stuck
    started = time.monotonic()
    with pytest.raises(driver.BrowserTimeout, match=r"did not open its DevTools port within 1.5 s"):
        driver.Browser(str(script), launch_timeout=1.5)
    assert time.monotonic() - started < 10
    _wait_for_pids(pids, 3)
    assert len(_pids(pids)) == 3
    assert [pid for pid in _pids(pids) if _running(pid)] == []
    assert list(temp.glob("ipfs-accel-chromium-*")) == []


def test_a_failed_launch_is_not_repeated_for_every_platform(stuck):
    script, pids, _ = stuck
    settings.set_step_timeout(1.0)  # the launch waits at most min(30 s, the step timeout)
    try:
        with pytest.raises(driver.BrowserTimeout, match="within 1 s"):
            driver.browser(str(script))
        started = time.monotonic()
        with pytest.raises(driver.BrowserTimeout, match="within 1 s"):
            driver.browser(str(script))  # the second platform: the same answer, at once
        assert time.monotonic() - started < 0.5
    finally:
        settings.set_step_timeout(None)
    _wait_for_pids(pids, 3)
    assert len(_pids(pids)) == 3  # launched once, not twice


def test_the_probe_reason_says_how_long_it_took(stuck, tmp_path, monkeypatch):
    pytest.importorskip("websocket")  # the probe checks websocket-client before launching
    from pytest_ipfs_accel.browser import cache
    from pytest_ipfs_accel.browser.probe import probe_platform

    script, pids, temp = stuck
    dist = tmp_path / "web" / "node_modules" / "onnxruntime-web" / "dist"
    dist.mkdir(parents=True)
    (dist / "ort.all.min.js").write_text("")
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "web"))
    monkeypatch.setenv(cache.CHROMIUM_ENV, str(script))
    settings.set_step_timeout(1.0)
    probe_platform.cache_clear()
    try:
        wasm, webgpu = probe_platform("wasm"), probe_platform("webgpu")
    finally:
        probe_platform.cache_clear()
        settings.set_step_timeout(None)
    assert not wasm.available and "did not open its DevTools port within 1 s" in wasm.reason
    assert "(probe took 1." in wasm.reason and float(wasm.details["probe_s"]) >= 1.0
    assert not webgpu.available and float(webgpu.details["probe_s"]) < 0.5
    assert [pid for pid in _pids(pids) if _running(pid)] == []
    assert list(temp.glob("ipfs-accel-chromium-*")) == []
