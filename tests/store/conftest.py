"""Fixtures for the store tests: a pytester project whose sub-runs record results."""

from __future__ import annotations

import pytest


@pytest.fixture
def conftest(pytester):
    """``conftest(extra)`` writes the sub-run's conftest.py."""

    def write(extra: str = "") -> None:
        pytester.makeconftest(extra)

    write()
    return write


@pytest.fixture
def run(pytester, tmp_path_factory, conftest):
    """``run(*args)``: a pytest subprocess in the project, sharing one artifact cache per test session.

    Subprocesses, not in-process runs: openvino refuses a second import in one process and torch
    does not survive pytester dropping the modules a run imported.
    """
    cache = tmp_path_factory.getbasetemp() / "shared-pytest-cache"

    def _run(*args):
        return pytester.runpytest_subprocess("-o", f"cache_dir={cache}", *args)

    return _run


@pytest.fixture
def plant():
    """``plant(db, run_id, rounds, machine="m1", minutes=0, node=...)``: a finished run with one benchmark item
    (bert/cpu/fp32/bs1) whose raw rounds are ``rounds`` and whose fingerprint names ``machine``'s CPU."""
    import json
    import statistics
    from datetime import datetime, timedelta

    from pytest_ipfs_accel.host import fingerprint
    from pytest_ipfs_accel.store.schema import BenchmarkRow, RunRow, TestResultRow
    from pytest_ipfs_accel.store.writer import Writer

    def _plant(db, run_id, rounds, machine="m1", minutes=0, node="ipfs/test_bert.py::test_benchmark[cpu-bs1]",
               host="box", keep_rounds=True):
        fp = {"cpu": {"model": f"CPU of {machine}", "arch": "x86_64", "flags": ["avx2"], "logical_cores": 2,
                      "physical_cores": 2}, "memory_gb": 16.0, "gpus": [], "accelerators": [], "packages": {}}
        writer = Writer.open(db)
        writer.start_run(RunRow(id=run_id, started_at=datetime(2025, 1, 1) + timedelta(minutes=minutes), host=host,
                                fingerprint=json.dumps(fp), machine_id=fingerprint.machine_id(fp)))
        writer.add_result(TestResultRow(run_id, node, "passed", model="bert", platform="cpu", kind="benchmark",
                                        precision="fp32", batch_size=1))
        writer.add_benchmark(BenchmarkRow(run_id, node, model="bert", platform="cpu", precision="fp32", batch_size=1,
                                          median_s=statistics.median(rounds), rounds=len(rounds),
                                          rounds_s=json.dumps(list(rounds)) if keep_rounds else None))
        writer.finish_run(run_id, "finished", 0)
        writer.close()
        return fingerprint.machine_id(fp)

    return _plant


class Damaged:
    """``damaged(folder)``: (offset, copy) of a real results file with 4 KiB overwritten at each 64 KiB step;
    ``damaged.write_a_run(path)``: (the message it was refused with at open, or None; the closed writer)."""

    def __call__(self, folder):
        import shutil

        good = folder / "good.duckdb"
        self._big_db(good)
        for offset in range(4096, good.stat().st_size, 65536):
            bad = folder / f"bad{offset}.duckdb"
            shutil.copyfile(good, bad)
            with open(bad, "r+b") as f:
                f.seek(offset)
                f.write(b"\xa5" * 4096)
            yield offset, bad

    @staticmethod
    def _big_db(path):
        from datetime import datetime

        from pytest_ipfs_accel.store.schema import RunRow, TestResultRow
        from pytest_ipfs_accel.store.writer import Writer

        writer = Writer.open(path)
        for k in range(3):
            writer.start_run(RunRow(id=f"r{k}", started_at=datetime(2025, 1, 1)))
            writer.add_results(TestResultRow(f"r{k}", f"t.py::test_{i:05d}" * 4, "passed", message="m" * 60)
                               for i in range(3000))
        writer.close()

    @staticmethod
    def write_a_run(path):
        from datetime import datetime

        from pytest_ipfs_accel.store.schema import RunRow, StoreError, TestResultRow
        from pytest_ipfs_accel.store.writer import Writer

        try:
            writer = Writer.open(path)
        except StoreError as exc:
            return str(exc), None
        writer.start_run(RunRow(id="new", started_at=datetime(2025, 1, 1)))
        writer.add_results(TestResultRow("new", f"t.py::test_{i}", "passed") for i in range(5))
        writer.add_result(TestResultRow("new", "t.py::test_last", "passed"))
        writer.finish_run("new", "finished", 0)
        writer.close()
        return None, writer


@pytest.fixture
def damaged():
    return Damaged()
