"""Fixtures for the xdist tests: pytest subprocesses of the plugin (which registers pytest_ipfs_accel.dist)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from pathlib import Path

import pytest

import duckdb  # noqa: F401  (imported before pytester snapshots sys.modules; see tests/bench/conftest.py)


EXAMPLE_SERVER = Path(__file__).resolve().parents[2] / "examples" / "cross_machine" / "oneshot_server.py"
XDIST_ENV = ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID")


@pytest.fixture
def run(pytester, tmp_path_factory, monkeypatch):
    """``run(*args, conftest="")``: a pytest subprocess in a fresh project, one artifact cache per session."""
    cache = tmp_path_factory.getbasetemp() / "shared-pytest-cache"
    for name in XDIST_ENV:
        monkeypatch.delenv(name, raising=False)  # our own -n 2 must not make the sub-run look like a worker
    monkeypatch.setenv("IPFS_ACCEL_LOCK_DIR", str(tmp_path_factory.getbasetemp() / "device-locks"))

    def _run(*args, conftest: str = "", timeout: float = 300):
        pytester.makeconftest(conftest)
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", f"cache_dir={cache}", *args,
                                             timeout=timeout)

    return _run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def socket_server(tmp_path):
    """``start()`` -> port of a one-shot execnet socket server on 127.0.0.1 (stopped afterwards)."""
    procs = []

    def start() -> int:
        port = free_port()
        script = str(EXAMPLE_SERVER)  # the documented one-shot server (examples/cross_machine)
        env = {k: v for k, v in os.environ.items() if k not in XDIST_ENV}
        workdir = tmp_path / f"server-{port}"
        workdir.mkdir()
        log = workdir / "server.log"
        with open(log, "w") as out:
            proc = subprocess.Popen([sys.executable, "-u", script, f"127.0.0.1:{port}"], cwd=workdir,
                                    env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        procs.append(proc)
        deadline = time.monotonic() + 30
        while "Entering Accept loop" not in log.read_text():  # listening (a probe would use up its one connection)
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"socket server did not start: {log.read_text()}")
            time.sleep(0.05)
        return port

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
