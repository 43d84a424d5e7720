"""What collection uses (decided once, by the controller) and what a worker reports it has.

Collection must be identical on every worker, so the default platform list (no ``--ipfs-hw``)
is the controller's detection, handed to every worker in ``workerinput``; what a worker really
has is probed after collection and reported to the controller's scheduler (``probe_needs``).
"""

from __future__ import annotations

from typing import Any

#: Set on a worker from workerinput (``plugin.wire.PLATFORMS``); passed to generate.pipeline.plan by plugin.collect.
_collection_platforms: list[str] | None = None


def set_collection_platforms(names: list[str] | None) -> None:
    global _collection_platforms
    _collection_platforms = list(names) if names is not None else None


def collection_platforms() -> list[str] | None:
    """The controller-decided default platforms on an xdist worker; None elsewhere."""
    return _collection_platforms


def needed_platform(item) -> str | None:
    """The platform a generated item runs on (its ``ipfs_hw`` marker), None for other items."""
    marker = item.get_closest_marker("ipfs_hw")
    return marker.kwargs.get("name") if marker is not None else None


def probe_needs(platforms: set[str]) -> tuple[list[str], dict[str, str]]:
    """(available platforms, {missing platform: reason}) in this process."""
    from pytest_ipfs_accel.hardware import probe

    have, missing = [], {}
    for name in sorted(platforms):
        found = probe(name)
        if found.available:
            have.append(name)
        else:
            missing[name] = found.reason or "not available"
    return have, missing


def worker_message(items) -> dict[str, Any]:
    """What a worker sends after collection: what it has, and what each item needs (plus the
    item's store labels, so the controller can record an item no worker can run)."""
    from pytest_ipfs_accel.plugin.recorder import item_meta

    needs: dict[str, str] = {}
    meta: dict[str, dict] = {}
    for item in items:
        platform = needed_platform(item)
        if platform is not None:
            needs[item.nodeid] = platform
            labels = item_meta(item)
            if labels is not None:
                meta[item.nodeid] = labels
    have, missing = probe_needs(set(needs.values()))
    return {"have": have, "missing": missing, "needs": needs, "meta": meta}
