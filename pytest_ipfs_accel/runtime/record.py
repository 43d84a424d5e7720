"""One benchmark measurement as one typed record: made where the timing happens, serialised once.

:class:`BenchmarkRecord` is what the benchmark kind (``runtime.bench``) measures: pytest-benchmark's
statistics of the timed rounds (p90/p99 from :func:`pytest_ipfs_accel.rounds.percentile`), every
raw round (``rounds_s``, uncapped: pytest-benchmark's own statistics are rebuilt from them), what
was timed (model, platform, runtime, device, precision, batch size), memory, the noise around the
timing, the accuracy beside it, the item's ``max_slowdown`` and :class:`FixtureInfo` (pytest-benchmark's
name for it). :class:`GenerationRecord` adds the generate_benchmark kind's figures (``runtime.generation``).

It travels as :meth:`~BenchmarkRecord.to_dict` (plain JSON-able values: xdist serialises report user
properties) and is read back with :meth:`~BenchmarkRecord.from_dict`. Everything else is derived:
the ``benchmark_results`` row (:meth:`~BenchmarkRecord.to_row`, column by column from
``BenchmarkRow``'s fields), pytest-benchmark's ``extra_info`` (:meth:`~BenchmarkRecord.extra_info`)
and the regression gate's stats dict (:meth:`~BenchmarkRecord.gate_stats`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pytest_ipfs_accel.store.schema import MAX_ROUNDS_STORED, BenchmarkRow

#: Fields of a record that pytest-benchmark's ``extra_info`` shows (its JSON, ``--benchmark-save``).
EXTRA_INFO = ("model", "platform", "runtime", "device", "precision", "batch_size", "items_per_s", "p90_s",
              "p99_s", "peak_rss_mb", "device_memory_mb", "cv", "threads", "load_before", "load_after",
              "other_cpu_s")
#: BenchmarkRow fields a record does not fill: the row's keys.
_ROW_KEYS = ("run_id", "node_id")

R = TypeVar("R", bound="BenchmarkRecord")


@dataclass(frozen=True)
class FixtureInfo:
    """pytest-benchmark's identity of a timing: what its ``Metadata`` needs besides the rounds.

    ``extra_info`` is what the test itself put in ``benchmark.extra_info`` (the record adds its own,
    :data:`EXTRA_INFO`); ``options`` as pytest-benchmark's JSON writes them (a timer by its name)."""

    name: str
    fullname: str
    group: str | None = None
    param: str | None = None
    params: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    extra_info: dict[str, Any] = field(default_factory=dict)
    has_error: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FixtureInfo:
        return cls(**_known(cls, data))


@dataclass(frozen=True)
class BenchmarkRecord:
    """One timed item (see the module doc). Lists given to it are kept as tuples."""

    # the timed rounds (per iteration, seconds), as pytest-benchmark computes them
    median_s: float | None = None
    mean_s: float | None = None
    min_s: float | None = None
    max_s: float | None = None
    stddev_s: float | None = None
    p90_s: float | None = None
    p99_s: float | None = None
    rounds: int | None = None
    iterations: int | None = None
    ops_per_s: float | None = None
    items_per_s: float | None = None  # batch size / median, never the mean
    cv: float | None = None  # stddev / mean of the rounds
    rounds_s: tuple[float, ...] = ()  # every round, uncapped (stored: the first MAX_ROUNDS_STORED)
    # what was timed (None in a record relayed for a test's own use of the benchmark fixture)
    model: str | None = None
    platform: str | None = None
    runtime: str | None = None
    device: str | None = None
    precision: str | None = None
    batch_size: int | None = None
    # memory: the process's peak RSS, and torch's peak CUDA allocation over the rounds
    peak_rss_mb: float | None = None
    device_memory_mb: float | None = None
    # the noise around the timing (host.load, host.threads, host.devicelock)
    threads: int | None = None
    load_before: float | None = None
    load_after: float | None = None
    other_cpu_s: float | None = None
    lock_wait_s: float | None = None
    reference_s: float | None = None  # host.reference's fixed workload before the rounds: the machine's speed
    settle_s: float | None = None  # seconds waited for the machine's usual speed before the rounds
    # the accuracy this precision costs (vs torch cpu fp32 on the timed inputs) and the artifact's size
    cosine: float | None = None
    top1: float | None = None
    top5: float | None = None
    artifact_mb: float | None = None
    # the item's ipfs_max_slowdown marker (a fraction): the gate's threshold for it
    max_slowdown: float | None = None
    # pytest-benchmark's name for the timing (None: not timed by its fixture)
    fixture: FixtureInfo | None = None

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values, every field (what travels from an xdist worker)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls: type[R], data: dict[str, Any]) -> R:
        """The record :meth:`to_dict` gave (keys it does not know are ignored)."""
        values = _known(cls, data)
        if isinstance(values.get("fixture"), dict):
            values["fixture"] = FixtureInfo.from_dict(values["fixture"])
        return cls(**values)

    def extra_info(self) -> dict[str, Any]:
        """pytest-benchmark's ``extra_info``: the test's own, then :data:`EXTRA_INFO` (a record our
        kinds made names its model; one relayed for a test's own benchmark keeps the test's alone)."""
        own = dict(self.fixture.extra_info) if self.fixture is not None else {}
        if self.model is not None:
            own.update((name, getattr(self, name)) for name in EXTRA_INFO)
        return own

    def stored_rounds(self) -> tuple[float, ...]:
        """The rounds as stored: the first ``MAX_ROUNDS_STORED`` (the gate compares these with the
        baseline's stored rounds)."""
        return self.rounds_s[:MAX_ROUNDS_STORED]

    def gate_stats(self) -> dict[str, Any]:
        """The regression gate's stats dict (``regression.gate`` takes dicts): :meth:`to_dict` with the
        rounds as stored."""
        return dict(self.to_dict(), rounds_s=list(self.stored_rounds()))

    def to_row(self, run_id: str, node_id: str) -> BenchmarkRow:
        """The ``benchmark_results`` row: each column from the field of its name (None if the record has
        none); list columns as JSON text of their first ``MAX_ROUNDS_STORED`` entries."""
        values = {f.name: _column(getattr(self, f.name, None))
                  for f in dataclasses.fields(BenchmarkRow) if f.name not in _ROW_KEYS}
        return BenchmarkRow(run_id=run_id, node_id=node_id, **values)


@dataclass(frozen=True)
class GenerationRecord(BenchmarkRecord):
    """The generate_benchmark kind's record (``generation.metrics``): a round is a whole generation."""

    prompt_tokens: int | None = None
    new_tokens: int | None = None
    ttft_s: float | None = None  # prefill latency: median time to the first new token
    decode_s: float | None = None  # median total - prefill
    token_p50_s: float | None = None  # time between consecutive new tokens, every step of every repeat
    token_p90_s: float | None = None
    token_p99_s: float | None = None
    prefill_tokens_per_s: float | None = None
    decode_tokens_per_s: float | None = None
    token_times_s: tuple[dict[str, Any], ...] = ()  # {"ttft", "steps", "total"} per repeat


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _column(value: Any) -> Any:
    if isinstance(value, tuple):
        return json.dumps(list(value[:MAX_ROUNDS_STORED])) if value else None
    return value
