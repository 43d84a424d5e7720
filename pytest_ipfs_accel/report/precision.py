"""What a precision buys and costs, from a run's benchmark rows: speed-ups side by side with accuracy.

``speedup_fp32`` is the fp32 median on the same platform and batch size over this row's median;
``speedup_torch`` the torch cpu fp32 median (platform ``cpu``) over it. Both None when the run has no
such row. The per-model table (platform x precision -> median, items/s, speed-ups, cosine, top-1,
artifact size) is what the HTML and Markdown reports and ``benchmarks/precision_sweep.py`` show.
"""

from __future__ import annotations

from typing import Any

#: The platform whose fp32 median every speed-up is also given against.
REFERENCE_PLATFORM = "cpu"
COLUMNS = ("platform", "precision", "batch", "median ms", "items/s", "x fp32", "x torch cpu", "cosine", "top-1",
           "size MB")


def add_speedups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Set ``speedup_fp32`` and ``speedup_torch`` on every row (in place); returns ``rows``."""
    fp32 = {(r.get("model"), r.get("platform"), r.get("batch_size")): r.get("median_s") for r in rows
            if (r.get("precision") or "fp32") == "fp32"}
    for row in rows:
        median = row.get("median_s")
        key = (row.get("model"), row.get("platform"), row.get("batch_size"))
        row["speedup_fp32"] = _ratio(fp32.get(key), median)
        row["speedup_torch"] = _ratio(fp32.get((row.get("model"), REFERENCE_PLATFORM, row.get("batch_size"))), median)
    return rows


def _ratio(base: float | None, median: float | None) -> float | None:
    return base / median if base and median else None


def by_model(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """model -> its rows ordered by platform, precision (fp32 first), batch size; only models timed in more
    than one precision or platform (a single row has nothing to set side by side)."""
    order = {"fp32": 0, "fp16": 1, "bf16": 2, "int8-weights": 3, "int8-dynamic": 4, "int8": 5, "int4": 6}
    tables: dict[str, list[dict[str, Any]]] = {}
    for row in add_speedups(rows):
        tables.setdefault(str(row.get("model") or "?"), []).append(row)
    return {model: sorted(found, key=lambda r: (str(r.get("platform")), order.get(r.get("precision") or "fp32", 9),
                                                r.get("batch_size") or 0))
            for model, found in sorted(tables.items()) if len(found) > 1}


def cells(row: dict[str, Any]) -> list[str]:
    """One table row as text, in :data:`COLUMNS` order."""
    return [str(row.get("platform") or "–"), str(row.get("precision") or "fp32"), _int(row.get("batch_size")),
            _ms(row.get("median_s")), _num(row.get("items_per_s")), _x(row.get("speedup_fp32")),
            _x(row.get("speedup_torch")), _fixed(row.get("cosine"), 4), _fixed(row.get("top1"), 3),
            _fixed(row.get("artifact_mb"), 2)]


def text_table(rows: list[dict[str, Any]]) -> list[str]:
    """Plain-text lines: per model a heading and an aligned table (terminal, the sweep script)."""
    lines: list[str] = []
    for model, found in by_model(rows).items():
        body = [list(COLUMNS), *(cells(r) for r in found)]
        widths = [max(len(r[i]) for r in body) for i in range(len(COLUMNS))]
        lines.append(f"{model}:")
        lines += ["  " + "  ".join(c.rjust(w) if i > 1 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
                  for r in body]
    return lines


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    value = seconds * 1000
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def _num(value: float | None) -> str:
    return "–" if value is None else (f"{value:,.0f}" if value >= 100 else f"{value:.3g}")


def _x(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}x"


def _fixed(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _int(value: Any) -> str:
    return "–" if value is None else str(value)
