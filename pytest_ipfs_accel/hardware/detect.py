"""Detection: probe platforms once per process, honour IPFS_ACCEL_HW_DISABLE."""

from __future__ import annotations

import functools
import os
import warnings
from typing import Callable, Iterable

from pytest_ipfs_accel.hardware import registry
from pytest_ipfs_accel.hardware.platform import Platform, canonical, families, runtime_and_device
from pytest_ipfs_accel.hardware.spec import PlatformSpec

#: Comma list of platforms to hide, e.g. ``IPFS_ACCEL_HW_DISABLE=openvino,cuda``.
DISABLE_ENV = "IPFS_ACCEL_HW_DISABLE"


def disabled() -> frozenset[str]:
    """Canonical names hidden by the environment (families hide their devices too)."""
    raw = os.environ.get(DISABLE_ENV, "")
    return frozenset(canonical(x) for x in raw.split(",") if x.strip())


@functools.lru_cache(maxsize=None)
def _probe_cached(name: str, hidden: frozenset[str], generation: int) -> Platform:
    del generation  # part of the key only: a platform registered later is probed afresh
    family = name.partition(":")[0]
    if name in hidden or family in hidden:
        runtime, device = runtime_and_device(name)
        return Platform(name, runtime, device, False, f"hidden by {DISABLE_ENV}={os.environ.get(DISABLE_ENV, '')}")
    try:
        return registry.get(family).probe_fn()(name)
    except Exception as exc:  # a broken runtime install is an absence with its reason, never a crash
        runtime, device = runtime_and_device(name)
        return Platform(name, runtime, device, False, f"probe failed: {type(exc).__name__}: {exc}")


def probe(name: str) -> Platform:
    """The Platform for one name (any accepted spelling); cached per process."""
    return _probe_cached(canonical(name), disabled(), registry.generation())


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
    """Deprecated: return a PlatformSpec from a ``pytest_ipfs_platforms`` hook or an entry point instead.

    Kept working: adds a family whose ``:<device>`` spellings are lower-cased, served by ``runtime``
    (a backend ``backends.register_backend`` registered, or a built-in runtime), fp32 only unless
    ``runtime.parity.TOLERANCES`` gets other precisions for it.
    """
    warnings.warn("register_platform() is deprecated: return a pytest_ipfs_accel.hardware.PlatformSpec from a "
                  "pytest_ipfs_platforms(config) hook or a 'pytest_ipfs_accel.platforms' entry point",
                  DeprecationWarning, stacklevel=2)
    registry.add([PlatformSpec(family, runtime, device, probe_fn, devices="lower", precisions=LEGACY_PRECISIONS)],
                  "register_platform")


#: Precisions a platform added through the deprecated register_platform() may be asked for.
LEGACY_PRECISIONS = ("fp32", "fp16", "bf16")


def detected_names() -> list[str]:
    """Names of the platforms present here: the default for ``--ipfs-hw``."""
    return [p.name for p in detect() if p.available]
