"""HTML and Markdown rendering: facts shown, input escaped, offline, honest when empty."""

from __future__ import annotations

import re

import pytest

from pytest_ipfs_accel.report import data, format_for, render, write
from pytest_ipfs_accel.store.writer import Writer

from .conftest import EVIL, fill


@pytest.fixture
def evil(tmp_path):
    path = tmp_path / "r.duckdb"
    fill(path, runs=2, evil=True, emulated=True)
    return data.load(path)


def test_html_is_self_contained_escaped_and_complete(evil):
    text = render(evil, "html")
    assert EVIL not in text  # model name and failure message are escaped everywhere
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in text
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", text)  # nothing fetched: works offline
    assert "Plotly.newPlot" in text and len(text) > 1_000_000  # plotly.js is inline
    for section in ('id="summary"', 'id="compat"', 'id="bench"', 'id="history"', 'id="regressions"'):
        assert section in text
    assert 'class="fail" title="failed: AssertionError: &lt;script&gt;' in text  # reason on hover
    assert "<details><summary>1P 1F</summary>" in text  # and on expand
    assert 'id="emulated"' in text and "webgpu" in text
    assert "No baseline" in text and "no NVIDIA driver" in text and "2.13.0" in text


def test_markdown_has_the_same_facts_escaped(evil):
    text = render(evil, "md")
    assert EVIL not in text and "&lt;script&gt;" in text
    assert "| **bert** | ✅ 2P | ⚠️ 1S 1X |" in text
    assert "| bert | cpu | fp32 | 4 | 6 | 8 | 10 | – | 667 | 50 | 512 |" in text  # no cv stored: a dash
    assert "Emulated / software platforms:** webgpu (software)" in text
    assert text.count("| finished |") == 2 and "No baseline" in text


def test_empty_store_says_so_in_both_formats(tmp_path):
    path = tmp_path / "r.duckdb"
    Writer.open(path).close()
    empty = data.load(path)
    html, md = render(empty, "html"), render(empty, "md")
    assert "No runs recorded" in html and "Plotly" not in html and "<table" not in html
    assert "No runs recorded" in md and "| bert" not in md


def test_without_benchmarks_no_charts(tmp_path):
    path = tmp_path / "r.duckdb"
    fill(path, runs=1, benchmarks=False)
    text = render(data.load(path), "html")
    assert "No benchmark results in this run" in text and "Plotly.newPlot" not in text


def test_format_from_suffix_and_write(tmp_path, store):
    assert format_for("a/b.HTML") == "html" and format_for("x.md") == "md"
    with pytest.raises(ValueError, match="r.txt"):
        format_for("r.txt")
    out = write(data.load(store[0]), tmp_path / "sub" / "r.md")
    assert out.read_text(encoding="utf-8").startswith("## pytest-ipfs-accel report")


def test_regressions_from_the_compare_step_are_listed(evil):
    from types import SimpleNamespace

    from pytest_ipfs_accel.plugin.report import attach_comparison
    from pytest_ipfs_accel.regression.gate import Baseline, Comparison

    found = [Comparison(f"t[{EVIL}]", ("m", "cpu", "fp32", 1), 0.001, 0.0015, 0.1, 0.001, "regression")]
    attach_comparison(evil, SimpleNamespace(baseline=Baseline(["20250101-000000-base00"]), found=found))
    html, md = render(evil, "html"), render(evil, "md")
    assert "Against run <code>20250101-000000-base00</code>" in html and "<td>50.0</td>" in html
    assert EVIL not in html and "No baseline" not in html
    assert "slower %=50.0" in md and "t[&lt;script&gt;" in md


def test_a_benchmark_measured_on_a_busy_machine_is_marked_and_an_interrupted_run_says_why(tmp_path):
    """Issue 16.4 / 13.9: the report shows each row's cv, marks a busy measurement, and the run's note."""
    from pytest_ipfs_accel.report import data as report_data, render
    from pytest_ipfs_accel.store.schema import BenchmarkRow, RunRow, utcnow
    from pytest_ipfs_accel.store.writer import Writer

    db = tmp_path / "r.duckdb"
    w = Writer.open(db)
    w.start_run(RunRow(id="r1", started_at=utcnow()))
    for node, load in (("quiet", 0.1), ("busy", 9.0)):
        w.add_benchmark(BenchmarkRow(run_id="r1", node_id=node, model="bert", platform="cpu", batch_size=1,
                                     median_s=0.001, mean_s=0.001, rounds=50, cv=0.05, threads=1,
                                     load_before=load, load_after=load))
    w.finish_run("r1", "interrupted", 1, note="3 of 9 collected items not run: worker gw0 crashed")
    w.close()
    found = report_data.load(db, "r1")
    busy = {b["node_id"]: b["busy"] for b in found.benchmarks}
    assert busy["quiet"] is None and busy["busy"].startswith("load average 9.0")
    for fmt in ("md", "html"):
        text = render(found, fmt)
        assert "⚠ busy" in text and text.count("⚠ busy") == 1 and "5%" in text
        assert "worker gw0 crashed" in text


def test_benchmark_rows_of_an_emulated_platform_say_so(tmp_path):
    """Every output names what stands in for emulated hardware (the QNN simulator here)."""
    import json

    from pytest_ipfs_accel.report import data as report_data, render
    from pytest_ipfs_accel.store.schema import BenchmarkRow, RunRow, utcnow
    from pytest_ipfs_accel.store.writer import Writer

    db = tmp_path / "r.duckdb"
    w = Writer.open(db)
    hardware = [{"name": "qualcomm", "runtime": "qnn", "device": "htp", "available": True, "reason": "QNN HTP",
                 "emulated": "simulator", "details": {}}]
    w.start_run(RunRow(id="r1", started_at=utcnow(), hardware=json.dumps(hardware)))
    w.add_benchmark(BenchmarkRow(run_id="r1", node_id="q", model="bert", platform="qualcomm", precision="fp32",
                                 batch_size=1, median_s=0.09, mean_s=0.09, rounds=20))
    w.finish_run("r1", "finished", 0)
    w.close()
    found = report_data.load(db, "r1")
    for fmt in ("md", "html"):
        assert "qualcomm (simulator)" in render(found, fmt).replace('<span class="muted">', "").replace("</span>", "")


def test_generation_rows_get_their_own_table(tmp_path):
    """Issue 15: TTFT, decode tokens/s and per-token latency show in the HTML and Markdown reports."""
    from pytest_ipfs_accel.report import data as report_data, render
    from pytest_ipfs_accel.store.schema import BenchmarkRow, RunRow, utcnow
    from pytest_ipfs_accel.store.writer import Writer

    db = tmp_path / "r.duckdb"
    w = Writer.open(db)
    w.start_run(RunRow(id="r1", started_at=utcnow()))
    w.add_benchmark(BenchmarkRow(run_id="r1", node_id="g", model="llama", platform="openvino", batch_size=4,
                                 median_s=0.01, mean_s=0.01, rounds=10, prompt_tokens=8, new_tokens=16,
                                 ttft_s=0.00149, decode_s=0.0064, token_p50_s=0.0004, token_p90_s=0.00063,
                                 token_p99_s=0.0008, prefill_tokens_per_s=21476.0, decode_tokens_per_s=9332.0))
    w.add_benchmark(BenchmarkRow(run_id="r1", node_id="b", model="bert", platform="cpu", batch_size=1,
                                 median_s=0.001, mean_s=0.001, rounds=10))
    w.finish_run("r1", "finished", 0)
    w.close()
    found = report_data.load(db, "r1")
    md, html = render(found, "md"), render(found, "html")
    assert "#### Generation" in md and "| llama | openvino | 4 | 8 / 16 | 1.49 | 9,332 | 0.63 |" in md
    assert 'id="generation-table"' in html and html.count("<td>llama</td>") == 2 and "bert" in html
