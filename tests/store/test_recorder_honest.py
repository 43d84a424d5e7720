"""Honest records from real pytest sub-runs: items that never ran, runs stopped by a usage error,
corrupt and read-only results files."""

from __future__ import annotations

import shutil
import subprocess

import duckdb  # noqa: F401  (imported before pytester snapshots sys.modules: it cannot be imported twice)
import pytest

from pytest_ipfs_accel.store import queries

#: The recorder on (models given), the generated item deselected: only the planted file runs.
ONLY = ("--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-kinds=load", "-k", "crashy or plain")
DB = ".ipfs_accel/results.duckdb"

CRASHY = '''
import os
import time

import pytest


def test_crash():
    os._exit(3)  # the worker dies


@pytest.mark.parametrize("n", range(16))
def test_later(n):
    time.sleep(0.2)
'''

PLAIN = '''
def test_ok():
    pass


def test_also_ok():
    pass
'''


def runs(path) -> dict[str, dict]:
    with queries.connect(path) as con:
        return {r["id"]: dict(r, rows=queries.results(con, r["id"])) for r in queries.runs(con)}


@pytest.mark.slow
def test_items_a_crashed_worker_never_ran_are_stored_as_not_run_and_the_run_is_incomplete(run, pytester):
    pytester.makepyfile(test_crashy=CRASHY)
    result = run(*ONLY, "-p", "xdist", "-n", "2", "--max-worker-restart=0", "--dist=load")
    assert result.ret == 1
    ((run_id, found),) = runs(pytester.path / DB).items()
    rows = {r["node_id"]: r for r in found["rows"]}
    assert len(rows) == 17  # every collected item has a row: none vanished
    assert rows["test_crashy.py::test_crash"]["outcome"] == "failed"
    not_run = [r for r in rows.values() if (r["message"] or "").startswith("not run: ")]
    assert not_run and all(r["outcome"] == "error" for r in not_run)
    assert "crashed and worker restarting disabled" in not_run[0]["message"]
    assert found["status"] == "interrupted"
    assert found["note"] == f"{len(not_run)} of 17 collected items not run: {not_run[0]['message'][9:]}"


def test_a_template_error_at_collection_leaves_no_run_row(run, pytester):
    models = pytester.path / "tpl" / "tests" / "models"
    models.mkdir(parents=True)
    (models / "bert.py.j2").write_text('{% extends "tests/base.py.j2" %}\n{% block imports %}\n{{ undefined_thing }}\n'
                                       "{% endblock %}\n")
    result = run("--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-kinds=load", "--ipfs-templates=tpl")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "bert.py.j2:3" in result.stderr.str()
    path = pytester.path / DB
    assert not path.exists() or runs(path) == {}


def _one_of_each(tmp_path, damaged):
    """A damaged copy DuckDB refuses at open, and one it only finds at the first write."""
    found = {}
    for offset, bad in damaged(tmp_path):
        fresh = bad.with_name(f"run{offset}.duckdb")
        shutil.copyfile(bad, fresh)
        message, writer = damaged.write_a_run(bad)
        kind = "open" if message is not None else "write" if writer.failed else None
        if kind and kind not in found:
            found[kind] = fresh
    return found


@pytest.mark.slow
def test_a_corrupt_results_file_stops_the_run_with_exit_4_and_loses_nothing(run, pytester, tmp_path, damaged):
    pytester.makepyfile(test_plain=PLAIN)
    copies = _one_of_each(tmp_path, damaged)
    assert set(copies) == {"open", "write"}
    at_open = run(*ONLY, f"--ipfs-db={copies['open']}")
    assert at_open.ret == pytest.ExitCode.USAGE_ERROR
    err = at_open.stderr.str().strip()
    assert len(err.splitlines()) == 1 and "is corrupt (Corrupt database file" in err and "Traceback" not in err
    at_write = run(*ONLY, f"--ipfs-db={copies['write']}")
    out = at_write.stdout.str()
    assert at_write.ret == pytest.ExitCode.USAGE_ERROR, out  # every test passed; the store failed: say so
    at_write.assert_outcomes(passed=2)
    assert "Corrupt database file" in out and "2 results written to" in out and "Traceback" not in out
    assert "ipfs-accel db import" in out


@pytest.mark.skipif(shutil.which("chattr") is None, reason="needs chattr (the immutable flag stops root too)")
def test_a_read_only_results_file_is_called_read_only(run, pytester):
    pytester.makepyfile(test_plain=PLAIN)
    assert run(*ONLY).ret == 0
    path = pytester.path / DB
    if subprocess.run(["chattr", "+i", str(path)]).returncode:
        pytest.skip("chattr +i is not supported on this file system")
    try:
        result = run(*ONLY)
    finally:
        subprocess.run(["chattr", "-i", str(path)])
    err = result.stderr.str().strip()
    assert result.ret == pytest.ExitCode.USAGE_ERROR and len(err.splitlines()) == 1, err
    assert f"{path} is read-only (Operation not permitted)" in err and "not a usable" not in err
    assert "--ipfs-db=PATH stores results elsewhere" in err
