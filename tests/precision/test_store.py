"""Schema v8: a benchmark row and a result row keep their accuracy figures and artifact size (real DuckDB)."""

from __future__ import annotations

import duckdb

from pytest_ipfs_accel.store.schema import BenchmarkRow, RunRow, TestResultRow, new_run_id, utcnow
from pytest_ipfs_accel.store.writer import Writer


def test_accuracy_and_artifact_size_are_stored(tmp_path) -> None:
    path = tmp_path / "r.duckdb"
    run_id = new_run_id()
    writer = Writer.open(path)
    writer.start_run(RunRow(id=run_id, started_at=utcnow()))
    writer.add_result(TestResultRow(run_id=run_id, node_id="t::parity[onnxruntime-int8]", outcome="passed",
                                    precision="int8", cosine=0.9996, top1=1.0, top5=1.0))
    writer.add_benchmark(BenchmarkRow(run_id=run_id, node_id="t::bench[onnxruntime-int8-bs1]", precision="int8",
                                      median_s=1e-3, cosine=0.9996, top1=0.94, top5=1.0, artifact_mb=0.42))
    writer.close()
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT cosine, top1, top5 FROM test_results").fetchone() == (0.9996, 1.0, 1.0)
    assert con.execute("SELECT cosine, top1, artifact_mb FROM benchmark_results").fetchone() == (0.9996, 0.94, 0.42)
