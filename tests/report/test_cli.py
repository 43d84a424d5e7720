"""``ipfs-accel report``: from a store, from pytest-benchmark JSON, and its one-line errors (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pytest_ipfs_accel.cli.main import main
from pytest_ipfs_accel.report import data
from pytest_ipfs_accel.store.writer import Writer

from .conftest import EVIL


def bench_json(path, *, name="bert", raw=True, when="2025-03-04T05:06:07.123456+00:00"):
    """A file as ``pytest --benchmark-json`` writes it (the fields pytest-benchmark 4/5 saves)."""
    timings = [0.001 * (1 + i / 100) for i in range(100)]
    doc = {
        "machine_info": {"node": "ci-box", "python_version": "3.11.2", "system": "Linux", "release": "6.1"},
        "commit_info": {"id": "abc123", "dirty": False},
        "benchmarks": [{
            "group": None, "name": f"test_benchmark[{name}-cpu-{b}]",
            "fullname": f"ipfs/test_{name}.py::test_benchmark[{name}-cpu-{b}]",
            "params": {"model": name, "platform": "cpu", "batch_size": b}, "param": f"{name}-cpu-{b}",
            "extra_info": {}, "options": {"disable_gc": False, "timer": "perf_counter", "min_rounds": 5},
            "stats": {"min": 0.001 * b, "max": 0.002 * b, "mean": 0.0015 * b, "stddev": 0.0001, "rounds": 100,
                      "median": 0.0015 * b, "iqr": 0.0001, "q1": 0.0014, "q3": 0.0016, "iqr_outliers": 0,
                      "stddev_outliers": 3, "outliers": "3;0", "ld15iqr": 0.001, "hd15iqr": 0.002,
                      "ops": 1 / (0.0015 * b), "total": 0.15 * b, "iterations": 1,
                      **({"data": [t * b for t in timings]} if raw else {})},
        } for b in (1, 4)],
        "datetime": when, "version": "5.1.0",
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_report_from_store_html_and_md(store, tmp_path, capsys):
    path, ids = store
    assert main(["report", "--db", str(path), "--output", str(tmp_path / "r.html")]) == 0
    assert ids[-1] in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert main(["report", "--db", str(path), "--output", str(tmp_path / "r.txt"), "--format", "md",
                 "--run", ids[0]]) == 0
    text = (tmp_path / "r.txt").read_text(encoding="utf-8")
    assert f"`{ids[0]}` — finished" in text
    assert "report written to" in capsys.readouterr().out


def test_empty_store_exits_0_with_a_warning(tmp_path, capsys):
    db = tmp_path / "r.duckdb"
    Writer.open(db).close()
    assert main(["report", "--db", str(db), "--output", str(tmp_path / "r.md")]) == 0
    assert "no runs recorded" in capsys.readouterr().err
    assert "No runs recorded" in (tmp_path / "r.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("args, expected", [
    (["--db", "{tmp}/missing.duckdb", "--output", "{tmp}/r.html"], "missing.duckdb: no results database there"),
    (["--db", "{tmp}/foreign.duckdb", "--output", "{tmp}/r.html"], "foreign.duckdb is not a DuckDB database"),
    (["--db", "{db}", "--output", "{tmp}/r.pdf"], "r.pdf: cannot tell the report format"),
    (["--db", "{db}", "--output", "{tmp}/r.html", "--run", "nope"], "no run 'nope'"),
])
def test_errors_exit_2_with_one_line(store, tmp_path, capsys, args, expected):
    (tmp_path / "foreign.duckdb").write_text("not a database")
    args = [a.format(tmp=tmp_path, db=store[0]) for a in args]
    assert main(["report", *args]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and err.startswith("ipfs-accel: error: ")


def test_input_imports_pytest_benchmark_json_and_renders(tmp_path, capsys):
    db, out = tmp_path / "r.duckdb", tmp_path / "r.html"
    files = [bench_json(tmp_path / "a.json"), bench_json(tmp_path / "b.json", name=EVIL, raw=False, when="2025-03-05T00:00:00")]
    assert main(["report", "--input", *map(str, files), "--output", str(out), "--db", str(db)]) == 0
    assert "imported 2 file(s)" in capsys.readouterr().out
    found = data.load(db)
    assert len(found.history) == 2 and found.run["host"] == "ci-box" and found.run["git_commit"] == "abc123"
    assert [b["model"] for b in found.benchmarks] == [EVIL, EVIL] and found.benchmarks[0]["p90_s"] is None
    assert found.matrix[(EVIL, "cpu")].counts == {"passed": 2}
    first = data.load(db, found.history[1]["id"]).benchmarks
    assert first[1]["batch_size"] == 4 and first[1]["items_per_s"] == pytest.approx(4 / 0.006)
    assert first[0]["p90_s"] == pytest.approx(0.00190, rel=0.01) and first[0]["runtime"] == "torch"
    text = out.read_text(encoding="utf-8")
    assert EVIL not in text and "&lt;script&gt;" in text and "Plotly.newPlot" in text


@pytest.mark.parametrize("content, expected", [
    ("{not json", "not JSON"),
    ('{"hello": 1}', "not a pytest-benchmark JSON file (no 'benchmarks' list)"),
    ('{"benchmarks": [{"name": "x", "stats": {"min": 1}}]}', "(benchmarks[0] has no stats max, mean, median, rounds)"),
])
def test_bad_or_foreign_json_exits_2_naming_the_file_and_writes_nothing(tmp_path, capsys, content, expected):
    good, bad, db = bench_json(tmp_path / "good.json"), tmp_path / "bad.json", tmp_path / "r.duckdb"
    bad.write_text(content)
    assert main(["report", "--input", str(good), str(bad), "--output", str(tmp_path / "r.html"),
                 "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: " in err and expected in err and err.count("\n") == 1
    assert not db.exists() and not (tmp_path / "r.html").exists()


def test_python_dash_m(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pytest_ipfs_accel", "report", "--db", str(tmp_path / "no.db"),
                           "--output", str(tmp_path / "r.html")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no.db: no results database there" in done.stderr


def _spoil(path, change):
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc["benchmarks"][1])
    path.write_text(json.dumps(doc), encoding="utf-8")  # NaN written as NaN, as pytest-benchmark does


@pytest.mark.parametrize("change, expected", [
    (lambda b: b["stats"].update(rounds=10 ** 30),
     "stats.rounds 1000000000000000000000000000000 is out of range (a whole number 1 .. 2147483647)"),
    (lambda b: b["stats"].update(rounds=-3), "stats.rounds -3 is out of range"),
    (lambda b: b["stats"].update(rounds=2.5), "stats.rounds 2.5 is out of range"),
    (lambda b: b["stats"].update(median=float("nan")), "stats.median nan is not a time in seconds"),
    (lambda b: b["stats"].update(min=-1.0), "stats.min -1.0 is not a time in seconds"),
    (lambda b: b["stats"].update(mean=1e300), "stats.mean 1e+300 is not a time in seconds"),
    (lambda b: b["stats"].update(iterations=10 ** 12), "stats.iterations 1000000000000 is out of range"),
    (lambda b: b["params"].update(batch_size=10 ** 20), "batch_size 100000000000000000000 is out of range"),
    (lambda b: b["stats"]["data"].append(float("inf")), "stats.data holds a value that is not a time"),
])
def test_absurd_numbers_are_one_line_naming_benchmark_and_field_and_nothing_is_written(tmp_path, capsys, change,
                                                                                     expected):
    good, bad, db = bench_json(tmp_path / "good.json"), bench_json(tmp_path / "bad.json"), tmp_path / "r.duckdb"
    _spoil(bad, change)
    Writer.open(db).close()
    assert main(["report", "--input", str(good), str(bad), "--output", str(tmp_path / "r.html"),
                 "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}: benchmark 'ipfs/test_bert.py::test_benchmark[bert-cpu-4]': " in err
    assert expected in err, err
    assert data.load(db).history == []  # not half a run: nothing at all


def test_the_same_json_imported_twice_is_one_run(tmp_path, capsys):
    db, out, first = tmp_path / "r.duckdb", tmp_path / "r.html", bench_json(tmp_path / "a.json")
    assert main(["report", "--input", str(first), "--output", str(out), "--db", str(db)]) == 0
    run_id = data.load(db).run["id"]
    assert f"as run(s) {run_id}" in capsys.readouterr().out
    again = tmp_path / "copy.json"  # the same content, formatted differently
    again.write_text(json.dumps(json.loads(first.read_text()), indent=2), encoding="utf-8")
    assert main(["report", "--input", str(again), "--output", str(out), "--db", str(db)]) == 0
    assert f"{again} was already imported as run {run_id}; not imported again" in capsys.readouterr().out
    assert [r["id"] for r in data.load(db).history] == [run_id]


def test_help_says_where_the_json_comes_from(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    assert "--benchmark-json" in " ".join(capsys.readouterr().out.split())


def test_a_hand_written_file_at_the_report_path_is_kept_unless_forced(tmp_path, capsys) -> None:
    """Issue 13.2 for reports: a report replaces an earlier report, never a file a person wrote."""
    out, db = tmp_path / "report.md", tmp_path / "r.duckdb"
    out.write_text("my notes\n")
    args = ["report", "--input", str(bench_json(tmp_path / "b.json")), "--db", str(db), "--output", str(out)]
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err and out.read_text() == "my notes\n"
    assert main(args + ["--force"]) == 0 and "Generated by pytest-ipfs-accel" in out.read_text()
    assert main(args) == 0  # our own report: replaced without asking
