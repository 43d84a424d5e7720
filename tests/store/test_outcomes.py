"""How an item's setup/call/teardown reports become one outcome and message (pytest's own TestReport)."""

from __future__ import annotations

import pytest

from pytest_ipfs_accel.plugin.recorder import outcome, result_row

NODE = "ipfs/test_bert.py::test_load[cpu]"


def rep(when: str, result: str = "passed", longrepr=None, **extra) -> pytest.TestReport:
    report = pytest.TestReport(NODE, ("ipfs/test_bert.py", 1, "test_load[cpu]"), {}, result, longrepr, when,
                               duration=0.25)
    for key, value in extra.items():
        setattr(report, key, value)
    return report


def test_passed_skipped_and_setup_failures():
    assert outcome({"setup": rep("setup"), "call": rep("call"), "teardown": rep("teardown")}) == ("passed", None)
    skipped = rep("setup", "skipped", ("f.py", 3, "Skipped: cuda not available: no GPU"))
    assert outcome({"setup": skipped, "teardown": rep("teardown")}) == ("skipped", "cuda not available: no GPU")
    broken = rep("setup", "failed", "E   ValueError: setup broke\nmore")
    assert outcome({"setup": broken, "teardown": rep("teardown")}) == ("error", "E   ValueError: setup broke")


def test_xfail_and_xpass_come_from_wasxfail():
    xfailed = rep("call", "skipped", ("f.py", 3, "ignored"), wasxfail="cannot export")
    assert outcome({"setup": rep("setup"), "call": xfailed, "teardown": rep("teardown")}) == (
        "xfailed", "cannot export")
    xpassed = rep("call", "passed", wasxfail="thought broken")
    assert outcome({"setup": rep("setup"), "call": xpassed}) == ("xpassed", "thought broken")
    not_run = rep("setup", "skipped", ("f.py", 3, "ignored"), wasxfail="[NOTRUN] later")
    assert outcome({"setup": not_run}) == ("xfailed", "[NOTRUN] later")


def test_teardown_errors_override_all_but_a_failure():
    torn = rep("teardown", "failed", "RuntimeError: teardown broke")
    assert outcome({"setup": rep("setup"), "call": rep("call"), "teardown": torn})[0] == "error"
    failed = rep("call", "failed", "AssertionError: planted")
    assert outcome({"setup": rep("setup"), "call": failed, "teardown": torn}) == ("failed", "AssertionError: planted")


def test_a_crashed_worker_is_a_failure_and_unfinished_or_rerun_attempts_are_no_row():
    crash = rep("???", "failed", "worker 'gw0' crashed while running 'x'", worker_id="gw0")
    assert outcome({"setup": rep("setup"), "???": crash}) == ("failed", "worker 'gw0' crashed while running 'x'")
    assert outcome({"setup": rep("setup")}) is None  # interrupted inside the call
    assert outcome({"setup": rep("setup"), "call": rep("call", "rerun"), "teardown": rep("teardown")}) is None


def test_rows_take_labels_from_the_setup_report_and_sum_durations():
    setup = rep("setup", ipfs_accel={"model": "bert", "platform": "cpu", "runtime": "torch", "device": "cpu",
                                     "kind": "load", "precision": "fp32", "batch_size": 1}, worker_id="gw1")
    row = result_row("r", NODE, {"setup": setup, "call": rep("call"), "teardown": rep("teardown")})
    assert (row.model, row.kind, row.runtime, row.batch_size, row.worker, row.duration_s) == (
        "bert", "load", "torch", 1, "gw1", 0.75)
    long = result_row("r", NODE, {"setup": rep("setup"), "call": rep("call", "failed", "x" * 5000)})
    assert len(long.message) == 1000 and long.message.endswith("...")
