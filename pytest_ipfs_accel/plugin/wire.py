"""Everything that travels between the xdist controller and its workers, declared once.

xdist serialises a ``TestReport`` with its ``__dict__`` (JSON-able values only) and hands each
worker a ``workerinput`` dict at start-up. What this plugin sends rides on those two, under the
names below; readers use the functions here instead of spelling a key. Without xdist the same
reports pass through the same readers, so controller-side code has one path.

Controller -> worker (``workerinput``, at node set-up):
    :data:`PLATFORMS` the platform list every worker collects with (the controller's detection),
    :data:`CAPABILITY_CHANNEL` the execnet channel a worker reports its platforms on,
    :data:`LOCK_RUN` the run id whose device locks the workers share,
    :data:`REFERENCE_FLOOR` the machine's usual reference-workload time from the store (None: not known,
    or a worker on another machine: ``--tx ssh=`` / ``socket=``).

Worker -> controller (on each ``TestReport``):
    :data:`ITEM_META` (report attribute) model, platform, runtime, device, kind, precision, batch size;
    :data:`FAILURE` (report attribute) failure class, max abs/rel diff, executed_on, expected;
    :data:`BENCHMARK` (user property) the benchmark kind's record made where the timing happened
    (``runtime.bench``: a ``runtime.record.BenchmarkRecord`` as ``to_dict()``, the only copy of the
    measurement that travels; the recorder stores it, the gate compares it, and the controller rebuilds
    pytest-benchmark's own results from it: its table, ``--benchmark-json``, ``--benchmark-save``);
    :data:`GENERATION` (user property) the generate_benchmark kind's record (``runtime.generation``,
    a ``GenerationRecord``): stored and gated the same way;
    :data:`FIXTURE_TIMING` (user property) a record the worker made for a test's own use of the
    ``benchmark`` fixture (no model): rebuilt into pytest-benchmark's results only;
    :data:`LOCK_WAIT` (user property) seconds a non-benchmark item waited for its device lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_ipfs_accel.runtime.keys import ACCURACY, BENCHMARK, FIXTURE_TIMING, GENERATION

if TYPE_CHECKING:
    from pytest_ipfs_accel.runtime.record import BenchmarkRecord

PLATFORMS = "ipfs_accel_platforms"
CAPABILITY_CHANNEL = "ipfs_accel_capchan"
LOCK_RUN = "ipfs_accel_lock_run"
REFERENCE_FLOOR = "ipfs_accel_reference_floor"

ITEM_META = "ipfs_accel"
FAILURE = "ipfs_failure"
LOCK_WAIT = "ipfs_lock_wait_s"

__all__ = ["ACCURACY", "BENCHMARK", "CAPABILITY_CHANNEL", "FAILURE", "FIXTURE_TIMING", "GENERATION", "ITEM_META",
           "LOCK_RUN", "LOCK_WAIT", "PLATFORMS", "REFERENCE_FLOOR", "attribute", "benchmark_record", "fixture_timing",
           "user_property"]


def user_property(report: Any, key: str) -> Any:
    """The value a report's ``user_properties`` carries under ``key`` (the last one), else None."""
    found = None
    for name, value in getattr(report, "user_properties", ()) or ():
        if name == key:
            found = value
    return found


def benchmark_record(report: Any) -> BenchmarkRecord | None:
    """The benchmark record of a call report: the benchmark kind's, or the generate_benchmark kind's
    (a ``GenerationRecord``); else None."""
    from pytest_ipfs_accel.runtime import record as records  # not at start-up: ~40 dataclass fields to build

    for key, record_class in ((BENCHMARK, records.BenchmarkRecord), (GENERATION, records.GenerationRecord)):
        record = user_property(report, key)
        if isinstance(record, dict):
            return record_class.from_dict(record)
    return None


def fixture_timing(report: Any) -> BenchmarkRecord | None:
    """The record of a timing by pytest-benchmark's fixture (``record.fixture`` names it): the benchmark
    kind's, or one made for a test's own use of the fixture; else None."""
    from pytest_ipfs_accel.runtime.record import BenchmarkRecord

    for key in (BENCHMARK, FIXTURE_TIMING):
        record = user_property(report, key)
        if isinstance(record, dict) and isinstance(record.get("fixture"), dict):
            return BenchmarkRecord.from_dict(record)
    return None


def attribute(report: Any, name: str) -> dict[str, Any] | None:
    """A dict the worker attached to the report as ``name`` (:data:`ITEM_META`, :data:`FAILURE`)."""
    value = getattr(report, name, None)
    return value if isinstance(value, dict) else None
