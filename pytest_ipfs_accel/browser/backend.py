"""Backend for runtime ``browser``: the ONNX export run by onnxruntime-web in headless Chromium.

``device`` is the onnxruntime-web execution provider: ``wasm``, ``webgpu`` or ``webnn`` (deviceType cpu).
Non-wasm sessions are created with ``disable_cpu_ep_fallback``: a node the EP cannot take fails
session creation (an ExportError naming the browser's error) instead of silently running on wasm.
The WebGPU EP has no bool/int64 kernels for the attention-mask path, so its graph goes through
:func:`~pytest_ipfs_accel.backends.onnx_rewrite.float_masks` (same values, float 0/1 masks, int32 ids).
``info["executed_on"]`` is read back from the session: the provider(s) ORT placed the nodes on, and
for webgpu the adapter it used.

A step that gets no answer within the browser step timeout (``settings.step_timeout``: 60 s unless
``--ipfs-browser-timeout`` / ``$IPFS_ACCEL_BROWSER_TIMEOUT`` says otherwise) raises
:class:`~.driver.BrowserTimeout` (a TimeoutError: the item fails with class ``timeout``), never an
ExportError (which would xfail as "cannot export"); the hung model is not tried again in the process.
"""

from __future__ import annotations

import base64
import json
import statistics
from typing import Any

import numpy
import torch

from pytest_ipfs_accel.backends.base import BackendUnavailable, ExportError, Step, describe
from pytest_ipfs_accel.backends.info import RunnerInfo
from pytest_ipfs_accel.backends.onnx_rewrite import float_masks
from pytest_ipfs_accel.backends.onnx_export import (
    LEGACY_OPSET,
    FlatOutputs,
    SplitInputs,
    check_static,
    export_onnx,
    input_array,
    quiet,
)
from pytest_ipfs_accel.backends.ort_session import OrtSessionBackend

from pytest_ipfs_accel.browser import cache as webcache
from pytest_ipfs_accel.browser.driver import BrowserError, BrowserTimeout, Page, browser
from pytest_ipfs_accel.browser.probe import probe_platform
from pytest_ipfs_accel.browser.server import server
from pytest_ipfs_accel.browser.settings import step_timeout

EPS = ("wasm", "webgpu", "webnn")
#: Graph variants per EP (part of the artifact key): webgpu gets the bool/int64-free rewrite.
VARIANTS = {"webgpu": "float-masks-v1"}
#: onnxruntime-web provider class -> the platform it implements (JSEP is 1.30's WebGPU EP).
_PROVIDER_PLATFORM = {"JsExecutionProvider": "webgpu", "WebGpuExecutionProvider": "webgpu",
                      "WebNNExecutionProvider": "webnn", "CPUExecutionProvider": "wasm"}
#: (ONNX file, EP) whose session creation hung in this process: not tried again for every item.
_HUNG: dict[tuple[Any, str], BrowserTimeout] = {}
#: (numpy dtype name -> onnxruntime-web tensor type)
_JS_TYPES = {"float32": "float32", "int64": "int64", "int32": "int32", "bool": "bool", "uint8": "uint8",
             "int8": "int8", "float64": "float64"}


def _encode(array: numpy.ndarray) -> dict:
    array = numpy.ascontiguousarray(array)
    kind = _JS_TYPES.get(array.dtype.name)
    if kind is None:
        raise BackendUnavailable(f"browser: input dtype {array.dtype} has no onnxruntime-web tensor type")
    return {"dtype": kind, "shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode()}


def _decode(out: dict) -> numpy.ndarray:
    dtype = {"float32": numpy.float32, "int64": numpy.int64, "int32": numpy.int32, "bool": numpy.bool_,
             "uint8": numpy.uint8, "int8": numpy.int8, "float64": numpy.float64, "float16": numpy.float16}[out["dtype"]]
    return numpy.frombuffer(base64.b64decode(out["data"]), dtype=dtype).reshape(out["shape"]).copy()


def _export(wrapper: FlatOutputs, example: SplitInputs, path) -> str:
    """The legacy (TorchScript, opset 17) exporter first, then the shared dynamo-first path.

    The dynamo export of transformers' SDPA masking emits IsNaN, And, GatherND and a bool Cast,
    none of which has a kernel in onnxruntime-web's WebGPU EP (measured: 1.30.0), so with CPU
    fallback disabled the session cannot be created; the legacy export of the same model uses
    only ops the WebGPU, WebNN and wasm EPs all run.
    """
    names = {"input_names": list(example.names),
             "output_names": [f"output_{i}" for i in range(len(wrapper(*example.tensors)))]}
    config = getattr(wrapper.model, "config", None)
    attn = getattr(config, "_attn_implementation", None)
    try:
        # Eager attention masks with Add/Softmax only; SDPA's mask path adds IsNaN/And/bool Cast.
        if attn not in (None, "eager"):
            config._attn_implementation = "eager"
        with quiet(), torch.no_grad():
            torch.onnx.export(wrapper, example.tensors, str(path), dynamo=False, opset_version=LEGACY_OPSET, **names)
        return "legacy" if attn in (None, "eager") else "legacy (eager attention)"
    except Exception as first:  # noqa: BLE001 - fall back to the dynamo-first shared path
        try:
            return export_onnx(wrapper, example, path)
        except ExportError as exc:
            raise ExportError(f"onnx legacy export: {describe(first)}; {exc}", step=Step.EXPORT) from exc
    finally:
        if attn not in (None, "eager"):
            config._attn_implementation = attn


def _export_float_masks(wrapper: FlatOutputs, example: SplitInputs, path) -> str:
    """:func:`_export`, then :func:`float_masks` (for EPs without bool/int64 kernels)."""
    import onnx

    mode = _export(wrapper, example, path)
    model, counts = float_masks(onnx.load(str(path)))
    if not counts:
        return mode
    onnx.save(model, str(path))
    return f"{mode}+float masks ({', '.join(f'{n} {what}' for what, n in counts.items())})"


def feed_dtypes(path) -> dict[str, numpy.dtype]:
    """The numpy dtype each graph input of the ONNX file at ``path`` takes."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return {i.name: numpy.dtype(onnx.helper.tensor_dtype_to_np_dtype(i.type.tensor_type.elem_type))
            for i in graph.input}


def _narrow(name: str, array: numpy.ndarray, dtype: numpy.dtype | None) -> numpy.ndarray:
    """``array`` as the graph input's dtype; int64 -> int32 only when every value fits."""
    if dtype is None or array.dtype == dtype:
        return array
    if array.dtype == numpy.int64 and dtype == numpy.int32:
        info = numpy.iinfo(numpy.int32)
        if array.size and (array.min() < info.min or array.max() > info.max):
            raise ValueError(f"input {name!r} has values outside int32, which this graph takes (rewritten for webgpu)")
    return array.astype(dtype)


def executed_on(device: str, created: dict) -> str:
    """``"webgpu:JsExecutionProvider:google/swiftshader (fallback adapter): 92 nodes"``, one entry per provider.

    Entries start with the platform the provider implements, so a provider that is not the
    asked-for one (e.g. wasm's CPU EP under webgpu) shows up as a different platform.
    """
    entries = []
    for placed in created.get("placements") or []:
        provider = placed["provider"]
        name = f"{_PROVIDER_PLATFORM.get(provider, provider)}:{provider}"
        adapter = created.get("adapter")
        if provider in ("JsExecutionProvider", "WebGpuExecutionProvider") and adapter:
            label = "/".join(x for x in (adapter.get("vendor"), adapter.get("architecture")) if x) or "?"
            name += f":{label}" + (" (fallback adapter)" if adapter.get("isFallbackAdapter") else "")
        elif provider == "WebNNExecutionProvider":
            name += ":deviceType cpu"
        entries.append(f"{name}: {placed['nodes']} node{'s' if placed['nodes'] != 1 else ''}")
    return ", ".join(entries) or "unreported (onnxruntime-web logged no node placement)"


class BrowserRunner:
    """Feeds numpy inputs to a session living in a browser page; returns outputs in export order.

    ``info`` carries in-browser timings: ``browser_session_ms`` (session create),
    ``browser_first_run_ms``, ``browser_run_ms`` (last call) and ``browser_run_ms_median``.
    """

    def __init__(self, page: Page, session_id: int, example: SplitInputs, info: RunnerInfo,
                 dtypes: dict[str, numpy.dtype] | None = None) -> None:
        self.page, self.session_id, self.example, self.info = page, session_id, example, info
        self.dtypes = dtypes or {}
        self.run_ms: list[float] = []
        self.hung: BrowserTimeout | None = None  # a run that timed out: the page is gone, later runs fail at once

    def run(self, inputs: dict[str, Any], repeat: int = 1) -> tuple[list[numpy.ndarray], list[float]]:
        """Outputs and the in-browser ``session.run`` times (ms) of ``repeat`` runs."""
        check_static(self.example, inputs)
        feeds = {name: _encode(_narrow(name, input_array(inputs[name]), self.dtypes.get(name)))
                 for name in self.example.names}
        if self.hung is not None:
            raise BrowserTimeout(f"onnxruntime-web {self.info['device']} run: an earlier run of this session hung: "
                                 f"{self.hung}")
        try:
            got = self.page.evaluate(f"runSession({self.session_id}, {json.dumps(feeds)}, {int(repeat)})",
                                     timeout=step_timeout() * max(1, int(repeat)))
        except BrowserTimeout as exc:
            self.hung = exc
            self.page.close()
            raise BrowserTimeout(f"onnxruntime-web {self.info['device']} run: {exc}") from None
        except BrowserError as exc:
            raise RuntimeError(f"onnxruntime-web {self.info['device']} run failed: {exc}") from exc
        return [_decode(o) for o in got["outputs"]], got["runMs"]

    def __call__(self, inputs: dict[str, Any]) -> list[numpy.ndarray]:
        outputs, times = self.run(inputs)
        self.run_ms.extend(times)
        self.info["browser_run_ms"] = f"{times[-1]:.3f}"
        self.info["browser_run_ms_median"] = f"{statistics.median(self.run_ms):.3f}"
        self.info["browser_runs"] = str(len(self.run_ms))
        return outputs


class BrowserBackend(OrtSessionBackend):
    """Backend for runtime ``browser``; ``device`` is ``wasm``, ``webgpu`` or ``webnn``."""

    runtime = "browser"

    def check_device(self, device: str) -> None:
        if device not in EPS:
            raise BackendUnavailable(f"browser: unknown onnxruntime-web execution provider {device!r}; known: {EPS}")
        found = probe_platform(device)
        if not found.available:
            raise BackendUnavailable(f"{device}: {found.reason}")

    def runtime_tag(self) -> str:
        return f"onnxruntime-web {webcache.ort_version()} legacy-eager-first"

    def export_key(self, device: str, precision: str) -> list[str]:
        variant = VARIANTS.get(device)
        return [precision, *([variant] if variant else [])]

    def exporter(self, device: str):
        return _export_float_masks if device in VARIANTS else _export

    def open(self, path, device: str, precision: str, example: SplitInputs, example_inputs: dict[str, Any],
             exported: dict[str, str]) -> BrowserRunner:
        """Publish the ONNX file, create the session in a fresh page, run it once."""
        found = probe_platform(device)
        page, created = _create_session(path, device)
        info = RunnerInfo(self.runtime, f"onnxruntime-web {webcache.ort_version()} legacy-first", device=device,
                          requested=device, precision=precision, emulated=found.emulated,
                          executed_on=executed_on(device, created),
                          extra={"hardware": found.reason, "browser": found.details.get("browser", "?"), **exported,
                                 "browser_session_ms": f"{created['createMs']:.1f}"})
        info.extra.update({k: v for k, v in found.details.items() if k.startswith("adapter_")})
        runner = BrowserRunner(page, created["id"], example, info, feed_dtypes(path))
        try:
            _, first = runner.run(example_inputs)
        except BrowserTimeout as exc:
            _HUNG[path, device] = exc
            raise
        except RuntimeError as exc:  # a graph the EP accepts but cannot execute
            page.close()
            raise ExportError.at(Step.FIRST_RUN, f"onnxruntime-web first run ({device})", exc) from exc
        info["browser_first_run_ms"] = f"{first[0]:.3f}"
        return runner


def _create_session(path, device: str) -> tuple[Page, dict]:
    """A page with an onnxruntime-web session of ``path`` on ``device``: a hang is a BrowserTimeout
    (class timeout, never "cannot export"), a refusal an ExportError at the compile step."""
    srv = server()
    external = [{"path": f.name, "data": srv.publish(f)} for f in sorted(path.parent.iterdir())
                if f.is_file() and f != path and not f.name.startswith(".")]
    executable, _ = webcache.browser_for(device)
    try:
        page = browser(executable).new_page(f"{srv.base}/harness.html")
    except BrowserTimeout as exc:
        raise BrowserTimeout(f"onnxruntime-web page load ({device}): {exc}") from None
    except BrowserError as exc:
        raise BackendUnavailable(f"{device}: browser: {exc}") from exc
    cfg = {"ep": device, "model": srv.publish(path), "externalData": external}
    step = f"onnxruntime-web session create ({device})"
    if (path, device) in _HUNG:
        raise BrowserTimeout(f"{step}: an earlier attempt in this process hung: {_HUNG[path, device]}")
    try:
        return page, page.evaluate(f"createSession({json.dumps(cfg)})")
    except BrowserTimeout as exc:
        page.close()
        _HUNG[path, device] = exc
        raise BrowserTimeout(f"{step}: {exc}") from None
    except BrowserError as exc:
        page.close()
        raise ExportError.at(Step.COMPILE, step, exc) from exc
