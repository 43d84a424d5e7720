"""``--ipfs-device-lock`` and ``--ipfs-browser-timeout`` in real pytest runs (plain and xdist)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_ipfs_accel.store import queries

MODELS = ("--ipfs-models=bert", "--ipfs-kinds=load", "--ipfs-hw=cpu")

RECORD_SETTINGS = '''
import json, os
from pytest_ipfs_accel.host import devicelock
from pytest_ipfs_accel.browser import settings

def pytest_runtest_call(item):
    out = os.path.join(str(item.config.rootpath), "settings-" + os.environ.get("PYTEST_XDIST_WORKER", "main") + ".json")
    with open(out, "w") as f:
        json.dump({"run_id": devicelock.settings().run_id, "scope": devicelock.settings().scope,
                   "lock_dir": str(devicelock.lock_dir()), "browser_timeout": settings.step_timeout()}, f)
'''


def _settings(pytester) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(pytester.path.glob("settings-*.json"))]


@pytest.mark.slow
def test_xdist_workers_share_the_controllers_run_lock_and_it_is_removed_after(run, pytester):
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = run("-n", "2", *MODELS, "-k", "test_plain", "--ipfs-browser-timeout=7", conftest=RECORD_SETTINGS)
    result.assert_outcomes(passed=1)
    (seen,) = _settings(pytester)  # the one item ran on a worker
    with queries.connect(pytester.path / ".ipfs_accel/results.duckdb") as con:
        (stored,) = queries.runs(con)
    assert seen["run_id"] == stored["id"] and seen["scope"] == "run"
    assert seen["lock_dir"].endswith(f"run-{stored['id']}")
    assert seen["browser_timeout"] == 7.0
    assert not Path(seen["lock_dir"]).exists()  # the controller removed its run's lock folder


def test_machine_scope_from_the_ini(run, pytester):
    pytester.makeini("[pytest]\nipfs_device_lock = machine\nipfs_db = none\n")
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = run(*MODELS, "-k", "test_plain", conftest=RECORD_SETTINGS)
    result.assert_outcomes(passed=1)
    (seen,) = _settings(pytester)
    assert seen["scope"] == "machine" and not seen["lock_dir"].split("/")[-1].startswith("run-")
    assert seen["browser_timeout"] == 60.0


@pytest.mark.parametrize("args, env, says", [
    (("--ipfs-device-lock=everywhere",), {}, "--ipfs-device-lock: 'everywhere' is not one of run, machine"),
    (("--ipfs-browser-timeout=0",), {}, "--ipfs-browser-timeout: '0' is not a number of seconds"),
    (("--ipfs-browser-timeout=soon",), {}, "--ipfs-browser-timeout: 'soon' is not a number of seconds"),
    ((), {"IPFS_ACCEL_BROWSER_TIMEOUT": "nan"}, "$IPFS_ACCEL_BROWSER_TIMEOUT: 'nan' is not a number of seconds"),
])
def test_bad_values_are_one_line_usage_errors(run, monkeypatch, args, env, says):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = run(*MODELS, "--ipfs-db=none", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert says in result.stderr.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


WAIT_FOR_OWN_RUN = '''
import subprocess, sys, time
from pytest_ipfs_accel.host import devicelock

HOLD = """
import os, sys, time
from pytest_ipfs_accel.host import devicelock
devicelock.configure(sys.argv[1], sys.argv[2])
with devicelock.device_lock("cpu"):
    print("held", flush=True)
    time.sleep(3.0)
"""

def test_waits(record_property):
    s = devicelock.settings()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, s.scope, s.run_id], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with devicelock.device_lock("cpu") as held:
        record_property("waited", held.waited_s)
    holder.wait(30)
    assert held.waited_s >= 2.0
'''


@pytest.mark.slow
def test_a_long_wait_is_printed_past_output_capture(run, pytester):
    pytester.makepyfile(test_wait=WAIT_FOR_OWN_RUN)
    result = run(*MODELS, "--ipfs-db=none", "-k", "test_waits", conftest="")
    result.assert_outcomes(passed=1)
    err = result.stderr.str()
    assert "waited 2 s for the cpu timing lock (exclusive, run scope" in err, err
    assert "(run " in err and "exclusive)" in err
