"""Render the HTML and Markdown reports from a store holding a 100k-row run, and time it.

    python benchmarks/report_render.py [--rows N]

Goal: under 5 s for queries + HTML + Markdown. Exit 1 if over the goal.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from store_append import fill  # noqa: E402

from pytest_ipfs_accel.report import data as report_data  # noqa: E402
from pytest_ipfs_accel.report import write  # noqa: E402
from pytest_ipfs_accel.store.schema import BenchmarkRow  # noqa: E402
from pytest_ipfs_accel.store.writer import Writer  # noqa: E402

GOAL_S = 5.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "results.duckdb"
        fill(db, args.rows, 10_000)
        writer = Writer.open(db)  # and a benchmark row per model x platform x batch, so the charts render too
        writer.add_benchmarks([BenchmarkRow("20250101-000000-bench0", f"bench[{m}-{p}-{b}]", model=m, platform=p,
                                            batch_size=b, median_s=0.001 * b, p90_s=0.0012 * b, p99_s=0.0015 * b,
                                            rounds=100, items_per_s=1000.0)
                               for m in ("bert", "t5", "vit", "gpt2") for p in ("cpu", "cuda", "openvino:cpu", "ort:cpu")
                               for b in (1, 4, 16)])
        writer.close()
        from pytest_ipfs_accel.report.html import plotly_js

        plotly_js()  # reading plotly.js from disk once is not rendering: warm it outside the timing
        start = time.perf_counter()
        data = report_data.load(db)
        queried = time.perf_counter()
        html = write(data, Path(tmp) / "report.html")
        rendered_html = time.perf_counter()
        md = write(data, Path(tmp) / "report.md")
        end = time.perf_counter()
        sizes = f"HTML {html.stat().st_size / 1e6:.1f} MB, Markdown {md.stat().st_size / 1e3:.0f} kB"
    total = end - start
    print(f"report render: {data.total} result rows, {len(data.benchmarks)} benchmark rows: queries "
          f"{queried - start:.3f} s + HTML {rendered_html - queried:.3f} s + Markdown {end - rendered_html:.3f} s "
          f"= {total:.3f} s ({sizes}; goal < {GOAL_S:g} s) {'OK' if total < GOAL_S else 'OVER GOAL'}")
    return 0 if total < GOAL_S else 1


if __name__ == "__main__":
    sys.exit(main())
