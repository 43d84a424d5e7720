"""onnxruntime specifics: fp32 only, exactly the requested provider, static graphs."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import BackendUnavailable, get_backend

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
CPU = "CPUExecutionProvider"


def test_session_uses_only_the_requested_provider(bert: Any, artifact_cache: ArtifactCache) -> None:
    runner = get_backend("onnxruntime").prepare(bert, bert.inputs(), CPU, "fp32", artifact_cache)
    assert runner.session.get_providers() == [CPU]
    assert runner.info["exporter"] in {"dynamo", "legacy", "cached"}


def test_exported_graph_has_static_shapes_and_flat_outputs(bert: Any, artifact_cache: ArtifactCache) -> None:
    inputs = bert.inputs()
    runner = get_backend("onnxruntime").prepare(bert, inputs, CPU, "fp32", artifact_cache)
    graph = onnx.load(pathlib.Path(runner.info["artifact"]), load_external_data=False).graph
    dims = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in graph.input}
    assert dims == {k: list(v.shape) for k, v in inputs.items() if hasattr(v, "shape")}
    assert [o.name for o in graph.output] == [f"output_{i}" for i in range(len(bert.forward(inputs)))]


@pytest.mark.parametrize(("precision", "why"), [
    ("bf16", "runs fp32/fp16/int8/int8-dynamic/int4 only, not bf16"),  # not in the spec
    ("fp16", "CPUExecutionProvider cannot compute fp16"),  # the CPU provider casts an fp16 graph back to fp32
])
def test_low_precision_is_unavailable(bert: Any, precision: str, why: str) -> None:
    with pytest.raises(BackendUnavailable, match=why):
        get_backend("onnxruntime").prepare(bert, bert.inputs(), CPU, precision)
