"""Process-wide settings of a run, on the controller and every worker alike: the device lock's
scope and run (``--ipfs-device-lock``), the browser step timeout (``--ipfs-browser-timeout``), and
the options that say how xdist work is spread (``--ipfs-dist``)."""

from __future__ import annotations

import os

import pytest

from pytest_ipfs_accel.browser.settings import BROWSER_TIMEOUT_ENV, DEFAULT_BROWSER_TIMEOUT
from pytest_ipfs_accel import settings
from pytest_ipfs_accel.plugin import wire
from pytest_ipfs_accel.plugin.options import checked, given


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


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

    found = given(config, "ipfs_device_lock")
    raw = found.text.lower() or "run"
    if raw not in SCOPES:
        raise pytest.UsageError(f"{found.where}: {raw!r} is not one of {', '.join(SCOPES)} "
                                "(run: this run's processes take turns; machine: every run on the machine).")
    return raw


def browser_timeout(config: pytest.Config) -> float:
    """``--ipfs-browser-timeout`` / ini / ``$IPFS_ACCEL_BROWSER_TIMEOUT``: seconds in (0, 86400] (else a
    UsageError); converted by ``settings.browser_timeout``, whichever of the three gave it."""
    found = given(config, "ipfs_browser_timeout")
    where, raw = found.where, found.text
    if not raw:
        where, raw = f"${BROWSER_TIMEOUT_ENV}", os.environ.get(BROWSER_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_BROWSER_TIMEOUT
    return checked(where, settings.browser_timeout, raw)


class RunSettings:
    """Process-wide settings of the run: the device lock's scope and run, the browser step timeout.

    Set at configure (a worker takes the controller's run id), put back at unconfigure, when the
    controller or a plain run also removes its run's lock folder (its workers are gone by then).
    """

    def __init__(self, config: pytest.Config, run_id: str | None = None) -> None:
        from pytest_ipfs_accel.browser import settings as browser_settings
        from pytest_ipfs_accel.host import devicelock

        self.config = config
        self._before = (devicelock.settings().scope, devicelock.settings().run_id,
                        browser_settings.override())
        devicelock.configure(lock_scope(config), _run_id(config, run_id))
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


def _run_id(config: pytest.Config, recorded: str | None) -> str:
    """The worker's controller's run id; else the recorder's run id (``recorded``); else a fresh one."""
    if is_worker(config) and config.workerinput.get(wire.LOCK_RUN):
        return str(config.workerinput[wire.LOCK_RUN])
    if recorded:
        return str(recorded)
    from pytest_ipfs_accel.store.schema import new_run_id  # --ipfs-db=none: an id of the same shape

    return new_run_id()


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
