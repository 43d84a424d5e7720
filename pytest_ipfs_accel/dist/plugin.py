"""The xdist side of the plugin, registered by ``register(config)`` for runs that generate tests.

Controller: hands every worker the platform list to collect with and an execnet channel to report
on (``pytest_configure_node``), and provides :class:`ModelScheduling` for ``-n N`` / ``-d`` /
``--dist load`` unless the user named a ``--dist`` mode on the command line (or
``--ipfs-dist=xdist``). Worker: collects with the controller's platform list and, after
collection, reports what it has and what each item needs.
"""

from __future__ import annotations

import os
import shlex

import pytest

from . import capabilities
from .registry import Registry

PLUGIN_NAME = "ipfs-accel-dist"


def addoptions(parser: pytest.Parser) -> None:
    group = parser.getgroup("ipfs-accel", "pytest-ipfs-accel: models x hardware")
    group.addoption("--ipfs-dist", dest="ipfs_dist", default="auto", choices=("auto", "model", "xdist"),
                    help="under xdist: 'model' schedules by model and hardware (one worker per model group, "
                         "items only on workers that have their platform); 'xdist' leaves --dist alone; "
                         "'auto' (default) is 'model' unless a --dist mode is named on the command line")


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def register(config: pytest.Config) -> None:
    """Call from pytest_configure when models are active (controller, workers and plain runs)."""
    from .benchmark import install as install_benchmark

    install_benchmark(config)
    if config.pluginmanager.has_plugin("xdist") and not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(DistPlugin(config), PLUGIN_NAME)


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


class DistPlugin:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.registry = Registry()
        if is_worker(config):
            from .benchmark import share_cores

            capabilities.set_collection_platforms(config.workerinput.get(capabilities.PLATFORMS_KEY))
            share_cores(int(config.workerinput.get("workercount", 1) or 1))

    # -- controller -----------------------------------------------------------------------------
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        from ..generate.pipeline import resolve_platforms
        from ..plugin import RUN_CONFIG

        node.workerinput[capabilities.PLATFORMS_KEY] = resolve_platforms(self.config.stash[RUN_CONFIG])
        channel = node.gateway.newchannel()
        channel.setcallback(self.registry.receiver(node.gateway.id))
        node.workerinput[capabilities.CHANNEL_KEY] = channel

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log):
        if not wants_model_scheduling(config):
            return None
        from .scheduler import ModelScheduling

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
        if meta is not None and not hasattr(report, "ipfs_accel"):
            report.ipfs_accel = meta

    # -- worker ---------------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)  # before xdist's worker sends "collectionfinish"
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not is_worker(self.config):
            return
        channel = self.config.workerinput.get(capabilities.CHANNEL_KEY)
        if channel is not None:
            channel.send(capabilities.worker_message(session.items))
