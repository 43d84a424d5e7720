"""qualcomm on this machine: the onnxruntime-qnn plugin EP's QNN HTP backend (a simulator on x86).

Real sessions, no mocks; everything skips when onnxruntime-qnn is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime_qnn", reason="onnxruntime-qnn is not installed (pip install 'pytest-ipfs-accel[qualcomm]')")
onnx = pytest.importorskip("onnx")

from pytest_ipfs_accel.backends.base import ExportError, get_backend  # noqa: E402
from pytest_ipfs_accel.backends.qnn_backend import _session, rewrite_gathernd, tile_layernorm_broadcasts  # noqa: E402
from pytest_ipfs_accel.hardware import probe  # noqa: E402
from pytest_ipfs_accel.hardware import qnn_probe  # noqa: E402
from pytest_ipfs_accel.runtime import checks  # noqa: E402
from pytest_ipfs_accel.runtime.parity import tolerance  # noqa: E402

BERT = checks.ModelRef("bert", "bert", "text")


@pytest.fixture(scope="module")
def htp():
    found = probe("qualcomm")
    if not found.available:
        pytest.skip(f"qualcomm not available: {found.reason}")
    return found


def test_probe_records_the_simulator(htp):
    assert (htp.runtime, htp.device) == ("qnn", "htp")
    assert probe("qualcomm:htp").available and probe("qnn").name == "qualcomm"
    assert htp.emulated == ("simulator" if qnn_probe.emulated("htp") == "simulator" else "no")
    assert "QNN HTP" in htp.reason and "onnxruntime-qnn" in htp.reason
    assert htp.details["soc_model"] == qnn_probe.soc_model()


def test_absent_backends_say_why(htp):
    for name in ("qualcomm:cpu", "qualcomm:gpu"):
        found = probe(name)
        assert found.available or found.reason, name  # present where the QNN backend exists, else a reason


def test_register_is_idempotent(htp):
    qnn_probe.register()
    qnn_probe.register()
    assert len(qnn_probe.qnn_devices()) >= 1


def _graph(nodes, inputs, outputs, inits=()):
    from onnx import helper

    model = helper.make_model(helper.make_graph(nodes, "g", inputs, outputs, list(inits)),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def test_matmul_relu_matches_numpy(htp, tmp_path):
    from onnx import TensorProto, helper, numpy_helper

    w = np.random.default_rng(0).standard_normal((16, 8)).astype(np.float32)
    model = _graph([helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Relu", ["h"], ["y"])],
                   [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 16])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])], [numpy_helper.from_array(w, "w")])
    onnx.save(model, tmp_path / "m.onnx")
    session = _session(str(tmp_path / "m.onnx"), "htp")
    assert session.get_providers()[0] == "QNNExecutionProvider"
    x = np.random.default_rng(1).standard_normal((2, 16)).astype(np.float32)
    (y,) = session.run(None, {"x": x})
    np.testing.assert_allclose(y, np.maximum(x @ w, 0), atol=2e-2, rtol=2e-2)  # HTP computes fp16


def _gathernd_model():
    from onnx import TensorProto, helper, numpy_helper

    idx = np.array([[[0, 3], [1, 0], [1, 2]]], dtype=np.int64)
    # bool data, as in transformers' attention-mask construction: QNN HTP rejects this GatherND
    return _graph([helper.make_node("Cast", ["x"], ["b"], to=TensorProto.BOOL),
                   helper.make_node("GatherND", ["b", "i"], ["g"]),
                   helper.make_node("Cast", ["g"], ["y"], to=TensorProto.FLOAT)],
                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [numpy_helper.from_array(idx, "i")])


def test_unsupported_nodes_are_the_reason(htp, tmp_path):
    onnx.save(_gathernd_model(), tmp_path / "nd.onnx")
    with pytest.raises(ExportError, match=r"unsupported nodes in QNN EP: GatherND"):
        _session(str(tmp_path / "nd.onnx"), "htp")


def test_gathernd_rewrite_keeps_values(htp, tmp_path):
    import onnxruntime

    model, n = rewrite_gathernd(_gathernd_model())
    assert n == 1 and "GatherND" not in {node.op_type for node in model.graph.node}
    onnx.save(model, tmp_path / "rw.onnx")
    x = np.array([[1, 0, 0, 1], [0, 1, 1, 0]], dtype=np.float32)
    cpu = onnxruntime.InferenceSession(str(tmp_path / "rw.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(cpu.run(None, {"x": x})[0], [[1.0, 0.0, 1.0]])
    _session(str(tmp_path / "rw.onnx"), "htp")  # QNN takes the rewritten graph whole


def _add_layernorm_model():
    """``Add(x[2,16,8], pos[1,16,8]) -> LayerNormalization``: BERT's embeddings at batch 2."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(2)
    inits = [numpy_helper.from_array(rng.standard_normal((1, 16, 8)).astype(np.float32), "pos"),
             numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "b")]
    return _graph([helper.make_node("Add", ["x", "pos"], ["s"]),
                   helper.make_node("LayerNormalization", ["s", "w", "b"], ["y"], axis=-1, epsilon=1e-12)],
                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 16, 8])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 16, 8])], inits)


def test_layernorm_broadcast_is_tiled_for_htp(htp, tmp_path):
    """HTP fuses Add + LayerNorm and reads a broadcast input at batch row 0 only (simulator,
    onnxruntime-qnn 2.7.0: row 1 off by ~4.9); tiling it first gives every row right."""
    import onnxruntime

    model, n = tile_layernorm_broadcasts(_add_layernorm_model())
    assert n == 1 and "Tile" in {node.op_type for node in model.graph.node}
    onnx.save(model, tmp_path / "tiled.onnx")
    onnx.save(_add_layernorm_model(), tmp_path / "plain.onnx")
    x = np.random.default_rng(3).standard_normal((2, 16, 8)).astype(np.float32)
    want, cpu = (onnxruntime.InferenceSession(str(tmp_path / name), providers=["CPUExecutionProvider"])
                 .run(None, {"x": x})[0] for name in ("plain.onnx", "tiled.onnx"))
    np.testing.assert_allclose(cpu, want, rtol=1e-6, atol=1e-6)  # same values (kernel order aside)
    (got,) = _session(str(tmp_path / "tiled.onnx"), "htp").run(None, {"x": x})
    np.testing.assert_allclose(got, want, atol=2e-2, rtol=2e-2)  # HTP computes fp16; both batch rows


@pytest.mark.slow
def test_bert_batch2_matches_single_runs_on_htp(htp, tmp_path):
    """The generated ``test_batch[qualcomm-bs2]`` check; before the Tile rewrite ~40% of row 1 was off."""
    from pytest_ipfs_accel.backends.artifacts import ArtifactCache

    cache = ArtifactCache(tmp_path)
    checks.assert_batch_consistent(BERT, "qualcomm", 2, cache)  # raises when a row differs


@pytest.mark.slow
def test_bert_parity_on_htp(htp, tmp_path):
    from pytest_ipfs_accel.backends.artifacts import ArtifactCache

    ref = checks.reference(BERT)
    cache = ArtifactCache(tmp_path)
    runner = get_backend("qnn").prepare(checks.loaded(BERT), ref.inputs, "htp", "fp32", cache)
    assert runner.info["device"] == "htp" and runner.info["provider"] == "QNNExecutionProvider"
    assert runner.info["emulated"] == qnn_probe.emulated("htp")
    assert runner.info["requested"] == "QNNExecutionProvider:htp"
    # read back from the session: one fused QNN node per partition, no CPU EP entry
    assert runner.info["executed_on"].startswith("QNNExecutionProvider:htp")
    assert "CPUExecutionProvider" not in runner.info["executed_on"]
    assert "GatherND rewritten" in runner.info["exporter"]
    result = checks.assert_parity(ref.outputs, runner(ref.inputs), "qnn", "fp32")
    assert result.ok, result.detail
    assert result.max_abs < tolerance("qnn", "fp32")[0] / 5  # measured 4.8e-3
    again = get_backend("qnn").prepare(checks.loaded(BERT), ref.inputs, "htp", "fp32", cache)
    assert again.info["cache"] == "hit"


ITEMS = '''
import pytest
@pytest.mark.ipfs_hw(name="qualcomm")
def test_on_qualcomm():
    pass
@pytest.mark.ipfs_hw(name="cpu")
def test_on_cpu():
    pass
'''


def test_require_accelerator_skips_the_simulator(htp, pytester):
    if htp.emulated == "no":
        pytest.skip("qualcomm is real hardware here")
    pytester.makepyfile(test_items=ITEMS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", "--ipfs-require-accelerator")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*qualcomm is a QNN HTP simulator here; --ipfs-require-accelerator skips "
                                 "emulated platforms*"])
    pytester.makeini("[pytest]\nipfs_require_accelerator = true\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1, skipped=1)
    pytester.makeini("[pytest]\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
