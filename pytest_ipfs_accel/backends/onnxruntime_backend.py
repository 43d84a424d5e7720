"""ONNX Runtime: static-shape ONNX export (cached; fp16 / int8 / int4 made by ORT's own tools), one session on
one execution provider."""

from __future__ import annotations

import os
import pathlib
import tempfile
from typing import Any

import onnxruntime

from pytest_ipfs_accel.backends.base import BackendUnavailable, ExportError, Step
from pytest_ipfs_accel.backends.info import RunnerInfo
from pytest_ipfs_accel.backends.onnx_export import SplitInputs
from pytest_ipfs_accel.backends.ort_session import (
    OrtRunner,
    OrtSessionBackend,
    executed_on,
    node_providers,
    require_precision,
)
from pytest_ipfs_accel.host.threads import thread_budget

CPU_EP = "CPUExecutionProvider"
OnnxRuntimeRunner = OrtRunner  # the name this module exported before the shared base
__all__ = ["CPU_EP", "OnnxRuntimeBackend", "OnnxRuntimeRunner", "executed_on", "node_providers"]


class OnnxRuntimeBackend(OrtSessionBackend):
    """Backend for ``onnxruntime``; ``device`` is an execution provider name."""

    runtime = "onnxruntime"

    def check_device(self, device: str) -> None:
        available = onnxruntime.get_available_providers()
        if device not in available:
            raise BackendUnavailable(
                f"{device} is not in onnxruntime.get_available_providers() = {available} "
                f"(onnxruntime {onnxruntime.__version__})"
            )

    def runtime_tag(self) -> str:
        return f"onnxruntime {onnxruntime.__version__}"

    def open(self, path: pathlib.Path, device: str, precision: str, example: SplitInputs,
             example_inputs: dict[str, Any], exported: dict[str, str]) -> OrtRunner:
        session = _session(str(path), device)
        info = RunnerInfo(self.runtime, onnxruntime.__version__, device=session.get_providers()[0], requested=device,
                          precision=precision, extra=dict(exported))
        runner = OrtRunner(session, example, info)
        info.executed_on = executed_on(session, lambda: runner(example_inputs), info)
        require_precision(info, precision, f"onnxruntime {info.device}")
        return runner


def _session(path: str, device: str) -> Any:
    """An InferenceSession on exactly ``device`` (no silent CPU fallback), profiling its first run."""
    options = onnxruntime.SessionOptions()
    options.enable_profiling = True  # one profiled run tells which provider ran each node
    options.profile_file_prefix = os.path.join(tempfile.gettempdir(), f"ipfs-accel-ort-{os.getpid()}")
    if device != CPU_EP:
        options.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
    threads = thread_budget()
    if threads is not None:  # an xdist worker: its share of the cores, not all of them
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    try:
        return onnxruntime.InferenceSession(path, options, providers=[device])
    except Exception as e:  # noqa: BLE001 - ORT raises several private exception types
        raise ExportError.at(Step.COMPILE, "ORT session create", e) from e
