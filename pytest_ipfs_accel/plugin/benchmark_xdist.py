"""pytest-benchmark under xdist, and one timing per device at a time.

pytest-benchmark turns itself off when xdist is active (``BenchmarkSession.__init__`` sees
``--dist`` on the controller or ``PYTEST_XDIST_WORKER`` on a worker) and then refuses
``--benchmark-only``. :func:`install` replaces its session class with one constructed as if xdist
were absent; workers then time for real and do not write ``--benchmark-json``/``--benchmark-save``
themselves. Each timed result travels to the controller twice: our stats dict (``runtime.bench``,
for the store) and pytest-benchmark's own JSON (:data:`KEY`), rebuilt there into its session so its
table, ``--benchmark-json`` and ``--benchmark-autosave`` work as without xdist.

:func:`device_lock` (:mod:`.devicelock`) serialises timings per device across the processes of
the run, so two workers never time on the same device at once. Timing takes it exclusively;
preparing a benchmark and running any other generated item on a worker take it shared, so they
never overlap a timing on that device (and run in parallel otherwise).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from pytest_ipfs_accel.host.devicelock import device_lock, hold_shared, release_held
from pytest_ipfs_accel.plugin import wire

#: user_properties key of pytest-benchmark's own stats (a JSON string: always execnet-serializable).
KEY = wire.PYTEST_BENCHMARK_JSON


# -- pytest-benchmark on workers -------------------------------------------------------------------
def install(config: pytest.Config) -> None:
    """Make pytest-benchmark time under xdist. Call before its (trylast) pytest_configure."""
    try:
        import pytest_benchmark.plugin as bench_plugin
    except ImportError:
        return
    if not config.pluginmanager.has_plugin("xdist"):
        return
    if not getattr(bench_plugin.BenchmarkSession, "_ipfs_accel_xdist", False):
        bench_plugin.BenchmarkSession = _xdist_session_class(bench_plugin.BenchmarkSession)
    if not config.pluginmanager.has_plugin("ipfs-accel-benchmark-xdist"):
        relay = WorkerBenchmarkRelay() if hasattr(config, "workerinput") else ControllerBenchmarkRelay(config)
        config.pluginmanager.register(relay, "ipfs-accel-benchmark-xdist")


def _xdist_session_class(base):
    class XdistBenchmarkSession(base):
        _ipfs_accel_xdist = True

        def __init__(self, config):
            worker_env = os.environ.pop("PYTEST_XDIST_WORKER", None)
            dist = getattr(config.option, "dist", None)
            if dist is not None:
                config.option.dist = "no"
            try:
                super().__init__(config)
            finally:
                if worker_env is not None:
                    os.environ["PYTEST_XDIST_WORKER"] = worker_env
                if dist is not None:
                    config.option.dist = dist
            if hasattr(config, "workerinput"):  # the controller saves; workers write no files
                self.json = self.save = self.autosave = None

    return XdistBenchmarkSession


def _item_device(item: pytest.Item) -> str | None:
    """The device of a generated non-benchmark item (None for benchmark items and other tests)."""
    kind = item.get_closest_marker("ipfs_kind")
    hw = item.get_closest_marker("ipfs_hw")
    if hw is None or (kind is not None and kind.kwargs.get("name") == "benchmark"):
        return None
    from pytest_ipfs_accel.hardware import runtime_and_device

    try:
        return runtime_and_device(str(hw.kwargs.get("name")))[1]
    except (KeyError, ValueError):
        return None


class _RemoteFixture:
    """Enough of a BenchmarkFixture for ``pytest_benchmark.stats.Metadata``."""

    cprofile_stats = None
    has_error = False

    def __init__(self, data: dict[str, Any]) -> None:
        for name in ("name", "fullname", "group", "param", "params", "extra_info"):
            setattr(self, name, data.get(name))


def rebuild(data: dict[str, Any]):
    from pytest_benchmark.stats import Metadata

    meta = Metadata(_RemoteFixture(data), iterations=data["stats"]["iterations"], options=data["options"])
    meta.stats.data = list(data["stats"]["data"])
    return meta


class WorkerBenchmarkRelay:
    """On a worker: ship each item's pytest-benchmark stats with its report; keep other work off a
    device while something times on it (collection, generated items, session teardown)."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if call.when == "call":
            fixture = getattr(item, "funcargs", {}).get("benchmark")
            stats = getattr(fixture, "stats", None)
            if stats:
                report.user_properties.append((KEY, json.dumps(stats.as_dict(include_data=True), default=repr)))
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_collection(self, session: pytest.Session):
        """A worker collecting (and probing its platforms after) works the CPU: not during a timing."""
        with device_lock("cpu", shared=True):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        device = _item_device(item)
        if device is None:
            return (yield)
        with device_lock(device, shared=True) as held:  # never alongside a timing on the same device
            if held.waited_s:
                item.user_properties.append((wire.LOCK_WAIT, round(held.waited_s, 3)))
            return (yield)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        hold_shared("cpu")

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        release_held()


class ControllerBenchmarkRelay:
    """On the controller (or a plain run): add the workers' pytest-benchmark stats to its own
    session, so its table, ``--benchmark-json`` and ``--benchmark-autosave`` work as without xdist."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        session = getattr(self.config, "_benchmarksession", None)
        if session is None:
            return
        for name, value in getattr(report, "user_properties", ()) or ():
            if name == KEY and isinstance(value, str):
                session.benchmarks.append(rebuild(json.loads(value)))
