"""Under ``-n 2`` only our record travels, and pytest-benchmark's JSON is rebuilt from it on the controller:
every item, its stats and its extra_info, as a run without xdist writes them."""

from __future__ import annotations

import json

import pytest

from pytest_ipfs_accel.store import queries

MEASURE = '''
import pytest

from pytest_ipfs_accel.runtime import bench, checks

MODEL = checks.ModelRef(name="bert", model_type="bert", modality="text", source="tiny", path=None,
                        trust_remote_code=False, seed=0)


def test_measure(benchmark, request):
    record = bench.measure(benchmark, request, MODEL, "cpu", "fp32", 2)
    assert record.model == "bert" and record.cosine is not None
'''
PLAIN = '''
import pytest


@pytest.mark.parametrize("size", [3, 4])
def test_plain(benchmark, size):
    benchmark.extra_info["size"] = size
    benchmark.pedantic(sum, args=(range(size),), rounds=7, iterations=2)
'''
COMMON = ("-p", "no:randomly", "--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-kinds=benchmark",
          "--ipfs-batch-sizes=1", "--ipfs-benchmark-rounds=5", "--ipfs-benchmark-warmup=1")


def benchmarks(path) -> dict[str, dict]:
    """fullname -> entry of a ``--benchmark-json`` file (each item once: never added twice)."""
    found = json.loads(path.read_text())["benchmarks"]
    by_name = {b["fullname"]: b for b in found}
    assert len(by_name) == len(found), [b["fullname"] for b in found]
    return by_name


@pytest.mark.slow
def test_n2_benchmark_json_has_every_item_its_stats_and_our_extra_info(run, pytester):
    pytester.makepyfile(test_measure=MEASURE, test_plain=PLAIN)
    result = run("-n", "2", *COMMON, "--benchmark-json=x.json")
    result.assert_outcomes(passed=4)
    got = benchmarks(pytester.path / "x.json")
    assert sorted(got) == ["ipfs/test_bert.py::test_benchmark[cpu-bs1]", "test_measure.py::test_measure",
                           "test_plain.py::test_plain[3]", "test_plain.py::test_plain[4]"]
    generated, measured = got["ipfs/test_bert.py::test_benchmark[cpu-bs1]"], got["test_measure.py::test_measure"]
    for entry, batch in ((generated, 1), (measured, 2)):
        assert len(entry["stats"]["data"]) == 5 and entry["stats"]["iterations"] == 1
        assert 0 < entry["stats"]["min"] <= entry["stats"]["median"] <= entry["stats"]["max"]
        assert (entry["group"], entry["options"]["timer"]) == ("bert cpu", "perf_counter")
        extra = entry["extra_info"]
        labels = (extra["model"], extra["platform"], extra["runtime"], extra["batch_size"])
        assert labels == ("bert", "cpu", "torch", batch)
        assert extra["items_per_s"] == pytest.approx(batch / entry["stats"]["median"])
        assert {"cv", "threads", "load_before", "load_after", "other_cpu_s", "p90_s", "p99_s"} <= set(extra)
    plain = got["test_plain.py::test_plain[4]"]  # a test's own benchmark: relayed, as pytest-benchmark had it
    assert plain["extra_info"] == {"size": 4} and plain["params"] == {"size": 4} and plain["param"] == "4"
    assert len(plain["stats"]["data"]) == 7 and plain["stats"]["iterations"] == 2
    with queries.connect(pytester.path / ".ipfs_accel/results.duckdb") as con:
        (run_row,) = queries.runs(con)
        rows = {r["node_id"]: r for r in queries.benchmarks(con, run_row["id"])}
    assert sorted(rows) == ["ipfs/test_bert.py::test_benchmark[cpu-bs1]", "test_measure.py::test_measure"]
    measured_row = rows["test_measure.py::test_measure"]
    assert measured_row["cosine"] == pytest.approx(1.0, abs=1e-3) and measured_row["reference_s"] > 0
    assert (measured_row["median_s"], measured_row["min_s"]) == (  # one measurement, two views
        measured["stats"]["median"], measured["stats"]["min"])

    # the same run without xdist writes the same JSON, entry for entry and key for key
    plain_run = run(*COMMON, "--benchmark-json=y.json")
    plain_run.assert_outcomes(passed=4)
    alone = benchmarks(pytester.path / "y.json")
    assert sorted(alone) == sorted(got)
    for name, entry in alone.items():
        assert set(entry) == set(got[name]) and set(entry["stats"]) == set(got[name]["stats"])
        assert entry["extra_info"].keys() == got[name]["extra_info"].keys() and entry["options"] == got[name]["options"]
