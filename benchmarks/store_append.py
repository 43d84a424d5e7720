"""Append 100k test_results rows through the store's Writer (batched, as a bulk import does) and time it.

    python benchmarks/store_append.py [--rows N] [--batch N]

Goal: under 2 s for 100k rows. Prints one line per measurement; exit 1 if over the goal.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from pytest_ipfs_accel.store.schema import RunRow, TestResultRow, utcnow
from pytest_ipfs_accel.store.writer import Writer

GOAL_S = 2.0


def rows(run_id: str, n: int) -> list[TestResultRow]:
    models, platforms, kinds = ("bert", "t5", "vit", "gpt2"), ("cpu", "cuda", "openvino:cpu", "ort:cpu"), ("load", "forward", "parity", "batch")
    outcomes = ("passed", "passed", "passed", "failed", "skipped", "xfailed")
    return [TestResultRow(run_id=run_id, node_id=f"ipfs/test_{models[i % 4]}.py::test_{kinds[i // 4 % 4]}[{platforms[i // 16 % 4]}-{i}]",
                          outcome=outcomes[i % 6], model=models[i % 4], platform=platforms[i // 16 % 4],
                          kind=kinds[i // 4 % 4], precision="fp32", batch_size=1, duration_s=0.001 * (i % 97),
                          message="reason text" if i % 6 > 2 else None) for i in range(n)]


def fill(path: Path, n: int, batch: int) -> float:
    """Write one finished run of ``n`` rows; the seconds the appends took (row objects built before)."""
    run_id = "20250101-000000-bench0"
    data = rows(run_id, n)
    writer = Writer.open(path)
    writer.start_run(RunRow(id=run_id, started_at=utcnow()))
    start = time.perf_counter()
    for i in range(0, n, batch):
        writer.add_results(data[i:i + batch])
    elapsed = time.perf_counter() - start
    writer.finish_run(run_id, "finished", 0)
    writer.close()
    assert writer.stored["test_results"] == n and not writer.reason, writer.reason
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=10_000, help="rows per Writer.add_results call")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        elapsed = fill(Path(tmp) / "results.duckdb", args.rows, args.batch)
    print(f"store append: {args.rows} test_results rows in batches of {args.batch}: {elapsed:.3f} s "
          f"({args.rows / elapsed:,.0f} rows/s; goal < {GOAL_S:g} s) {'OK' if elapsed < GOAL_S else 'OVER GOAL'}")
    return 0 if elapsed < GOAL_S else 1


if __name__ == "__main__":
    sys.exit(main())
