"""Everything that travels between the xdist controller and its workers, declared once.

xdist serialises a ``TestReport`` with its ``__dict__`` (JSON-able values only) and hands each
worker a ``workerinput`` dict at start-up. What this plugin sends rides on those two, under the
names below; readers use the functions here instead of spelling a key. Without xdist the same
reports pass through the same readers, so controller-side code has one path.

Controller -> worker (``workerinput``, at node set-up):
    :data:`PLATFORMS` the platform list every worker collects with (the controller's detection),
    :data:`CAPABILITY_CHANNEL` the execnet channel a worker reports its platforms on,
    :data:`LOCK_RUN` the run id whose device locks the workers share.

Worker -> controller (on each ``TestReport``):
    :data:`ITEM_META` (report attribute) model, platform, runtime, device, kind, precision, batch size;
    :data:`FAILURE` (report attribute) failure class, max abs/rel diff, executed_on, expected;
    :data:`BENCHMARK` (user property) the benchmark record made where the timing happened
    (``runtime.bench``; the recorder stores it, the gate compares it);
    :data:`GENERATION` (user property) the generate_benchmark kind's record (``runtime.generation``):
    the same fields plus the generation figures; stored and gated the same way;
    :data:`PYTEST_BENCHMARK_JSON` (user property) pytest-benchmark's own stats as JSON text, rebuilt
    into its session on the controller (its table, ``--benchmark-json``);
    :data:`LOCK_WAIT` (user property) seconds a non-benchmark item waited for its device lock.
"""

from __future__ import annotations

from typing import Any

from pytest_ipfs_accel.runtime.keys import ACCURACY, BENCHMARK, GENERATION

PLATFORMS = "ipfs_accel_platforms"
CAPABILITY_CHANNEL = "ipfs_accel_capchan"
LOCK_RUN = "ipfs_accel_lock_run"

ITEM_META = "ipfs_accel"
FAILURE = "ipfs_failure"
PYTEST_BENCHMARK_JSON = "pytest_benchmark_json"
LOCK_WAIT = "ipfs_lock_wait_s"

__all__ = ["ACCURACY", "BENCHMARK", "CAPABILITY_CHANNEL", "FAILURE", "GENERATION", "ITEM_META", "LOCK_RUN", "LOCK_WAIT", "PLATFORMS",
           "PYTEST_BENCHMARK_JSON", "attribute", "benchmark_record", "user_property"]


def user_property(report: Any, key: str) -> Any:
    """The value a report's ``user_properties`` carries under ``key`` (the last one), else None."""
    found = None
    for name, value in getattr(report, "user_properties", ()) or ():
        if name == key:
            found = value
    return found


def benchmark_record(report: Any) -> dict[str, Any] | None:
    """The benchmark record of a call report (a dict of plain values): the benchmark kind's, or the
    generate_benchmark kind's; else None."""
    for key in (BENCHMARK, GENERATION):
        record = user_property(report, key)
        if isinstance(record, dict):
            return record
    return None


def attribute(report: Any, name: str) -> dict[str, Any] | None:
    """A dict the worker attached to the report as ``name`` (:data:`ITEM_META`, :data:`FAILURE`)."""
    value = getattr(report, name, None)
    return value if isinstance(value, dict) else None
