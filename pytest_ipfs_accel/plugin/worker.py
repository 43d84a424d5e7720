"""The xdist worker's side: collect with the controller's platform list, report what this machine has.

Registered only on xdist workers (``plugin.distributed.register``): at start-up it takes the
controller's platform list (so every worker collects the same items) and this worker's share of
the cores; after collection it sends the controller what it has and what each item needs.
"""

from __future__ import annotations

import pytest

from pytest_ipfs_accel.plugin import capabilities, wire


class WorkerPlugin:
    """Hooks of an xdist worker (``WorkerInteractor``'s side)."""

    def __init__(self, config: pytest.Config) -> None:
        from pytest_ipfs_accel.host.threads import share_cores

        self.config = config
        capabilities.set_collection_platforms(config.workerinput.get(wire.PLATFORMS))
        share_cores(int(config.workerinput.get("workercount", 1) or 1))

    @pytest.hookimpl(tryfirst=True)  # before xdist's worker sends "collectionfinish"
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        channel = self.config.workerinput.get(wire.CAPABILITY_CHANNEL)
        if channel is not None:
            channel.send(capabilities.worker_message(session.items))
