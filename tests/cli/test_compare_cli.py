"""``ipfs-accel compare BASE [NEW]``: the gate outside pytest, on a real store; exit 0 / 6 / 2."""

from __future__ import annotations

import argparse
import json
import random
from datetime import datetime, timedelta

import pytest

from pytest_ipfs_accel.cli import compare as compare_cli
from pytest_ipfs_accel.cli.common import CliError
from pytest_ipfs_accel.store.schema import BenchmarkRow, RunRow
from pytest_ipfs_accel.store.writer import Writer

NODE = "ipfs/test_bert.py::test_benchmark[cpu-bs1]"


def compare(*argv: str) -> int:
    """The subcommand as ``ipfs-accel compare`` runs it (parsed by its own add_parser)."""
    top = argparse.ArgumentParser()
    compare_cli.add_parser(top.add_subparsers())
    args = top.parse_args(["compare", *argv])
    return args.func(args)


@pytest.fixture
def store(tmp_path):
    """``store(run_id, center, machine="m1")`` appends a finished run of 40 noisy rounds around ``center`` s."""
    db, made = tmp_path / "r.duckdb", []

    def add(run_id: str, center: float, machine: str = "m1", n: int = 40) -> None:
        rng = random.Random(len(made))
        rounds = [center * (1 + rng.uniform(-0.05, 0.05)) for _ in range(n)]
        writer = Writer.open(db)
        writer.start_run(RunRow(id=run_id, started_at=datetime(2025, 1, 1) + timedelta(minutes=len(made)),
                                machine_id=machine, fingerprint=json.dumps({"cpu": {"model": f"CPU-{machine}"}})))
        writer.add_benchmark(BenchmarkRow(run_id, NODE, model="bert", platform="cpu", precision="fp32", batch_size=1,
                                          median_s=sorted(rounds)[n // 2], rounds_s=json.dumps(rounds)))
        writer.finish_run(run_id, "finished", 0)
        writer.close()
        made.append(run_id)

    add.db = db
    return add


def test_same_code_passes_and_a_slowdown_exits_6_with_a_table(store, capsys):
    store("r1", 0.010)
    store("r2", 0.0101)
    assert compare("last", "--db", str(store.db)) == 0
    out = capsys.readouterr().out
    assert "r2 vs r1" in out and NODE in out and "regression" not in out.replace("0 regression", "")
    store("r3", 0.0125)
    assert compare("last:2", "--db", str(store.db)) == 6
    out = capsys.readouterr().out
    assert "r3 vs r2, r1" in out and "regression" in out and "exit status 6" in out
    assert compare("r1", "r3", "--db", str(store.db), "--threshold", "30%") == 0  # 25 % is under 30 %
    capsys.readouterr()
    assert compare("r1", "r3", "--db", str(store.db), "--markdown") == 6
    captured = capsys.readouterr()
    md = captured.out
    assert md.startswith("### Benchmark comparison: r3 vs r1") and f"| `{NODE}` |" in md and "**regression**" in md
    # 17.5: the Markdown goes into $GITHUB_STEP_SUMMARY as it is: no status line in it, that goes to stderr
    assert "exit status" not in md and "1 regression(s): exit status 6" in captured.err


def test_too_few_rounds_is_inconclusive_and_fails_only_when_asked(store, capsys):
    store("r1", 0.010)
    store("r2", 0.020, n=6)  # twice as slow, but six rounds
    assert compare("last", "--db", str(store.db)) == 0
    out = capsys.readouterr().out
    assert "inconclusive: too few rounds" in out and "6 rounds" in out
    assert compare("last", "--db", str(store.db), "--fail-on-inconclusive", "--markdown") == 6
    captured = capsys.readouterr()
    assert "| inconclusive: too few rounds |" in captured.out
    assert "1 inconclusive item(s): exit status 6" in captured.err


def test_only_one_run_says_no_baseline_yet(store):
    store("r1", 0.010)
    with pytest.raises(CliError, match="no baseline yet: .*record benchmarks first"):
        compare("last", "--db", str(store.db))


def test_another_machine_is_reported_not_called_a_regression(store, capsys):
    store("r1", 0.010)
    store("r2", 0.020, machine="m2")
    assert compare("r1", "r2", "--db", str(store.db)) == 0
    assert "machine changed: cpu model: CPU-m1 -> CPU-m2" in capsys.readouterr().out
    assert compare("r1", "r2", "--db", str(store.db), "--any-machine") == 6


@pytest.mark.parametrize("argv, message", [
    (("nope",), "no run 'nope' in the results database; known runs"),
    (("last", "--threshold", "ten"), "--threshold: 'ten' is not a percentage"),
    (("last:0",), "last:N needs N >= 1"),
])
def test_bad_input_is_one_line(store, argv, message):
    store("r1", 0.010)
    store("r2", 0.010)
    with pytest.raises(CliError, match=message):
        compare(*argv, "--db", str(store.db))


def test_missing_database(tmp_path):
    with pytest.raises(CliError, match="no results database there"):
        compare("last", "--db", str(tmp_path / "none.duckdb"))
