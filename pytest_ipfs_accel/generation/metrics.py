"""optimum-benchmark's text-generation figures, from the timings of repeated generations.

Definitions (optimum-benchmark 0.6, ``scenarios/inference/scenario.py`` with its per-token
latency tracker): prefill latency = time to the first new token (TTFT); decode latency = total
generate latency minus prefill; per-token latency = the time between consecutive new tokens;
decode tokens/s = batch x (N - 1) / decode latency. optimum-benchmark's prefill throughput counts
samples (batch / prefill); ours counts prompt tokens (batch x P / prefill), as the issue asks.

Each figure here is the median over the repeats (never the mean); the spread is kept (stddev, cv and
min/max of the total, and the raw per-repeat timings in ``token_times_s``). Per-token percentiles
pool every step of every repeat.
"""

from __future__ import annotations

import statistics
from typing import Any

from pytest_ipfs_accel.generation.result import Generation
from pytest_ipfs_accel.rounds import coefficient_of_variation, percentile


def _per_s(amount: float, seconds: float | None) -> float | None:
    return amount / seconds if seconds and seconds > 0 else None


def summarize(runs: list[Generation], batch: int, prompt_tokens: int, new_tokens: int) -> dict[str, Any]:
    """The record's timing fields (seconds, tokens/s) from ``runs`` (at least one)."""
    if not runs:
        raise ValueError("no generation was timed")
    totals = [r.total_s for r in runs]
    prefills = [r.ttft_s for r in runs]
    decodes = [max(r.total_s - r.ttft_s, 0.0) for r in runs]
    steps = [s for r in runs for s in r.steps_s]
    ttft, decode, median = statistics.median(prefills), statistics.median(decodes), statistics.median(totals)
    return {
        "median_s": median, "mean_s": statistics.fmean(totals), "min_s": min(totals), "max_s": max(totals),
        "stddev_s": statistics.stdev(totals) if len(totals) > 1 else 0.0, "cv": coefficient_of_variation(totals),
        "p90_s": percentile(totals, 90), "p99_s": percentile(totals, 99), "rounds": len(runs), "iterations": 1,
        "ops_per_s": _per_s(1, median), "items_per_s": _per_s(batch, median),
        "rounds_s": totals, "ttft_s": ttft, "decode_s": decode,
        "token_p50_s": percentile(steps, 50), "token_p90_s": percentile(steps, 90),
        "token_p99_s": percentile(steps, 99),
        "prefill_tokens_per_s": _per_s(batch * prompt_tokens, ttft),
        "decode_tokens_per_s": _per_s(batch * (new_tokens - 1), decode),
        "prompt_tokens": prompt_tokens, "new_tokens": new_tokens, "batch_size": batch,
        "token_times_s": [{"ttft": r.ttft_s, "steps": r.steps_s, "total": r.total_s} for r in runs],
    }
