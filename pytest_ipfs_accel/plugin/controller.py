"""The xdist controller's side: what each worker is handed, and who runs which item.

Registered only on the controller of an xdist run (``plugin.distributed.register``). It hands every
worker the platform list to collect with, the run whose device locks it shares and an execnet
channel to report its platforms on (``pytest_configure_node``; the keys are in ``plugin.wire``),
and provides :class:`~pytest_ipfs_accel.plugin.scheduler.ModelScheduling` for ``-n N`` / ``-d`` /
``--dist load`` unless the user named a ``--dist`` mode (or ``--ipfs-dist=xdist``).
"""

from __future__ import annotations

import os
import shlex

import pytest

from pytest_ipfs_accel.plugin import wire
from pytest_ipfs_accel.plugin.bench_options import timing_settings
from pytest_ipfs_accel.plugin.worker_registry import Registry


def _dist_named_by_user(config: pytest.Config) -> bool:
    args = list(config.invocation_params.args) + shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    try:
        args += list(config.getini("addopts"))
    except (ValueError, KeyError):
        pass
    return any(a == "--dist" or a.startswith("--dist=") for a in map(str, args))


def wants_model_scheduling(config: pytest.Config) -> bool:
    choice = getattr(config.option, "ipfs_dist", "auto") or "auto"
    if choice == "xdist" or config.getoption("dist", "no") != "load":
        return False
    return choice == "model" or not _dist_named_by_user(config)


class ControllerPlugin:
    """Hooks of the xdist controller (``DSession``'s side)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.registry = Registry()
        self.model_scheduling = wants_model_scheduling(config)  # resolved once, at configure

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        from pytest_ipfs_accel.generate.pipeline import resolve_platforms
        from pytest_ipfs_accel.plugin import RUN_CONFIG

        node.workerinput[wire.PLATFORMS] = resolve_platforms(self.config.stash[RUN_CONFIG])
        from pytest_ipfs_accel.host.devicelock import settings

        node.workerinput[wire.LOCK_RUN] = settings().run_id
        # this machine's usual speed: only for workers on this machine (popen), not ssh= / socket= ones
        local = bool(getattr(getattr(node.gateway, "spec", None), "popen", False))
        node.workerinput[wire.REFERENCE_FLOOR] = timing_settings(self.config).reference_floor_s if local else None
        channel = node.gateway.newchannel()
        channel.setcallback(self.registry.receiver(node.gateway.id))
        node.workerinput[wire.CAPABILITY_CHANNEL] = channel

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log):
        if not self.model_scheduling:
            return None
        from pytest_ipfs_accel.plugin.scheduler import ModelScheduling

        return ModelScheduling(config, self.registry, log)

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report, sched) -> None:
        """A crashed worker's item: a failed report whose first line is the crash, labelled for the store."""
        node = getattr(report, "node", None)
        if node is not None:
            report.worker_id = node.gateway.id
            del report.node  # else its text starts with the worker's platform line, not the crash
        report.longrepr = (f"{report.longrepr} (the worker process died: a crash in a runtime, e.g. a "
                           "segfault; the run went on without it)")
        meta = self.registry.meta.get(crashitem)
        if meta is not None and not hasattr(report, wire.ITEM_META):
            setattr(report, wire.ITEM_META, meta)
