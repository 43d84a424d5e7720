"""The recorder as users meet it: real pytest sub-runs on tiny models, then the DuckDB file they left."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

import duckdb

from pytest_ipfs_accel.store import import_spill, queries, schema

BERT = ("--ipfs-models=bert", "--ipfs-kinds=load,forward")
#: The recorder on, the generated item deselected: only test_plain.py runs (no model is built).
PLAIN_ONLY = ("--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-kinds=load", "-k", "plain")
DB = ".ipfs_accel/results.duckdb"
SUMMARY = re.compile(r"ipfs-accel: (\d+) results stored in (\S+) \(run (\S+)\)")

#: Outcomes the generated bert items cannot produce, planted by a conftest.
PLANTED = '''
import pytest


@pytest.fixture(autouse=True)
def _planted(request):
    name = request.node.name
    if name == "test_load[cpu]":
        request.applymarker(pytest.mark.xfail(reason="planted xpass"))
    if name == "test_forward[cuda]":
        raise ValueError("setup broke\\nsecond line")
    yield
    if name == "test_forward[cpu]":
        raise RuntimeError("teardown broke")
'''
PLAIN = '''
import pytest


def test_ok():
    pass


def test_fails():
    assert 41 == 42, "planted failure"


def test_xfail():
    pytest.xfail("planted xfail")
'''


def rows(pytester, path=DB, run_id=None) -> list[dict]:
    with queries.connect(pytester.path / path) as con:
        run_id = run_id or queries.runs(con)[0]["id"]
        return queries.results(con, run_id)


def the_run(pytester, path=DB) -> dict:
    with queries.connect(pytester.path / path) as con:
        (run,) = queries.runs(con)
        return run


def summary(result) -> tuple[int, str, str]:
    found = SUMMARY.search(result.stdout.str())
    assert found, result.stdout.str()
    return int(found[1]), found[2], found[3]


def test_one_row_per_item_with_its_outcome_labels_and_message(run, pytester, conftest):
    conftest(PLANTED)
    pytester.makepyfile(test_plain=PLAIN)
    result = run(*BERT, "--ipfs-hw=cpu,cuda")
    result.assert_outcomes(passed=2, failed=1, errors=2, xfailed=1, xpassed=1, skipped=1)
    count, path, run_id = summary(result)
    assert (count, path) == (7, DB)

    got = {r["node_id"]: r for r in rows(pytester)}
    assert {n: (r["outcome"], r["message"]) for n, r in got.items()} == {
        "test_plain.py::test_ok": ("passed", None),
        "test_plain.py::test_fails": ("failed", "AssertionError: planted failure"),
        "test_plain.py::test_xfail": ("xfailed", "planted xfail"),
        "ipfs/test_bert.py::test_load[cpu]": ("xpassed", "planted xpass"),
        "ipfs/test_bert.py::test_load[cuda]": (
            "skipped", "cuda not available: torch.cuda.is_available() is False (torch "
            + got["ipfs/test_bert.py::test_load[cuda]"]["message"].split("(torch ", 1)[1]),
        "ipfs/test_bert.py::test_forward[cpu]": ("error", "RuntimeError: teardown broke"),
        "ipfs/test_bert.py::test_forward[cuda]": ("error", "ValueError: setup broke"),
    }
    assert {n: (r["model"], r["platform"], r["runtime"], r["device"], r["kind"], r["precision"], r["batch_size"])
            for n, r in got.items() if n.startswith("ipfs/")} == {
        "ipfs/test_bert.py::test_load[cpu]": ("bert", "cpu", "torch", "cpu", "load", "fp32", 1),
        "ipfs/test_bert.py::test_load[cuda]": ("bert", "cuda", "torch", "cuda", "load", "fp32", 1),
        "ipfs/test_bert.py::test_forward[cpu]": ("bert", "cpu", "torch", "cpu", "forward", "fp32", 1),
        "ipfs/test_bert.py::test_forward[cuda]": ("bert", "cuda", "torch", "cuda", "forward", "fp32", 1),
    }
    assert got["test_plain.py::test_ok"]["model"] is None and got["test_plain.py::test_ok"]["kind"] is None
    assert all(r["run_id"] == run_id and r["duration_s"] >= 0 and r["worker"] is None for r in got.values())

    run_row = the_run(pytester)
    assert (run_row["id"], run_row["status"], run_row["exit_status"]) == (run_id, "finished", 1)
    assert run_row["finished_at"] >= run_row["started_at"]
    assert set(run_row["packages"]) == {"pytest", "pytest-ipfs-accel", "torch", "transformers", "onnxruntime",
                                        "openvino", "onnxruntime-qnn"}  # what the built-in platforms' specs name
    assert run_row["packages"]["pytest"] == pytest.__version__
    assert [(p["name"], p["available"]) for p in run_row["hardware"]] == [("cpu", True), ("cuda", False)]
    assert "torch.cuda.is_available() is False" in run_row["hardware"][1]["reason"]
    assert run_row["options"]["models"] == ["bert"] and run_row["options"]["hw"] == ["cpu", "cuda"]
    assert "--ipfs-hw=cpu,cuda" in run_row["args"]
    assert run_row["rootdir"] == str(pytester.path) and run_row["git_commit"] is None  # tmp dir: no git
    assert (pytester.path / ".ipfs_accel" / ".gitignore").read_text().endswith("*\n")


def test_runs_append_and_a_git_commit_is_recorded(run, pytester):
    subprocess.run(["git", "init", "-q"], cwd=pytester.path, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"],
                   cwd=pytester.path, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=pytester.path, capture_output=True, text=True).stdout
    pytester.makepyfile(test_plain="def test_ok():\n    pass\n")
    for _ in range(2):
        run(*PLAIN_ONLY).assert_outcomes(passed=1)
    with queries.connect(pytester.path / DB) as con:
        runs = queries.runs(con)
        assert [r["results"] for r in runs] == [1, 1] and len({r["id"] for r in runs}) == 2
        assert runs[0]["git_commit"] == head.strip()


@pytest.mark.slow
def test_xfail_from_a_runtime_that_cannot_export(run, pytester):
    result = run("--ipfs-models=whisper", "--ipfs-hw=openvino", "--ipfs-kinds=load")
    result.assert_outcomes(xfailed=1)
    (row,) = rows(pytester)
    assert (row["node_id"], row["outcome"], row["runtime"], row["device"]) == (
        "ipfs/test_whisper.py::test_load[openvino]", "xfailed", "openvino", "CPU")
    assert row["message"].startswith("openvino: cannot export whisper")


@pytest.mark.slow
def test_under_xdist_the_controller_writes_each_item_once(run, pytester):
    pytester.makepyfile(test_plain=PLAIN)
    result = run(*BERT, "--ipfs-hw=cpu", "-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=3, failed=1, xfailed=1)
    got = rows(pytester)
    assert len(got) == 5 and len({r["node_id"] for r in got}) == 5
    assert {r["worker"] for r in got} <= {"gw0", "gw1"} and None not in {r["worker"] for r in got}
    labels = {r["node_id"]: (r["model"], r["platform"], r["kind"]) for r in got}
    assert labels["ipfs/test_bert.py::test_forward[cpu]"] == ("bert", "cpu", "forward")  # labels crossed over
    assert the_run(pytester)["status"] == "finished"
    assert summary(result)[0] == 5


@pytest.mark.parametrize("how, status, exit_status, why", [
    ("keyboard", "interrupted", 2, "interrupted (Ctrl-C)"),
    ("exitfirst", "interrupted", 1, "stopping after 1 failures"),
])
def test_a_run_stopped_midway_keeps_its_rows_and_says_so(run, pytester, conftest, how, status, exit_status, why):
    if how == "keyboard":
        conftest("SEEN = []\n\n\ndef pytest_runtest_logfinish(nodeid):\n    SEEN.append(nodeid)\n"
                 "    if len(SEEN) == 2:\n        raise KeyboardInterrupt\n")
    pytester.makepyfile(test_plain=PLAIN)
    result = run(*PLAIN_ONLY, *(["-x"] if how == "exitfirst" else []))
    assert result.ret == exit_status
    got = rows(pytester)
    assert [r["outcome"] for r in got] == ["failed", "passed", "error"]  # the third item: recorded as not run
    assert got[2]["message"] == f"not run: {why}"
    run_row = the_run(pytester)
    assert (run_row["status"], run_row["exit_status"]) == (status, exit_status)
    assert run_row["note"] == f"1 of 3 collected items not run: {why}"


def test_a_killed_run_keeps_the_rows_it_finished(run, pytester, conftest):
    conftest("import os, signal\n\nSEEN = []\n\n\ndef pytest_runtest_logfinish(nodeid):\n    SEEN.append(nodeid)\n"
             "    if len(SEEN) == 2:\n        os.kill(os.getpid(), signal.SIGKILL)\n")
    pytester.makepyfile(test_plain=PLAIN)
    result = run(*PLAIN_ONLY)
    assert result.ret == -9
    assert sorted(r["node_id"] for r in rows(pytester)) == ["test_plain.py::test_fails", "test_plain.py::test_ok"]
    run_row = the_run(pytester)  # read after the process died: the reader marks it
    assert (run_row["status"], run_row["finished_at"], run_row["results"]) == ("interrupted", None, 2)
    assert run_row["note"].startswith(f"killed: its process {run_row['pid']} on ")


@pytest.mark.parametrize("make, expected", [
    (lambda p: p.write_text("my notes\n"), "is not a DuckDB database"),
    (lambda p: duckdb.connect(str(p)).execute("CREATE TABLE inventory (sku VARCHAR)").close(),
     r"is a DuckDB database of something else \(tables: inventory;"),
    (lambda p: _newer(p), "newer than this pytest-ipfs-accel understands"),
])
def test_a_file_that_is_not_ours_stops_the_run_with_one_clear_line(run, pytester, make, expected):
    path = pytester.path / DB
    path.parent.mkdir()
    make(path)
    before = path.read_bytes()
    result = run(*PLAIN_ONLY)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert re.search(rf"^ERROR: --ipfs-db: {re.escape(str(path))} .*{expected}.*--ipfs-db=none stores nothing\)$",
                     err, re.M), err
    assert "Traceback" not in err + result.stdout.str()
    assert path.read_bytes() == before


def _newer(path):
    con = duckdb.connect(str(path))
    schema.migrate(con, path)
    con.execute("INSERT INTO schema_version VALUES (99, TIMESTAMP '2030-01-01', NULL)")
    con.close()


def test_a_locked_database_spills_to_jsonl_and_the_summary_says_where(run, pytester):
    pytester.makepyfile(test_plain="def test_ok():\n    pass\n")
    path = pytester.path / DB
    path.parent.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
                               "print('ready', flush=True); time.sleep(120)", str(path)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = run(*PLAIN_ONLY, "--ipfs-db-timeout=0.5")
    finally:
        holder.kill()
        holder.wait()
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    assert f"ipfs-accel: {path} is locked by another process" in out and "waited 0.5 s" in out
    found = re.search(r"ipfs-accel: 1 results written to (\.ipfs_accel/results\.(\S+)\.spill\.jsonl) instead "
                      r"\(run (\S+)\); load them into the database later with: .*import_spill", out)
    assert found and found[2] == found[3], out
    assert not SUMMARY.search(out)
    spill = pytester.path / found[1]
    ops = [json.loads(line)["op"] for line in spill.read_text().splitlines()]
    assert ops == ["spill", "insert", "insert", "finish"]

    assert import_spill(spill) == {"runs": 1, "test_results": 1, "benchmark_results": 0}
    assert the_run(pytester)["status"] == "finished" and len(rows(pytester)) == 1


def test_db_path_options(run, pytester):
    pytester.makepyfile(test_plain="def test_ok():\n    pass\n")
    result = run(*PLAIN_ONLY, "--ipfs-db=none")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / ".ipfs_accel").exists() and " results " not in result.stdout.str()

    result = run(*PLAIN_ONLY, "--ipfs-db=out/deep/x.duckdb")
    assert summary(result)[:2] == (1, "out/deep/x.duckdb") and len(rows(pytester, "out/deep/x.duckdb")) == 1

    pytester.makeini("[pytest]\nipfs_db = from-ini/r.duckdb\n")
    result = run(*PLAIN_ONLY)
    assert summary(result)[:2] == (1, "from-ini/r.duckdb")

    result = run("--ipfs-models=bert", "--ipfs-db-timeout=soon")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --ipfs-db-timeout: 'soon' is not a number of seconds >= 0."])


def test_duckdb_is_imported_only_when_results_are_stored(run, pytester, conftest):
    conftest("import sys\n\n\ndef pytest_unconfigure(config):\n"
             "    print('DUCKDB-IMPORTED' if 'duckdb' in sys.modules else 'DUCKDB-NOT-IMPORTED')\n")
    pytester.makepyfile(test_plain="def test_ok():\n    pass\n")
    for args, expected in [(("--co",), "NOT-"), (("--ipfs-db=none",), "NOT-"), ((), "")]:
        result = run(*PLAIN_ONLY, "-s", *args)
        assert f"DUCKDB-{expected}IMPORTED" in result.stdout.str()
    assert len(rows(pytester)) == 1  # the --co runs stored no run


#: What h2's failure classifier attaches on the worker side, planted here by a conftest hook.
CLASSIFIED = '''
import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.when == "call" and report.failed:
        report.ipfs_failure = {"failure_class": "numeric", "max_abs_diff": 0.5, "max_rel_diff": 0.25,
                               "executed_on": "CPUExecutionProvider", "expected": "pass"}
    return report
'''


def test_failure_classification_and_fingerprint_are_stored(pytester, run, conftest):
    from pytest_ipfs_accel.host import fingerprint

    conftest(CLASSIFIED)
    pytester.makepyfile(test_plain=PLAIN)
    run(*PLAIN_ONLY)
    found = {r["node_id"].split("::")[-1]: r for r in rows(pytester)}
    assert {k: found["test_fails"][k] for k in ("failure_class", "max_abs_diff", "max_rel_diff", "executed_on",
                                                "expected")} == {
        "failure_class": "numeric", "max_abs_diff": 0.5, "max_rel_diff": 0.25,
        "executed_on": "CPUExecutionProvider", "expected": "pass"}
    assert found["test_ok"]["failure_class"] is None and found["test_ok"]["max_abs_diff"] is None
    with queries.connect(pytester.path / DB) as con:
        stored = queries.runs(con)[0]
    fp = stored["fingerprint"]
    assert fp["cpu"]["logical_cores"] and fp["packages"]["pytest"] and "memory_gb" in fp
    assert stored["machine_id"] == fingerprint.machine_id(fp) == fingerprint.machine_id(fingerprint.fingerprint())
