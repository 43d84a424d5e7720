"""ONNX Runtime: static-shape ONNX export (cached), one session on one execution provider."""

from __future__ import annotations

import collections
import json
import os
import tempfile
from typing import Any

import numpy
import onnxruntime

from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import BackendUnavailable, ExportError
from pytest_ipfs_accel.backends.onnx_export import SplitInputs, cached_onnx, check_static, input_array, split_inputs
from pytest_ipfs_accel.host.threads import thread_budget

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
        cache = cache or ArtifactCache(None)  # kept alive here: a disabled cache's temp dir dies with it
        example = split_inputs(example_inputs)
        path, exported = cached_onnx(loaded, example, cache, f"onnxruntime {onnxruntime.__version__}", [precision])
        session = _session(str(path), device)
        info = {
            "runtime": self.runtime,
            "runtime_version": onnxruntime.__version__,
            "device": session.get_providers()[0],
            "requested": device,
            "precision": precision,
            "emulated": "no",
            **exported,
        }
        runner = OnnxRuntimeRunner(session, example, info)
        info["executed_on"] = executed_on(session, lambda: runner(example_inputs))
        return runner


def executed_on(session: Any, run_once: Any) -> str:
    """What ran each graph node on one profiled run: ``"CUDAExecutionProvider: 120 nodes, ..."``.

    ``session`` must have been created with profiling on (:func:`_session` does); ``run_once()``
    runs it, then profiling ends (later runs are not profiled) and its JSON file is deleted.
    Providers are listed by node count, largest first.
    """
    try:
        run_once()
    finally:
        profile = session.end_profiling()
    counts = collections.Counter(node_providers(profile).values())
    if not counts:  # nothing profiled (an empty graph): the session's first provider
        return session.get_providers()[0]
    return ", ".join(f"{ep}: {n} node{'s' if n != 1 else ''}" for ep, n in counts.most_common())


def node_providers(profile: str) -> dict[str, str]:
    """``{node name: execution provider}`` from an ORT profiling JSON file (the file is removed)."""
    if not profile:
        return {}
    try:
        with open(profile, encoding="utf-8") as f:
            events = json.load(f)
    finally:
        os.remove(profile)
    return {e["name"].removesuffix("_kernel_time"): e["args"]["provider"] for e in events
            if e.get("cat") == "Node" and "provider" in e.get("args", {})}


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
        raise ExportError.at("ORT session create", e) from e
