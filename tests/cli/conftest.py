"""The ``cli`` fixture: run ``python -m pytest_ipfs_accel ARGS`` as users run it, offline."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def run_cli(*args, cwd, env=None, timeout: int = 300) -> subprocess.CompletedProcess:
    """One ``ipfs-accel`` invocation in a subprocess; stdout/stderr captured as text."""
    return subprocess.run([sys.executable, "-m", "pytest_ipfs_accel", *map(str, args)], cwd=cwd, env=env or ENV,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cli():
    """``cli(*args, cwd=..., env=None)`` -> CompletedProcess of ``ipfs-accel *args``."""
    return run_cli
