"""openvino specifics: the precision hint is applied and reported; the IR keeps fp32 weights."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import get_backend
from pytest_ipfs_accel.runtime.parity import tolerance, within_tolerance

openvino = pytest.importorskip("openvino")


def test_fp32_hint_and_uncompressed_ir(bert: Any, artifact_cache: ArtifactCache) -> None:
    runner = get_backend("openvino").prepare(bert, bert.inputs(), "CPU", "fp32", artifact_cache)
    assert runner.info["inference_precision"] == "f32"
    weights = pathlib.Path(runner.info["artifact"]).with_suffix(".bin").stat().st_size
    fp32_bytes = 4 * sum(p.numel() for p in bert.model.parameters())
    assert weights >= 0.9 * fp32_bytes, f"IR weights {weights} B, fp32 params {fp32_bytes} B: compressed?"


def test_bf16_hint_runs_bf16_within_its_tolerance(bert: Any, artifact_cache: ArtifactCache) -> None:
    capabilities = openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    if "BF16" not in capabilities:
        pytest.skip(f"CPU has no bf16 ({capabilities})")
    inputs = bert.inputs()
    runner = get_backend("openvino").prepare(bert, inputs, "CPU", "bf16", artifact_cache)
    assert runner.info["inference_precision"] == "bf16"
    reference = bert.forward(inputs)
    result = within_tolerance(reference, runner(inputs), *tolerance("openvino", "bf16"))
    assert result.ok, result.detail
    assert result.max_abs > tolerance("openvino", "fp32")[0] / 10, "bf16 should not be bit-close to fp32"


def test_unknown_precision_is_a_skip_naming_the_platform(bert: Any) -> None:
    from pytest_ipfs_accel.backends.base import BackendUnavailable

    with pytest.raises(BackendUnavailable, match="platform openvino runs fp32/bf16/fp16/int8/int8-weights/int4 only, "
                                                  "not int8-dynamic"):
        get_backend("openvino").prepare(bert, bert.inputs(), "CPU", "int8-dynamic")


def test_conversion_sends_no_telemetry_from_forked_processes(monkeypatch):
    """OpenVINO's converter forks this process per telemetry event unless told not to."""
    import os

    import openvino
    import torch

    from pytest_ipfs_accel.backends import openvino_backend

    monkeypatch.setenv("CI", "")
    monkeypatch.delenv("CI")  # the converter turns telemetry off by itself under CI=true
    forks = []
    real_fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or real_fork())
    openvino_backend._telemetry_off.__wrapped__()
    openvino.convert_model(torch.nn.Linear(4, 4), example_input=torch.zeros(1, 4))
    assert forks == []
    assert "CI" not in os.environ  # the switch is restored
