"""benchmark-fixture median vs a raw timed loop of runner(inputs), per runtime (goal: ratio <= 1.05).

One pytest run times tiny bert (batch size 1) on torch cpu, onnxruntime and openvino. In each test
the same prepared runner and inputs are timed three ways, one after the other in the same
process: a raw ``time.perf_counter()`` loop (half the rounds), the benchmark kind's own path
(``runtime.bench.run``: pytest-benchmark's fixture, ``pedantic(rounds=R, iterations=1)``), then the
raw loop again (the other half). The raw median is taken over both halves.
Usage: python benchmarks/benchmark_overhead.py [--runs 400]   (--runs: timed rounds per way)
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from _timing import PYTEST, runs_from_argv

CONFTEST = '''
def pytest_addoption(parser):
    from pytest_ipfs_accel.plugin.bench_options import addoptions

    try:
        addoptions(parser)
    except ValueError:  # already registered by the plugin
        pass
'''
TEST = '''
import statistics
import time

import pytest

from pytest_ipfs_accel.runtime import bench, checks

MODEL = checks.ModelRef(name="bert", model_type="bert", modality="text", source="tiny", path=None,
                        trust_remote_code=False, seed=0)
ROUNDS = %d


def raw(runner, inputs, n):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        runner(inputs)
        times.append(time.perf_counter() - start)
    return times


@pytest.mark.parametrize("platform", ["cpu", "onnxruntime", "openvino"])
def test_overhead(platform, benchmark, request):
    inputs = checks.loaded(MODEL).inputs(batch_size=1, seed=MODEL.seed)
    runner = checks.prepare(MODEL, platform, "fp32", None, example=inputs)
    raw(runner, inputs, 10)
    before = raw(runner, inputs, ROUNDS // 2)
    fixture = bench.run(benchmark, request, MODEL, platform, "fp32", 1)
    after = raw(runner, inputs, ROUNDS - ROUNDS // 2)
    raw_median = statistics.median(before + after)
    print(f"\\nOVERHEAD {platform} {fixture['median_s']!r} {raw_median!r} {fixture['rounds']}")
'''
LINE = re.compile(r"^OVERHEAD (\S+) (\S+) (\S+) (\d+)$", re.M)


def main() -> None:
    rounds = runs_from_argv(__doc__, default=400)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "conftest.py").write_text(CONFTEST)
        (root / "test_overhead.py").write_text(TEST % rounds)
        proc = subprocess.run([*PYTEST, "-s", "-q", "-p", "no:cacheprovider", "--ipfs-db=none",
                               f"--ipfs-benchmark-rounds={rounds}", "--ipfs-benchmark-warmup=10",
                               "test_overhead.py"],
                              cwd=root, capture_output=True, text=True)
    found = LINE.findall(proc.stdout)
    if proc.returncode != 0 or not found:
        raise SystemExit(f"pytest failed ({proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    print(f"tiny bert, batch size 1, {rounds} timed rounds per way (raw loop split before/after the fixture)")
    print(f"{'runtime':<12} {'fixture median':>15} {'raw median':>12} {'ratio':>7}")
    worst = 0.0
    for platform, fixture, raw, _n in found:
        ratio = float(fixture) / float(raw)
        worst = max(worst, ratio)
        print(f"{platform:<12} {float(fixture) * 1e6:12.1f} us {float(raw) * 1e6:9.1f} us {ratio:7.3f}")
    print(f"worst fixture / raw = {worst:.3f}   (goal <= 1.05)")
    sys.exit(0)


if __name__ == "__main__":
    main()
