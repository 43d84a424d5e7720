"""Fixtures for the generate-kind tests: pytest sub-runs sharing one artifact cache per session."""

from __future__ import annotations

import pytest

import duckdb  # noqa: F401  (imported before pytester snapshots sys.modules: a second import aborts)


@pytest.fixture
def run(pytester, tmp_path_factory, monkeypatch):
    """``run(*args)``: pytest in a subprocess (openvino and torch do not survive a second import)."""
    cache = tmp_path_factory.getbasetemp() / "generation-pytest-cache"
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)

    def _run(*args):
        return pytester.runpytest_subprocess("-p", "no:randomly", "-o", f"cache_dir={cache}", "-rsx", *args)

    return _run
