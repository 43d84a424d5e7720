"""Benchmark-kind and comparison options, each with its ini key.

``--ipfs-benchmark-rounds`` / ``ipfs_benchmark_rounds`` and ``--ipfs-benchmark-warmup`` /
``ipfs_benchmark_warmup``: when either is set, every benchmark item is timed with
``benchmark.pedantic(rounds=R, warmup_rounds=W, iterations=1)`` (R defaults to 100, W to 1).
When neither is set, the item calls the ``benchmark`` fixture plainly, so pytest-benchmark's own
``--benchmark-min-rounds``, ``--benchmark-max-time``, ``--benchmark-warmup`` ... decide.

``--ipfs-benchmark-threads=N|auto`` / ``ipfs_benchmark_threads``: the threads every runtime times
with (torch's intra-op threads, ONNX Runtime's intra-op threads, OpenVINO's ``INFERENCE_NUM_THREADS``),
the same with and without xdist, recorded as ``benchmark_results.threads``. ``auto`` (the default)
is the physical cores this process may use (affinity and cgroup quota applied), which is also what
torch and ONNX Runtime pick by themselves on an idle machine; ``1`` times one core and is the
steadiest on a shared machine.

``--ipfs-benchmark-settle=SECONDS`` / ``ipfs_benchmark_settle``: before its rounds, each benchmark
item waits (inside its device lock) until the machine runs a fixed reference workload at its usual
speed, for at most this many seconds (default 10; 0 never waits): ``host.reference``. The usual
speed is the store's figure for this machine (``store.queries.reference_floor``), read once at
session start by the recorder (:func:`use_reference_floor`) and handed to xdist workers.

``--ipfs-compare=last|last:N|RUN_ID`` / ``ipfs_compare``, ``--ipfs-fail-on-regression=PCT`` /
``ipfs_fail_on_regression``, ``--ipfs-fail-on-inconclusive`` / ``ipfs_fail_on_inconclusive`` and
``--ipfs-compare-any-machine`` / ``ipfs_compare_any_machine``: see
:mod:`pytest_ipfs_accel.plugin.gate` and :mod:`pytest_ipfs_accel.regression.gate`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from pytest_ipfs_accel import settings
from pytest_ipfs_accel.plugin.options import given, once, read, register
from pytest_ipfs_accel.plugin import wire
from pytest_ipfs_accel.runtime.timing import DEFAULT_SETTLE_S, TIMING, TimingSettings

DEFAULT_ROUNDS = 100
DEFAULT_WARMUP = 1

_OPTIONS = (
    ("benchmark-rounds", "N", "timed rounds per benchmark item (one call each); default: pytest-benchmark's "
                              f"own calibration, or {DEFAULT_ROUNDS} when --ipfs-benchmark-warmup is given"),
    ("benchmark-warmup", "N", "untimed calls before the timed rounds of each benchmark item; default: "
                              f"pytest-benchmark's --benchmark-warmup, or {DEFAULT_WARMUP} when "
                              "--ipfs-benchmark-rounds is given"),
    ("benchmark-threads", "N|auto", "threads every runtime times a benchmark with (torch, ONNX Runtime, "
                                    "OpenVINO), recorded with each result; auto (default): the physical cores "
                                    "this process may use; 1 is steadiest on a shared machine"),
    ("benchmark-settle", "SECONDS", "before its rounds, each benchmark item waits at most this long for the "
                                    "machine to run a fixed reference workload at its usual speed (a shared or "
                                    f"virtual machine runs slower in episodes); default {DEFAULT_SETTLE_S:g}, 0: "
                                    "never waits"),
    ("compare", "last|last:N|RUN_ID", "compare each benchmark item with the same model/platform/precision/"
                                      "batch size in stored runs of this machine: 'last' (newest finished run "
                                      "with benchmark results), 'last:N' (the N newest) or a run id; the fastest "
                                      "round's slowdown beyond the threshold and the baseline runs' spread, a "
                                      "Mann-Whitney U test, the machine's load and a reference workload"),
    ("fail-on-regression", "PCT", "fail the session (exit 6) when a benchmark's fastest round is more "
                                  "than PCT percent slower than the baseline (e.g. 10, or 10 with a percent sign); implies "
                                  "--ipfs-compare=last when that is not given"),
)


_FLAGS = (
    ("compare-any-machine", "with --ipfs-compare: compare with a baseline recorded on another machine (different "
                            "runs.machine_id) instead of only reporting 'machine changed'"),
    ("fail-on-inconclusive", "with --ipfs-fail-on-regression: an item the gate cannot judge (too few rounds, "
                             "machine busy) fails the session too (exit 6); default: listed, never failing"),
)


def addoptions(parser: pytest.Parser) -> None:
    register(parser, [(name, metavar, help_text, "") for name, metavar, help_text in _OPTIONS], _FLAGS)


@dataclass(frozen=True)
class CompareSettings:
    """The regression gate's options, resolved once (``ref`` None: no comparison asked for)."""

    ref: str | None
    explicit: bool  #: ``--ipfs-compare`` given, rather than implied by a threshold
    threshold: float | None
    any_machine: bool
    fail_on_inconclusive: bool


_COMPARE = pytest.StashKey[CompareSettings]()


def _percent(raw: str) -> float | None:
    return settings.percent(raw) if raw else None


def _compare_settings(config: pytest.Config) -> CompareSettings:
    ref = given(config, "ipfs_compare").text
    threshold = read(config, "ipfs_fail_on_regression", _percent)
    return CompareSettings(ref=ref or ("last" if threshold is not None else None), explicit=bool(ref),
                           threshold=threshold, any_machine=bool(given(config, "ipfs_compare_any_machine").raw),
                           fail_on_inconclusive=bool(given(config, "ipfs_fail_on_inconclusive").raw))


def compare_settings(config: pytest.Config) -> CompareSettings:
    """``--ipfs-compare``, ``--ipfs-fail-on-regression`` and their flags (UsageError, exit 4, for bad values)."""
    return once(config, _COMPARE, _compare_settings)


def any_machine(config: pytest.Config) -> bool:
    """``--ipfs-compare-any-machine`` (or the ini key)."""
    return compare_settings(config).any_machine


def fail_on_inconclusive(config: pytest.Config) -> bool:
    """``--ipfs-fail-on-inconclusive`` (or the ini key)."""
    return compare_settings(config).fail_on_inconclusive


def threshold(config: pytest.Config) -> float | None:
    """``--ipfs-fail-on-regression``: ``10%``/``10``/``2.5`` -> percent as a float; None when not given."""
    return compare_settings(config).threshold


def explicit_compare(config: pytest.Config) -> bool:
    """Was ``--ipfs-compare`` (or its ini key) given, rather than implied by a threshold?"""
    return compare_settings(config).explicit


def compare_ref(config: pytest.Config) -> str | None:
    """``--ipfs-compare``: ``last`` or a run id; ``last`` when only a threshold was given; else None."""
    return compare_settings(config).ref


def _count(raw: str, minimum: int) -> int | None:
    return settings.count(raw, minimum) if raw else None


def _timing(config: pytest.Config) -> TimingSettings:
    rounds = read(config, "ipfs_benchmark_rounds", _count, 1)
    warmup = read(config, "ipfs_benchmark_warmup", _count, 0)
    if rounds is not None or warmup is not None:  # either one given: benchmark.pedantic with both
        rounds = DEFAULT_ROUNDS if rounds is None else rounds
        warmup = DEFAULT_WARMUP if warmup is None else warmup
    settle = read(config, "ipfs_benchmark_settle", _seconds)
    floor = getattr(config, "workerinput", {}).get(wire.REFERENCE_FLOOR)  # the controller's, on a worker
    return TimingSettings(rounds=rounds, warmup=warmup,
                          threads=read(config, "ipfs_benchmark_threads", settings.threads),
                          settle_s=DEFAULT_SETTLE_S if settle is None else settle,
                          reference_floor_s=float(floor) if isinstance(floor, (int, float)) else None)


def _seconds(raw: str) -> float | None:
    return settings.seconds(raw) if raw else None


def timing_settings(config: pytest.Config) -> TimingSettings:
    """The benchmark kind's settings, resolved once into ``config.stash[TIMING]`` (UsageError, exit 4,
    for bad values); ``rounds``/``warmup`` None: pytest-benchmark calibrates itself."""
    return once(config, TIMING, _timing)


def use_reference_floor(config: pytest.Config, floor_s: float | None) -> None:
    """The machine's usual reference-workload time, from the store (the recorder, at session start):
    benchmark items settle towards it (and the controller hands it to xdist workers)."""
    if floor_s is not None:
        config.stash[TIMING] = replace(timing_settings(config), reference_floor_s=floor_s)


def validate(config: pytest.Config) -> None:
    """Every value checked now (UsageError, exit 4), not when the first item runs."""
    timing_settings(config)
    compare_settings(config)
