"""Benchmark-kind and comparison options, each with its ini key.

``--ipfs-benchmark-rounds`` / ``ipfs_benchmark_rounds`` and ``--ipfs-benchmark-warmup`` /
``ipfs_benchmark_warmup``: when either is set, every benchmark item is timed with
``benchmark.pedantic(rounds=R, warmup_rounds=W, iterations=1)`` (R defaults to 100, W to 1).
When neither is set, the item calls the ``benchmark`` fixture plainly, so pytest-benchmark's own
``--benchmark-min-rounds``, ``--benchmark-max-time``, ``--benchmark-warmup`` ... decide.

``--ipfs-compare=last|last:N|RUN_ID`` / ``ipfs_compare``, ``--ipfs-fail-on-regression=PCT`` /
``ipfs_fail_on_regression`` and ``--ipfs-compare-any-machine`` / ``ipfs_compare_any_machine``:
see :mod:`pytest_ipfs_accel.store.compare` and :mod:`pytest_ipfs_accel.store.gate`.
"""

from __future__ import annotations

import re

import pytest

from .options import non_negative

DEFAULT_ROUNDS = 100
DEFAULT_WARMUP = 1

_OPTIONS = (
    ("benchmark-rounds", "N", "timed rounds per benchmark item (one call each); default: pytest-benchmark's "
                              f"own calibration, or {DEFAULT_ROUNDS} when --ipfs-benchmark-warmup is given"),
    ("benchmark-warmup", "N", "untimed calls before the timed rounds of each benchmark item; default: "
                              f"pytest-benchmark's --benchmark-warmup, or {DEFAULT_WARMUP} when "
                              "--ipfs-benchmark-rounds is given"),
    ("compare", "last|last:N|RUN_ID", "compare each benchmark item with the same model/platform/precision/"
                                      "batch size in stored runs of this machine: 'last' (newest finished run "
                                      "with benchmark results), 'last:N' (the N newest, rounds pooled) or a run "
                                      "id; median slowdown beyond the threshold plus a Mann-Whitney U test on "
                                      "the raw rounds"),
    ("fail-on-regression", "PCT", "fail the session (exit 6) when a benchmark median is more than PCT "
                                  "percent slower than the baseline (e.g. 10% or 10); implies "
                                  "--ipfs-compare=last when that is not given"),
)


_ANY_MACHINE_HELP = ("with --ipfs-compare: compare with a baseline recorded on another machine (different "
                     "runs.machine_id) instead of only reporting 'machine changed'")


def addoptions(parser: pytest.Parser) -> None:
    group = parser.getgroup("ipfs-accel", "pytest-ipfs-accel: models x hardware")
    for name, metavar, help_text in _OPTIONS:
        key = "ipfs_" + name.replace("-", "_")
        group.addoption(f"--ipfs-{name}", dest=key, default=None, metavar=metavar, help=help_text)
        parser.addini(key, help_text, default="")
    group.addoption("--ipfs-compare-any-machine", dest="ipfs_compare_any_machine", action="store_true",
                    default=None, help=_ANY_MACHINE_HELP)
    parser.addini("ipfs_compare_any_machine", _ANY_MACHINE_HELP, type="bool", default=False)


def any_machine(config: pytest.Config) -> bool:
    """``--ipfs-compare-any-machine`` (or the ini key)."""
    try:
        cli = config.getoption("ipfs_compare_any_machine")
    except ValueError:
        return False
    return bool(cli) if cli is not None else bool(config.getini("ipfs_compare_any_machine"))


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


def threshold(config: pytest.Config) -> float | None:
    """``--ipfs-fail-on-regression``: ``10%``/``10``/``2.5`` -> percent as a float; None when not given."""
    raw = _raw(config, "ipfs_fail_on_regression")
    if not raw:
        return None
    text = raw[:-1].strip() if raw.endswith("%") else raw
    return non_negative(text, "--ipfs-fail-on-regression", "a percentage >= 0 (e.g. 10%)", shown=repr(raw))


def compare_ref(config: pytest.Config) -> str | None:
    """``--ipfs-compare``: ``last`` or a run id; ``last`` when only a threshold was given; else None."""
    raw = _raw(config, "ipfs_compare")
    if raw:
        return raw
    return "last" if _raw(config, "ipfs_fail_on_regression") else None


def validate(config: pytest.Config) -> None:
    """Every value checked now (UsageError, exit 4), not when the first item runs."""
    timing(config)
    threshold(config)
