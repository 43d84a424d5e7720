"""report.data: store queries -> ReportData, on real stores written by the Writer."""

from __future__ import annotations

import pytest

from pytest_ipfs_accel.report import data
from pytest_ipfs_accel.store.schema import StoreError
from pytest_ipfs_accel.store.writer import Writer

from .conftest import fill


def test_empty_store_gives_empty_data_not_made_up_rows(tmp_path):
    path = tmp_path / "r.duckdb"
    Writer.open(path).close()
    found = data.load(path)
    assert found.empty and found.matrix == {} and found.benchmarks == [] and found.history == []


def test_last_run_matrix_benchmarks_and_history(store):
    path, ids = store
    found = data.load(path)
    assert found.run["id"] == ids[-1] and found.run["status"] == "finished"
    assert found.models == ["bert", "t5"] and found.platforms == ["cpu", "cuda"]
    assert found.matrix[("t5", "cpu")].counts == {"failed": 1, "passed": 1}
    assert found.matrix[("t5", "cpu")].status == "fail" and found.matrix[("bert", "cpu")].status == "pass"
    assert found.matrix[("bert", "cuda")].status == "xfail" and found.matrix[("bert", "cuda")].short() == "1S 1X"
    assert {m for _, _, m, _ in found.matrix[("bert", "cuda")].messages} == {"cuda: no NVIDIA driver", "known gap"}
    assert found.counts == {"failed": 1, "passed": 4, "skipped": 2, "xfailed": 2}  # plain test counted too
    assert len(found.benchmarks) == 4
    assert [h["id"] for h in found.history] == ids[::-1]
    assert found.history[0]["failed"] == 1 and found.history[0]["benchmarks"] == 4
    assert found.baseline is None and found.regressions == []
    assert found.hardware[1]["reason"] == "no NVIDIA driver" and found.emulated == []


def test_a_named_run_and_an_unknown_one(store):
    path, ids = store
    assert data.load(path, ids[0]).run["id"] == ids[0]
    with pytest.raises(StoreError, match="no run 'nope'"):
        data.load(path, "nope")


def test_an_unfinished_run_is_reported_when_no_run_finished(tmp_path):
    from datetime import datetime

    from pytest_ipfs_accel.store.schema import RunRow

    path = tmp_path / "r.duckdb"
    writer = Writer.open(path)
    writer.start_run(RunRow(id="20250101-000000-aaaaaa", started_at=datetime(2025, 1, 1)))
    writer.close()
    found = data.load(path)
    assert found.run["status"] == "running" and found.matrix == {}


def test_emulated_platforms_are_named(tmp_path):
    path = tmp_path / "r.duckdb"
    fill(path, runs=1, emulated=True)
    assert [h["name"] for h in data.load(path).emulated] == ["webgpu"]
