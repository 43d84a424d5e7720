"""``ipfs-accel benchmark``: pytest-benchmark items run in a child pytest, stored, reported."""

from __future__ import annotations

import json

import pytest

@pytest.mark.slow
def test_benchmark_bert_cpu_end_to_end(tmp_path, cli):
    out = cli("benchmark", "--models", "bert", "--hw", "cpu", "--rounds", "2", "--output", "benchmark_report.html",
              "--db", "res.duckdb", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "test_benchmark[cpu-bs1] PASSED" in out.stdout  # pytest's own progress lines come through
    html = (tmp_path / "benchmark_report.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "bert" in html

    from pytest_ipfs_accel.store import queries

    with queries.connect(tmp_path / "res.duckdb") as con:
        run_id = queries.resolve_run(con, "last")
        bench = queries.benchmarks(con, run_id)
    assert [(b["model"], b["platform"]) for b in bench] == [("bert", "cpu")]

    # the store feeds `ipfs-accel models`: bert is now known to pass on cpu
    models = cli("models", "--json", "--no-params", "--db", "res.duckdb", cwd=tmp_path)
    assert models.returncode == 0, models.stderr
    assert json.loads(models.stdout)[0]["platforms"] == ["cpu"]


@pytest.mark.parametrize("args, needle", [
    (["--models", "bert", "--output", "r.txt"], "use .html or .md"),
    (["--models", "nosuchmodel"], "unknown model 'nosuchmodel'"),
    (["--models", "bert", "--hw", "gpuu"], "unknown platform 'gpuu'"),
    (["--models", "bert", "--rounds", "0"], "--rounds"),
    (["--models", "bert", "--batch-sizes", "1,x"], "--batch-sizes"),
])
def test_bad_arguments_exit_2_before_running(tmp_path, args, needle, cli):
    out = cli("benchmark", *args, cwd=tmp_path)
    assert out.returncode == 2 and needle in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "running" not in out.stdout


def test_help_has_examples(tmp_path, cli):
    out = cli("benchmark", "--help", cwd=tmp_path)
    assert out.returncode == 0 and "ipfs-accel benchmark --models bert,t5,vit --output benchmark_report.html" in out.stdout


@pytest.mark.parametrize(("flag", "value", "option", "message"), [
    ("rounds", "0", "--ipfs-benchmark-rounds", "'0' is not an integer >= 1."),
    ("warmup", "-1", "--ipfs-benchmark-warmup", "'-1' is not an integer >= 0."),
    ("new_tokens", "1", "--ipfs-new-tokens", "'1' is not an integer from 2 to 4096."),
    ("batch_sizes", "1,5000", "--ipfs-batch-sizes", "'5000' is not an integer from 1 to 4096."),
    ("precisions", "fp8", "--ipfs-precisions", "unknown value 'fp8'."),
])
def test_the_cli_converts_like_the_pytest_options(tmp_path, pytester, flag, value, option, message):
    """Issue 14.5: ``ipfs-accel benchmark`` refuses what ``pytest --ipfs-*`` refuses, in the same words."""
    import argparse

    from pytest_ipfs_accel.cli.benchmark import command
    from pytest_ipfs_accel.cli.common import CliError

    args = dict(models="bert", output="r.md", hw=None, batch_sizes="1", precisions="fp32", rounds=None,
                warmup=None, db=None, quiet=True, pytest_args="", generate=False, prompt_tokens=None, new_tokens=None)
    with pytest.raises(CliError) as cli_error:
        command(argparse.Namespace(**{**args, flag: value}), tmp_path)
    assert str(cli_error.value).startswith(f"--{flag.replace('_', '-')}: {message}")
    plugin = pytester.runpytest("--co", "--ipfs-db=none", "--ipfs-models=bert", "--ipfs-hw=cpu", f"{option}={value}")
    assert f"{option}: {message}" in plugin.stderr.str()
