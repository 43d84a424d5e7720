"""Precisions: their names, the tolerance type that carries accuracy floors, and what really executed.

Names follow what users of each runtime call them:

``fp32``, ``fp16``, ``bf16``
    float compute (a cast model, or a runtime's inference-precision hint);
``int8``
    weights *and* activations in int8, calibrated statically on synthesized inputs (ONNX Runtime
    ``quantize_static`` QDQ, NNCF ``nncf.quantize``, the QNN HTP's QDQ model);
``int8-dynamic``
    int8 weights, activations quantized at run time (ONNX Runtime ``quantize_dynamic``, torch
    ``quantize_dynamic`` on ``Linear``);
``int8-weights``
    weight-only int8 (NNCF ``compress_weights`` INT8_ASYM): compute stays float;
``int4``
    weight-only int4 (NNCF ``compress_weights`` INT4_SYM, ONNX Runtime ``MatMulNBits``).

Nothing heavy is imported here.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable

#: precision -> the number family that must execute (``executed_family`` compares against it).
FAMILY = {"fp32": "fp32", "fp16": "fp16", "bf16": "bf16", "int8": "int8", "int8-dynamic": "int8",
          "int8-weights": "int8", "int4": "int4"}
PRECISIONS = tuple(FAMILY)
#: Precisions whose error is judged by cosine / top-k floors rather than an element-wise bound.
LOSSY = ("int8", "int8-dynamic", "int8-weights", "int4")

_DTYPE_FAMILY = {
    "f32": "fp32", "fp32": "fp32", "float": "fp32", "float32": "fp32",
    "f16": "fp16", "fp16": "fp16", "float16": "fp16", "half": "fp16",
    "bf16": "bf16", "bfloat16": "bf16",
    "i8": "int8", "u8": "int8", "int8": "int8", "uint8": "int8", "qint8": "int8", "quint8": "int8",
    "i4": "int4", "u4": "int4", "int4": "int4", "uint4": "int4", "nf4": "int4",
}


class Tolerance(tuple):
    """``(atol, rtol)`` against torch cpu fp32, plus floors a lossy precision is judged by.

    It unpacks like the plain pair it extends (``atol, rtol = tol``). ``cosine`` is the least cosine
    similarity every float output must reach; ``top1`` / ``top5`` the least fraction of positions
    whose top-1 (top-5) index over the last axis of the scored output agrees with the reference.
    For int8/int4 ``atol`` is infinite: the floors decide. None: that metric is reported, not judged.
    """

    def __new__(cls, atol: float = math.inf, rtol: float = 0.0, *, cosine: float | None = None,
                top1: float | None = None, top5: float | None = None) -> Tolerance:
        made = super().__new__(cls, (float(atol), float(rtol)))
        made.cosine, made.top1, made.top5 = cosine, top1, top5
        return made

    def __reduce__(self):  # pickles (xdist, multiprocessing) with its floors
        return (_rebuild, (self[0], self[1], self.cosine, self.top1, self.top5))

    @property
    def atol(self) -> float:
        return self[0]

    @property
    def rtol(self) -> float:
        return self[1]

    def floors(self) -> dict[str, float]:
        """The floors that are set: ``{"cosine": 0.99, "top1": 0.9}``."""
        return {k: v for k, v in (("cosine", self.cosine), ("top1", self.top1), ("top5", self.top5))
                if v is not None}

    def replace(self, **changes: float | None) -> Tolerance:
        """A copy with the given fields (atol, rtol, cosine, top1, top5) changed; None keeps a field."""
        now = {"atol": self.atol, "rtol": self.rtol, **self.floors()}
        now.update({k: v for k, v in changes.items() if v is not None})
        return Tolerance(now.pop("atol"), now.pop("rtol"), **now)

    def describe(self) -> str:
        parts = [] if math.isinf(self.atol) else [f"atol {self.atol:g} + rtol {self.rtol:g}*|ref|"]
        return ", ".join(parts + [f"{k} >= {v:g}" for k, v in self.floors().items()]) or "anything"

    def __repr__(self) -> str:
        return f"Tolerance({self.describe()})"


def _rebuild(atol: float, rtol: float, cosine: float | None, top1: float | None, top5: float | None) -> Tolerance:
    return Tolerance(atol, rtol, cosine=cosine, top1=top1, top5=top5)


def as_tolerance(value: tuple[float, float] | Tolerance) -> Tolerance:
    """A Tolerance from a plain ``(atol, rtol)`` pair (kept as is when it is one already)."""
    return value if isinstance(value, Tolerance) else Tolerance(*value)


def dtype_family(dtype: str) -> str:
    """``"i8"``, ``"uint8"``, ``"float16"``, ``"bf16"`` ... -> ``int8`` / ``fp16`` / ``bf16`` / ``fp32`` (else as is)."""
    return _DTYPE_FAMILY.get(str(dtype).lower().removeprefix("tensor(").removesuffix(")"), str(dtype).lower())


def summarize(families: Iterable[str]) -> tuple[str, str]:
    """``(main family, "int8: 10, fp32: 3")`` over the compute layers that ran (most common first).

    The main family is the lowest precision that ran any compute layer (a quantized model keeps some
    layers in float: it still ran int8); ``("", "")`` when nothing was counted.
    """
    counts = Counter(families)
    if not counts:
        return "", ""
    order = ("int4", "int8", "fp16", "bf16", "fp32")
    main = next((f for f in order if counts.get(f)), counts.most_common(1)[0][0])
    return main, ", ".join(f"{f}: {n}" for f, n in counts.most_common())


def precision_mismatch(requested: str, executed: str) -> str:
    """Why ``executed`` (a family from :func:`summarize`) is not what ``requested`` asks for; "" when fine.

    Where a runtime cannot tell (``executed`` empty) nothing is claimed. fp16 asked and bf16 run (OpenVINO's
    CPU plugin without fp16 compute) is a documented substitution, not a fallback.
    """
    want = FAMILY.get(requested, requested)
    if not executed or executed == want or (want, executed) == ("fp16", "bf16"):
        return ""
    return f"asked for {requested} ({want} compute), the runtime executed {executed}"
