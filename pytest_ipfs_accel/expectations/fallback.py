"""Silent-fallback detection: does what executed the work match what was asked for?

Runners report ``info["requested"]`` (the device asked for) and ``info["executed_on"]``: a
comma list of ``NAME`` or ``NAME: N nodes`` entries, e.g. ``"CUDAExecutionProvider: 120 nodes,
CPUExecutionProvider: 3 nodes"`` (ONNX Runtime), ``"CPU"`` (OpenVINO), ``"cuda:0"`` (torch).
"""

from __future__ import annotations

import re

_ENTRY = re.compile(r"^\s*(?P<name>.+?)(?:\s*:\s*\d+\s+nodes?)?\s*$")
#: Requests that let the runtime choose the device: anything it picks is what was asked for.
_ANY_DEVICE = ("AUTO", "MULTI", "HETERO", "BATCH")


def devices(executed_on: str) -> list[str]:
    """The device / provider names in an ``executed_on`` string (node counts dropped)."""
    names = []
    for part in executed_on.split(","):
        if not part.strip():
            continue
        match = _ENTRY.match(part)
        name = match.group("name") if match else part
        names.append(name.strip())
    return names


def _same(requested: str, name: str) -> bool:
    """``GPU`` matches ``GPU.0``, ``cuda`` matches ``cuda:0``; names compare case-insensitively."""
    r, n = requested.lower(), name.lower()
    return n == r or n.startswith(f"{r}.") or n.startswith(f"{r}:")


def mismatch(requested: str | None, executed_on: str | None) -> str | None:
    """None when the work ran where asked (or either side is unknown), else a one-line explanation."""
    if not requested or not executed_on:
        return None
    base = requested.split(":")[0].split("(")[0].upper()
    if base in _ANY_DEVICE:
        return None
    elsewhere = [d for d in devices(executed_on) if not _same(requested, d)]
    if not elsewhere:
        return None
    return f"asked for {requested}, but the work ran on {executed_on}"
