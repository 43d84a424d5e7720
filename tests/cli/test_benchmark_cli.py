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
