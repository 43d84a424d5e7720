"""Fixtures for the benchmark-kind tests: pytester sub-runs of the plugin."""

from __future__ import annotations

import pytest

# Imported before any pytester fixture snapshots sys.modules: pytester drops modules a test imported,
# and duckdb's nanobind extension aborts the process when imported a second time.
import duckdb  # noqa: F401


@pytest.fixture
def run(pytester, tmp_path_factory, monkeypatch):
    """``run(*args)``: a pytest subprocess in the project, sharing one artifact cache per test session.

    Subprocesses: openvino refuses a second import in one process and torch does not survive
    pytester dropping the modules a run imported.
    """
    cache = tmp_path_factory.getbasetemp() / "shared-pytest-cache"
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)  # our own -n 2 must not make the sub-run look like a worker

    def _run(*args):
        return pytester.runpytest_subprocess("-o", f"cache_dir={cache}", *args)

    return _run


FAKE_LOAD = """
import os

from pytest_ipfs_accel.host import load, reference

load.load1 = lambda: float(os.environ.get("IPFS_TEST_LOAD", "0"))
load.machine_busy_s = lambda proc=None: None
reference.fastest_s = lambda rounds=reference.ROUNDS: float(os.environ.get("IPFS_TEST_REFERENCE_S", "0.0005"))
"""


@pytest.fixture
def fake_load(pytester, monkeypatch):
    """The sub-runs read load average ``IPFS_TEST_LOAD`` (default 0: a quiet machine), no other processes'
    CPU and a reference workload (``host.reference``) of ``IPFS_TEST_REFERENCE_S`` seconds (default 0.5 ms: the
    same machine speed every run): tests of the gate's wiring must not depend on how busy the machine running
    them is."""
    pytester.makeconftest(FAKE_LOAD)
    monkeypatch.setenv("IPFS_TEST_LOAD", "0")

    def set_load(value: float) -> None:
        monkeypatch.setenv("IPFS_TEST_LOAD", str(value))

    return set_load
