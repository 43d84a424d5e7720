"""The generation table users expect: model x platform x batch -> TTFT ms, decode tokens/s, per-token p90."""

from __future__ import annotations

from typing import Any

HEADER = ("model", "platform", "batch", "TTFT ms", "decode tok/s", "per-token p90 ms", "prefill tok/s", "cv")


def _fmt(value: Any, scale: float = 1.0, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value * scale:.{digits}f}"


def rows(records: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """One row per generation record (benchmark rows with ``ttft_s``), sorted by model, platform, batch."""
    found = [r for r in records if r.get("ttft_s") is not None]
    found.sort(key=lambda r: (str(r.get("model")), str(r.get("platform")), r.get("batch_size") or 0))
    return [(str(r.get("model")), str(r.get("platform")), str(r.get("batch_size")), _fmt(r["ttft_s"], 1e3),
             _fmt(r.get("decode_tokens_per_s"), digits=0), _fmt(r.get("token_p90_s"), 1e3),
             _fmt(r.get("prefill_tokens_per_s"), digits=0), _fmt(r.get("cv"), digits=2)) for r in found]


def render(records: list[dict[str, Any]]) -> list[str]:
    """Aligned text lines (header first); no lines when no record is a generation one."""
    body = rows(records)
    if not body:
        return []
    widths = [max(len(HEADER[i]), *(len(row[i]) for row in body)) for i in range(len(HEADER))]
    line = lambda cells: "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    return [line(HEADER), *(line(row) for row in body)]
