"""Settings of the browser runtime, set by the pytest plugin (this package never imports pytest)."""

from __future__ import annotations

import math
import os

BROWSER_TIMEOUT_ENV = "IPFS_ACCEL_BROWSER_TIMEOUT"
#: Seconds one browser step may take: launch, page load, session create, one run. Tiny models
#: create their session in about a second even on SwiftShader (browser-backends notes).
DEFAULT_BROWSER_TIMEOUT = 60.0

_OVERRIDE: list[float] = []


def set_step_timeout(seconds: float | None) -> None:
    """The plugin's resolved ``--ipfs-browser-timeout`` (None: back to the environment / default)."""
    _OVERRIDE[:] = [float(seconds)] if seconds is not None else []


def override() -> float | None:
    return _OVERRIDE[0] if _OVERRIDE else None


def step_timeout() -> float:
    """The set timeout, else ``$IPFS_ACCEL_BROWSER_TIMEOUT``, else :data:`DEFAULT_BROWSER_TIMEOUT`."""
    if _OVERRIDE:
        return _OVERRIDE[0]
    raw = os.environ.get(BROWSER_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_BROWSER_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"${BROWSER_TIMEOUT_ENV}: {raw!r} is not a number of seconds > 0")
    return value
