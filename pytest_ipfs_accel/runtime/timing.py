"""How benchmark items time: the settings the plugin resolves once at configure and stashes.

Cheap to import (the plugin does at start-up); the benchmark kind reads them with
``config.stash[TIMING]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

#: Default of ``--ipfs-benchmark-settle``: slowed episodes of this project's VM lasted 0.1-6 s.
DEFAULT_SETTLE_S = 10.0


@dataclass(frozen=True)
class TimingSettings:
    """How benchmark items time, resolved once from the options by the plugin (``TIMING`` in the stash).

    ``rounds``/``warmup`` for ``benchmark.pedantic`` (None: pytest-benchmark calibrates, with at
    least the gate's minimum of rounds); ``threads`` for every runtime (None: ``auto``);
    ``settle_s``: the most seconds an item waits for the machine to run at its usual speed before
    its rounds (``host.reference``; 0: never waits); ``reference_floor_s``: that usual speed, the
    store's figure for this machine (set at session start; None: not known, nothing is waited for)."""

    rounds: int | None = None
    warmup: int | None = None
    threads: int | None = None
    settle_s: float = DEFAULT_SETTLE_S
    reference_floor_s: float | None = None

    def thread_count(self) -> int:
        from pytest_ipfs_accel.host.threads import default_threads

        return self.threads if self.threads is not None else default_threads()


#: config.stash key of the run's TimingSettings (set by the plugin at configure).
TIMING = pytest.StashKey[TimingSettings]()
