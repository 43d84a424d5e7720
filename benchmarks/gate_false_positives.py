"""How often the regression gate cries wolf, and how often it catches a real 20 % slowdown.

Runs real generated benchmark items (default ``--ipfs-models=bert --ipfs-hw=cpu``, batch 1) as
separate pytest sessions into one results database: K warm-up runs, then N pairs of
(same-code run, run with an injected slowdown). Each run is compared by the gate
(``pytest_ipfs_accel.store.gate``, the engine of ``--ipfs-compare`` and ``ipfs-accel compare``)
at the default threshold with the K same-code runs before it, pooled (``last:K``), and with the
single previous same-code run (``last``):

* a same-code run called a regression is a **false alarm** (goal: 0 of N);
* a slowed run called a regression is a **detection** (goal: N of N).

The slowdown is test-only code written into the temporary project's conftest: it wraps the
timed call so that each round busy-waits ``--slowdown`` (0.2) times as long as the call took.

    python benchmarks/gate_false_positives.py            # N=20, about 6-9 minutes on 2 idle cores
    python benchmarks/gate_false_positives.py --runs 5 --threads 0   # quick look, torch's own threads
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SLOWDOWN_CONFTEST = '''
import os
import time

import pytest


@pytest.fixture
def benchmark(benchmark):
    """Test-only: each timed call busy-waits IPFS_GATE_SLOWDOWN times its own duration."""
    factor = float(os.environ.get("IPFS_GATE_SLOWDOWN", "0"))
    if not factor:
        return benchmark
    timed = benchmark.pedantic

    def pedantic(fn, args=(), kwargs=None, **options):
        def slower(*a, **k):
            start = time.perf_counter()
            out = fn(*a, **k)
            end = time.perf_counter() + (time.perf_counter() - start) * factor
            while time.perf_counter() < end:
                pass
            return out
        return timed(slower, args=args, kwargs=kwargs, **options)

    benchmark.pedantic = pedantic
    return benchmark
'''


def options() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=20, help="same-code runs and slowed runs, each (default 20)")
    p.add_argument("--baseline", type=int, default=5, help="K: warm-up runs, and runs pooled per baseline (5)")
    p.add_argument("--rounds", type=int, default=50, help="timed rounds per item (default 50)")
    p.add_argument("--slowdown", type=float, default=0.2, help="injected slowdown as a fraction (default 0.2)")
    p.add_argument("--threshold", type=float, default=None, help="gate threshold in percent (default: the gate's)")
    p.add_argument("--models", default="bert")
    p.add_argument("--hw", default="cpu")
    p.add_argument("--threads", type=int, default=1,
                   help="OMP/MKL threads of the runs (default 1: less scheduler noise on a shared box; 0 = leave)")
    return p.parse_args()


def run_once(project: Path, db: Path, args: argparse.Namespace, slowdown: float) -> str:
    """One pytest session; returns its run id (the newest run in the database)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", IPFS_GATE_SLOWDOWN=str(slowdown))
    if args.threads:
        env.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--benchmark-only",
           f"--ipfs-models={args.models}", f"--ipfs-hw={args.hw}", "--ipfs-batch-sizes=1",
           f"--ipfs-benchmark-rounds={args.rounds}", "--ipfs-benchmark-warmup=3", f"--ipfs-db={db}"]
    done = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"benchmark run failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    from pytest_ipfs_accel.store import queries

    with queries.connect(db) as con:
        return queries.runs(con, limit=1)[0]["id"]


def regressed(db: Path, run_id: str, baseline_ids: list[str], threshold: float | None) -> tuple[bool, float]:
    """Does the gate call any item of ``run_id`` a regression against ``baseline_ids``? (and the worst change %)"""
    from pytest_ipfs_accel.store import gate, queries

    with queries.connect(db) as con:
        results = gate.compare(gate.current_items(con, [run_id]), gate.load(con, baseline_ids), threshold)
    worst = max((c.percent for c in results if c.change is not None), default=0.0)
    return any(c.status == "regression" for c in results), worst


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main() -> None:
    args = options()
    started = time.perf_counter()
    print(f"load average at start: {load_average()} on {os.cpu_count()} cores; "
          f"{args.models} x {args.hw}, {args.rounds} rounds/item, threads={args.threads or 'default'}")
    with tempfile.TemporaryDirectory(prefix="ipfs-gate-") as tmp:
        project, db = Path(tmp), Path(tmp) / "results.duckdb"
        (project / "conftest.py").write_text(SLOWDOWN_CONFTEST, encoding="utf-8")
        same: list[str] = [run_once(project, db, args, 0.0) for _ in range(args.baseline)]
        alarms = {"pooled": 0, "previous": 0}
        caught = {"pooled": 0, "previous": 0}
        changes: dict[str, list[float]] = {"same": [], "slow": []}
        for i in range(args.runs):
            for kind in ("same", "slow"):
                run_id = run_once(project, db, args, 0.0 if kind == "same" else args.slowdown)
                pooled, worst = regressed(db, run_id, same[-args.baseline:], args.threshold)
                previous, _ = regressed(db, run_id, same[-1:], args.threshold)
                counter = alarms if kind == "same" else caught
                counter["pooled"] += pooled
                counter["previous"] += previous
                changes[kind].append(worst)
                if kind == "same":
                    same.append(run_id)
            print(f"pair {i + 1}/{args.runs}: same-code {changes['same'][-1]:+.1f}%, "
                  f"slowed {changes['slow'][-1]:+.1f}% (median change vs last:{args.baseline})", flush=True)
    from pytest_ipfs_accel.store.gate import ALPHA, DEFAULT_THRESHOLD

    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    n = args.runs
    print(f"\ngate: median slower than {threshold:g}% AND one-sided Mann-Whitney p < {ALPHA:g}; "
          f"injected slowdown {args.slowdown * 100:g}%")
    print(f"{'':34}{'vs last:' + str(args.baseline) + ' (pooled)':>22}{'vs previous run':>18}")
    print(f"{'false alarms, same-code runs':34}{alarms['pooled']:>17}/{n:<4}{alarms['previous']:>13}/{n:<4}")
    print(f"{'detected, +' + format(args.slowdown * 100, 'g') + '% runs':34}{caught['pooled']:>17}/{n:<4}"
          f"{caught['previous']:>13}/{n:<4}")
    spread = sorted(changes["same"])
    print(f"same-code median change vs baseline: min {spread[0]:+.1f}%, max {spread[-1]:+.1f}%; slowed runs: "
          f"min {min(changes['slow']):+.1f}%, max {max(changes['slow']):+.1f}%")
    print(f"load average at end: {load_average()}; took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
