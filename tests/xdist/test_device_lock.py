"""The device timing lock with real processes: scope per run, fairness, wait notices, waited_s."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from pytest_ipfs_accel.host import devicelock

CTX = multiprocessing.get_context("fork")


def _holder(lock_dir: str, scope: str, run_id: str, shared: bool, hold_s: float, ready, done=None) -> None:
    """Child: take the cpu lock, say so, hold it ``hold_s`` seconds (or until ``done`` is set)."""
    os.environ[devicelock.LOCK_DIR_ENV] = lock_dir
    devicelock.configure(scope, run_id)
    with devicelock.device_lock("cpu", shared=shared):
        ready.set()
        if done is not None:
            done.wait(hold_s)
        else:
            time.sleep(hold_s)


def _taker(lock_dir: str, scope: str, run_id: str, shared: bool, out) -> None:
    """Child: take the cpu lock once; put (waited_s, notices, monotonic time it got it) on ``out``."""
    os.environ[devicelock.LOCK_DIR_ENV] = lock_dir
    devicelock.configure(scope, run_id)
    notices: list[str] = []
    devicelock.set_notifier(notices.append)
    with devicelock.device_lock("cpu", shared=shared) as held:
        out.put((held.waited_s, notices, time.monotonic()))


def _shared_stream(lock_dir: str, run_id: str, offset: float, until: float) -> None:
    """Child: take and drop the shared lock back to back (0.3 s each) until ``until`` (monotonic)."""
    os.environ[devicelock.LOCK_DIR_ENV] = lock_dir
    devicelock.configure("run", run_id)
    time.sleep(offset)
    while time.monotonic() < until:
        with devicelock.device_lock("cpu", shared=True):
            time.sleep(0.3)


def _start(target, *args) -> multiprocessing.Process:
    proc = CTX.Process(target=target, args=args, daemon=True)
    proc.start()
    return proc


def _take_while_held(tmp_path, holder_run: str, taker_run: str, scope: str, hold_s: float) -> tuple:
    ready, out = CTX.Event(), CTX.Queue()
    holder = _start(_holder, str(tmp_path), scope, holder_run, False, hold_s, ready)
    assert ready.wait(30), "the holder never got the lock"
    taker = _start(_taker, str(tmp_path), scope, taker_run, False, out)
    result = out.get(timeout=60)
    for proc in (holder, taker):
        proc.join(30)
    return (*result, holder.pid)


def test_another_run_does_not_wait_for_this_runs_lock(tmp_path):
    waited, notices, _, _ = _take_while_held(tmp_path, "run-a", "run-b", "run", hold_s=1.0)
    assert waited == 0.0 and notices == []


def test_processes_of_one_run_take_turns(tmp_path):
    waited, _, _, _ = _take_while_held(tmp_path, "run-a", "run-a", "run", hold_s=0.6)
    assert waited >= 0.4


def test_machine_scope_makes_every_run_take_turns(tmp_path):
    waited, _, _, _ = _take_while_held(tmp_path, "run-a", "run-b", "machine", hold_s=0.6)
    assert waited >= 0.4
    assert (tmp_path / "cpu.lock").exists() and not (tmp_path / "run-run-a").exists()


@pytest.mark.slow
def test_a_wait_past_two_seconds_names_the_holder_and_is_recorded(tmp_path):
    waited, notices, _, holder_pid = _take_while_held(tmp_path, "run-a", "run-a", "run", hold_s=3.2)
    assert waited >= 2.5
    assert any(f"pid {holder_pid} (run run-a, exclusive)" in line and "waited 2 s" in line for line in notices), notices
    assert any(line.startswith("pytest-ipfs-accel: got the cpu timing lock after") for line in notices), notices


@pytest.mark.slow
def test_an_exclusive_taker_is_not_starved_by_a_stream_of_shared_holders(tmp_path):
    """Three processes keep the shared lock held without a gap for 8 s; the timing gets in within ~1 s."""
    start = time.monotonic()
    until = start + 8.0
    stream = [_start(_shared_stream, str(tmp_path), "r", offset, until) for offset in (0.0, 0.1, 0.2)]
    time.sleep(1.0)  # the stream is running
    out = CTX.Queue()
    taker = _start(_taker, str(tmp_path), "run", "r", False, out)
    waited, _, got_at = out.get(timeout=60)
    taker.join(10)
    for proc in stream:
        proc.join(30)
    assert waited < 2.0, f"the exclusive taker waited {waited:.1f} s behind shared holders"
    assert got_at < until - 1.0  # it got the lock while the stream was still going


def test_nested_takes_in_one_thread(tmp_path, monkeypatch):
    monkeypatch.setenv(devicelock.LOCK_DIR_ENV, str(tmp_path))
    with devicelock.device_lock("cpu", shared=True) as outer:
        with devicelock.device_lock("CPUExecutionProvider", shared=True) as inner:
            assert inner.waited_s == 0.0 and inner.path == outer.path
        with pytest.raises(RuntimeError, match="would wait for itself"):
            with devicelock.device_lock("cpu"):
                pass
    with devicelock.device_lock("cpu") as again:  # released: free again
        assert again.waited_s == 0.0
        assert not again.shared


def test_holder_files_say_who_holds_and_go_away(tmp_path):
    ready, done = CTX.Event(), CTX.Event()
    holder = _start(_holder, str(tmp_path), "run", "run-x", True, 30.0, ready, done)
    try:
        assert ready.wait(30)
        path = tmp_path / "run-run-x" / "cpu.lock"
        assert [(h["pid"], h["run"], h["mode"]) for h in devicelock.holders(path)] == [(holder.pid, "run-x", "shared")]
    finally:
        done.set()
        holder.join(30)
    assert devicelock.holders(path) == [] and list(path.parent.glob("*.holder")) == []


def test_bad_scope_is_refused():
    with pytest.raises(ValueError, match="run, machine"):
        devicelock.configure("everywhere")
