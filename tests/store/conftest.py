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
