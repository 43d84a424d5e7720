"""What the generated ``benchmark`` kind calls: time ``runner(inputs)`` with pytest-benchmark's fixture.

Everything but the runtime's own call happens outside the timed function: the model is built,
the inputs for the batch size are synthesized and the runner is prepared (exported, compiled)
once, then one untimed call warms it up. A torch runner times its ``timed`` call on ``resident``
inputs: already on the device, the device synchronised inside the call, no host copy of the
outputs (CUDA runs asynchronously). :func:`measure` builds one
:class:`~pytest_ipfs_accel.runtime.record.BenchmarkRecord` from the fixture's statistics, the
raw rounds, what was timed, the noise around it and the accuracy beside it, and hands it to
``item.user_properties`` as ``("ipfs_benchmark", record.to_dict())``: it travels with the report to
the xdist controller, where the recorder stores it as a ``benchmark_results`` row, the regression
gate compares it and pytest-benchmark's own session gets it back (its table, ``--benchmark-json``).
pytest-benchmark's ``extra_info`` is ``record.extra_info()``.

Peak memory: ``peak_rss_mb`` is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after the timed
rounds: the high-water mark of the whole process (imports and earlier items included), not of
this item alone. ``device_memory_mb`` is ``torch.cuda.max_memory_allocated`` over the timed
rounds when the runner is torch on a CUDA/ROCm device; NULL for everything else.

Noise, for the gate and the reports: ``cv`` (stddev / mean of the rounds), ``load_before`` /
``load_after`` (1-minute load average around the timing), ``other_cpu_s`` (CPU seconds other
processes used or the hypervisor stole during the timing: ``host.load``), ``threads`` (what the
runtime timed with: ``--ipfs-benchmark-threads``, default the physical cores this process may use,
set for torch, ONNX Runtime and OpenVINO alike, with or without xdist), ``lock_wait_s`` (seconds
waited for the device's timing lock), ``settle_s`` (seconds waited, inside that lock, for the machine
to run a fixed reference workload at its usual speed, before the rounds and, with
``--ipfs-benchmark-rounds``, before each of :data:`BATCHES` batches of them: ``host.reference``)
and ``reference_s`` (the machine's speed: :meth:`Surroundings.machine_speed`). When
pytest-benchmark calibrates the rounds itself, at least ``regression.noise.MIN_ROUNDS`` are timed
so that the gate can judge every item.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from pytest_ipfs_accel.rounds import coefficient_of_variation, percentile
from pytest_ipfs_accel.runtime import checks, keys
from pytest_ipfs_accel.runtime.record import BenchmarkRecord, FixtureInfo
from pytest_ipfs_accel.runtime.timing import TIMING, TimingSettings

if TYPE_CHECKING:
    from pytest_ipfs_accel.host.load import Sample
    from pytest_ipfs_accel.host.reference import Settled

#: user_properties key of the benchmark kind's record.
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


def _time(benchmark, chosen: TimingSettings, runner, inputs, around: Surroundings) -> None:
    """The timed rounds: ``--ipfs-benchmark-rounds``/``-warmup`` (in batches, each after a wait for the
    machine's usual speed: ``around.between_rounds``), or pytest-benchmark's calibration with at
    least the gate's minimum of rounds."""
    from pytest_ipfs_accel.regression.noise import MIN_ROUNDS

    if chosen.rounds is None:
        if isinstance(getattr(benchmark, "_min_rounds", None), int) and benchmark._min_rounds < MIN_ROUNDS:
            benchmark._min_rounds = MIN_ROUNDS  # pytest-benchmark's --benchmark-min-rounds (default 5)
        benchmark(runner, inputs)
    else:
        benchmark.pedantic(runner, args=(inputs,), setup=around.between_rounds, rounds=chosen.rounds,
                           warmup_rounds=chosen.warmup or 0, iterations=1)


def fixture_info(benchmark) -> FixtureInfo:
    """pytest-benchmark's name for the fixture's timing, in plain values (as its JSON writes them)."""
    from pytest_benchmark.utils import funcname

    options = {k: funcname(v) if callable(v) else v for k, v in (benchmark.stats.options or {}).items()}
    return FixtureInfo(name=benchmark.name, fullname=benchmark.fullname, group=benchmark.group,
                       param=benchmark.param, params=_plain(benchmark.params), options=_plain(options),
                       extra_info=_plain(dict(benchmark.extra_info)), has_error=bool(benchmark.has_error))


def _plain(value: Any) -> Any:
    """``value`` as JSON would give it back (anything else by its repr), e.g. a test's own params."""
    return json.loads(json.dumps(value, default=repr))


def timing(benchmark, batch_size: int | None = None) -> dict[str, Any] | None:
    """The fixture's statistics as BenchmarkRecord fields (None when nothing was timed: disabled)."""
    meta = getattr(benchmark, "stats", None)
    if not meta:
        return None
    s = meta.stats
    data = [float(x) for x in s.data]
    median = float(s.median)
    return {
        "min_s": float(s.min), "max_s": float(s.max), "mean_s": float(s.mean), "median_s": median,
        "stddev_s": float(s.stddev), "p90_s": percentile(data, 90), "p99_s": percentile(data, 99),
        "rounds": int(s.rounds), "iterations": int(meta.iterations), "ops_per_s": float(s.ops),
        "items_per_s": batch_size / median if batch_size and median > 0 else None,  # the median, never the mean
        "rounds_s": data, "cv": coefficient_of_variation(data), "fixture": fixture_info(benchmark),
    }


def fixture_record(benchmark) -> BenchmarkRecord | None:
    """The record of a test's own use of the benchmark fixture (no model: relayed to pytest-benchmark
    on the xdist controller, neither stored nor gated); None when nothing was timed."""
    found = timing(benchmark)
    return None if found is None else BenchmarkRecord(**found)


#: ``benchmark.pedantic`` rounds come in this many batches, each after a wait for the machine's usual
#: speed: the fastest round then comes from a batch the machine timed at its usual speed.
BATCHES = 4


class Surroundings:
    """What happens around timed rounds (inside the device lock): waits until the machine runs a fixed
    reference workload at its usual speed (``host.reference``, each at most ``settings.settle_s``):
    before the rounds and, with ``benchmark.pedantic``, before each of :data:`BATCHES` batches of
    them (:meth:`between_rounds`, its ``setup``); load before and after; other processes' CPU over
    the batches (not the waits); the reference again after the rounds.
    ``with Surroundings(settings) as around:``"""

    def __init__(self, settings: TimingSettings) -> None:
        self.settings = settings
        self.settles: list[Settled] = []  # one per batch
        self.other_cpu_s: float | None = 0.0  # summed over the batches
        self._batch: Sample | None = None  # taken when the current batch began
        self._calls = 0

    def _settle(self) -> None:
        from pytest_ipfs_accel.host import load, reference

        self.settles.append(reference.SETTLER.settle(self.settings.reference_floor_s, self.settings.settle_s))
        self._batch = load.sample()  # after the reference: other_cpu_s covers the rounds alone

    def _batch_done(self) -> Sample:
        from pytest_ipfs_accel.host import load

        now = load.sample()
        other = load.other_cpu_s(self._batch, now)
        self.other_cpu_s = None if other is None or self.other_cpu_s is None else self.other_cpu_s + other
        return now

    def __enter__(self) -> Surroundings:
        self._settle()
        self.before = self._batch
        return self

    def between_rounds(self) -> None:
        """``benchmark.pedantic``'s ``setup`` (called before every round, warm-up ones too): a wait for
        the usual speed before each batch of timed rounds but the first."""
        chosen = self.settings
        self._calls += 1
        timed = self._calls - (chosen.warmup or 0)  # 1-based: the timed round about to run
        every = -(-(chosen.rounds or 1) // BATCHES)
        if timed > 1 and (timed - 1) % every == 0:
            self._batch_done()
            self._settle()

    def __exit__(self, *exc: object) -> None:
        from pytest_ipfs_accel.host import reference

        self.after = self._batch_done()
        self.reference_after = reference.fastest_s()

    def machine_speed(self) -> float:
        """The reference time of the batch timed on the fastest machine: per batch, the slower of the
        references right before it (after its wait) and right after it (before the next wait)."""
        ends = [settled.first_s for settled in self.settles[1:]] + [self.reference_after]
        return min(max(settled.reference_s, end) for settled, end in zip(self.settles, ends))

    def fields(self, request, threads: int, held) -> dict[str, Any]:
        """The record's fields about the timing's surroundings: noise, memory, the item's max_slowdown."""
        from pytest_ipfs_accel.markers import marker_slowdown

        waited = getattr(held, "waited_s", None)
        return {"max_slowdown": marker_slowdown(request.node), "threads": threads, "load_before": self.before.load1,
                "load_after": self.after.load1, "other_cpu_s": self.other_cpu_s,
                "lock_wait_s": float(waited) if isinstance(waited, (int, float)) else None,
                "reference_s": self.machine_speed(), "settle_s": sum(s.waited_s for s in self.settles),
                "peak_rss_mb": peak_rss_mb()}


def attach(node, key: str, record: BenchmarkRecord) -> dict[str, Any]:
    """Hand ``record`` to whoever records the item (``plugin.wire`` reads it); returns what travels."""
    travels = record.to_dict()
    node.user_properties.append((key, travels))
    return travels


def measure(benchmark, request, model: checks.ModelRef, platform: str, precision: str, batch_size: int,
            artifacts=None) -> BenchmarkRecord | None:
    """Time ``runner(inputs)`` for one model x platform x precision x batch size (see module doc), then
    the accuracy beside it; the record, or None when nothing was timed (``--benchmark-disable``)."""
    values = _timed(benchmark, request, model, platform, precision, batch_size, artifacts)
    if values is None:
        return None
    try:
        figures = checks.benchmark_accuracy(model, platform, precision, batch_size, artifacts)
    except BaseException:
        _finish(benchmark, request, BenchmarkRecord(**values))  # the timing stays recorded
        raise
    record = BenchmarkRecord(**values, **figures)
    _finish(benchmark, request, record)
    return record


def run(benchmark, request, model: checks.ModelRef, platform: str, precision: str, batch_size: int,
        artifacts=None) -> dict[str, Any] | None:
    """What files emitted before :func:`measure` call: time without the accuracy, and return the record
    as it travels (a dict those files add the accuracy to, in place)."""
    values = _timed(benchmark, request, model, platform, precision, batch_size, artifacts)
    return None if values is None else _finish(benchmark, request, BenchmarkRecord(**values))


def _finish(benchmark, request, record: BenchmarkRecord) -> dict[str, Any]:
    benchmark.extra_info.update(record.extra_info())  # pytest-benchmark's table and JSON in this process
    return attach(request.node, KEY, record)


def _timed(benchmark, request, model: checks.ModelRef, platform: str, precision: str, batch_size: int,
           artifacts=None) -> dict[str, Any] | None:
    """The record's fields from timing ``runner(inputs)`` (the accuracy aside); None when nothing was timed."""
    from pytest_ipfs_accel.host.devicelock import device_lock
    from pytest_ipfs_accel.host.threads import timing_threads

    found = checks.require(platform)  # skip before building anything when the platform is absent
    count = _settings(request.config).thread_count()
    # building and exporting never overlaps a timing on the device elsewhere (xdist workers) ...
    with device_lock(found.device, shared=True), timing_threads(count, torch_too=False):
        inputs = checks.loaded(model).inputs(batch_size=batch_size, seed=model.seed)
        runner = checks.prepare(model, platform, precision, artifacts, example=inputs)
    # ... and timings on one device take turns, across processes
    info = getattr(runner, "info", {}) or {}
    device = info.get("device") or found.device
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
        chosen = _settings(request.config)
        with Surroundings(chosen) as around:
            _time(benchmark, chosen, call, inputs, around)
    values = timing(benchmark, batch_size)
    if values is None:
        return None
    values.update(around.fields(request, count, held), model=model.name, platform=platform,
                  precision=precision, batch_size=int(batch_size), runtime=info.get("runtime"),
                  device=info.get("device"),
                  device_memory_mb=torch.cuda.max_memory_allocated() / (1024 * 1024) if torch is not None else None)
    return values
