"""``ipfs-accel expectations update``: a stored run's outcomes folded into the file, and back."""

from __future__ import annotations

import argparse

import pytest

from pytest_ipfs_accel.cli import expectations as cli_expectations
from pytest_ipfs_accel.cli.common import CliError
from pytest_ipfs_accel.expectations.file import Expectation, Rule, load, parse
from pytest_ipfs_accel.expectations.update import expected_outcomes, merge


def cli(*argv: str) -> int:
    top = argparse.ArgumentParser(prog="ipfs-accel")
    cli_expectations.add_parser(top.add_subparsers(dest="command"))
    args = top.parse_args(["expectations", *argv])
    return args.func(args)


def row(model, platform, kind, outcome, message=None, failure_class=None) -> dict:
    return {"model": model, "platform": platform, "kind": kind, "outcome": outcome, "message": message,
            "failure_class": failure_class}


def test_cells_take_the_first_failure_and_ignore_skips_perf_and_plain_items() -> None:
    cells = expected_outcomes([
        row("bert", "cpu", "batch", "passed"), row("bert", "cpu", "batch", "failed", "bs4 differs\nmore", "numeric"),
        row("bert", "cpu", "batch", "failed", "later"), row("t5", "cuda", "load", "skipped", "no cuda"),
        row("t5", "cpu", "benchmark", "failed", "slower", "perf"), row(None, None, None, "failed", "plain test"),
        row("t5", "cpu", "forward", "failed", "[XPASS(strict)] was xfail"), row("gpt2", "ov", "load", "error"),
    ])
    assert cells == {("bert", "cpu", "batch"): ("xfail", "[numeric] bs4 differs"),
                     ("t5", "cpu", "forward"): ("pass", ""), ("gpt2", "ov", "load"): ("xfail", "error")}


def test_merge_keeps_globs_and_tolerances_and_drops_plain_passes() -> None:
    existing = parse({"expect": [
        {"model": "*", "platform": "openvino", "kind": "parity", "tolerance": {"fp32": {"atol": 1e-2}}},
        {"model": "t5", "platform": "cpu", "kind": "load", "expected": "xfail", "reason": "old"},
        {"model": "bert", "platform": "cpu", "kind": "load", "max_slowdown": 0.1},
    ]})
    merged = merge(existing, {("bert", "openvino", "parity"): ("xfail", "[numeric] off"),
                              ("t5", "cpu", "load"): ("pass", ""), ("bert", "cpu", "load"): ("xfail", "boom"),
                              ("gpt2", "cpu", "load"): ("pass", "")})
    assert merged.rules == (
        existing.rules[0],
        Rule("bert", "cpu", "load", Expectation("xfail", "boom", {}, 0.1)),
        Rule("bert", "openvino", "parity", Expectation("xfail", "[numeric] off", {"fp32": (1e-2, None)})),
    )


def test_check_and_missing_database_exit_with_one_line(tmp_path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[[expect]]\nmodel = "bert"\n')
    assert cli("check", str(good)) == 0
    (tmp_path / "bad.toml").write_text('[[expect]]\nmodel = ""\n')
    with pytest.raises(CliError, match="bad.toml: .*#1: model = '' must be a non-empty string"):
        cli("check", str(tmp_path / "bad.toml"))
    with pytest.raises(CliError, match="no results database there"):
        cli("update", "--from-run", "last", "--db", str(tmp_path / "none.duckdb"), "-o", str(good))


GLOB_SKIP = '\n[[expect]]\nmodel = "*"\nplatform = "cuda"\nexpected = "skip"\nreason = "no cuda on this fleet"\n'


@pytest.mark.slow
def test_update_round_trip_turns_a_failing_run_green(run, pytester, planted) -> None:
    parity_fails = planted.replace('expected = "xfail"\nreason = "planted: a tolerance no float meets"\n', "", 1)
    assert parity_fails != planted
    args = ("--ipfs-models=bert", "--ipfs-hw=cpu,openvino", "--ipfs-kinds=forward,parity", "--ipfs-db=r.duckdb")
    first = run(*args, expectations=parity_fails + GLOB_SKIP)
    first.assert_outcomes(failed=2, skipped=1)  # parity: numeric under the planted bound; forward: strict xpass
    out = pytester.path / "ipfs-expectations.toml"
    assert cli("update", "--from-run", "last", "--db", str(pytester.path / "r.duckdb"), "-o", str(out)) == 0
    rules = load(out).rules
    assert [(r.model, r.platform, r.kind, r.expectation.expected) for r in rules] == [
        ("bert", "openvino", "parity", "xfail"), ("b*", "cpu", "forward", "skip"), ("*", "cuda", "*", "skip")]
    parity = rules[0].expectation
    assert parity.tolerance == {"fp32": (1e-12, 0.0)} and "elements outside atol 1e-12" in parity.reason
    again = run(*args)
    again.assert_outcomes(passed=1, skipped=1, xfailed=1)
