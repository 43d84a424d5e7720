"""What onnxruntime and openvino share: parity at fp32, the artifact cache, skips and xfails."""

from __future__ import annotations

import pathlib
from typing import Any

import numpy
import pytest

from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import Backend, BackendUnavailable, ExportError, Runner
from pytest_ipfs_accel.runtime.parity import tolerance, within_tolerance

RUNTIMES = [
    pytest.param("onnxruntime", "CPUExecutionProvider", id="onnxruntime"),
    pytest.param("openvino", "CPU", id="openvino"),
]
#: A device no CI machine has, per runtime.
MISSING_DEVICE = {"onnxruntime": "TensorrtExecutionProvider", "openvino": "NPU"}


@pytest.mark.parametrize(("runtime", "device"), RUNTIMES)
@pytest.mark.parametrize("model", ["bert", pytest.param("t5", marks=pytest.mark.slow)])
def test_fp32_parity_with_torch(backend: Backend, runtime: str, device: str, model: str,
                                request: pytest.FixtureRequest, artifact_cache: ArtifactCache) -> None:
    loaded = request.getfixturevalue(model)
    inputs = loaded.inputs()
    runner = backend.prepare(loaded, inputs, device, "fp32", artifact_cache)
    assert isinstance(runner, Runner)
    result = within_tolerance(loaded.forward(inputs), runner(inputs), *tolerance(runtime, "fp32"))
    assert result.ok, result.detail
    info = runner.info
    facts = (info["runtime"], info["device"], info["precision"], info["emulated"])
    assert facts == (runtime, device, "fp32", "no")
    assert info["runtime_version"]


@pytest.mark.parametrize(("runtime", "device"), RUNTIMES)
def test_second_prepare_loads_the_cached_artifact(backend: Backend, device: str, bert: Any,
                                                  tmp_path: pathlib.Path) -> None:
    cache, inputs = ArtifactCache(tmp_path), bert.inputs()
    first = backend.prepare(bert, inputs, device, "fp32", cache)
    artifact = pathlib.Path(first.info["artifact"])
    stamp = artifact.stat().st_mtime_ns
    second = backend.prepare(bert, inputs, device, "fp32", cache)
    assert (first.info["cache"], second.info["cache"]) == ("miss", "hit")
    assert second.info["artifact"] == str(artifact) and artifact.stat().st_mtime_ns == stamp
    # (how much faster a hit is lives in benchmarks/artifact_cache.py, not in a timed test)
    assert all(numpy.array_equal(a, b) for a, b in zip(first(inputs), second(inputs)))


@pytest.mark.parametrize(("runtime", "device"), RUNTIMES)
def test_batch_size_is_part_of_the_key(backend: Backend, runtime: str, device: str, bert: Any,
                                       artifact_cache: ArtifactCache) -> None:
    one = backend.prepare(bert, bert.inputs(batch_size=1), device, "fp32", artifact_cache)
    two_inputs = bert.inputs(batch_size=2)
    two = backend.prepare(bert, two_inputs, device, "fp32", artifact_cache)
    assert one.info["artifact"] != two.info["artifact"]
    assert within_tolerance(bert.forward(two_inputs), two(two_inputs), *tolerance(runtime, "fp32")).ok


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_missing_device_is_unavailable(backend: Backend, runtime: str, bert: Any) -> None:
    with pytest.raises(BackendUnavailable, match=MISSING_DEVICE[runtime]):
        backend.prepare(bert, bert.inputs(), MISSING_DEVICE[runtime])


@pytest.mark.parametrize(
    ("runtime", "device", "steps"),
    [pytest.param("onnxruntime", "CPUExecutionProvider", ["onnx dynamo export: ", "; onnx legacy export: "],
                  id="onnxruntime"),
     pytest.param("openvino", "CPU", ["OV convert_model: "], id="openvino")],
)
def test_unsupported_op_is_an_export_error_naming_it(backend: Backend, device: str, steps: list[str],
                                                     unexportable: Any) -> None:
    with pytest.raises(ExportError) as info:
        backend.prepare(unexportable, unexportable.inputs(), device)
    message = str(info.value)
    assert message.startswith(steps[0]) and all(step in message for step in steps)
    assert "[ops: aten::linalg_solve_triangular]" in message
    assert "\n" not in message


@pytest.mark.parametrize(("runtime", "device"), RUNTIMES)
def test_prepare_without_a_cache_keeps_its_artifact_until_loaded(backend: Backend, device: str, bert: Any) -> None:
    # cache=None means a disabled cache whose temporary directory must outlive the session creation
    runner = backend.prepare(bert, bert.inputs(), device, "fp32", None)
    assert runner.info["cache"] == "miss" and len(runner(bert.inputs())) == len(bert.forward(bert.inputs()))
