"""The "failures by class" block of the terminal summary."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any


def lines(classified: list[tuple[str, str, dict[str, Any]]], shown: int) -> list[str]:
    """One count line per class (with failed / xfailed split), then up to ``shown`` items."""
    by_class: dict[str, Counter] = defaultdict(Counter)
    for _, outcome, failure in classified:
        by_class[failure["failure_class"]][outcome] += 1
    out = []
    for name, counts in sorted(by_class.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        split = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        out.append(f"{name:<9} {sum(counts.values()):>4}  ({split})")
    ordered = sorted(classified, key=lambda c: (c[1] != "failed", c[2]["failure_class"], c[0]))
    for nodeid, outcome, failure in ordered[:shown]:
        out.append(f"  {failure['failure_class']:<9} {outcome:<8} {nodeid}{_extra(failure)}")
    if len(ordered) > shown:
        out.append(f"  ... and {len(ordered) - shown} more (the results store has them all)")
    return out


def _extra(failure: dict[str, Any]) -> str:
    parts = []
    if failure.get("max_abs_diff") is not None:
        parts.append(f"max |diff| {failure['max_abs_diff']:.3g}")
    if failure.get("max_rel_diff") is not None:
        parts.append(f"max rel {failure['max_rel_diff']:.3g}")
    if failure.get("failure_class") == "fallback" and failure.get("executed_on"):
        parts.append(f"ran on {failure['executed_on']}")
    if failure.get("expected"):
        parts.append(f"expected {failure['expected']}")
    return f"  [{'; '.join(parts)}]" if parts else ""
