"""The one base of the ONNX-session backends (onnxruntime, qualcomm/qnn, browser): export once, open a session.

:meth:`OrtSessionBackend.prepare` is the shared sequence: check the device is there, export the
model to a static-shape ONNX file (cached per model, inputs, runtime and variant), then let the
subclass open its session and return a runner whose :class:`~.info.RunnerInfo` it filled. A precision
other than fp32 is made from the fp32 file by ONNX Runtime's own tools (:mod:`.onnx_quantize`, recipe per
:meth:`OrtSessionBackend.recipes`), and the profiled first run says which precision the compute nodes ran
in (``info["executed_precision"]``). Which precisions a platform runs is decided by ``get_backend``
against the spec.
No runtime is imported here (the browser backend runs onnxruntime-web, not the Python package).
"""

from __future__ import annotations

import collections
import json
import os
import pathlib
from typing import Any

from pytest_ipfs_accel.backends import onnx_quantize
from pytest_ipfs_accel.backends import precision as precisions
from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import BackendUnavailable, Runner
from pytest_ipfs_accel.backends.onnx_export import (
    Exporter,
    SplitInputs,
    cached_onnx,
    check_static,
    export_onnx,
    input_array,
    split_inputs,
)


class OrtSessionBackend:
    """Template: subclasses set ``runtime`` and implement :meth:`check_device`, :meth:`runtime_tag`
    and :meth:`open`; :meth:`export_key` and :meth:`exporter` say how the ONNX file is made."""

    runtime = "?"

    def prepare(self, loaded: Any, example_inputs: dict[str, Any], device: str, precision: str = "fp32",
                cache: ArtifactCache | None = None, **_: Any) -> Runner:
        """Check ``device``, export (or reuse) the ONNX file, open the session on ``device`` only."""
        self.check_device(device)
        cache = cache or ArtifactCache(None)  # kept alive here: a disabled cache's temp dir dies with it
        example = split_inputs(example_inputs)
        path, exported = cached_onnx(loaded, example, cache, self.runtime_tag(), self.export_key(device, precision),
                                     export=self.exporter(device))
        recipe = self.recipes().get(precision)
        if recipe is not None:
            path, quantized = onnx_quantize.derived_onnx(
                path, recipe, cache, lambda: onnx_quantize.calibration_inputs(loaded, example))
            exported = {**exported, **quantized}
        else:
            exported = {**exported, "artifact_mb": f"{onnx_quantize.artifact_mb(path):.3f}"}
        return self.open(path, device, precision, example, example_inputs, exported)

    def recipes(self) -> dict[str, onnx_quantize.Recipe]:
        """precision -> how its file is made from the fp32 export (fp32 and precisions absent: the fp32 file)."""
        return onnx_quantize.RECIPES

    def check_device(self, device: str) -> None:
        """BackendUnavailable (a skip) when ``device`` is not there."""
        raise NotImplementedError

    def runtime_tag(self) -> str:
        """Runtime and version: part of the artifact key."""
        raise NotImplementedError

    def export_key(self, device: str, precision: str) -> list[str]:
        """What else changes the fp32 ONNX file (a rewrite variant); lower precisions derive from it."""
        del device, precision
        return ["fp32"]

    def exporter(self, device: str) -> Exporter:
        del device
        return export_onnx

    def open(self, path: pathlib.Path, device: str, precision: str, example: SplitInputs,
             example_inputs: dict[str, Any], exported: dict[str, str]) -> Runner:
        """The runner on a session of ``path``; ``exported`` holds the export's info fields."""
        raise NotImplementedError


class OrtRunner:
    """Feeds numpy inputs to an onnxruntime session by graph input name; returns outputs in export order."""

    def __init__(self, session: Any, example: SplitInputs, info: Any) -> None:
        self.session = session
        self.example = example
        self.info = info
        self._feed_names = [i.name for i in session.get_inputs()]

    def __call__(self, inputs: dict[str, Any]) -> list:
        check_static(self.example, inputs)
        feed = {name: input_array(inputs[name]) for name in self._feed_names}
        return list(self.session.run(None, feed))


def executed_on(session: Any, run_once: Any, info: Any = None) -> str:
    """What ran each graph node on one profiled run: ``"CUDAExecutionProvider: 120 nodes, ..."``.

    ``session`` must have been created with profiling on; ``run_once()`` runs it, then profiling
    ends (later runs are not profiled) and its JSON file is deleted. Providers are listed by node
    count, largest first. Given ``info`` (a RunnerInfo), the precision the compute nodes ran in is
    written to ``info["executed_precision"]`` / ``info["compute_layers"]`` (see :func:`node_family`).
    """
    try:
        run_once()
    finally:
        profile = session.end_profiling()
    nodes = profile_nodes(profile)
    if info is not None:
        main, counts = precisions.summarize(f for f in map(node_family, nodes) if f)
        if main:
            info["executed_precision"], info["compute_layers"] = main, counts
    counts = collections.Counter(n["provider"] for n in nodes)
    if not counts:  # nothing profiled (an empty graph): the session's first provider
        return session.get_providers()[0]
    return ", ".join(f"{ep}: {n} node{'s' if n != 1 else ''}" for ep, n in counts.most_common())


def node_providers(profile: str) -> dict[str, str]:
    """``{node name: execution provider}`` from an ORT profiling JSON file (the file is removed)."""
    return {n["name"]: n["provider"] for n in profile_nodes(profile)}


def profile_nodes(profile: str) -> list[dict[str, Any]]:
    """The node events of an ORT profiling JSON file: name, provider, op, input dtypes (the file is removed)."""
    if not profile:
        return []
    try:
        with open(profile, encoding="utf-8") as f:
            events = json.load(f)
    finally:
        os.remove(profile)
    return [{"name": e["name"].removesuffix("_kernel_time"), "provider": e["args"]["provider"],
             "op": e["args"].get("op_name", ""),
             "inputs": [next(iter(t), "") for t in e["args"].get("input_type_shape", []) if isinstance(t, dict)]}
            for e in events if e.get("cat") == "Node" and "provider" in e.get("args", {})]


#: Compute ops whose input dtype says the precision they ran in.
_FLOAT_COMPUTE = frozenset({"MatMul", "Gemm", "FusedGemm", "FusedMatMul", "Conv", "FusedConv", "ConvTranspose",
                            "Attention", "MultiHeadAttention", "Einsum"})
#: Ops that compute in int8 whatever their float inputs; MatMulNBits reads n-bit (here 4-bit) weights.
_INT8_COMPUTE = frozenset({"QLinearMatMul", "MatMulInteger", "MatMulIntegerToFloat", "DynamicQuantizeMatMul", "QGemm",
                           "QLinearConv", "ConvInteger", "QAttention", "DynamicQuantizeLSTM"})


def node_family(node: dict[str, Any]) -> str:
    """The precision family a profiled compute node ran in (``int8``, ``int4``, ``fp16``...); "" for other ops."""
    op = node.get("op", "")
    if op in _INT8_COMPUTE:
        return "int8"
    if op == "MatMulNBits":
        return "int4"
    if op in _FLOAT_COMPUTE and node.get("inputs"):
        return precisions.dtype_family(node["inputs"][0])
    return ""


def require_precision(info: Any, asked: str, where: str) -> None:
    """BackendUnavailable (a skip) when ``asked`` is a lower precision and no compute node ran in it.

    E.g. ONNX Runtime's CPU provider has no fp16 Gemm: it wraps an fp16 graph in Casts and computes fp32.
    """
    executed = info.get("executed_precision", "")
    if asked != "fp32" and executed and precisions.precision_mismatch(asked, executed):
        raise BackendUnavailable(f"{where} cannot compute {asked}: its compute nodes ran {info.get('compute_layers')} "
                                 f"({info.get('quantization', 'the converted graph')})")
