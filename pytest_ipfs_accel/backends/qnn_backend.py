"""Qualcomm QNN (runtime ``qnn``): a QNN-friendly static ONNX export, one session on one QNN backend.

QNN-friendly means: the static-shape export of :mod:`onnx_export`, then ``GatherND``
nodes with constant indices (transformers' attention-mask construction) rewritten as
``Reshape`` + ``Gather``, which QNN HTP supports, and the broadcast input of an ``Add`` that
feeds ``LayerNormalization`` tiled to the full shape: HTP fuses the pair and then reads the
broadcast input at batch row 0 only (measured, onnxruntime-qnn 2.7.0 simulator: BERT's
embeddings ``Add(x[2,16,64], pos[1,16,64]) -> LayerNorm`` gave row 1 off by up to 4.9 while
row 0 matched to 3e-3; with ``Tile`` both rows match). Sessions run with
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

from pytest_ipfs_accel.backends import onnx_quantize
from pytest_ipfs_accel.backends.base import BackendUnavailable, ExportError, Step
from pytest_ipfs_accel.backends.info import RunnerInfo
from pytest_ipfs_accel.backends.onnx_export import Exporter, FlatOutputs, SplitInputs, export_onnx
from pytest_ipfs_accel.backends.ort_session import OrtRunner, OrtSessionBackend, executed_on
from pytest_ipfs_accel.hardware import qnn_probe

#: Part of the artifact key: bump when the QNN-friendly rewrite changes.
EXPORT_VARIANT = "qnn-v2:gathernd-const->reshape+gather;tile-add-broadcast-before-layernorm"


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
    shapes = _static_shapes(model)
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


def _static_shapes(model: onnx.ModelProto) -> dict[str, list[int]]:
    """Fully static shapes of the graph's tensors (inputs, outputs, inferred values, initializers)."""
    graph = model.graph
    shapes = {i.name: list(i.dims) for i in graph.initializer}
    for vi in [*graph.value_info, *graph.input, *graph.output]:
        dims = vi.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            shapes[vi.name] = [d.dim_value for d in dims]
    return shapes


def tile_layernorm_broadcasts(model: onnx.ModelProto) -> tuple[onnx.ModelProto, int]:
    """``Add(x, y) -> LayerNormalization`` where ``y`` broadcasts: ``Tile`` ``y`` to the full shape first.

    QNN HTP fuses Add + LayerNorm and then gets a broadcast input wrong beyond batch row 0 when it
    has more than a channel axis (measured: ``[16,64]`` or ``[1,16,64]`` added to ``[2,16,64]``; a
    ``[64]`` bias is fine). An explicit ``Expand`` is optimised away, ``Tile`` is not. Values are unchanged.
    """
    model = shape_inference.infer_shapes(model)
    graph = model.graph
    shapes = _static_shapes(model)
    feeds_norm = {n.input[0] for n in graph.node if n.op_type == "LayerNormalization"}
    nodes, done = [], 0
    for node in graph.node:
        out = shapes.get(node.output[0]) if node.output else None
        if node.op_type == "Add" and node.output[0] in feeds_norm and out:
            inputs = list(node.input)
            for pos, name in enumerate(inputs):
                shape = shapes.get(name)
                if shape is None or shape == out or len(shape) > len(out):
                    continue
                shape = [1] * (len(out) - len(shape)) + shape
                if not any(s > 1 for s in shape[:-1]):  # a per-channel vector (bias): HTP gets it right
                    continue
                base = f"{node.name or node.output[0]}_qnn_tile{pos}"
                graph.initializer.extend([
                    numpy_helper.from_array(numpy.array(shape, dtype=numpy.int64), f"{base}_shape"),
                    numpy_helper.from_array(numpy.array([o // s for o, s in zip(out, shape)], dtype=numpy.int64),
                                            f"{base}_reps"),
                ])
                nodes += [helper.make_node("Reshape", [name, f"{base}_shape"], [f"{base}_in"], name=f"{base}_reshape"),
                          helper.make_node("Tile", [f"{base}_in", f"{base}_reps"], [base], name=base)]
                inputs[pos] = base
                done += 1
            del node.input[:]
            node.input.extend(inputs)
        nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    return model, done


def export_qnn_onnx(wrapper: FlatOutputs, example: Any, path: pathlib.Path) -> str:
    """Static export, then the QNN rewrites; returns e.g. ``"dynamo+1 GatherND rewritten+2 Add broadcasts tiled"``."""
    mode = export_onnx(wrapper, example, path)
    model, gathers = rewrite_gathernd(onnx.load(str(path)))
    model, tiles = tile_layernorm_broadcasts(model)
    if gathers or tiles:
        onnx.save(model, str(path))
    notes = [f"{gathers} GatherND rewritten"] * bool(gathers) + [f"{tiles} Add broadcasts tiled"] * bool(tiles)
    return "+".join([mode, *notes])


class QnnBackend(OrtSessionBackend):
    """Backend for ``qnn``; ``device`` is a QNN backend: ``htp``, ``cpu`` or ``gpu``."""

    runtime = "qnn"

    def check_device(self, device: str) -> None:
        version = _qnn_version()
        if not qnn_probe.qnn_devices():
            raise BackendUnavailable(f"onnxruntime.get_ep_devices() lists no QNN device (onnxruntime "
                                     f"{onnxruntime.__version__}, onnxruntime-qnn {version})")

    def runtime_tag(self) -> str:
        return f"onnxruntime {onnxruntime.__version__}"

    def export_key(self, device: str, precision: str) -> list[str]:
        return ["fp32", EXPORT_VARIANT]  # one QNN-friendly fp32 graph: HTP picks its own compute precision

    def recipes(self) -> dict[str, onnx_quantize.Recipe]:
        """int8: the QDQ model of ORT's QNN config (the HTP's native path); fp16: the fp32 graph (HTP computes fp16)."""
        return onnx_quantize.QNN_RECIPES

    def exporter(self, device: str) -> Exporter:
        return export_qnn_onnx

    def open(self, path: pathlib.Path, device: str, precision: str, example: SplitInputs,
             example_inputs: dict[str, Any], exported: dict[str, str]) -> OrtRunner:
        started = time.perf_counter()
        session = _session(str(path), device, profile=True)
        options = qnn_probe.provider_options(device)
        info = RunnerInfo(
            self.runtime, f"onnxruntime {onnxruntime.__version__} + onnxruntime-qnn {_qnn_version()}",
            device=device, requested=f"QNNExecutionProvider:{device}", precision=precision,
            emulated=qnn_probe.emulated(device),
            extra={"provider": session.get_providers()[0], "compute_precision": _compute_precision(device, precision),
                   "provider_options": ",".join(f"{k}={v}" for k, v in options.items()), **exported,
                   "session_s": f"{time.perf_counter() - started:.3f}"})
        runner = OrtRunner(session, example, info)
        info.executed_on = qnn_placement(session, executed_on(session, lambda: runner(example_inputs)))
        if precision in onnx_quantize.QNN_RECIPES:  # QNN fuses the graph into one node: the QDQ graph says int8
            info["executed_precision"] = "int8"
        # a float graph: the HTP computes fp16 whatever is asked (compute_precision; the spec's fp32 bound
        # allows for it) -- nothing QNN reports per run, so no executed_precision is claimed
        return runner


def _compute_precision(device: str, precision: str) -> str:
    """What QNN computes: a QDQ (int8) graph in int8 on every backend, a float graph in fp16 on the HTP."""
    if precision in onnx_quantize.QNN_RECIPES:
        return "int8"
    return "fp16" if device == "htp" else "fp32"


def _qnn_version() -> str:
    """onnxruntime-qnn's version; BackendUnavailable naming the extra when it is not installed."""
    try:
        import onnxruntime_qnn
    except ModuleNotFoundError as e:
        raise BackendUnavailable("python package 'onnxruntime-qnn' is not installed "
                                 "(pip install 'pytest-ipfs-accel[qualcomm]')") from e
    return onnxruntime_qnn.__version__


def qnn_placement(session: Any, placed: str) -> str:
    """``executed_on`` with the QNN backend read back from the session.

    E.g. ``"QNNExecutionProvider:htp:simulator: 1 node"``.

    ``placed`` is the profiled ``"<provider>: <n> nodes, ..."``; QNN fuses what it takes into one node
    per partition. The backend type comes from the session's own provider options.
    """
    backend = session.get_provider_options().get("QNNExecutionProvider", {}).get("backend_type", "?")
    where = f"QNNExecutionProvider:{backend}" + (":simulator" if qnn_probe.emulated(backend) == "simulator" else "")
    return placed.replace("QNNExecutionProvider", where)


def _session(path: str, device: str, profile: bool = False) -> Any:
    """An InferenceSession on the QNN device only (``profile``: for :func:`executed_on`); failures name
    the nodes QNN rejected."""
    try:
        with qnn_probe.captured_log() as log:
            return onnxruntime.InferenceSession(path, qnn_probe.session_options(device, profile))
    except Exception as e:  # noqa: BLE001 - ORT raises several private exception types
        nodes = qnn_probe.unsupported_nodes(log)
        errors = qnn_probe.log_errors(log)
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        if nodes:
            message = f"QNN {device} session create: unsupported nodes in QNN EP: {', '.join(nodes[:8])}"
        else:
            message = f"QNN {device} session create: {(errors or [first])[0][:300]}"
        raise ExportError(message, step=Step.COMPILE) from e
