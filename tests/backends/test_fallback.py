"""Silent-fallback detection on real sessions: what executed the graph, checked against what was asked.

Only CPU devices exist here, so each real runner's ``executed_on`` is checked against a request for
an accelerator it did not get (CUDA / GPU), which must fail with class ``fallback``.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import get_backend
from pytest_ipfs_accel.expectations.classify import FallbackDetected, of_exception
from pytest_ipfs_accel.expectations.fallback import mismatch
from pytest_ipfs_accel.runtime import checks


def asked_elsewhere(runner: Any, requested: str) -> SimpleNamespace:
    """The runner's real report, as if ``requested`` had been asked for."""
    return SimpleNamespace(info={**runner.info, "requested": requested})


def test_onnxruntime_profiles_which_provider_ran_each_node(bert: Any, artifact_cache: ArtifactCache) -> None:
    pytest.importorskip("onnxruntime")
    runner = get_backend("onnxruntime").prepare(bert, bert.inputs(), "CPUExecutionProvider", "fp32", artifact_cache)
    assert runner.info["requested"] == "CPUExecutionProvider"
    assert re.fullmatch(r"CPUExecutionProvider: \d+ nodes", runner.info["executed_on"]), runner.info["executed_on"]
    assert not glob.glob(os.path.join(tempfile.gettempdir(), f"ipfs-accel-ort-{os.getpid()}*.json"))
    assert mismatch("CPUExecutionProvider", runner.info["executed_on"]) is None
    with pytest.raises(FallbackDetected, match=r"ort:cuda: asked for CUDAExecutionProvider, but the work ran on "
                                               r"CPUExecutionProvider: \d+ nodes") as err:
        checks.assert_runs_where_asked(asked_elsewhere(runner, "CUDAExecutionProvider"), "ort:cuda")
    assert of_exception(err.value) == "fallback"


def test_openvino_reports_execution_devices(bert: Any, artifact_cache: ArtifactCache) -> None:
    pytest.importorskip("openvino")
    runner = get_backend("openvino").prepare(bert, bert.inputs(), "CPU", "fp32", artifact_cache)
    assert (runner.info["requested"], runner.info["executed_on"]) == ("CPU", "CPU")
    assert mismatch("GPU", runner.info["executed_on"]) == "asked for GPU, but the work ran on CPU"
    with pytest.raises(FallbackDetected, match="openvino:GPU: asked for GPU, but the work ran on CPU"):
        checks.assert_runs_where_asked(asked_elsewhere(runner, "GPU"), "openvino:GPU")


def test_torch_reports_the_device_of_its_outputs(bert: Any) -> None:
    runner = get_backend("torch").prepare(bert, bert.inputs(), "cpu", "fp32")
    assert (runner.info["requested"], runner.info["executed_on"]) == ("cpu", "cpu")
    assert mismatch("cuda", runner.info["executed_on"]) == "asked for cuda, but the work ran on cpu"
    checks.assert_runs_where_asked(runner, "cpu")  # where asked: no error


@pytest.mark.parametrize(("requested", "executed_on", "fallback"), [
    ("cuda", "cuda:0", False), ("cuda:1", "cuda:1", False), ("cuda:1", "cuda:0", True),
    ("GPU", "GPU.0", False), ("GPU", "GPU.0,CPU", True), ("AUTO", "CPU", False),
    ("CUDAExecutionProvider", "CUDAExecutionProvider: 120 nodes", False),
    ("CUDAExecutionProvider", "CUDAExecutionProvider: 120 nodes, CPUExecutionProvider: 3 nodes", True),
    ("QNNExecutionProvider", "CPUExecutionProvider: 1 node", True),
    ("QNNExecutionProvider:htp", "QNNExecutionProvider:htp:simulator: 1 node", False),
    ("QNNExecutionProvider:htp", "QNNExecutionProvider:htp:simulator: 1 node, CPUExecutionProvider: 2 nodes", True),
    ("webgpu", "webgpu:JsExecutionProvider:google/swiftshader (fallback adapter): 92 nodes", False),
    ("webgpu", "wasm:CPUExecutionProvider: 92 nodes", True),
    ("webgpu", None, False), (None, "CPU", False),
])
def test_mismatch_rules(requested: str | None, executed_on: str | None, fallback: bool) -> None:
    assert (mismatch(requested, executed_on) is not None) == fallback
