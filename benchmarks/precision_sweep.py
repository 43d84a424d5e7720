"""Precision sweep (issue 16): models x platforms x precisions through pytest, one table and one report.

Runs the plugin itself (``--ipfs-kinds=parity,benchmark``) in a subprocess into a fresh DuckDB file, so
every figure comes the way a user gets it: the benchmark rows carry median latency, items/s, cosine,
top-1 agreement and artifact size; the report adds speed-ups against fp32 on the same platform and
against torch cpu fp32. A precision a platform does not run is a skip (counted, not timed).

    python benchmarks/precision_sweep.py [--models bert,vit,whisper] [--hw cpu,onnxruntime,openvino,qualcomm]
        [--precisions fp32,fp16,int8,int8-dynamic,int8-weights,int4] [--rounds 30] [--out DIR]

Prints the load average before and after and the thread count, then the platform x precision table per
model, and writes ``DIR/precision.duckdb``, ``DIR/precision.html`` and ``DIR/precision.md``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

MODELS = "bert,vit,whisper"
PLATFORMS = "cpu,onnxruntime,openvino,qualcomm"
PRECISIONS = "fp32,fp16,int8,int8-dynamic,int8-weights,int4"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=MODELS)
    parser.add_argument("--hw", default=PLATFORMS)
    parser.add_argument("--precisions", default=PRECISIONS)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--threads", default="auto")
    parser.add_argument("--out", type=Path, default=Path("precision-sweep"))
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    db = args.out / "precision.duckdb"
    if db.exists():
        db.unlink()
    load_before, started = os.getloadavg()[0], time.perf_counter()
    command = [sys.executable, "-m", "pytest", "-p", "no:randomly", "-q", "--no-header", "-rN",
               f"--ipfs-models={args.models}", f"--ipfs-hw={args.hw}", f"--ipfs-precisions={args.precisions}",
               "--ipfs-kinds=parity,benchmark", "--ipfs-batch-sizes=1", f"--ipfs-db={db}",
               f"--ipfs-benchmark-rounds={args.rounds}", "--ipfs-benchmark-warmup=3",
               f"--ipfs-benchmark-threads={args.threads}", f"--rootdir={args.out}", f"-c={args.out / 'pytest.ini'}"]
    (args.out / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # no project conftest or ini: a user's run
    done = subprocess.run(command, cwd=args.out, capture_output=True, text=True)
    tail = [ln for ln in done.stdout.splitlines() if ln.strip()][-1:] or ["(no pytest output)"]
    print(f"pytest exit {done.returncode}: {tail[0]}  ({time.perf_counter() - started:.0f} s)")
    print(f"load average before {load_before:.2f}, after {os.getloadavg()[0]:.2f}; cores {os.cpu_count()}; "
          f"threads {args.threads}")
    if not db.exists():
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        return 1
    from pytest_ipfs_accel.report import data as report_data, write
    from pytest_ipfs_accel.report.precision import text_table

    found = report_data.load(db)
    for line in text_table(found.benchmarks):
        print(line)
    for suffix in ("html", "md"):
        write(found, args.out / f"precision.{suffix}", force=True)
    print(f"reports: {args.out / 'precision.html'}, {args.out / 'precision.md'}")
    return 0 if done.returncode in (0, 1) else done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
