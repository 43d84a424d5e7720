"""pytest-benchmark under xdist, and one timing per device at a time.

pytest-benchmark turns itself off when xdist is active (``BenchmarkSession.__init__`` sees
``--dist`` on the controller or ``PYTEST_XDIST_WORKER`` on a worker) and then refuses
``--benchmark-only``. :func:`install` replaces its session class with one constructed as if xdist
were absent; workers then time for real and do not write ``--benchmark-json``/``--benchmark-save``
themselves. Each timed result travels to the controller once, as our record
(``runtime.record.BenchmarkRecord``: the benchmark kind's, or one the worker makes for a test's own
use of the fixture, ``wire.FIXTURE_TIMING``); there :class:`ControllerBenchmarkRelay` rebuilds
pytest-benchmark's ``Metadata`` from it (name, group, params, options, ``extra_info``, iterations,
every raw round) into its session, so its table, ``--benchmark-json``, ``--benchmark-save`` and
``--benchmark-autosave`` work as without xdist.

:func:`device_lock` (:mod:`.devicelock`) serialises timings per device across the processes of
the run, so two workers never time on the same device at once. Timing takes it exclusively;
preparing a benchmark and running any other generated item on a worker take it shared, so they
never overlap a timing on that device (and run in parallel otherwise).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from pytest_ipfs_accel.host.devicelock import device_lock, hold_shared, release_held
from pytest_ipfs_accel.plugin import wire

if TYPE_CHECKING:  # annotations only: the records load when one arrives (as in plugin.wire)
    from pytest_ipfs_accel.runtime.record import BenchmarkRecord


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
    """Enough of a BenchmarkFixture for ``pytest_benchmark.stats.Metadata``: a worker's, from its record."""

    cprofile_stats = None

    def __init__(self, record: BenchmarkRecord) -> None:
        fixture = record.fixture
        self.name, self.fullname, self.group = fixture.name, fixture.fullname, fixture.group
        self.param, self.params, self.has_error = fixture.param, fixture.params, fixture.has_error
        self.extra_info = record.extra_info()


def rebuild(record: BenchmarkRecord):
    """pytest-benchmark's ``Metadata`` of a timing on a worker (every statistic recomputed from the rounds)."""
    from pytest_benchmark.stats import Metadata

    meta = Metadata(_RemoteFixture(record), iterations=record.iterations or 1, options=dict(record.fixture.options))
    meta.stats.data = list(record.rounds_s)
    return meta


class WorkerBenchmarkRelay:
    """On a worker: ship the timing of a test's own use of the benchmark fixture (the benchmark kind
    ships its record itself); keep other work off a device while something times on it (collection,
    generated items, session teardown)."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if call.when == "call" and wire.fixture_timing(report) is None:
            fixture = getattr(item, "funcargs", {}).get("benchmark")
            if getattr(fixture, "stats", None):
                from pytest_ipfs_accel.runtime.bench import fixture_record

                report.user_properties.append((wire.FIXTURE_TIMING, fixture_record(fixture).to_dict()))
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
    """On the controller (or a plain run): add the workers' timings to pytest-benchmark's own session,
    rebuilt from their records, so its table, ``--benchmark-json``, ``--benchmark-save`` and
    ``--benchmark-autosave`` work as without xdist. In a plain run the session has them already."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" or not self.config.pluginmanager.has_plugin("dsession"):
            return  # no xdist controller here: the timings were made in this process
        session = getattr(self.config, "_benchmarksession", None)
        record = wire.fixture_timing(report) if session is not None else None
        if record is not None:
            session.benchmarks.append(rebuild(record))
