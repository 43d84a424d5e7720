"""A browser step that hangs fails as class ``timeout``: never an xfail ("cannot export"), never a skip.

Real headless Chromium and onnxruntime-web (skipped, saying why, where they are not set up). The
conftest lowers the step timeout after the platform probe, so the model's page load or session
creation (about a second for tiny bert on wasm) cannot answer in time: a real hang, as the
issue's webnn session create was (`no answer within 305 s`, classed compile, shown as XFAIL).
"""

from __future__ import annotations

import pytest

from pytest_ipfs_accel.browser import cache
from pytest_ipfs_accel.store import queries

MISSING = cache.missing()
WEB_CACHE = cache.cache_dir()  # now: pytester points HOME elsewhere

LOWER_AFTER_PROBE = '''
from pytest_ipfs_accel.browser import settings
from pytest_ipfs_accel.browser.probe import probe_platform

def pytest_runtest_setup(item):
    assert probe_platform("wasm").available, probe_platform("wasm").reason
    settings.set_step_timeout(0.05)
'''


@pytest.mark.skipif(bool(MISSING), reason=MISSING or "ok")
@pytest.mark.slow
def test_a_hung_browser_step_fails_as_timeout(pytester, monkeypatch):
    pytest.importorskip("websocket")
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(cache.CACHE_ENV, str(WEB_CACHE))
    pytester.makeconftest(LOWER_AFTER_PROBE)
    result = pytester.runpytest_subprocess("--ipfs-models=bert", "--ipfs-kinds=parity", "--ipfs-hw=wasm",
                                           "-p", "no:randomly", "-p", "no:cacheprovider", timeout=600)
    result.assert_outcomes(failed=1)  # not xfailed, not skipped
    out = result.stdout.str()
    assert "no answer within 0.05 s" in out and "--ipfs-browser-timeout" in out
    with queries.connect(pytester.path / ".ipfs_accel/results.duckdb") as con:
        (run,) = queries.runs(con)
        (row,) = queries.results(con, run["id"])
    assert (row["outcome"], row["failure_class"]) == ("failed", "timeout")
