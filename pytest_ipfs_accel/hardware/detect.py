"""Detection: probe platforms once per process, honour IPFS_ACCEL_HW_DISABLE."""

from __future__ import annotations

import functools
import os
from typing import Callable, Iterable

from pytest_ipfs_accel.hardware.platform import EXTRA_FAMILIES, Platform, canonical, families, runtime_and_device
from pytest_ipfs_accel.hardware.probes import PROBES

#: Comma list of platforms to hide, e.g. ``IPFS_ACCEL_HW_DISABLE=openvino,cuda``.
DISABLE_ENV = "IPFS_ACCEL_HW_DISABLE"


def disabled() -> frozenset[str]:
    """Canonical names hidden by the environment (families hide their devices too)."""
    raw = os.environ.get(DISABLE_ENV, "")
    return frozenset(canonical(x) for x in raw.split(",") if x.strip())


@functools.lru_cache(maxsize=None)
def _probe_cached(name: str, hidden: frozenset[str]) -> Platform:
    family = name.partition(":")[0]
    if name in hidden or family in hidden:
        runtime, device = runtime_and_device(name)
        return Platform(name, runtime, device, False, f"hidden by {DISABLE_ENV}={os.environ.get(DISABLE_ENV, '')}")
    try:
        return PROBES[family](name)
    except Exception as exc:  # a broken runtime install is an absence with its reason, never a crash
        runtime, device = runtime_and_device(name)
        return Platform(name, runtime, device, False, f"probe failed: {type(exc).__name__}: {exc}")


def probe(name: str) -> Platform:
    """The Platform for one name (any accepted spelling); cached per process."""
    return _probe_cached(canonical(name), disabled())


def detect() -> list[Platform]:
    """Every platform family, probed: built-in ones first, then registered ones."""
    return [probe(family) for family in families()]


def auto_order(names: Iterable[str]) -> list[str]:
    """``names`` in the order an ``auto`` choice tries them: every platform whose probe finds real
    hardware first, then the emulated ones (a simulator, a software adapter: ``Platform.emulated``),
    each group in the order given. Names are returned as given; duplicates are dropped."""
    names = list(dict.fromkeys(names))
    return sorted(names, key=lambda name: probe(name).emulated != "no")


def register_platform(family: str, runtime: str, device: str, probe_fn: Callable[[str], Platform]) -> None:
    """Add a platform family (``--ipfs-hw=<family>[:<device>]``) from another plugin.

    Call it at import time of your plugin or conftest, before options are read;
    ``runtime`` names a backend registered with ``backends.register_backend``.
    """
    if not family.isidentifier() or family != family.lower():
        raise ValueError(f"platform family {family!r} must be a lower-case identifier")
    EXTRA_FAMILIES[family] = (runtime, device)
    PROBES[family] = probe_fn
    _probe_cached.cache_clear()


def detected_names() -> list[str]:
    """Names of the platforms present here: the default for ``--ipfs-hw``."""
    return [p.name for p in detect() if p.available]
