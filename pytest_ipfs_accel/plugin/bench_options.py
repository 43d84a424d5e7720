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

``--ipfs-compare=last|last:N|RUN_ID`` / ``ipfs_compare``, ``--ipfs-fail-on-regression=PCT`` /
``ipfs_fail_on_regression``, ``--ipfs-fail-on-inconclusive`` / ``ipfs_fail_on_inconclusive`` and
``--ipfs-compare-any-machine`` / ``ipfs_compare_any_machine``: see
:mod:`pytest_ipfs_accel.plugin.gate` and :mod:`pytest_ipfs_accel.regression.gate`.
"""

from __future__ import annotations

import re

import pytest

from pytest_ipfs_accel.plugin.store_options import non_negative
from pytest_ipfs_accel.runtime.timing import TimingSettings

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
    ("compare", "last|last:N|RUN_ID", "compare each benchmark item with the same model/platform/precision/"
                                      "batch size in stored runs of this machine: 'last' (newest finished run "
                                      "with benchmark results), 'last:N' (the N newest, rounds pooled) or a run "
                                      "id; median slowdown beyond the threshold plus a Mann-Whitney U test on "
                                      "the raw rounds, the baseline runs' spread and the machine's load"),
    ("fail-on-regression", "PCT", "fail the session (exit 6) when a benchmark median is more than PCT "
                                  "percent slower than the baseline (e.g. 10, or 10 with a percent sign); implies "
                                  "--ipfs-compare=last when that is not given"),
)


_FLAGS = (
    ("compare-any-machine", "with --ipfs-compare: compare with a baseline recorded on another machine (different "
                            "runs.machine_id) instead of only reporting 'machine changed'"),
    ("fail-on-inconclusive", "with --ipfs-fail-on-regression: an item the gate cannot judge (too few rounds, "
                             "machine busy) fails the session too (exit 6); default: listed, never failing"),
)


def addoptions(parser: pytest.Parser) -> None:
    from pytest_ipfs_accel.plugin.options import register

    register(parser, [(name, metavar, help_text, "") for name, metavar, help_text in _OPTIONS], _FLAGS)


def _flag(config: pytest.Config, key: str) -> bool:
    try:
        cli = config.getoption(key)
    except ValueError:
        return False
    return bool(cli) if cli is not None else bool(config.getini(key))


def any_machine(config: pytest.Config) -> bool:
    """``--ipfs-compare-any-machine`` (or the ini key)."""
    return _flag(config, "ipfs_compare_any_machine")


def fail_on_inconclusive(config: pytest.Config) -> bool:
    """``--ipfs-fail-on-inconclusive`` (or the ini key)."""
    return _flag(config, "ipfs_fail_on_inconclusive")


def _raw(config: pytest.Config, key: str) -> str:
    try:
        cli = config.getoption(key)
    except ValueError:  # options not registered (plugin without this module wired in)
        return ""
    return str(cli if cli is not None else config.getini(key)).strip()


def _count(config: pytest.Config, key: str, minimum: int) -> int | None:
    raw = _raw(config, key)
    if not raw:
        return None
    if not re.fullmatch(r"\d+", raw) or int(raw) < minimum:
        raise pytest.UsageError(f"--{key.replace('_', '-')}: {raw!r} is not an integer >= {minimum}.")
    return int(raw)


def timing(config: pytest.Config) -> tuple[int, int] | None:
    """``(rounds, warmup)`` for ``benchmark.pedantic``, or None: let the fixture calibrate itself."""
    rounds = _count(config, "ipfs_benchmark_rounds", 1)
    warmup = _count(config, "ipfs_benchmark_warmup", 0)
    if rounds is None and warmup is None:
        return None
    return (DEFAULT_ROUNDS if rounds is None else rounds, DEFAULT_WARMUP if warmup is None else warmup)


def threads(config: pytest.Config) -> int | None:
    """``--ipfs-benchmark-threads``: an integer >= 1, or None for ``auto`` (the default:
    ``host.threads.default_threads``, read when a benchmark first times)."""
    raw = _raw(config, "ipfs_benchmark_threads")
    if not raw or raw.lower() == "auto":
        return None
    if not re.fullmatch(r"\d+", raw) or int(raw) < 1:
        raise pytest.UsageError(f"--ipfs-benchmark-threads: {raw!r} is not an integer >= 1 or 'auto'.")
    return int(raw)


def threshold(config: pytest.Config) -> float | None:
    """``--ipfs-fail-on-regression``: ``10%``/``10``/``2.5`` -> percent as a float; None when not given."""
    raw = _raw(config, "ipfs_fail_on_regression")
    if not raw:
        return None
    text = raw[:-1].strip() if raw.endswith("%") else raw
    return non_negative(text, "--ipfs-fail-on-regression", "a percentage >= 0 (e.g. 10%)", shown=repr(raw))


def explicit_compare(config: pytest.Config) -> bool:
    """Was ``--ipfs-compare`` (or its ini key) given, rather than implied by a threshold?"""
    return bool(_raw(config, "ipfs_compare"))


def compare_ref(config: pytest.Config) -> str | None:
    """``--ipfs-compare``: ``last`` or a run id; ``last`` when only a threshold was given; else None."""
    raw = _raw(config, "ipfs_compare")
    if raw:
        return raw
    return "last" if _raw(config, "ipfs_fail_on_regression") else None


def timing_settings(config: pytest.Config) -> TimingSettings:
    """The benchmark kind's settings, resolved once (UsageError, exit 4, for bad values)."""
    chosen = timing(config)
    rounds, warmup = chosen if chosen is not None else (None, None)
    return TimingSettings(rounds=rounds, warmup=warmup, threads=threads(config))


def validate(config: pytest.Config) -> None:
    """Every value checked now (UsageError, exit 4), not when the first item runs."""
    timing(config)
    threads(config)
    threshold(config)
