"""Spill files: checked line by line before anything is written; a cut-short last line is skipped and named."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import pytest

from pytest_ipfs_accel.store import queries
from pytest_ipfs_accel.store.schema import RunRow, StoreError, TestResultRow
from pytest_ipfs_accel.store.spill import import_spill
from pytest_ipfs_accel.store.writer import Writer, spill_path_for

CLI = [sys.executable, "-m", "pytest_ipfs_accel"]


def spill_file(tmp_path, results: int = 3):
    """A real spill file (a writer that could not open the database), its run finished."""
    db = tmp_path / "r.duckdb"
    writer = Writer(db, None, "locked")
    writer.start_run(RunRow(id="sp", started_at=datetime(2025, 1, 1)))
    writer.add_results(TestResultRow("sp", f"t.py::test_{i}", "passed") for i in range(results))
    writer.finish_run("sp", "finished", 0)
    writer.close()
    return db, spill_path_for(db, "sp")


def edit(path, number: int, change) -> None:
    lines = path.read_text().splitlines()
    record = json.loads(lines[number - 1])
    change(record)
    lines[number - 1] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")


def cli_import(spill):
    return subprocess.run([*CLI, "db", "import", str(spill)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("number, change, expected", [
    (6, lambda r: r.update(finished_at="yesterday"), "line 6: finished_at 'yesterday' is not an ISO date and time"),
    (6, lambda r: r.update(status="done"), "line 6: status 'done' is not one of running, finished, interrupted"),
    (3, lambda r: r["row"].update(outcome="great"), "line 3: test_results row: 'great' is not one of passed"),
    (2, lambda r: r["row"].update(started_at=None), "line 2: runs row: no started_at"),
    (3, lambda r: r["row"].update(batch_size=10 ** 30), "line 3: batch_size 1000000000000000000000000000000 is not"),
    (6, lambda r: r.update(exit_status=2 ** 40), "line 6: exit_status 1099511627776 is not an int (32-bit)"),
    (6, lambda r: r.update(note=["x"]), "line 6: finish: its message is not text"),
])
def test_a_bad_line_is_one_line_exit_2_naming_it_and_nothing_is_imported(tmp_path, number, change, expected):
    db, spill = spill_file(tmp_path)
    edit(spill, number, change)
    done = cli_import(spill)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr
    assert expected in done.stderr and "nothing was imported" in done.stderr, done.stderr
    assert not db.exists()  # nothing was written, not even the file


def test_a_cut_short_last_line_is_skipped_with_its_number_and_the_rest_imported(tmp_path):
    db, spill = spill_file(tmp_path)
    text = spill.read_text()
    spill.write_text(text[:-20])  # the killed writer's last line (its finish) is cut mid-way
    done = cli_import(spill)
    assert done.returncode == 0, done.stderr
    assert "warning: " in done.stderr and "line 6 is cut short" in done.stderr and "imported lines 1-5" in done.stderr
    assert "inserted 1 runs, 3 test_results" in done.stdout
    with queries.connect(db) as con:
        (run,) = queries.runs(con)
    assert run["results"] == 3 and run["status"] == "running"  # its finish line was the one cut


def test_a_bad_line_in_the_middle_is_refused_whole(tmp_path):
    db, spill = spill_file(tmp_path)
    lines = spill.read_text().splitlines()
    lines[2] = lines[2][:15]
    spill.write_text("\n".join(lines) + "\n")
    with pytest.raises(StoreError, match=r"line 3: not JSON .*nothing was imported"):
        import_spill(spill)
    assert not db.exists()


def test_importing_twice_adds_nothing(tmp_path):
    db, spill = spill_file(tmp_path)
    assert import_spill(spill) == {"runs": 1, "test_results": 3, "benchmark_results": 0}
    assert import_spill(spill) == {"runs": 0, "test_results": 0, "benchmark_results": 0}
