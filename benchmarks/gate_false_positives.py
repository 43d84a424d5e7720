"""How often the regression gate cries wolf under load, and how often it catches a real 20 % slowdown.

Runs real generated benchmark items (default ``--ipfs-models=bert --ipfs-hw=cpu``, batch 1) as
separate pytest sessions, in two phases, each into its own results database:

* **loaded**: another process keeps one core busy (``python -c "while True: pass"``) while K
  same-code runs record a baseline and N more same-code runs are each compared with the K runs
  before them (``last:K``) and with the previous run (``last``). A run called a regression is a
  **false alarm** (goal: 0 of N);
* **quiet**: the spinner is gone; K same-code runs, then N pairs of (same-code run, run with an
  injected slowdown), each compared the same way with the same-code runs before it. A slowed run
  called a regression is a **detection** (goal: at least N - 1 of N); same-code runs give the
  quiet false-alarm count.

The gate is ``pytest_ipfs_accel.regression.gate`` (the engine of ``--ipfs-compare`` and ``ipfs-accel
compare``) at its default threshold. The slowdown is test-only code written into the temporary
project's conftest: each timed round busy-waits ``--slowdown`` (0.2) times as long as the call took.
Both figures are printed side by side with the conditions (threads, load average, other processes'
CPU). ``--keep DIR`` keeps the two databases; ``--evaluate DIR`` re-judges kept databases without
running anything.

    python benchmarks/gate_false_positives.py                 # N=20, K=5: 70 runs, about 12-15 min on 2 cores
    python benchmarks/gate_false_positives.py --runs 3 --baseline 2 --threads 1   # quick look
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

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
PHASES = ("loaded", "quiet")


def options() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=20, help="N: compared runs per phase (default 20)")
    p.add_argument("--baseline", type=int, default=5, help="K: warm-up runs per phase, and runs pooled per baseline")
    p.add_argument("--rounds", type=int, default=200, help="timed rounds per item (default 200)")
    p.add_argument("--slowdown", type=float, default=0.2, help="injected slowdown as a fraction (default 0.2)")
    p.add_argument("--threshold", type=float, default=None, help="gate threshold in percent (default: the gate's)")
    p.add_argument("--models", default="bert")
    p.add_argument("--hw", default="cpu")
    p.add_argument("--threads", default="auto", help="--ipfs-benchmark-threads of the runs (default auto)")
    p.add_argument("--phases", default=",".join(PHASES), help="which phases to run (default loaded,quiet)")
    p.add_argument("--keep", type=Path, default=None, help="keep the databases in this folder")
    p.add_argument("--evaluate", type=Path, default=None, help="only judge the databases kept in this folder")
    return p.parse_args()


def run_once(project: Path, db: Path, args: argparse.Namespace, slowdown: float) -> str:
    """One pytest session; returns its run id (the newest run in the database)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", IPFS_GATE_SLOWDOWN=str(slowdown))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--benchmark-only",
           f"--ipfs-models={args.models}", f"--ipfs-hw={args.hw}", "--ipfs-batch-sizes=1",
           f"--ipfs-benchmark-rounds={args.rounds}", "--ipfs-benchmark-warmup=3",
           f"--ipfs-benchmark-threads={args.threads}", f"--ipfs-db={db}"]
    done = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        sys.exit(f"benchmark run failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    from pytest_ipfs_accel.store import queries

    with queries.connect(db) as con:
        return queries.runs(con, limit=1)[0]["id"]


@contextlib.contextmanager
def spinner(on: bool) -> Iterator[None]:
    """Another process keeping one core busy while inside (when ``on``)."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if on else None
    try:
        yield
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)


def record(folder: Path, phase: str, args: argparse.Namespace) -> None:
    """Run one phase; the run ids and what each was (same / slow) go to ``<phase>.json``."""
    project = folder / f"project-{phase}"
    project.mkdir(exist_ok=True)
    (project / "conftest.py").write_text(SLOWDOWN_CONFTEST, encoding="utf-8")
    db, plan = folder / f"{phase}.duckdb", []
    kinds = ["same"] * args.baseline + (["same"] * args.runs if phase == "loaded" else ["same", "slow"] * args.runs)
    started = time.perf_counter()
    with spinner(phase == "loaded"):
        for i, kind in enumerate(kinds):
            plan.append([run_once(project, db, args, args.slowdown if kind == "slow" else 0.0), kind])
            print(f"{phase}: run {i + 1}/{len(kinds)} ({kind}) done, load {os.getloadavg()[0]:.2f}", flush=True)
    (folder / f"{phase}.json").write_text(json.dumps({"plan": plan, "seconds": time.perf_counter() - started,
                                                      "threads": args.threads, "rounds": args.rounds}), encoding="utf-8")


def judge(folder: Path, phase: str, args: argparse.Namespace) -> dict:
    """Every run after the first K compared with the K same-code runs before it and with the previous one."""
    from pytest_ipfs_accel.regression import gate
    from pytest_ipfs_accel.store import queries

    meta = json.loads((folder / f"{phase}.json").read_text(encoding="utf-8"))
    counts = {kind: {ref: {} for ref in ("pooled", "previous")} for kind in ("same", "slow")}
    changes: dict[str, list[float]] = {"same": [], "slow": []}
    same: list[str] = []
    rows, cores = [], os.cpu_count() or 1
    with queries.connect(folder / f"{phase}.duckdb") as con:
        for run_id, kind in meta["plan"]:
            current = gate.current_items(con, [run_id])
            rows += current.values()
            if len(same) >= args.baseline:
                cores = gate.cores_of((queries.run(con, run_id) or {}).get("fingerprint"))
                for ref, ids in (("pooled", same[-args.baseline:]), ("previous", same[-1:])):
                    found = gate.compare(current, gate.load(con, ids), args.threshold, cores=cores)
                    verdict = worst(found)
                    counts[kind][ref][verdict] = counts[kind][ref].get(verdict, 0) + 1
                    if ref == "pooled":
                        changes[kind] += [c.percent for c in found if c.change is not None]
            if kind == "same":
                same.append(run_id)
    return {"counts": counts, "changes": changes, "conditions": conditions(rows, cores), "seconds": meta["seconds"],
            "rounds": meta.get("rounds", args.rounds)}


def worst(found: list) -> str:
    """The most serious verdict of a run's items (gate.STATUSES order)."""
    from pytest_ipfs_accel.regression.gate import STATUSES

    return min((c.status for c in found), key=STATUSES.index, default="new")


def conditions(rows: list[dict], cores: int) -> str:
    loads = [r[k] for r in rows for k in ("load_before", "load_after") if r.get(k) is not None]
    threads = sorted({r["threads"] for r in rows if r.get("threads")})
    from pytest_ipfs_accel.regression.noise import timed_s

    other = [r["other_cpu_s"] / timed_s(r) for r in rows if r.get("other_cpu_s") is not None and timed_s(r)]
    cvs = [r["cv"] for r in rows if r.get("cv") is not None]
    waits = [r["settle_s"] for r in rows if r.get("settle_s") is not None]
    fmt = (lambda xs, f: f"{min(xs):{f}}-{max(xs):{f}}" if xs else "n/a")  # noqa: E731
    waited = f"{fmt(waits, '.1f')} s ({sum(w > 0.05 for w in waits)} of {len(waits)} items waited)" if waits else "n/a"
    return (f"threads {threads or '?'} on {cores} cores, load average {fmt(loads, '.1f')}, other processes "
            f"{fmt(other, '.2f')} cores, cv {fmt(cvs, '.0%')} (median {statistics.median(cvs) if cvs else 0:.0%}), "
            f"settle waits {waited}")


def show(results: dict[str, dict], args: argparse.Namespace) -> None:
    from pytest_ipfs_accel.regression.gate import DEFAULT_THRESHOLD

    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    rounds = sorted({res["rounds"] for res in results.values()})
    print(f"\ngate: threshold {threshold:g}%, last:{args.baseline} pooled / previous run; injected slowdown "
          f"{args.slowdown * 100:g}%; {args.models} x {args.hw}, {'/'.join(map(str, rounds))} rounds per item")
    lines = []
    if "loaded" in results:
        lines.append(("false alarms, same code, one core kept busy", results["loaded"]["counts"]["same"], "loaded"))
    if "quiet" in results:
        lines.append(("false alarms, same code, no spinner", results["quiet"]["counts"]["same"], "quiet"))
        lines.append((f"caught, +{args.slowdown * 100:g}% injected, no spinner", results["quiet"]["counts"]["slow"],
                      "quiet"))
    print(f"{'':48}{'vs last:' + str(args.baseline):>26}{'vs previous run':>26}")
    for label, counts, _ in lines:
        print(f"{label:48}" + "".join(f"{cell(counts[ref], label.startswith('caught')):>26}"
                                       for ref in ("pooled", "previous")))
    for phase, res in results.items():
        same, slow = res["changes"]["same"], res["changes"]["slow"]
        drift = f"same-code fastest-round change {min(same):+.1f} … {max(same):+.1f}%" if same else ""
        slowed = f"; slowed {min(slow):+.1f} … {max(slow):+.1f}%" if slow else ""
        print(f"{phase}: {res['conditions']}; {drift}{slowed}; {res['seconds']:.0f} s")


def cell(counts: dict[str, int], caught: bool) -> str:
    """``regressions/total (k inconclusive)``."""
    total = sum(counts.values())
    flagged = counts.get("regression", 0)
    unsure = sum(n for status, n in counts.items() if status.startswith("inconclusive"))
    return f"{flagged}/{total}" + (f" ({unsure} inconcl.)" if unsure else "")


def main() -> None:
    args = options()
    phases = [p for p in args.phases.split(",") if p in PHASES]
    started = time.perf_counter()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores; "
          f"{args.models} x {args.hw}, {args.rounds} rounds/item, threads={args.threads}", flush=True)
    with contextlib.ExitStack() as stack:
        folder = args.evaluate or args.keep
        folder = folder or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ipfs-gate-")))
        folder.mkdir(parents=True, exist_ok=True)
        if args.evaluate is None:
            for phase in phases:
                record(folder, phase, args)
        show({phase: judge(folder, phase, args) for phase in phases if (folder / f"{phase}.json").is_file()}, args)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; took "
          f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
