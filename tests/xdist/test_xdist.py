"""pytest-xdist runs of generated suites: real pytest subprocesses with tiny bert/vit."""

from __future__ import annotations

import json
import re

import pytest

from pytest_ipfs_accel.store import queries

DB = ".ipfs_accel/results.duckdb"
SMALL = ("--ipfs-models=bert,vit", "--ipfs-kinds=load,forward")
CRASH = '''
import os, signal, sys

class _Crash:
    def pytest_runtest_call(self, item):
        if item.nodeid == "ipfs/test_vit.py::test_forward[onnxruntime]":
            os.kill(os.getpid(), signal.SIGSEGV)

def pytest_plugin_registered(plugin, manager):
    if plugin is sys.modules.get(__name__) and not manager.has_plugin("crash"):
        manager.register(_Crash(), "crash")
'''


def stored(pytester) -> tuple[list[dict], list[dict]]:
    with queries.connect(pytester.path / DB) as con:
        (run,) = queries.runs(con)
        return queries.results(con, run["id"]), queries.benchmarks(con, run["id"])


def ran_on(result) -> dict[str, str]:
    """nodeid -> gw id, from -v output lines ``[gw1] [ 50%] PASSED ipfs/...``."""
    found = {}
    for line in result.stdout.lines:
        m = re.match(r"\[(gw\d+)\] \[\s*\d+%\] (\w+) (\S+)", line)
        if m:
            found[m.group(3)] = m.group(1)
    return found


def workers_per_model(rows: list[dict]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r["model"], set()).add(r["worker"])
    return out


@pytest.mark.slow
def test_n2_stores_one_row_per_item_and_keeps_each_model_on_one_worker(run, pytester):
    result = run("-n", "2", *SMALL, "--ipfs-hw=cpu,onnxruntime")
    result.assert_outcomes(passed=8)
    rows, _ = stored(pytester)
    assert len(rows) == 8 and len({r["node_id"] for r in rows}) == 8
    assert {r["outcome"] for r in rows} == {"passed"}
    groups = workers_per_model(rows)
    assert all(len(w) == 1 for w in groups.values()), groups  # each worker builds a model once
    assert groups["bert"] != groups["vit"]  # and both workers work


@pytest.mark.slow
def test_hidden_platform_items_run_on_the_worker_that_has_it(run, pytester):
    # no --ipfs-hw: both workers collect the controller's detection, though gw0 lacks openvino
    result = run("-d", "--tx", "popen//env:IPFS_ACCEL_HW_DISABLE=openvino", "--tx", "popen", *SMALL, "-v", "-rs")
    assert result.ret == 0, result.stdout.str()
    where = ran_on(result)
    openvino = {k: v for k, v in where.items() if "[openvino]" in k}
    assert len(openvino) == 4 and set(openvino.values()) == {"gw1"}, openvino
    outcomes = result.parseoutcomes()
    assert "skipped" not in outcomes and outcomes["passed"] == len(where)
    rows, _ = stored(pytester)
    assert len(rows) == len(where) and {r["outcome"] for r in rows} == {"passed"}


@pytest.mark.slow
def test_platform_no_worker_has_is_skipped_with_each_workers_reason(run, pytester):
    result = run("-d", "--tx", "2*popen//env:IPFS_ACCEL_HW_DISABLE=onnxruntime", "--ipfs-models=bert",
                 "--ipfs-hw=cpu,onnxruntime", "--ipfs-kinds=load", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*SKIPPED*no worker has onnxruntime (gw0: hidden by IPFS_ACCEL_HW_DISABLE*"
                                 "gw1: hidden by*"])
    rows, _ = stored(pytester)
    skipped = [r for r in rows if r["outcome"] == "skipped"]
    assert len(rows) == 2 and len(skipped) == 1
    assert (skipped[0]["model"], skipped[0]["platform"], skipped[0]["kind"]) == ("bert", "onnxruntime", "load")
    assert "no worker has onnxruntime" in skipped[0]["message"]


@pytest.mark.slow
def test_benchmark_only_under_n2_times_on_workers_into_store_and_json(run, pytester):
    result = run("-n", "2", "--benchmark-only", "--ipfs-models=bert", "--ipfs-hw=cpu,onnxruntime",
                 "--ipfs-batch-sizes=1,2", "--ipfs-benchmark-rounds=5", "--ipfs-benchmark-warmup=1",
                 "--benchmark-json=bench.json")
    result.assert_outcomes(passed=4)
    assert result.ret == 0
    assert "automatically disabled" not in result.stdout.str() + result.stderr.str()
    rows, bench = stored(pytester)
    assert len(rows) == 4 and len(bench) == 4
    assert all(b["rounds"] == 5 and 0 < b["median_s"] for b in bench)
    data = json.loads((pytester.path / "bench.json").read_text())
    assert sorted(b["name"] for b in data["benchmarks"]) == sorted(
        r["node_id"].split("::")[-1] for r in rows)
    assert all(len(b["stats"]["data"]) == 5 for b in data["benchmarks"])


@pytest.mark.slow
def test_crashed_worker_fails_its_item_and_the_rest_completes(run, pytester):
    result = run("-n", "2", "--max-worker-restart=2", *SMALL, "--ipfs-hw=cpu,onnxruntime", "-rf", conftest=CRASH)
    result.assert_outcomes(passed=7, failed=1)
    result.stdout.fnmatch_lines(["*FAILED ipfs/test_vit.py::test_forward[[]onnxruntime[]] - worker 'gw*' crashed*"])
    rows, _ = stored(pytester)
    assert len(rows) == 8
    (failed,) = [r for r in rows if r["outcome"] == "failed"]
    assert failed["node_id"] == "ipfs/test_vit.py::test_forward[onnxruntime]"
    assert failed["message"].startswith("worker 'gw") and "crashed while running" in failed["message"]
    assert (failed["model"], failed["platform"]) == ("vit", "onnxruntime")


@pytest.mark.slow
def test_socket_worker_on_localhost(run, pytester, socket_server):
    port = socket_server()
    result = run("-d", "--tx", f"socket=127.0.0.1:{port}//chdir={pytester.path}", "--ipfs-models=bert",
                 "--ipfs-hw=cpu", "--ipfs-kinds=load,forward", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*[[]gw0[]]*PASSED ipfs/test_bert.py::test_load[[]cpu[]]*"])
    rows, _ = stored(pytester)
    assert len(rows) == 2 and {r["worker"] for r in rows} == {"gw0"}
