"""float_masks: bool/int64 mask paths rewritten to float 0/1, values bit-identical (ORT CPU is the judge),
and the rewritten graph accepted whole by onnxruntime-web's WebGPU EP (real, in headless Chromium)."""

from __future__ import annotations

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")

from onnx import TensorProto as T  # noqa: E402
from onnx import helper, numpy_helper  # noqa: E402

from pytest_ipfs_accel.backends.onnx_rewrite import float_masks  # noqa: E402
from pytest_ipfs_accel.browser import cache  # noqa: E402
from pytest_ipfs_accel.browser.backend import _narrow, executed_on, feed_dtypes  # noqa: E402


def _mask_model() -> onnx.ModelProto:
    """An attention-mask path like transformers' eager one, plus every logic op the rewrite knows."""
    vi = helper.make_tensor_value_info
    inits = [numpy_helper.from_array(np.array([1, 1, 4, 1], np.int64), "shape4"),
             numpy_helper.from_array(np.array([2, 1, 4, 4], np.int64), "full"),
             numpy_helper.from_array(np.tril(np.ones((4, 4), bool)), "causal"),
             numpy_helper.from_array(np.array([1, 0], np.int64), "rows"),
             numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
             numpy_helper.from_array(np.array(-3.4e38, np.float32), "min"),
             numpy_helper.from_array(np.ones((50, 3), np.float32), "emb")]
    nodes = [
        helper.make_node("Gather", ["emb", "ids"], ["h"]),
        helper.make_node("Cast", ["mask"], ["m"], to=T.BOOL),                 # int64 -> bool
        helper.make_node("Gather", ["m", "rows"], ["m2"], axis=0),            # bool data movement
        helper.make_node("Unsqueeze", ["m2", "axes"], ["m3"]),
        helper.make_node("And", ["m3", "causal"], ["both"]),                  # with a constant bool
        helper.make_node("Not", ["both"], ["neither"]),
        helper.make_node("Or", ["neither", "causal"], ["either"]),
        helper.make_node("Xor", ["either", "both"], ["x"]),
        helper.make_node("Expand", ["both", "full"], ["wide"]),
        helper.make_node("Where", ["wide", "zero", "min"], ["additive"]),     # consumer that needs bool
        helper.make_node("ReduceSum", ["h"], ["hs"], keepdims=0),
        helper.make_node("Greater", ["hs", "zero"], ["pos"]),                 # compare on float
        helper.make_node("IsNaN", ["additive"], ["nan"]),
        helper.make_node("Cast", ["x"], ["x_f"], to=T.FLOAT),                 # bool -> float
    ]
    inits.append(numpy_helper.from_array(np.array([1, 2], np.int64), "axes"))
    graph = helper.make_graph(nodes, "masks", [vi("ids", T.INT64, [2, 4]), vi("mask", T.INT64, [2, 4])],
                              [vi("additive", T.FLOAT, [2, 1, 4, 4]), vi("x_f", T.FLOAT, [2, 1, 4, 4]),
                               vi("pos", T.BOOL, []), vi("nan", T.BOOL, [2, 1, 4, 4]),
                               vi("either", T.BOOL, [2, 1, 4, 4])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _run(model: onnx.ModelProto, feeds: dict) -> list[np.ndarray]:
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    types = {i.name: i.type for i in session.get_inputs()}
    cast = {k: v.astype(np.int32 if types[k] == "tensor(int32)" else v.dtype) for k, v in feeds.items()}
    return session.run(None, cast)


def test_rewrite_keeps_every_value():
    model = _mask_model()
    new, counts = float_masks(model)
    onnx.checker.check_model(new, full_check=True)
    assert counts == {"bool ops as float": 11, "int64 inputs as int32": 2}
    kinds = {n.op_type for n in new.graph.node}
    assert not kinds & {"And", "Or", "Xor", "Not", "IsNaN"}
    assert [i.type.tensor_type.elem_type for i in new.graph.input] == [T.INT32, T.INT32]
    rng = np.random.default_rng(0)
    for _ in range(4):
        feeds = {"ids": rng.integers(0, 50, (2, 4)), "mask": rng.integers(0, 3, (2, 4))}  # 2 is "true" too
        for want, got in zip(_run(model, feeds), _run(new, feeds)):
            assert want.dtype == got.dtype and np.array_equal(want, got)


def test_int64_inputs_other_ops_read_stay_int64():
    vi = helper.make_tensor_value_info
    graph = helper.make_graph([helper.make_node("Add", ["x", "one"], ["y"])], "g", [vi("x", T.INT64, [2])],
                              [vi("y", T.INT64, [2])], [numpy_helper.from_array(np.array(1, np.int64), "one")])
    model, counts = float_masks(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    assert counts == {} and model.graph.input[0].type.tensor_type.elem_type == T.INT64


def test_feeds_narrow_to_int32_only_when_they_fit(tmp_path):
    new, _ = float_masks(_mask_model())
    onnx.save(new, tmp_path / "m.onnx")
    dtypes = feed_dtypes(tmp_path / "m.onnx")
    assert dtypes == {"ids": np.dtype(np.int32), "mask": np.dtype(np.int32)}
    assert _narrow("ids", np.array([1, 2], np.int64), dtypes["ids"]).dtype == np.int32
    with pytest.raises(ValueError, match="'ids' has values outside int32"):
        _narrow("ids", np.array([1 << 40], np.int64), dtypes["ids"])


def test_executed_on_names_platform_provider_and_adapter():
    created = {"placements": [{"provider": "JsExecutionProvider", "nodes": 91}],
               "adapter": {"vendor": "google", "architecture": "swiftshader", "isFallbackAdapter": True}}
    assert (executed_on("webgpu", created)
            == "webgpu:JsExecutionProvider:google/swiftshader (fallback adapter): 91 nodes")
    split = {"placements": [{"provider": "JsExecutionProvider", "nodes": 9},
                            {"provider": "CPUExecutionProvider", "nodes": 1}]}
    assert executed_on("webgpu", split) == "webgpu:JsExecutionProvider: 9 nodes, wasm:CPUExecutionProvider: 1 node"
    assert executed_on("wasm", {}).startswith("unreported")


@pytest.mark.skipif(bool(cache.missing()), reason=cache.missing() or "ok")
def test_webgpu_takes_the_rewritten_graph_whole(tmp_path):
    from pytest_ipfs_accel.browser.driver import BrowserError, browser
    from pytest_ipfs_accel.browser.probe import probe_platform
    from pytest_ipfs_accel.browser.server import server

    found = probe_platform("webgpu")
    if not found.available:
        pytest.skip(found.reason)
    original, (new, _) = _mask_model(), float_masks(_mask_model())
    onnx.save(original, tmp_path / "original.onnx")
    onnx.save(new, tmp_path / "rewritten.onnx")
    srv = server()

    def create(name: str) -> dict:  # a fresh page per session, as the backend does
        page = browser(cache.browser_for("webgpu")[0]).new_page(f"{srv.base}/harness.html")
        try:
            config = {"ep": "webgpu", "model": srv.publish(tmp_path / name)}
            return page.evaluate(f"createSession({json.dumps(config)})")
        finally:
            page.close()

    with pytest.raises(BrowserError, match="kernel not found"):  # no silent CPU fallback
        create("original.onnx")
    created = create("rewritten.onnx")
    assert executed_on("webgpu", created).startswith("webgpu:")
    assert [p["provider"] for p in created["placements"]] in (["JsExecutionProvider"], ["WebGpuExecutionProvider"])
