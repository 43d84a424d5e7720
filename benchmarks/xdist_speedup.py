"""Wall time of the key-model suite on this machine's CPU platforms with ``-n 2`` vs ``-n 0``
(goal: >= 1.6x faster on 2 cores).

The suite: every key model (registry.KEY_MODELS) on ``--ipfs-hw=cpu,onnxruntime,openvino`` (torch,
ONNX Runtime and OpenVINO, all on the CPU) with the default kinds (load, forward, parity, batch),
results not stored. ``-n 2`` uses the plugin's default xdist scheduling (one model group per
worker, each runtime given its share of the cores). Runs alternate so machine noise hits both alike.
``--hw cpu`` alone is ~4 s of work behind ~6 s of imports and first builds that every process pays,
so there the ratio stays near 1.1x whatever the scheduling (Amdahl): see it with ``--hw cpu``.
Usage: python benchmarks/xdist_speedup.py [--runs 1] [--models bert,t5,...] [--workers 2] [--hw cpu,...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from _timing import PYTEST, wall

_REPO = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(_REPO))
from pytest_ipfs_accel.models.registry import KEY_MODELS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1, help="timed runs per command (default 1)")
    parser.add_argument("--models", default=",".join(KEY_MODELS), help="comma list (default: the key models)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hw", default="cpu,onnxruntime,openvino",
                        help="platforms (default cpu,onnxruntime,openvino; 'cpu' for torch alone)")
    args = parser.parse_args()
    base = [*PYTEST, "-q", "-p", "no:cacheprovider", f"--ipfs-models={args.models}", f"--ipfs-hw={args.hw}",
            "--ipfs-db=none"]
    cmds = {"-n 0": [*base, "-n", "0"], f"-n {args.workers}": [*base, "-n", str(args.workers)]}
    times: dict[str, list[float]] = {name: [] for name in cmds}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            for name, cmd in cmds.items():
                times[name].append(wall(cmd, Path(tmp)))
    serial, parallel = (statistics.median(t) for t in times.values())
    print(f"models: {args.models} on {args.hw}, default kinds (median of {args.runs} run(s) each)")
    for name, t in times.items():
        print(f"  {name:6s} {statistics.median(t):8.1f} s   runs: {', '.join(f'{x:.1f}' for x in t)}")
    print(f"speedup -n {args.workers} vs -n 0: {serial / parallel:.2f}x (goal >= 1.6x)")


if __name__ == "__main__":
    main()
