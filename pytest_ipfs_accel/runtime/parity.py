"""Parity: the tolerance of a runtime and precision (from the PlatformSpecs), and a comparison that
explains itself in one line.

An element passes when ``|actual - reference| <= atol + rtol * |reference|``
(numpy ``allclose`` semantics). Integer and bool outputs must match exactly.

Lossy precisions (int8, int4) are judged by floors instead (:class:`~pytest_ipfs_accel.backends.precision.Tolerance`):
the cosine similarity of every float output with the reference (the least one counts), and top-1 / top-5
agreement on the *scored output*: the first float output with at least two axes and five or more entries on the
last one (logits; for a base model its last hidden state). Top-1 agreement is the fraction of positions
whose argmax over the last axis equals the reference's; top-5 the fraction whose reference argmax is among
the actual five largest. Every comparison reports these figures, whatever judged it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, Sequence

import numpy

from pytest_ipfs_accel.backends.precision import Tolerance, as_tolerance
from pytest_ipfs_accel.hardware import registry

#: The scored output's last axis needs this many entries for top-k agreement.
MIN_SCORES = 5


def tolerance(runtime: str, precision: str) -> Tolerance:
    """``(atol, rtol)`` (a :class:`Tolerance`, with floors for lossy precisions) for ``runtime`` at
    ``precision``, from the PlatformSpecs the runtime serves (``pytest_ipfs_accel.platforms`` for the
    built-ins); ValueError for unknown pairs."""
    found = _legacy.get((runtime, precision))
    for spec in registry.for_runtime(runtime):
        found = found or spec.tolerance(precision)
    if found is None:
        known = ", ".join(f"{r}/{p}" for r, p in sorted(_pairs()))
        raise ValueError(f"no tolerance for {runtime}/{precision}; known: {known}")
    return as_tolerance(found)


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
    """Outcome of :func:`within_tolerance`; ``detail`` is the one-line assertion message."""

    ok: bool
    max_abs: float
    max_rel: float
    worst_output: int
    detail: str
    cosine: float | None = None  # least cosine similarity over the float outputs
    top1: float | None = None  # top-1 agreement on the scored output (None: no output to score)
    top5: float | None = None
    metric: str = ""  # what failed: "atol" (element-wise bound), "cosine", "top1", "top5"; "" when ok

    def accuracy(self) -> dict[str, float | None]:
        """The figures stored with a result: cosine, top1, top5, max_abs_diff."""
        return {"cosine": self.cosine, "top1": self.top1, "top5": self.top5,
                "max_abs_diff": self.max_abs if numpy.isfinite(self.max_abs) else None}


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


def within_tolerance(reference: Sequence[Any], actual: Sequence[Any], atol: float, rtol: float = 0.0) -> ParityResult:
    """Are ``actual``'s outputs within tolerance of ``reference``'s? Compares flattened outputs (numpy arrays or torch tensors) element-wise, then against the floors
    when ``atol`` is a :class:`Tolerance` that has them (cosine, top-1, top-5: see the module doc).

    ``max_rel`` ignores elements whose reference is 0 (there only ``atol`` applies);
    ``worst_output`` is the output furthest outside its bound (-1 if there is none).
    """
    tol = atol if isinstance(atol, Tolerance) else Tolerance(atol, rtol)
    atol, rtol = tol
    if len(reference) != len(actual):
        return ParityResult(False, float("inf"), float("inf"), -1,
                            f"output count differs: reference has {len(reference)}, actual {len(actual)}", metric="count")
    refs, gots = [_array(r) for r in reference], [_array(a) for a in actual]
    diffs = [_diff(i, r, g, atol, rtol) for i, (r, g) in enumerate(zip(refs, gots))]
    if not diffs:
        return ParityResult(True, 0.0, 0.0, -1, "no outputs to compare")
    worst = max(diffs, key=lambda d: d.excess)
    max_abs = max(d.max_abs for d in diffs)
    max_rel = max(d.max_rel for d in diffs)
    ok = worst.excess <= 1.0
    result = ParityResult(ok, max_abs, max_rel, worst.index, _detail(worst, len(diffs), ok, atol, rtol),
                          metric="" if ok else "atol")
    if worst.problem.startswith("shape"):
        return result
    (result.cosine, cos_at), (result.top1, result.top5, scored) = cosine(refs, gots), agreement(refs, gots)
    return _judge_floors(result, tol, cos_at, scored, len(diffs))


#: Deprecated name of :func:`within_tolerance`: skill files ``ipfs-accel skill`` wrote before the
#: rename import it (``from pytest_ipfs_accel.runtime.parity import compare, tolerance``).
compare = within_tolerance


def _judge_floors(result: ParityResult, tol: Tolerance, cos_at: int, scored: int, n_outputs: int) -> ParityResult:
    """Fail ``result`` on the first floor it misses; the detail names the metric, the floor and the shortfall."""
    figures = {"cosine": (result.cosine, f"output {cos_at} of {n_outputs}"),
               "top1": (result.top1, f"output {scored}, top-1 over its last axis"),
               "top5": (result.top5, f"output {scored}, reference top-1 within the top 5")}
    for metric, floor in tol.floors().items():
        value, where = figures[metric]
        if value is None:
            continue
        if not value >= floor:  # NaN fails too
            result.ok, result.metric = False, metric
            result.detail = (f"{metric} {value:.4f} < floor {floor:g} ({where}; short by {floor - value:.3g}); "
                             f"max |diff| {result.max_abs:.3g}")
            return result
    if result.ok and tol.floors():
        shown = ", ".join(f"{m} {figures[m][0]:.4f}" for m in tol.floors() if figures[m][0] is not None)
        result.detail = f"{n_outputs} output(s) within {tol.describe()}: {shown}; max |diff| {result.max_abs:.3g}"
    return result


def cosine(reference: Sequence[numpy.ndarray], actual: Sequence[numpy.ndarray]) -> tuple[float | None, int]:
    """The least cosine similarity over the float outputs, and which output it is (None, -1: no float output).

    Two all-zero outputs count as 1.0; NaN or inf in the actual output gives NaN (which fails any floor).
    """
    found: list[tuple[float, int]] = []
    for i, (r, g) in enumerate(zip(reference, actual)):
        if not numpy.issubdtype(r.dtype, numpy.inexact) or r.size == 0 or r.shape != g.shape:
            continue
        a, b = r.astype(numpy.float64).ravel(), g.astype(numpy.float64).ravel()
        if not numpy.all(numpy.isfinite(b)):
            found.append((float("nan"), i))
            continue
        na, nb = float(numpy.linalg.norm(a)), float(numpy.linalg.norm(b))
        value = 1.0 if na == nb == 0 else (0.0 if na == 0 or nb == 0 else float(a @ b / (na * nb)))
        found.append((min(value, 1.0), i))
    if not found:
        return None, -1
    return min(found, key=lambda f: (not numpy.isnan(f[0]), f[0]))


def agreement(reference: Sequence[numpy.ndarray], actual: Sequence[numpy.ndarray]) -> tuple[float | None, float | None, int]:
    """``(top1, top5, output index)`` on the scored output (see the module doc); ``(None, None, -1)`` if none."""
    for i, (r, g) in enumerate(zip(reference, actual)):
        if numpy.issubdtype(r.dtype, numpy.inexact) and r.ndim >= 2 and r.shape[-1] >= MIN_SCORES and r.shape == g.shape:
            ref_top = numpy.argmax(r.reshape(-1, r.shape[-1]), axis=-1)
            got = numpy.nan_to_num(g.reshape(-1, g.shape[-1]).astype(numpy.float64), nan=-numpy.inf)
            top1 = float(numpy.mean(numpy.argmax(got, axis=-1) == ref_top))
            top5_idx = numpy.argpartition(-got, MIN_SCORES - 1, axis=-1)[:, :MIN_SCORES]
            top5 = float(numpy.mean(numpy.any(top5_idx == ref_top[:, None], axis=-1)))
            return top1, top5, i
    return None, None, -1


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
