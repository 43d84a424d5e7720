"""Benchmark medians under ``-n 2`` vs ``-n 0`` for the same items (goal: each within 15 %).

Runs ``--benchmark-only`` for the given models on cpu and onnxruntime, fixed rounds, once
serially and once with two workers (timings on one device are serialised by the plugin's device
lock), alternating ``--runs`` times, and compares the per-item medians from --benchmark-json.
Usage: python benchmarks/xdist_benchmark_medians.py [--runs 3] [--models bert,vit] [--rounds 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import sys
from pathlib import Path

from _timing import PYTEST, wall

_REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_REPO))


def medians(cmd: list[str], cwd: Path, out: Path) -> dict[str, float]:
    wall([*cmd, f"--benchmark-json={out}"], cwd)
    data = json.loads(out.read_text())
    return {b["fullname"]: b["stats"]["median"] for b in data["benchmarks"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--models", default="bert,vit")
    parser.add_argument("--hw", default="cpu,onnxruntime")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    base = [*PYTEST, "-q", "-p", "no:cacheprovider", "--benchmark-only", f"--ipfs-models={args.models}",
            f"--ipfs-hw={args.hw}", "--ipfs-batch-sizes=1,4", f"--ipfs-benchmark-rounds={args.rounds}",
            "--ipfs-benchmark-warmup=3", "--ipfs-db=none"]
    got: dict[str, dict[str, list[float]]] = {"-n 0": {}, "-n 2": {}}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for run in range(args.runs):
            for name, extra in (("-n 0", ["-n", "0"]), ("-n 2", ["-n", "2"])):
                for item, median in medians([*base, *extra], root, root / f"r{run}{extra[1]}.json").items():
                    got[name].setdefault(item, []).append(median)
    serial = {k: statistics.median(v) for k, v in got["-n 0"].items()}
    parallel = {k: statistics.median(v) for k, v in got["-n 2"].items()}
    assert serial.keys() == parallel.keys(), (sorted(serial), sorted(parallel))
    worst = 0.0
    print(f"{'item':60s} {'-n 0 (us)':>10s} {'-n 2 (us)':>10s} {'diff':>7s}")
    for item in sorted(serial):
        diff = parallel[item] / serial[item] - 1
        worst = max(worst, abs(diff))
        print(f"{item:60s} {serial[item] * 1e6:10.1f} {parallel[item] * 1e6:10.1f} {diff:+7.1%}")
    print(f"{len(serial)} items, median of {args.runs} run(s) each; largest difference {worst:.1%} "
          f"({'within' if worst <= 0.15 else 'NOT within'} 15 %)")


if __name__ == "__main__":
    main()
