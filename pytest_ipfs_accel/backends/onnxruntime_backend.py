"""ONNX Runtime: static-shape ONNX export (cached), one session on one execution provider."""

from __future__ import annotations

import time
from typing import Any

import numpy
import onnxruntime
import torch

from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import BackendUnavailable, ExportError
from pytest_ipfs_accel.backends.onnx_export import (
    FlatOutputs,
    SplitInputs,
    check_static,
    input_array,
    export_onnx,
    split_inputs,
)

CPU_EP = "CPUExecutionProvider"


class OnnxRuntimeRunner:
    """Feeds numpy inputs by graph input name; returns outputs in export order."""

    def __init__(self, session: Any, example: SplitInputs, info: dict[str, str]) -> None:
        self.session = session
        self.example = example
        self.info = info
        self._feed_names = [i.name for i in session.get_inputs()]

    def __call__(self, inputs: dict[str, Any]) -> list[numpy.ndarray]:
        check_static(self.example, inputs)
        feed = {name: input_array(inputs[name]) for name in self._feed_names}
        return list(self.session.run(None, feed))


class OnnxRuntimeBackend:
    """Backend for ``onnxruntime``; ``device`` is an execution provider name."""

    runtime = "onnxruntime"

    def prepare(
        self,
        loaded: Any,
        example_inputs: dict[str, Any],
        device: str = CPU_EP,
        precision: str = "fp32",
        cache: ArtifactCache | None = None,
    ) -> OnnxRuntimeRunner:
        """Export (or reuse) the ONNX file and open a session on ``device`` only."""
        available = onnxruntime.get_available_providers()
        if device not in available:
            raise BackendUnavailable(
                f"{device} is not in onnxruntime.get_available_providers() = {available} "
                f"(onnxruntime {onnxruntime.__version__})"
            )
        if precision != "fp32":
            raise BackendUnavailable(f"onnxruntime backend runs fp32 only, not {precision}")
        cache = cache or ArtifactCache(None)
        example = split_inputs(example_inputs)
        key = [loaded.fingerprint(), example.signature(), f"onnxruntime {onnxruntime.__version__}",
               f"torch {torch.__version__}", precision]
        target = cache.path_for("onnx", key, ".onnx")
        modes: list[str] = []
        started = time.perf_counter()
        path, reused = cache.materialize(
            target, lambda p: modes.append(export_onnx(FlatOutputs(loaded.model, example), example, p))
        )
        export_s = time.perf_counter() - started
        session = _session(str(path), device)
        info = {
            "runtime": self.runtime,
            "runtime_version": onnxruntime.__version__,
            "device": session.get_providers()[0],
            "precision": precision,
            "emulated": "no",
            "exporter": modes[0] if modes else "cached",
            "artifact": str(path),
            "cache": "hit" if reused else "miss",
            "export_s": f"{export_s:.3f}",
        }
        return OnnxRuntimeRunner(session, example, info)


def _session(path: str, device: str) -> Any:
    """An InferenceSession on exactly ``device`` (no silent CPU fallback)."""
    options = onnxruntime.SessionOptions()
    if device != CPU_EP:
        options.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
    try:
        return onnxruntime.InferenceSession(path, options, providers=[device])
    except Exception as e:  # noqa: BLE001 - ORT raises several private exception types
        raise ExportError.at("ORT session create", e) from e
