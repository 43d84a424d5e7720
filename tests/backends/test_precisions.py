"""Lower precisions made with each runtime's own tooling, on the real runtimes (tiny bert).

Each check prepares a real runner and asserts what the runtime reports it executed, that the artifact
is cached under a key holding the quantization settings, and that the accuracy clears the spec's floors.
"""

from __future__ import annotations

import hashlib
import pathlib
from typing import Any

import pytest

from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import BackendUnavailable, get_backend
from pytest_ipfs_accel.runtime.parity import tolerance, within_tolerance

pytestmark = pytest.mark.slow


def _reference(model: Any) -> tuple[dict, list]:
    inputs = model.inputs(1, 0)
    return inputs, [t.detach().numpy() for t in model.forward(inputs)]


def _backend(runtime: str) -> Any:
    try:
        return get_backend(runtime)
    except BackendUnavailable as e:
        pytest.skip(str(e))


@pytest.mark.parametrize(("runtime", "device", "precision", "executed", "tool"), [
    ("onnxruntime", "CPUExecutionProvider", "int8", "int8", "quantize_static"),
    ("onnxruntime", "CPUExecutionProvider", "int8-dynamic", "int8", "quantize_dynamic"),
    ("onnxruntime", "CPUExecutionProvider", "int4", "int4", "MatMulNBitsQuantizer"),
    ("openvino", "CPU", "int8", "int8", "nncf.quantize"),
    ("openvino", "CPU", "int8-weights", "int8", "nncf.compress_weights"),
    ("openvino", "CPU", "int4", "int4", "nncf.compress_weights"),
    ("torch", "cpu", "int8-dynamic", "int8", "quantize_dynamic"),
])
def test_lossy_precision_runs_in_that_precision_within_its_floors(
        bert: Any, artifact_cache: ArtifactCache, runtime: str, device: str, precision: str, executed: str,
        tool: str) -> None:
    inputs, reference = _reference(bert)
    runner = _backend(runtime).prepare(bert, inputs, device, precision, artifact_cache)
    assert runner.info["executed_precision"] == executed, runner.info
    assert tool in runner.info["quantization"]
    result = within_tolerance(reference, runner(inputs), tolerance(runtime, precision))
    assert result.ok, result.detail
    assert result.cosine is not None and result.cosine < 1.0 - 1e-7  # really lossy: not a silent fp32 run
    if runtime != "torch":
        assert float(runner.info["artifact_mb"]) > 0
        assert pathlib.Path(runner.info["artifact"]).parent.parent.name.endswith("_quantized")


def test_quantized_artifact_is_cached_per_setting_and_reproducible(bert: Any, tmp_path: pathlib.Path) -> None:
    """Static int8 calibrates on seeded synthesized inputs: two fresh caches build byte-identical files;
    the same cache reuses the file; another precision gets another file."""
    backend = _backend("onnxruntime")
    inputs, _ = _reference(bert)
    ep = "CPUExecutionProvider"
    caches = [ArtifactCache(tmp_path / name) for name in ("a", "b")]
    first = backend.prepare(bert, inputs, ep, "int8", caches[0])
    again = backend.prepare(bert, inputs, ep, "int8", caches[0])
    other = backend.prepare(bert, inputs, ep, "int8", caches[1])
    dynamic = backend.prepare(bert, inputs, ep, "int8-dynamic", caches[0])
    assert (first.info["quantize_cache"], again.info["quantize_cache"]) == ("miss", "hit")
    digest = [hashlib.sha256(pathlib.Path(r.info["artifact"]).read_bytes()).hexdigest() for r in (first, other)]
    assert digest[0] == digest[1]
    assert dynamic.info["artifact"] != first.info["artifact"]


def test_onnxruntime_cpu_fp16_is_a_skip_naming_what_ran(bert: Any, artifact_cache: ArtifactCache) -> None:
    """The CPU provider has no fp16 Gemm: ORT wraps the fp16 graph in Casts and computes fp32 -- a skip, not a pass."""
    inputs, _ = _reference(bert)
    with pytest.raises(BackendUnavailable, match=r"CPUExecutionProvider cannot compute fp16: .*fp32: \d+"):
        _backend("onnxruntime").prepare(bert, inputs, "CPUExecutionProvider", "fp16", artifact_cache)


def test_openvino_reports_the_precision_its_execution_graph_ran(bert: Any, artifact_cache: ArtifactCache) -> None:
    inputs, _ = _reference(bert)
    runner = _backend("openvino").prepare(bert, inputs, "CPU", "fp32", artifact_cache)
    assert runner.info["executed_precision"] == "fp32" and float(runner.info["artifact_mb"]) > 0


def test_a_precision_the_spec_does_not_list_is_a_skip_that_names_it(bert: Any) -> None:
    inputs, _ = _reference(bert)
    with pytest.raises(BackendUnavailable, match=r"platform cpu runs fp32/fp16/bf16/int8-dynamic only, not int4"):
        _backend("torch").prepare(bert, inputs, "cpu", "int4")


def test_qualcomm_htp_runs_the_qdq_int8_model(bert: Any, artifact_cache: ArtifactCache) -> None:
    inputs, reference = _reference(bert)
    backend = _backend("qnn")
    try:
        runner = backend.prepare(bert, inputs, "htp", "int8", artifact_cache)
    except BackendUnavailable as e:
        pytest.skip(str(e))
    assert runner.info["executed_precision"] == "int8" and "get_qnn_qdq_config" in runner.info["quantization"]
    assert runner.info["executed_on"].startswith("QNNExecutionProvider:htp")
    result = within_tolerance(reference, runner(inputs), tolerance("qnn", "int8"))
    assert result.ok, result.detail


def test_torch_runner_times_on_resident_inputs_without_host_copies(bert: Any) -> None:
    """Issue 16.5: inputs placed once (resident), the timed call returns device tensors after synchronising."""
    import torch

    inputs, reference = _reference(bert)
    runner = _backend("torch").prepare(bert, inputs, "cpu", "fp32")
    placed = runner.resident(inputs)
    assert all(isinstance(placed[n], torch.Tensor) and placed[n].device.type == "cpu" for n in runner.example.names)
    outputs = runner.timed(placed)
    assert isinstance(outputs[0], torch.Tensor)
    assert within_tolerance(reference, [o.numpy() for o in outputs], 0.0, 0.0).ok
