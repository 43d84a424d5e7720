"""Statistics of timed rounds, one definition each: the benchmark kind, the pytest-benchmark JSON
importer and the reports all use these (p90/p99 interpolate like numpy's default, never nearest-rank)."""

from __future__ import annotations

import math
import statistics


def percentile(data: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default method) of ``data``; None when empty."""
    if not data:
        return None
    ordered = sorted(data)
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def coefficient_of_variation(data: list[float]) -> float | None:
    """stddev / mean of the rounds; None with fewer than two rounds or a zero mean."""
    if len(data) < 2:
        return None
    mean = statistics.fmean(data)
    return statistics.stdev(data) / mean if mean > 0 else None
