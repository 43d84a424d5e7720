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

from pytest_ipfs_accel.browser.settings import BROWSER_TIMEOUT_ENV, DEFAULT_BROWSER_TIMEOUT
from pytest_ipfs_accel.plugin import capabilities, wire
from pytest_ipfs_accel.plugin.worker_registry import Registry

PLUGIN_NAME = "ipfs-accel-dist"
LOCK_PLUGIN_NAME = "ipfs-accel-device-lock"
#: workerinput key: the controller's run id, so its workers share its device locks.
LOCK_RUN_KEY = wire.LOCK_RUN


def addoptions(parser: pytest.Parser) -> None:
    group = parser.getgroup("ipfs-accel", "pytest-ipfs-accel: models x hardware")
    group.addoption("--ipfs-dist", dest="ipfs_dist", default="auto", choices=("auto", "model", "xdist"),
                    help="under xdist: 'model' schedules by model and hardware (one worker per model group, "
                         "items only on workers that have their platform); 'xdist' leaves --dist alone; "
                         "'auto' (default) is 'model' unless a --dist mode is named on the command line")


    lock_help = ("who takes turns timing on a device: 'run' (default) the controller and xdist workers of "
                 "this run; 'machine' every pytest-ipfs-accel run on this machine (shared benchmark boxes)")
    group.addoption("--ipfs-device-lock", dest="ipfs_device_lock", default=None, metavar="run|machine",
                    help=lock_help)
    parser.addini("ipfs_device_lock", lock_help, default="run")
    browser_help = (f"seconds one browser step (launch, page load, session create, one run) may take before it "
                    f"fails as class 'timeout' (default {DEFAULT_BROWSER_TIMEOUT:g}; also ${BROWSER_TIMEOUT_ENV})")
    group.addoption("--ipfs-browser-timeout", dest="ipfs_browser_timeout", default=None, metavar="S",
                    help=browser_help)
    parser.addini("ipfs_browser_timeout", browser_help, default="")


def lock_scope(config: pytest.Config) -> str:
    """``--ipfs-device-lock`` / ini ``ipfs_device_lock``: ``run`` or ``machine`` (else a UsageError)."""
    from pytest_ipfs_accel.host.devicelock import SCOPES

    cli = config.getoption("ipfs_device_lock", None)
    raw = str(cli if cli is not None else config.getini("ipfs_device_lock") or "run").strip().lower()
    if raw not in SCOPES:
        raise pytest.UsageError(f"--ipfs-device-lock: {raw!r} is not one of {', '.join(SCOPES)} "
                                "(run: this run's processes take turns; machine: every run on the machine).")
    return raw


def browser_timeout(config: pytest.Config) -> float:
    """``--ipfs-browser-timeout`` / ini / ``$IPFS_ACCEL_BROWSER_TIMEOUT``: seconds > 0 (else a UsageError)."""
    import math

    cli = config.getoption("ipfs_browser_timeout", None)
    raw, where = (cli, "--ipfs-browser-timeout") if cli is not None else (config.getini("ipfs_browser_timeout"),
                                                                            "ipfs_browser_timeout")
    if not str(raw or "").strip():
        raw, where = os.environ.get(BROWSER_TIMEOUT_ENV, ""), f"${BROWSER_TIMEOUT_ENV}"
    if not str(raw or "").strip():
        return DEFAULT_BROWSER_TIMEOUT
    try:
        value = float(str(raw).strip())
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= 86400):
        raise pytest.UsageError(f"{where}: {raw!r} is not a number of seconds between 0 and 86400 "
                                f"(e.g. --ipfs-browser-timeout={DEFAULT_BROWSER_TIMEOUT:g}).")
    return value


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def register(config: pytest.Config) -> None:
    """Call from pytest_configure when models are active (controller, workers and plain runs)."""
    from pytest_ipfs_accel.plugin.benchmark_xdist import install as install_benchmark

    if not config.pluginmanager.has_plugin(LOCK_PLUGIN_NAME):
        config.pluginmanager.register(RunSettings(config), LOCK_PLUGIN_NAME)
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
            from pytest_ipfs_accel.host.threads import share_cores

            capabilities.set_collection_platforms(config.workerinput.get(capabilities.PLATFORMS_KEY))
            share_cores(int(config.workerinput.get("workercount", 1) or 1))

    # -- controller -----------------------------------------------------------------------------
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        from pytest_ipfs_accel.generate.pipeline import resolve_platforms
        from pytest_ipfs_accel.plugin import RUN_CONFIG

        node.workerinput[capabilities.PLATFORMS_KEY] = resolve_platforms(self.config.stash[RUN_CONFIG])
        from pytest_ipfs_accel.host.devicelock import settings

        node.workerinput[LOCK_RUN_KEY] = settings().run_id
        channel = node.gateway.newchannel()
        channel.setcallback(self.registry.receiver(node.gateway.id))
        node.workerinput[capabilities.CHANNEL_KEY] = channel

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log):
        if not wants_model_scheduling(config):
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

    # -- worker ---------------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)  # before xdist's worker sends "collectionfinish"
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not is_worker(self.config):
            return
        channel = self.config.workerinput.get(capabilities.CHANNEL_KEY)
        if channel is not None:
            channel.send(capabilities.worker_message(session.items))


class RunSettings:
    """Process-wide settings of the run: the device lock's scope and run, the browser step timeout.

    Set at configure (a worker takes the controller's run id), put back at unconfigure, when the
    controller or a plain run also removes its run's lock folder (its workers are gone by then).
    """

    def __init__(self, config: pytest.Config) -> None:
        from pytest_ipfs_accel.browser import settings as browser_settings
        from pytest_ipfs_accel.host import devicelock

        self.config = config
        self._before = (devicelock.settings().scope, devicelock.settings().run_id,
                        browser_settings.override())
        devicelock.configure(lock_scope(config), _run_id(config))
        devicelock.set_notifier(_notifier(config))
        browser_settings.set_step_timeout(browser_timeout(config))

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        from pytest_ipfs_accel.browser import settings as browser_settings
        from pytest_ipfs_accel.host import devicelock

        devicelock.release_held()
        if not is_worker(config):
            devicelock.remove_run_dir()
        scope, run_id, timeout = self._before
        devicelock.configure(scope, run_id)
        devicelock.set_notifier(None)
        browser_settings.set_step_timeout(timeout)


def _run_id(config: pytest.Config) -> str:
    """The worker's controller's run id; else the recorder's run id; else a fresh one."""
    if is_worker(config) and config.workerinput.get(LOCK_RUN_KEY):
        return str(config.workerinput[LOCK_RUN_KEY])
    recorder = config.pluginmanager.get_plugin("ipfs-accel-recorder")
    if getattr(recorder, "run_id", None):
        return str(recorder.run_id)
    import secrets
    import time

    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def _notifier(config: pytest.Config):
    """Lock-wait notices on the real stderr, outside output capture (a worker's reaches the terminal)."""
    import contextlib
    import sys
    import threading

    capman = config.pluginmanager.getplugin("capturemanager")

    def notify(line: str) -> None:
        main = threading.current_thread() is threading.main_thread()
        with capman.global_and_fixture_disabled() if capman is not None and main else contextlib.nullcontext():
            sys.stderr.write(f"\n{line}\n")
            sys.stderr.flush()

    return notify

