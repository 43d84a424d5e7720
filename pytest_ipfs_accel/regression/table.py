"""The gate's result as text: a terminal table and a GitHub Markdown table (same rows)."""

from __future__ import annotations

from pytest_ipfs_accel.regression.gate import ALPHA, Comparison
from pytest_ipfs_accel.regression.noise import MIN_ROUNDS, MIN_TIME_S

#: "baseline ms" / "now ms" are fastest rounds (the gate's figure); "median" is the medians' change.
HEADER = ("test", "baseline ms", "now ms", "change", "median", "threshold", "cv", "p", "verdict", "why")


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1e3:.4g}"


def row(c: Comparison) -> tuple[str, ...]:
    change = "–" if c.change is None else f"{c.percent:+.1f}%"
    median = "–" if c.median_change is None else f"{c.median_change * 100:+.1f}%"
    p = "–" if c.p_value is None else f"{c.p_value:.2g}"
    cv = "–" if c.cv is None else f"{c.cv * 100:.0f}%"
    base, now = (c.baseline_fastest_s, c.fastest_s) if c.fastest_s is not None else (c.baseline_median_s, c.median_s)
    return (c.node_id, _ms(base), _ms(now), change, median, f"{c.threshold * 100:g}%", cv, p,
            c.status, c.note)


def terminal(comparisons: list[Comparison]) -> list[str]:
    """Aligned plain-text lines: the header, then one line per item."""
    rows = [HEADER, *(row(c) for c in comparisons)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    left = (0, len(HEADER) - 2, len(HEADER) - 1)  # test, verdict and why read left-aligned
    return ["  ".join(text.ljust(w) if i in left else text.rjust(w) for i, (text, w) in enumerate(zip(r, widths)))
            .rstrip() for r in rows]


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


LEGEND = (f"ms: the fastest round (noise only adds time; *median*: the medians' change). A regression is a "
          f"fastest round slower than the threshold *and* than the baseline runs' own spread, measured on a "
          f"machine that was neither busy nor slower (a fixed reference workload timed beside each item), with a "
          f"one-sided Mann-Whitney U test on the raw rounds at p < {ALPHA:g} (p – : not needed or no rounds). "
          f"*inconclusive* (fewer than {MIN_ROUNDS} rounds or {MIN_TIME_S:g} s timed; load, other processes' CPU, "
          f"spread or the reference workload too high) never fails unless asked.")


def markdown(comparisons: list[Comparison], title: str = "") -> str:
    """A Markdown table (for ``$GITHUB_STEP_SUMMARY`` / PR comments) with a one-line legend."""
    lines = [f"### {title}", ""] if title else []
    lines += ["| " + " | ".join(HEADER) + " |", "|---|" + "--:|" * 7 + "---|---|"]
    for r in map(row, comparisons):
        verdict = f"**{r[-2]}**" if r[-2] == "regression" else r[-2]
        lines.append(f"| `{_md(r[0])}` | " + " | ".join(_md(x) for x in r[1:-2]) + f" | {verdict} | {_md(r[-1])} |")
    lines += ["", LEGEND]
    return "\n".join(lines) + "\n"


def summary(comparisons: list[Comparison]) -> str:
    counts: dict[str, int] = {}
    for c in comparisons:
        counts[c.status] = counts.get(c.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing compared"
