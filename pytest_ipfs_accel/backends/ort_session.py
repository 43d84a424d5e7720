"""The one base of the ONNX-session backends (onnxruntime, qualcomm/qnn, browser): export once, open a session.

:meth:`OrtSessionBackend.prepare` is the shared sequence: check the device is there, export the
model to a static-shape ONNX file (cached per model, inputs, runtime and variant), then let the
subclass open its session and return a runner whose :class:`~.info.RunnerInfo` it filled. Which
precisions a platform runs is not decided here: ``get_backend`` checks it against the spec.
No runtime is imported here (the browser backend runs onnxruntime-web, not the Python package).
"""

from __future__ import annotations

import collections
import json
import os
import pathlib
from typing import Any

from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import Runner
from pytest_ipfs_accel.backends.onnx_export import (
    Exporter,
    SplitInputs,
    cached_onnx,
    check_static,
    export_onnx,
    input_array,
    split_inputs,
)


class OrtSessionBackend:
    """Template: subclasses set ``runtime`` and implement :meth:`check_device`, :meth:`runtime_tag`
    and :meth:`open`; :meth:`export_key` and :meth:`exporter` say how the ONNX file is made."""

    runtime = "?"

    def prepare(self, loaded: Any, example_inputs: dict[str, Any], device: str, precision: str = "fp32",
                cache: ArtifactCache | None = None, **_: Any) -> Runner:
        """Check ``device``, export (or reuse) the ONNX file, open the session on ``device`` only."""
        self.check_device(device)
        cache = cache or ArtifactCache(None)  # kept alive here: a disabled cache's temp dir dies with it
        example = split_inputs(example_inputs)
        path, exported = cached_onnx(loaded, example, cache, self.runtime_tag(), self.export_key(device, precision),
                                     export=self.exporter(device))
        return self.open(path, device, precision, example, example_inputs, exported)

    def check_device(self, device: str) -> None:
        """BackendUnavailable (a skip) when ``device`` is not there."""
        raise NotImplementedError

    def runtime_tag(self) -> str:
        """Runtime and version: part of the artifact key."""
        raise NotImplementedError

    def export_key(self, device: str, precision: str) -> list[str]:
        """What else changes the ONNX file (a rewrite variant); the precision by default."""
        del device
        return [precision]

    def exporter(self, device: str) -> Exporter:
        del device
        return export_onnx

    def open(self, path: pathlib.Path, device: str, precision: str, example: SplitInputs,
             example_inputs: dict[str, Any], exported: dict[str, str]) -> Runner:
        """The runner on a session of ``path``; ``exported`` holds the export's info fields."""
        raise NotImplementedError


class OrtRunner:
    """Feeds numpy inputs to an onnxruntime session by graph input name; returns outputs in export order."""

    def __init__(self, session: Any, example: SplitInputs, info: Any) -> None:
        self.session = session
        self.example = example
        self.info = info
        self._feed_names = [i.name for i in session.get_inputs()]

    def __call__(self, inputs: dict[str, Any]) -> list:
        check_static(self.example, inputs)
        feed = {name: input_array(inputs[name]) for name in self._feed_names}
        return list(self.session.run(None, feed))


def executed_on(session: Any, run_once: Any) -> str:
    """What ran each graph node on one profiled run: ``"CUDAExecutionProvider: 120 nodes, ..."``.

    ``session`` must have been created with profiling on; ``run_once()`` runs it, then profiling
    ends (later runs are not profiled) and its JSON file is deleted. Providers are listed by node
    count, largest first.
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
