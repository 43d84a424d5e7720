"""The plugin's markers: names, ``--markers`` help, and reading them off an item (no pytest import:
items are duck-typed; loaded at start-up, so nothing heavy)."""

from __future__ import annotations

import math
from typing import Any

MAX_SLOWDOWN = "ipfs_max_slowdown"

#: ``name(args): help`` lines, registered by the plugin's pytest_configure.
HELP = (
    "ipfs_model(name): generated test of model NAME (select with -m \"ipfs_model(name='bert')\")",
    "ipfs_hw(name): generated test on platform NAME (-m \"ipfs_hw(name='openvino')\")",
    "ipfs_kind(name): generated test of kind NAME: load, forward, parity, batch, benchmark",
    f"{MAX_SLOWDOWN}(fraction): this benchmark item's regression threshold, e.g. 0.3 = fail when the "
    "median is more than 30% slower than the baseline (overrides --ipfs-fail-on-regression)",
)


def labels(item) -> tuple[object, object, object]:
    """``(model, platform, kind)`` of a generated item, from its markers (the platform from its
    parameters first); ``None`` for each one it does not carry."""
    def marked(name: str) -> object:
        marker = item.get_closest_marker(name)
        return marker.kwargs.get("name") if marker is not None else None

    params = getattr(getattr(item, "callspec", None), "params", {})
    return marked("ipfs_model"), params.get("platform", marked("ipfs_hw")), marked("ipfs_kind")


def marker_slowdown(item: Any) -> float | None:
    """The item's ``ipfs_max_slowdown(fraction)``; ValueError naming the marker when malformed."""
    marker = item.get_closest_marker(MAX_SLOWDOWN) if hasattr(item, "get_closest_marker") else None
    if marker is None:
        return None
    raw = marker.args[0] if marker.args else marker.kwargs.get("fraction")
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw) or raw < 0:
        raise ValueError(f"@pytest.mark.{MAX_SLOWDOWN}({raw!r}): give a fraction >= 0, e.g. {MAX_SLOWDOWN}(0.3) for 30%")
    return float(raw)
