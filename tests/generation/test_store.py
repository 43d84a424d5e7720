"""Generation records reach benchmark_results (schema v7) through the wire and the recorder."""

from __future__ import annotations

import json
from types import SimpleNamespace

import duckdb
import pytest

from pytest_ipfs_accel.plugin import wire
from pytest_ipfs_accel.plugin.recorder import benchmark_row
from pytest_ipfs_accel.runtime.generation import KEY
from pytest_ipfs_accel.runtime.record import GenerationRecord
from pytest_ipfs_accel.store import schema
from pytest_ipfs_accel.store.writer import Writer

RECORD = {"model": "llama", "platform": "onnxruntime", "runtime": "onnxruntime", "batch_size": 2,
          "precision": "fp32", "median_s": 0.01, "rounds_s": [0.01, 0.011], "rounds": 2, "ttft_s": 0.002,
          "decode_s": 0.008, "token_p50_s": 0.0005, "token_p90_s": 0.0006, "token_p99_s": 0.0007,
          "prefill_tokens_per_s": 8000.0, "decode_tokens_per_s": 3750.0, "prompt_tokens": 8, "new_tokens": 16,
          "token_times_s": [{"ttft": 0.002, "steps": [0.0005] * 15, "total": 0.01}], "max_slowdown": None}


def report(key: str = KEY) -> SimpleNamespace:
    return SimpleNamespace(nodeid="ipfs/test_llama.py::test_generate_benchmark[onnxruntime-bs2]",
                           user_properties=[(key, dict(RECORD))])


def test_the_gate_and_the_recorder_read_generation_records_like_benchmark_ones():
    record = wire.benchmark_record(report())  # the gate compares median_s / rounds_s of these too
    assert isinstance(record, GenerationRecord) and record == GenerationRecord.from_dict(RECORD)
    assert (record.median_s, record.rounds_s, record.ttft_s) == (0.01, (0.01, 0.011), 0.002)
    assert wire.benchmark_record(SimpleNamespace(user_properties=[("other", {})])) is None
    row = benchmark_row("run-1", report())
    assert (row.ttft_s, row.decode_tokens_per_s, row.prompt_tokens, row.new_tokens) == (0.002, 3750.0, 8, 16)
    assert json.loads(row.token_times_s)[0]["steps"] == [0.0005] * 15
    assert json.loads(row.rounds_s) == [0.01, 0.011]


def test_v7_adds_the_generation_columns_to_an_existing_v6_file_and_rows_round_trip(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    schema.migrate(con, target=6)
    con.close()
    writer = Writer.open(path)  # migrates forward
    writer.add_benchmark(benchmark_row("run-1", report()))
    writer.close()
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert schema.version(con) >= 7
        got = con.execute("SELECT ttft_s, decode_s, token_p90_s, prefill_tokens_per_s, decode_tokens_per_s, "
                          "prompt_tokens, new_tokens, json_extract(token_times_s, '$[0].total') FROM benchmark_results"
                          ).fetchone()
    finally:
        con.close()
    assert got[:7] == (0.002, 0.008, 0.0006, 8000.0, 3750.0, 8, 16)
    assert float(got[7]) == pytest.approx(0.01)
