"""Parity: one tolerance table, and a comparison that explains itself in one line.

An element passes when ``|actual - reference| <= atol + rtol * |reference|``
(numpy ``allclose`` semantics). Integer and bool outputs must match exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy

#: (runtime, precision) -> (atol, rtol), against torch cpu fp32 on the same inputs.
#: Measured on the 14 key tiny models (models.registry.KEY_MODELS, seed 0) with torch 2.13,
#: onnxruntime 1.32, openvino 2026.4.1 on an AMD EPYC (avx512_bf16). "t" below is the
#: smallest atol = rtol that passes. xclip sets most bounds: its seed-0 text_embeds
#: (a re-normalized sum) is ill-conditioned, 10-50x worse than the other 13 models.
TOLERANCES: dict[tuple[str, str], tuple[float, float]] = {
    # cpu vs itself is bit-identical; cuda/mps fp32 run other kernels, so ORT's bound.
    ("torch", "fp32"): (2e-4, 2e-4),
    # t <= 4.7e-3 for 13 models (wav2vec2 worst), xclip 4.5e-2; fp16 eps is 9.8e-4.
    ("torch", "fp16"): (1e-1, 1e-1),
    # t <= 2.5e-2 for 13 models (llava worst), xclip 1.0e-1; bf16 eps is 7.8e-3.
    ("torch", "bf16"): (2e-1, 2e-1),
    # t <= 2e-6 for 13 models, xclip 1.0e-4 (other input seeds: 4e-6): 2x margin.
    ("onnxruntime", "fp32"): (2e-4, 2e-4),
    # t <= 3e-6 (xclip); 1e-3 leaves room for GPU/NPU plugins' fp32 kernels.
    ("openvino", "fp32"): (1e-3, 1e-3),
    # bf16 hint: t <= 2.4e-2 for 13 models (detr worst), xclip 8.2e-2.
    ("openvino", "bf16"): (2e-1, 2e-1),
    # The CPU plugin runs an f16 hint as bf16 where it has no f16 compute (measured here:
    # Runner.info["inference_precision"] == "bf16", identical numbers), so bf16's bound.
    ("openvino", "fp16"): (2e-1, 2e-1),
    # Qualcomm QNN HTP (onnxruntime-qnn 2.7.0 simulator, soc_model 60) computes float graphs in
    # fp16 whatever the asked precision: bert max |diff| 4.8e-3 (|ref| <= 3.3); torch fp16's bound.
    ("qnn", "fp32"): (1e-1, 1e-1),
    ("qnn", "fp16"): (1e-1, 1e-1),
    # onnxruntime-web 1.30 in headless Chromium, bert seed 0: wasm max |diff| 7.2e-7, webnn (cpu,
    # TFLite/XNNPACK) 4.8e-7; matmul/MLP graphs on webgpu (SwiftShader) 1.5e-6: ORT's bound.
    ("browser", "fp32"): (2e-4, 2e-4),
}


def tolerance(runtime: str, precision: str) -> tuple[float, float]:
    """``(atol, rtol)`` for ``runtime`` at ``precision``; ValueError for unknown pairs."""
    try:
        return TOLERANCES[(runtime, precision)]
    except KeyError:
        known = ", ".join(f"{r}/{p}" for r, p in sorted(TOLERANCES))
        raise ValueError(f"no tolerance for {runtime}/{precision}; known: {known}") from None


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
