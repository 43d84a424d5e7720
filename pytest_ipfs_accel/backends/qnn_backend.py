"""Qualcomm QNN (runtime ``qnn``): a QNN-friendly static ONNX export, one session on one QNN backend.

QNN-friendly means: the static-shape export of :mod:`onnx_export`, then ``GatherND``
nodes with constant indices (transformers' attention-mask construction) rewritten as
``Reshape`` + ``Gather``, which QNN HTP supports. Sessions run with
``session.disable_cpu_ep_fallback=1``, so a graph that QNN cannot take whole fails with
the unsupported nodes QNN reported. HTP computes float graphs in fp16.
"""

from __future__ import annotations

import pathlib
import time
from typing import Any

import numpy
import onnx
import onnxruntime
from onnx import helper, numpy_helper, shape_inference

from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import BackendUnavailable, ExportError
from pytest_ipfs_accel.backends.onnx_export import FlatOutputs, cached_onnx, export_onnx, split_inputs
from pytest_ipfs_accel.backends.onnxruntime_backend import OnnxRuntimeRunner
from pytest_ipfs_accel.hardware import qnn_probe

#: Part of the artifact key: bump when the QNN-friendly rewrite changes.
EXPORT_VARIANT = "qnn-v1:gathernd-const->reshape+gather"
PRECISIONS = ("fp32", "fp16")


def rewrite_gathernd(model: onnx.ModelProto) -> tuple[onnx.ModelProto, int]:
    """Replace ``GatherND(data, const indices)`` (batch_dims 0, static data shape) by Reshape + Gather."""
    model = shape_inference.infer_shapes(model)
    graph = model.graph
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    consts[node.output[0]] = numpy_helper.to_array(attr.t)
    shapes = {}
    for vi in [*graph.value_info, *graph.input, *graph.output]:
        dims = vi.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            shapes[vi.name] = [d.dim_value for d in dims]
    nodes, done = [], 0
    for node in graph.node:
        batch_dims = next((a.i for a in node.attribute if a.name == "batch_dims"), 0)
        if node.op_type != "GatherND" or batch_dims or node.input[1] not in consts or node.input[0] not in shapes:
            nodes.append(node)
            continue
        data_shape, index = shapes[node.input[0]], consts[node.input[1]].astype(numpy.int64)
        k = index.shape[-1]
        lead = numpy.array(data_shape[:k], dtype=numpy.int64)
        strides = numpy.cumprod([1, *data_shape[:k][::-1]])[:-1][::-1]
        flat = (numpy.where(index < 0, index + lead, index) * strides).sum(-1).astype(numpy.int64)
        base = node.name or node.output[0]
        graph.initializer.extend([
            numpy_helper.from_array(numpy.array([-1, *data_shape[k:]], dtype=numpy.int64), f"{base}_qnn_shape"),
            numpy_helper.from_array(flat, f"{base}_qnn_index"),
        ])
        nodes += [
            helper.make_node("Reshape", [node.input[0], f"{base}_qnn_shape"], [f"{base}_qnn_flat"], name=f"{base}_qnn_reshape"),
            helper.make_node("Gather", [f"{base}_qnn_flat", f"{base}_qnn_index"], list(node.output),
                             name=f"{base}_qnn_gather", axis=0),
        ]
        done += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return model, done


def export_qnn_onnx(wrapper: FlatOutputs, example: Any, path: pathlib.Path) -> str:
    """Static export, then the QNN rewrites; returns e.g. ``"dynamo+1 GatherND rewritten"``."""
    mode = export_onnx(wrapper, example, path)
    model, rewritten = rewrite_gathernd(onnx.load(str(path)))
    if rewritten:
        onnx.save(model, str(path))
    return f"{mode}+{rewritten} GatherND rewritten" if rewritten else mode


class QnnBackend:
    """Backend for ``qnn``; ``device`` is a QNN backend: ``htp``, ``cpu`` or ``gpu``."""

    runtime = "qnn"

    def prepare(
        self,
        loaded: Any,
        example_inputs: dict[str, Any],
        device: str = "htp",
        precision: str = "fp32",
        cache: ArtifactCache | None = None,
    ) -> OnnxRuntimeRunner:
        """Export (or reuse) the QNN-friendly ONNX file and open a session on the QNN device only."""
        try:
            import onnxruntime_qnn
        except ModuleNotFoundError as e:
            raise BackendUnavailable("python package 'onnxruntime-qnn' is not installed "
                                     "(pip install 'pytest-ipfs-accel[qualcomm]')") from e
        if precision not in PRECISIONS:
            raise BackendUnavailable(f"qnn backend runs {'/'.join(PRECISIONS)} (HTP computes fp16), not {precision}")
        if not qnn_probe.qnn_devices():
            raise BackendUnavailable(f"onnxruntime.get_ep_devices() lists no QNN device (onnxruntime "
                                     f"{onnxruntime.__version__}, onnxruntime-qnn {onnxruntime_qnn.__version__})")
        cache = cache or ArtifactCache(None)  # kept alive here: a disabled cache's temp dir dies with it
        example = split_inputs(example_inputs)
        path, exported = cached_onnx(loaded, example, cache, f"onnxruntime {onnxruntime.__version__}",
                                     ["fp32", EXPORT_VARIANT], export=export_qnn_onnx)
        started = time.perf_counter()
        session = _session(str(path), device)
        options = qnn_probe.provider_options(device)
        info = {
            "runtime": self.runtime,
            "runtime_version": f"onnxruntime {onnxruntime.__version__} + onnxruntime-qnn {onnxruntime_qnn.__version__}",
            "device": device,
            "provider": session.get_providers()[0],
            "precision": precision,
            "compute_precision": "fp16" if device == "htp" else "fp32",
            "emulated": qnn_probe.emulated(device),
            "provider_options": ",".join(f"{k}={v}" for k, v in options.items()),
            **exported,
            "session_s": f"{time.perf_counter() - started:.3f}",
        }
        return OnnxRuntimeRunner(session, example, info)


def _session(path: str, device: str) -> Any:
    """An InferenceSession on the QNN device only; failures name the nodes QNN rejected."""
    try:
        with qnn_probe.captured_log() as log:
            return onnxruntime.InferenceSession(path, qnn_probe.session_options(device))
    except Exception as e:  # noqa: BLE001 - ORT raises several private exception types
        nodes = qnn_probe.unsupported_nodes(log)
        errors = qnn_probe.log_errors(log)
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        if nodes:
            message = f"QNN {device} session create: unsupported nodes in QNN EP: {', '.join(nodes[:8])}"
        else:
            message = f"QNN {device} session create: {(errors or [first])[0][:300]}"
        raise ExportError(message, step="QNN session create") from e
