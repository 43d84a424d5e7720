"""The benchmark record: one typed value, to and from plain dicts, and everything derived from it."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import pytest

from pytest_ipfs_accel.plugin import wire
from pytest_ipfs_accel.plugin.benchmark_xdist import rebuild
from pytest_ipfs_accel.runtime.record import EXTRA_INFO, BenchmarkRecord, FixtureInfo, GenerationRecord
from pytest_ipfs_accel.store.schema import MAX_ROUNDS_STORED, BenchmarkRow

ROUNDS = [0.001 + i * 1e-6 for i in range(MAX_ROUNDS_STORED + 5)]
FIXTURE = FixtureInfo(name="test_benchmark[cpu-bs2]", fullname="ipfs/test_bert.py::test_benchmark[cpu-bs2]",
                      group="bert cpu", param="cpu-bs2", params={"platform": "cpu", "batch_size": 2},
                      options={"timer": "perf_counter", "min_rounds": 5, "disable_gc": False},
                      extra_info={"mine": "kept"})
RECORD = BenchmarkRecord(median_s=0.0012, mean_s=0.0013, min_s=0.001, max_s=0.003, stddev_s=0.0001,
                         p90_s=0.002, p99_s=0.0029, rounds=len(ROUNDS), iterations=1, ops_per_s=769.2,
                         items_per_s=1666.7, cv=0.08, rounds_s=ROUNDS, model="bert", platform="cpu",
                         runtime="torch", device="cpu", precision="fp32", batch_size=2, peak_rss_mb=300.0,
                         threads=2, load_before=0.5, load_after=0.6, other_cpu_s=0.01, lock_wait_s=0.0,
                         reference_s=0.0004, cosine=1.0, top1=1.0, top5=1.0, max_slowdown=0.2, fixture=FIXTURE)
GENERATION = GenerationRecord(median_s=0.01, rounds_s=[0.01, 0.011], rounds=2, model="llama", platform="cpu",
                              batch_size=1, ttft_s=0.002, new_tokens=16,
                              token_times_s=[{"ttft": 0.002, "steps": [0.0005] * 15, "total": 0.01}])


@pytest.mark.parametrize("record", [RECORD, GENERATION], ids=["benchmark", "generation"])
def test_a_record_round_trips_through_plain_json(record):
    travels = json.loads(json.dumps(record.to_dict()))  # what xdist can carry: nothing but plain values
    back = type(record).from_dict(travels)
    assert back == record and type(back) is type(record)
    assert isinstance(back.rounds_s, tuple) and len(back.rounds_s) == len(record.rounds_s)  # uncapped


def test_from_dict_ignores_keys_it_does_not_know_and_takes_lists():
    got = BenchmarkRecord.from_dict({"median_s": 1.0, "rounds_s": [1.0, 2.0], "from_a_newer_plugin": 3})
    assert got == BenchmarkRecord(median_s=1.0, rounds_s=(1.0, 2.0))


def test_the_row_takes_every_column_from_the_field_of_its_name_and_caps_the_raw_lists():
    row = RECORD.to_row("run-1", "node")
    assert (row.run_id, row.node_id, row.model, row.median_s, row.cosine, row.reference_s) == (
        "run-1", "node", "bert", 0.0012, 1.0, 0.0004)
    assert json.loads(row.rounds_s) == ROUNDS[:MAX_ROUNDS_STORED] and row.token_times_s is None
    assert json.loads(GENERATION.to_row("r", "n").token_times_s)[0]["steps"] == [0.0005] * 15


def test_every_benchmark_results_column_is_a_record_field():
    """A column added to BenchmarkRow without a record field would silently stay NULL."""
    columns = {f.name for f in dataclasses.fields(BenchmarkRow)} - {"run_id", "node_id"}
    fields = {f.name for f in dataclasses.fields(GenerationRecord)}
    assert columns <= fields, columns - fields
    assert fields - columns == {"max_slowdown", "fixture"}  # the gate's threshold, pytest-benchmark's name


def test_extra_info_is_the_tests_own_then_the_records():
    extra = RECORD.extra_info()
    assert list(extra) == ["mine", *EXTRA_INFO]
    assert (extra["mine"], extra["model"], extra["batch_size"], extra["threads"]) == ("kept", "bert", 2, 2)
    relayed = BenchmarkRecord(median_s=1.0, fixture=FIXTURE)  # a test's own use of the fixture: no model
    assert relayed.extra_info() == {"mine": "kept"}


def test_the_gate_gets_a_stats_dict_with_the_rounds_as_stored():
    stats = RECORD.gate_stats()
    assert stats["rounds_s"] == ROUNDS[:MAX_ROUNDS_STORED] and stats["median_s"] == 0.0012
    assert stats["max_slowdown"] == 0.2 and len(RECORD.rounds_s) == len(ROUNDS)


def report(*properties) -> SimpleNamespace:
    return SimpleNamespace(nodeid="n", user_properties=list(properties))


def test_wire_reads_typed_records_by_their_key():
    assert wire.benchmark_record(report((wire.BENCHMARK, RECORD.to_dict()))) == RECORD
    assert wire.benchmark_record(report((wire.GENERATION, GENERATION.to_dict()))) == GENERATION
    relayed = BenchmarkRecord(median_s=1.0, rounds_s=(1.0,), fixture=FIXTURE)
    assert wire.benchmark_record(report((wire.FIXTURE_TIMING, relayed.to_dict()))) is None  # neither stored nor gated
    assert wire.fixture_timing(report((wire.FIXTURE_TIMING, relayed.to_dict()))) == relayed
    assert wire.fixture_timing(report((wire.BENCHMARK, RECORD.to_dict()))) == RECORD
    assert wire.fixture_timing(report((wire.GENERATION, GENERATION.to_dict()))) is None  # not pytest-benchmark's


def test_pytest_benchmark_metadata_is_rebuilt_from_the_record():
    pytest.importorskip("pytest_benchmark")
    data = rebuild(RECORD).as_dict(include_data=True)
    assert (data["name"], data["fullname"], data["group"], data["param"]) == (
        FIXTURE.name, FIXTURE.fullname, "bert cpu", "cpu-bs2")
    assert data["params"] == FIXTURE.params and data["options"] == FIXTURE.options
    assert data["extra_info"] == RECORD.extra_info()
    assert data["stats"]["data"] == ROUNDS and data["stats"]["iterations"] == 1  # every round, uncapped
    assert data["stats"]["min"] == min(ROUNDS) and data["stats"]["rounds"] == len(ROUNDS)
