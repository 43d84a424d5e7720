"""Issue 16.3: speed-ups against fp32 and torch cpu, accuracy and artifact size side by side; log latency axis."""

from __future__ import annotations

from pytest_ipfs_accel.report import data as report_data, render
from pytest_ipfs_accel.report.html import charts
from pytest_ipfs_accel.report.precision import add_speedups, text_table
from pytest_ipfs_accel.store.schema import BenchmarkRow, RunRow, utcnow
from pytest_ipfs_accel.store.writer import Writer

#: (platform, precision, median s, cosine, top1, size MB)
ROWS = [("cpu", "fp32", 0.004, 1.0, 1.0, None), ("onnxruntime", "fp32", 0.002, 1.0, 1.0, 0.89),
        ("onnxruntime", "int8", 0.001, 0.9997, 0.94, 0.42), ("openvino", "int4", 0.0008, 0.9856, 1.0, 0.17)]


def _store(tmp_path):
    db = tmp_path / "r.duckdb"
    w = Writer.open(db)
    w.start_run(RunRow(id="r1", started_at=utcnow()))
    for platform, precision, median, cos, top1, size in ROWS:
        w.add_benchmark(BenchmarkRow(run_id="r1", node_id=f"t[{platform}-{precision}]", model="vit", platform=platform,
                                     precision=precision, batch_size=1, median_s=median, mean_s=median, rounds=20,
                                     items_per_s=1 / median, cosine=cos, top1=top1, artifact_mb=size))
    w.finish_run("r1", "finished", 0)
    w.close()
    return report_data.load(db, "r1")


def test_speedups_are_against_fp32_on_the_same_platform_and_torch_cpu_fp32() -> None:
    rows = add_speedups([{"model": "m", "platform": p, "precision": q, "batch_size": 1, "median_s": s}
                         for p, q, s, *_ in ROWS])
    int8 = rows[2]
    assert int8["speedup_fp32"] == 2.0 and int8["speedup_torch"] == 4.0
    assert rows[3]["speedup_fp32"] is None  # no openvino fp32 row: nothing made up
    assert rows[3]["speedup_torch"] == 5.0


def test_every_renderer_shows_the_platform_by_precision_table(tmp_path) -> None:
    found = _store(tmp_path)
    assert list(found.precision_tables) == ["vit"]
    md = render(found, "md")
    assert "#### vit: platform × precision" in md
    assert "| onnxruntime | int8 | 1 | 1 | 1,000 | 2.00× | 4.00× | 0.9997 | 0.940 | 0.42 |" in md
    html = render(found, "html")
    assert 'id="precision-vit"' in html and "0.9856" in html and "5.00×" in html
    lines = text_table(found.benchmarks)
    assert lines[0] == "vit:" and any("int8" in ln and "2.00x" in ln and "0.9997" in ln for ln in lines)


def test_the_latency_chart_uses_a_log_axis_and_names_the_precision(tmp_path) -> None:
    found = _store(tmp_path)
    latency = charts(found)[0]
    assert latency["layout"]["yaxis"]["type"] == "log"
    assert any(t["name"] == "vit · onnxruntime · int8" for t in latency["data"])
