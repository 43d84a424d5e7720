"""What the regression gate knows about noise: enough rounds, a disturbed machine, the baseline's spread.

Three questions, each a pure function over a benchmark's stats dict (the ``runtime.bench`` record
or a ``benchmark_results`` row as a dict):

* :func:`too_few_rounds`: fewer than :data:`MIN_ROUNDS` timed rounds, or under :data:`MIN_TIME_S`
  seconds of timed calls in all, is too little for a verdict (one scheduler hiccup moves the
  median);
* :func:`busy_reason`: was the machine disturbed while the item was timed? The 1-minute load
  average (before or after) above the usable cores + :data:`BUSY_MARGIN`; other processes' CPU time
  (used or stolen by the hypervisor) during the timing above the cores the timing left free +
  :data:`BUSY_MARGIN`; or a coefficient of variation above :data:`CV_FACTOR` times the baseline's
  (and above :data:`CV_FLOOR`);
* :func:`reference_slower`: did a fixed pure-Python workload (``host.reference``), timed in the
  same process before and after the item's rounds, run slower than in the baseline runs?
  Then the machine, not the code, is slower (the episodes in which a whole VM runs slower show
  nowhere else). Benchmark items wait for the machine's usual speed before timing, so this is
  rare: a wait that ran out (``--ipfs-benchmark-settle``);
* :func:`at_usual_speed`: the baseline runs that were timed while the machine ran at its usual
  speed (by the reference workload); the others are left out of the baseline;
* :func:`fastest_s` and :func:`spread`: the figure the gate compares -- the item's fastest round:
  noise only ever adds time, so the fastest round moves when the code does and barely otherwise --
  and how far apart the baseline runs' fastest rounds are (``last:N``, robustly: 3 median absolute
  deviations), which a slowdown must exceed before it is called a regression.

The report can call :func:`busy_reason` on stored rows to mark those measured on a loaded machine.
"""

from __future__ import annotations

import statistics
from typing import Any

from pytest_ipfs_accel.host import reference

#: Fewest timed rounds before the gate gives any verdict on an item.
MIN_ROUNDS = 10
#: Fewest seconds of timed calls (rounds x iterations x mean) before any verdict.
MIN_TIME_S = 0.05
#: Load or other processes' CPU beyond what the timing left free, in cores, that marks a busy machine.
BUSY_MARGIN = 0.5
#: A coefficient of variation this many times the baseline's (and above CV_FLOOR) marks a disturbed timing.
CV_FACTOR = 3.0
CV_FLOOR = 0.10
#: The baseline runs' spread is this many median absolute deviations of their fastest rounds.
SPREAD_MADS = 3.0
#: A reference workload this much slower than in the baseline runs marks a slower machine (the margin
#: the benchmark kinds settle to before their rounds).
REFERENCE_MARGIN = reference.MARGIN


def _number(stats: dict[str, Any], key: str) -> float | None:
    value = stats.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def rounds_of(stats: dict[str, Any]) -> int | None:
    """Timed rounds: the raw rounds kept, else the ``rounds`` count; None when neither is known."""
    raw = stats.get("rounds_s")
    if raw:
        return len(raw)
    count = _number(stats, "rounds")
    return None if count is None else int(count)


def timed_s(stats: dict[str, Any]) -> float | None:
    """Seconds spent in timed calls: rounds x iterations x mean (the median without a mean)."""
    rounds = rounds_of(stats)
    per_call = _number(stats, "mean_s") or _number(stats, "median_s")
    if rounds is None or per_call is None:
        return None
    return rounds * (_number(stats, "iterations") or 1) * per_call


def too_few_rounds(stats: dict[str, Any], rounds: int | None = None, seconds: float | None = None) -> str | None:
    """Why ``stats`` (or the given totals) are too little to judge; None when enough or not known."""
    rounds = rounds_of(stats) if rounds is None else rounds
    seconds = timed_s(stats) if seconds is None else seconds
    if (rounds is not None and rounds < MIN_ROUNDS) or (seconds is not None and seconds < MIN_TIME_S):
        shown = "?" if seconds is None else f"{seconds:.2g}"
        return (f"{rounds if rounds is not None else '?'} rounds, {shown} s timed; the gate needs >= {MIN_ROUNDS} "
                f"rounds and >= {MIN_TIME_S:g} s (--ipfs-benchmark-rounds)")
    return None


def busy_reason(stats: dict[str, Any], cores: int | None, base_cv: float | None = None) -> str | None:
    """Why the timing in ``stats`` looks disturbed by other work on the machine, or None."""
    cores = max(1, int(cores or 1))
    threads = min(cores, int(_number(stats, "threads") or cores))
    free = cores - threads
    loads = [v for v in (_number(stats, "load_before"), _number(stats, "load_after")) if v is not None]
    if loads and max(loads) > cores + BUSY_MARGIN:
        return f"load average {max(loads):.1f} on {cores} cores"
    other, seconds = _number(stats, "other_cpu_s"), timed_s(stats)
    if other is not None and seconds and other / seconds > free + BUSY_MARGIN:
        return (f"other processes used {other / seconds:.1f} cores while timing with {threads} of {cores} "
                "threads")
    cv = _number(stats, "cv")
    if cv is not None and base_cv and cv > max(CV_FLOOR, CV_FACTOR * base_cv):
        return f"cv {cv:.0%} against the baseline's {base_cv:.0%}"
    return None


def fastest_s(stats: dict[str, Any]) -> float | None:
    """The item's fastest round: the least raw round, else ``min_s``, else the median (old rows)."""
    raw = [float(x) for x in stats.get("rounds_s") or () if isinstance(x, (int, float))]
    if raw:
        return min(raw)
    return _number(stats, "min_s") or _number(stats, "median_s")


def fast_rounds(rounds: list[float]) -> list[float]:
    """The fastest quarter of ``rounds`` (at least :data:`MIN_ROUNDS` // 2): the part of a run the gate
    tests for a shift, as it judges the fastest round -- the slow tail is where the noise lives."""
    keep = max(MIN_ROUNDS // 2, len(rounds) // 4)
    return sorted(rounds)[:keep]


def spread(values: list[float]) -> float:
    """Between-run noise of the baseline runs' figures (``last:N``): 3 x their median absolute
    deviation over their median, a fraction (0.0 with fewer than two runs). Robust: one baseline run
    that ran on a slowed machine does not widen it."""
    known = [v for v in values if v and v > 0]
    if len(known) < 2:
        return 0.0
    middle = statistics.median(known)
    return SPREAD_MADS * statistics.median(abs(v / middle - 1.0) for v in known)


def reference_slower(stats: dict[str, Any], base_reference_s: float | None) -> str | None:
    """Why the machine itself looks slower than in the baseline runs: the fixed reference workload
    (``host.reference``, timed in the same process) ran more than :data:`REFERENCE_MARGIN` slower than
    ``base_reference_s`` (the median of the baseline runs timed at the usual speed);
    None when it did not, or when either side has no reference figure (rows before v9)."""
    now = _number(stats, "reference_s")
    if now is None or not base_reference_s or base_reference_s <= 0:
        return None
    change = now / base_reference_s - 1.0
    if change <= REFERENCE_MARGIN:
        return None
    return (f"the machine ran a fixed reference workload {change * 100:.0f}% slower than in the baseline runs "
            "(host.reference): a slower machine, not slower code")


def at_usual_speed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The baseline runs of one item that were timed at the machine's usual speed: their reference
    workload (``reference_s``) within :data:`REFERENCE_MARGIN` of the fastest of them. A run timed
    while the machine was slower would widen the spread and hide a real slowdown. Rows without a
    reference figure (before v9) are all kept."""
    known = [float(r["reference_s"]) for r in rows if _number(r, "reference_s")]
    if not known:
        return rows
    limit = min(known) * (1.0 + REFERENCE_MARGIN)
    return [r for r in rows if not _number(r, "reference_s") or float(r["reference_s"]) <= limit]


def typical_cv(values: list[Any]) -> float | None:
    """The median of the baseline runs' coefficients of variation (None when none is known)."""
    known = [float(v) for v in values if isinstance(v, (int, float)) and v >= 0]
    return statistics.median(known) if known else None
