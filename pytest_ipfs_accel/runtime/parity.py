"""Parity: the tolerance of a runtime and precision (from the PlatformSpecs), and a comparison that
explains itself in one line.

An element passes when ``|actual - reference| <= atol + rtol * |reference|``
(numpy ``allclose`` semantics). Integer and bool outputs must match exactly.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, Sequence

import numpy

from pytest_ipfs_accel.hardware import registry


def tolerance(runtime: str, precision: str) -> tuple[float, float]:
    """``(atol, rtol)`` for ``runtime`` at ``precision``, from the PlatformSpecs the runtime serves
    (``pytest_ipfs_accel.platforms`` for the built-ins); ValueError for unknown pairs."""
    found = _legacy.get((runtime, precision))
    for spec in registry.for_runtime(runtime):
        found = found or spec.tolerance(precision)
    if found is None:
        known = ", ".join(f"{r}/{p}" for r, p in sorted(_pairs()))
        raise ValueError(f"no tolerance for {runtime}/{precision}; known: {known}")
    return found


def _pairs() -> set[tuple[str, str]]:
    return {(s.runtime, p) for s in registry.specs() for p in s.tolerances} | set(_legacy)


#: (runtime, precision) -> (atol, rtol) written through the deprecated ``TOLERANCES[...] = ...``.
_legacy: dict[tuple[str, str], tuple[float, float]] = {}


class _Tolerances(MutableMapping):
    """Deprecated view ``TOLERANCES[(runtime, precision)]``: reads the specs; a write warns and still counts."""

    def __getitem__(self, key: tuple[str, str]) -> tuple[float, float]:
        try:
            return tolerance(*key)
        except ValueError:
            raise KeyError(key) from None

    def __setitem__(self, key: tuple[str, str], value: tuple[float, float]) -> None:
        warnings.warn("TOLERANCES[...] = ... is deprecated: put tolerances={precision: (atol, rtol)} on the "
                      "PlatformSpec", DeprecationWarning, stacklevel=2)
        _legacy[key] = value

    def __delitem__(self, key: tuple[str, str]) -> None:
        del _legacy[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(sorted(_pairs()))

    def __len__(self) -> int:
        return len(_pairs())


TOLERANCES = _Tolerances()


@dataclass
class ParityResult:
    """Outcome of :func:`compare`; ``detail`` is the one-line assertion message."""

    ok: bool
    max_abs: float
    max_rel: float
    worst_output: int
    detail: str


@dataclass
class _OutputDiff:
    index: int
    max_abs: float
    max_rel: float
    excess: float  # max |diff| / allowed; > 1 fails
    bad: int
    total: int
    where: tuple[int, ...]
    ref_value: float
    got_value: float
    problem: str = ""


def compare(reference: Sequence[Any], actual: Sequence[Any], atol: float, rtol: float) -> ParityResult:
    """Compare flattened outputs (numpy arrays or torch tensors) element-wise.

    ``max_rel`` ignores elements whose reference is 0 (there only ``atol`` applies);
    ``worst_output`` is the output furthest outside its bound (-1 if there is none).
    """
    if len(reference) != len(actual):
        return ParityResult(False, float("inf"), float("inf"), -1,
                            f"output count differs: reference has {len(reference)}, actual {len(actual)}")
    diffs = [_diff(i, _array(r), _array(a), atol, rtol) for i, (r, a) in enumerate(zip(reference, actual))]
    if not diffs:
        return ParityResult(True, 0.0, 0.0, -1, "no outputs to compare")
    worst = max(diffs, key=lambda d: d.excess)
    max_abs = max(d.max_abs for d in diffs)
    max_rel = max(d.max_rel for d in diffs)
    ok = worst.excess <= 1.0
    return ParityResult(ok, max_abs, max_rel, worst.index, _detail(worst, len(diffs), ok, atol, rtol))


def _array(value: Any) -> numpy.ndarray:
    """numpy view of a numpy array or torch tensor (low-precision floats as float32)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu()
        if value.is_floating_point() and value.dtype.itemsize < 4:
            value = value.float()
        value = value.numpy()
    return numpy.asarray(value)


def _diff(index: int, ref: numpy.ndarray, got: numpy.ndarray, atol: float, rtol: float) -> _OutputDiff:
    if ref.shape != got.shape:
        return _OutputDiff(index, float("inf"), float("inf"), float("inf"), ref.size, ref.size, (), 0.0, 0.0,
                           f"shape {got.shape} != reference {ref.shape}")
    if ref.size == 0:
        return _OutputDiff(index, 0.0, 0.0, 0.0, 0, 0, (), 0.0, 0.0)
    exact = not numpy.issubdtype(ref.dtype, numpy.inexact)  # int/bool reference: exact match
    r, g = ref.astype(numpy.float64), got.astype(numpy.float64)
    with numpy.errstate(divide="ignore", invalid="ignore", over="ignore"):
        allowed = numpy.zeros_like(r) if exact else atol + rtol * numpy.abs(r)
        same = (r == g) | (numpy.isnan(r) & numpy.isnan(g))  # also equal infinities
        err = numpy.where(same, 0.0, numpy.abs(g - r))
        err = numpy.where(numpy.isnan(err), numpy.inf, err)  # NaN against a number, inf vs -inf
        excess = numpy.where(err == 0, 0.0, err / allowed)
        excess = numpy.where(numpy.isnan(excess), numpy.inf, excess)
        rel = numpy.where((err == 0) | (r == 0), 0.0, err / numpy.abs(r))  # zeros: atol's business
    flat = int(numpy.argmax(excess))
    where = tuple(int(i) for i in numpy.unravel_index(flat, r.shape))
    problem = "NaN where the reference is finite" if bool(numpy.any(numpy.isnan(g) & numpy.isfinite(r))) else ""
    return _OutputDiff(index, float(err.max()), float(numpy.nan_to_num(rel, nan=numpy.inf).max()),
                       float(excess.reshape(-1)[flat]), int(numpy.count_nonzero(excess > 1.0)), r.size,
                       where, float(r[where]), float(g[where]), problem)


def _detail(worst: _OutputDiff, n_outputs: int, ok: bool, atol: float, rtol: float) -> str:
    bound = f"atol {atol:g} + rtol {rtol:g}*|ref|"
    if ok:
        return f"{n_outputs} output(s) match: max |diff| {worst.max_abs:.3g} (output {worst.index}) within {bound}"
    head = f"output {worst.index} of {n_outputs}"
    if worst.problem.startswith("shape"):
        return f"{head}: {worst.problem}"
    reason = f"{worst.problem}; " if worst.problem else ""
    return (f"{head}: {reason}{worst.bad}/{worst.total} elements outside {bound}; "
            f"worst at {list(worst.where)}: ref {worst.ref_value:.6g}, got {worst.got_value:.6g} "
            f"(|diff| {abs(worst.got_value - worst.ref_value):.3g})")
