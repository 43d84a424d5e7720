"""Sub-runs of the plugin with an expectations file, recording every report's ``ipfs_failure``."""

from __future__ import annotations

import json

import pytest

# Imported before any pytester fixture snapshots sys.modules (duckdb aborts on a second import).
import duckdb  # noqa: F401

RECORDER = '''
import json


def pytest_runtest_logreport(report):
    failure = getattr(report, "ipfs_failure", None)
    if failure is not None:
        with open("failures.jsonl", "a") as out:
            out.write(json.dumps({"nodeid": report.nodeid, "when": report.when, **failure}) + "\\n")
'''


PLANTED = '''
[[expect]]
model = "bert"
platform = "openvino"
kind = "parity"
expected = "xfail"
reason = "planted: a tolerance no float meets"
tolerance = { fp32 = { atol = 1e-12, rtol = 0 } }

[[expect]]
model = "bert"
platform = "openvino"
kind = "forward"
expected = "xfail"
reason = "planted: this passes"

[[expect]]
model = "b*"
platform = "cpu"
kind = "forward"
expected = "skip"
reason = "planted skip"
'''


@pytest.fixture
def planted() -> str:
    """Rules for bert on openvino: parity xfails under a bound no float meets, forward is a planted
    strict xfail that passes, forward on cpu is skipped."""
    return PLANTED


@pytest.fixture
def run(pytester, tmp_path_factory, monkeypatch):
    """``run(*args, expectations=TEXT)``: a pytest subprocess with a plugin that records
    ``report.ipfs_failure`` (as the controller sees it) to failures.jsonl; exports shared per session."""
    cache = tmp_path_factory.getbasetemp() / "shared-pytest-cache"
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)  # our own -n 2 must not make the sub-run look like a worker
    pytester.makepyfile(ipfs_failure_recorder=RECORDER)  # a -p plugin: conftest hooks are path-scoped

    def _run(*args, expectations: str | None = None):
        if expectations is not None:
            (pytester.path / "ipfs-expectations.toml").write_text(expectations)
        (pytester.path / "failures.jsonl").unlink(missing_ok=True)
        return pytester.runpytest_subprocess("-o", f"cache_dir={cache}", "-p", "ipfs_failure_recorder", *args)

    return _run


@pytest.fixture
def failures(pytester):
    """``failures()`` -> {node id: ipfs_failure dict} recorded by the last sub-run."""

    def _read() -> dict[str, dict]:
        path = pytester.path / "failures.jsonl"
        lines = path.read_text().splitlines() if path.is_file() else []
        return {row["nodeid"]: row for row in map(json.loads, lines)}

    return _read
