"""What the generated ``benchmark`` kind calls: time ``runner(inputs)`` with pytest-benchmark's fixture.

Everything but the runtime's own call happens outside the timed function: the model is built,
the inputs for the batch size are synthesized and the runner is prepared (exported, compiled)
once, then one untimed call warms it up. A torch runner times its ``timed`` call on ``resident``
inputs: already on the device, the device synchronised inside the call, no host copy of the
outputs (CUDA runs asynchronously). The statistics go to ``item.user_properties`` as
``("ipfs_benchmark", {...})``, a dict of plain numbers and strings, so they travel with the
report to the xdist controller, where the recorder turns them into a ``benchmark_results`` row.
The dict also carries ``rounds_s`` (the raw per-round seconds, capped at
``store.schema.MAX_ROUNDS_STORED``) and ``max_slowdown`` (the item's ``ipfs_max_slowdown``
marker, a fraction, or None): the regression gate's inputs.

Peak memory: ``peak_rss_mb`` is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after the timed
rounds: the high-water mark of the whole process (imports and earlier items included), not of
this item alone. ``device_memory_mb`` is ``torch.cuda.max_memory_allocated`` over the timed
rounds when the runner is torch on a CUDA/ROCm device; NULL for everything else.

Noise, for the gate and the reports: ``cv`` (stddev / mean of the rounds), ``load_before`` /
``load_after`` (1-minute load average around the timing), ``other_cpu_s`` (CPU seconds other
processes used or the hypervisor stole during the timing: ``host.load``), ``threads`` (what the
runtime timed with: ``--ipfs-benchmark-threads``, default the physical cores this process may use,
set for torch, ONNX Runtime and OpenVINO alike, with or without xdist) and ``lock_wait_s`` (seconds
waited for the device's timing lock). When pytest-benchmark calibrates the rounds itself, at least
``store.gate_noise.MIN_ROUNDS`` are timed so that the gate can judge every item.
"""

from __future__ import annotations

import sys
from typing import Any

from pytest_ipfs_accel.rounds import coefficient_of_variation, percentile
from pytest_ipfs_accel.runtime import checks, keys
from pytest_ipfs_accel.runtime.timing import TIMING, TimingSettings

#: user_properties key of the stats dict.
KEY = keys.BENCHMARK


def peak_rss_mb() -> float | None:
    """Peak resident set size of this process in MB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _cuda_torch(runner) -> Any:
    """torch, when the runner is torch on a GPU torch can measure; else None (nothing imported)."""
    info = getattr(runner, "info", {}) or {}
    if info.get("runtime") != "torch" or not str(info.get("device", "")).startswith(("cuda", "rocm", "hip")):
        return None
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return None
    return torch


def _settings(config) -> TimingSettings:
    return config.stash.get(TIMING, None) or TimingSettings()


def _time(benchmark, request, runner, inputs) -> None:
    """The timed rounds: ``--ipfs-benchmark-rounds``/``-warmup``, or pytest-benchmark's calibration
    with at least the gate's minimum of rounds."""
    from pytest_ipfs_accel.regression.noise import MIN_ROUNDS

    chosen = _settings(request.config)
    if chosen.rounds is None:
        if isinstance(getattr(benchmark, "_min_rounds", None), int) and benchmark._min_rounds < MIN_ROUNDS:
            benchmark._min_rounds = MIN_ROUNDS  # pytest-benchmark's --benchmark-min-rounds (default 5)
        benchmark(runner, inputs)
    else:
        benchmark.pedantic(runner, args=(inputs,), rounds=chosen.rounds, warmup_rounds=chosen.warmup or 0,
                           iterations=1)


def stats(benchmark, batch_size: int, runner=None) -> dict[str, Any] | None:
    """The fixture's statistics as a plain dict (None when nothing was timed: disabled, xdist)."""
    meta = getattr(benchmark, "stats", None)
    if not meta:
        return None
    from pytest_ipfs_accel.store.schema import MAX_ROUNDS_STORED

    s = meta.stats
    data = [float(x) for x in s.data]
    median = float(s.median)
    info = getattr(runner, "info", {}) or {}
    return {
        "min_s": float(s.min), "max_s": float(s.max), "mean_s": float(s.mean), "median_s": median,
        "stddev_s": float(s.stddev), "p90_s": percentile(data, 90), "p99_s": percentile(data, 99),
        "rounds": int(s.rounds), "iterations": int(meta.iterations), "ops_per_s": float(s.ops),
        "items_per_s": batch_size / median if median > 0 else None,  # the median, never the mean
        "batch_size": int(batch_size), "runtime": info.get("runtime"), "device": info.get("device"),
        "peak_rss_mb": peak_rss_mb(), "device_memory_mb": None,
        "rounds_s": data[:MAX_ROUNDS_STORED],  # the raw rounds: the regression gate's input
        "cv": coefficient_of_variation(data),
    }


def run(benchmark, request, model: checks.ModelRef, platform: str, precision: str, batch_size: int,
        artifacts=None) -> dict[str, Any] | None:
    """Time ``runner(inputs)`` for one model x platform x precision x batch size (see module doc)."""
    from pytest_ipfs_accel.host import load
    from pytest_ipfs_accel.host.devicelock import device_lock
    from pytest_ipfs_accel.host.threads import timing_threads

    found = checks.require(platform)  # skip before building anything when the platform is absent
    count = _settings(request.config).thread_count()
    # building and exporting never overlaps a timing on the device elsewhere (xdist workers) ...
    with device_lock(found.device, shared=True), timing_threads(count, torch_too=False):
        inputs = checks.loaded(model).inputs(batch_size=batch_size, seed=model.seed)
        runner = checks.prepare(model, platform, precision, artifacts, example=inputs)
    # ... and timings on one device take turns, across processes
    device = (getattr(runner, "info", {}) or {}).get("device") or found.device
    with device_lock(device) as held, timing_threads(count):
        # a runner that can (torch) times inputs already on its device, synchronised, with no host
        # copy of the outputs: runner.timed(runner.resident(inputs)); others time runner(inputs)
        call, inputs = (runner.timed, runner.resident(inputs)) if hasattr(runner, "timed") else (runner, inputs)
        call(inputs)  # untimed: first-call allocations and lazy initialisation stay out of the rounds
        torch = _cuda_torch(runner)
        if torch is not None:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        benchmark.group = f"{model.name} {platform}" + ("" if precision == "fp32" else f" {precision}")
        before = load.sample()
        _time(benchmark, request, call, inputs)
        after = load.sample()
    result = stats(benchmark, batch_size, runner)
    if result is None:
        return None
    if torch is not None:
        result["device_memory_mb"] = torch.cuda.max_memory_allocated() / (1024 * 1024)
    from pytest_ipfs_accel.markers import marker_slowdown

    waited = getattr(held, "waited_s", None)
    result.update(model=model.name, platform=platform, precision=precision,
                  max_slowdown=marker_slowdown(request.node), threads=count, load_before=before.load1,
                  load_after=after.load1, other_cpu_s=load.other_cpu_s(before, after),
                  lock_wait_s=float(waited) if isinstance(waited, (int, float)) else None)
    benchmark.extra_info.update({k: result[k] for k in (
        "model", "platform", "runtime", "device", "precision", "batch_size", "items_per_s", "p90_s", "p99_s",
        "peak_rss_mb", "device_memory_mb", "cv", "threads", "load_before", "load_after", "other_cpu_s")})
    request.node.user_properties.append((KEY, result))
    return result
