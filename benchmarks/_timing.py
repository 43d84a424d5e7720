"""Shared helpers for the benchmark scripts: run a command N times, take the median wall time."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PYTEST = [sys.executable, "-m", "pytest"]


def wall(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Seconds one run of cmd takes; fails loudly if it does not exit 0."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return took


def median_wall(cmd: list[str], cwd: Path, runs: int, env: dict[str, str] | None = None) -> float:
    """Median of `runs` wall times (after one untimed warm-up run)."""
    wall(cmd, cwd, env)
    return statistics.median(wall(cmd, cwd, env) for _ in range(runs))


def interleaved(cmds: dict[str, list[str]], cwd: Path, runs: int) -> dict[str, float]:
    """Median wall time per command, runs interleaved so machine noise hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for cmd in cmds.values():
        wall(cmd, cwd)
    for _ in range(runs):
        for name, cmd in cmds.items():
            times[name].append(wall(cmd, cwd))
    return {name: statistics.median(t) for name, t in times.items()}


def runs_from_argv(doc: str, default: int) -> int:
    """``--runs N`` from the command line; the script's docstring is its --help."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=default, help=f"timed runs per command (default {default})")
    return parser.parse_args().runs
