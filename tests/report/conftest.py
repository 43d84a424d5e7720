"""Fixtures for the report tests: a real store filled through the store's Writer."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from pytest_ipfs_accel.host import fingerprint
from pytest_ipfs_accel.store.schema import BenchmarkRow, RunRow, TestResultRow
from pytest_ipfs_accel.store.writer import Writer

EVIL = "<script>alert('x')</script>"


def fill(path, *, runs=2, evil=False, benchmarks=True, emulated=False, machine=None, speed=1.0):
    """Write ``runs`` finished runs (the newest one last) with a small matrix and benchmarks; run ids.

    ``machine``: a CPU model name; the runs then carry its fingerprint and machine id (and run ids of their
    own), and their benchmark medians are multiplied by ``speed``."""
    writer = Writer.open(path)
    ids = []
    start = datetime(2025, 1, 2, 3, 4, 5)
    model2 = EVIL if evil else "t5"
    hardware = [{"name": "cpu", "runtime": "torch", "device": "cpu", "available": True, "reason": "",
                 "emulated": "no", "details": {}},
                {"name": "cuda", "runtime": "torch", "device": "cuda", "available": False,
                 "reason": "no NVIDIA driver", "emulated": "no", "details": {}}]
    if emulated:
        hardware.append({"name": "webgpu", "runtime": "browser", "device": "webgpu", "available": True,
                         "reason": "", "emulated": "software", "details": {}})
    for n in range(runs):
        run_id = f"20250102-03040{n}-abc00{n}" + (f"-{machine[:4].lower()}" if machine else "")
        ids.append(run_id)
        fp = {"cpu": {"model": machine}, "gpus": [], "accelerators": []} if machine else None
        writer.start_run(RunRow(id=run_id, started_at=start + timedelta(minutes=n), host="box", os="Linux",
                                fingerprint=json.dumps(fp) if fp else None,
                                machine_id=fingerprint.machine_id(fp) if fp else None,
                                python="3.11.2", packages=json.dumps({"torch": "2.13.0", "openvino": None}),
                                hardware=json.dumps(hardware), options=json.dumps({"models": ["bert", model2]})))
        rows = []
        for model in ("bert", model2):
            rows += [
                TestResultRow(run_id, f"ipfs/test_{n}.py::test_load[{model}-cpu]", "passed", model=model,
                              platform="cpu", kind="load", duration_s=0.1),
                TestResultRow(run_id, f"ipfs/test_{n}.py::test_forward[{model}-cpu]",
                              "failed" if model == model2 else "passed", model=model, platform="cpu",
                              kind="forward", message=f"AssertionError: {EVIL} mismatch" if model == model2 else None),
                TestResultRow(run_id, f"ipfs/test_{n}.py::test_load[{model}-cuda]", "skipped", model=model,
                              platform="cuda", kind="load", message="cuda: no NVIDIA driver"),
                TestResultRow(run_id, f"ipfs/test_{n}.py::test_forward[{model}-cuda]", "xfailed", model=model,
                              platform="cuda", kind="forward", message="known gap"),
            ]
        rows.append(TestResultRow(run_id, "tests/test_plain.py::test_other", "passed"))
        writer.add_results(rows)
        if benchmarks:
            writer.add_benchmarks([
                BenchmarkRow(run_id, f"ipfs/test_{n}.py::test_benchmark[{m}-cpu-{b}]", model=m, platform="cpu",
                             batch_size=b, min_s=0.001 * b, max_s=0.003 * b, mean_s=0.0016 * b,
                             median_s=0.0015 * b * speed,
                             stddev_s=0.0002, p90_s=0.002 * b, p99_s=0.0025 * b, rounds=50, iterations=1,
                             ops_per_s=1 / (0.0015 * b), items_per_s=1 / 0.0015, peak_rss_mb=512.0)
                for m in ("bert", model2) for b in (1, 4)])
        writer.finish_run(run_id, "finished", 1)
    writer.close()
    return ids


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "results.duckdb"
    return path, fill(path)
