"""OpenVINO: ``convert_model`` from torch (IR cached on disk), ``compile_model`` per device.

Float precisions are a compile-time hint, so one fp32 IR serves fp32/fp16/bf16; int8 and int4 IRs
are made from it by NNCF (:mod:`.openvino_quantize`) and cached. fp32
must be asked for explicitly: on AMX/avx512_bf16 CPUs the default hint is bf16.
Known crash (OpenVINO 2026.4, CPU): the bf16 hint with ``INFERENCE_NUM_THREADS=1``
SIGFPEs inside ``compile_model`` for decoder LMs; this backend sets a thread count (an
xdist worker's share of the cores) only for the other hints; run bf16 checks in a subprocess
(xdist / forked) to survive it.
"""

from __future__ import annotations

import functools
import os
import time
from typing import Any

import numpy
import openvino
import torch

from pytest_ipfs_accel.backends import openvino_quantize
from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import BackendUnavailable, ExportError, Step
from pytest_ipfs_accel.backends.info import RunnerInfo
from pytest_ipfs_accel.backends.onnx_export import (
    FlatOutputs,
    SplitInputs,
    check_static,
    input_array,
    quiet,
    split_inputs,
)
from pytest_ipfs_accel.backends.onnx_quantize import artifact_mb, calibration_inputs
from pytest_ipfs_accel.host.threads import thread_budget

#: Our precision names -> OpenVINO ``INFERENCE_PRECISION_HINT`` values (NNCF-made IRs compile with f32).
PRECISION_HINTS = {"fp32": "f32", "bf16": "bf16", "fp16": "f16", "int8": "f32", "int8-weights": "f32", "int4": "f32"}


class OpenVINORunner:
    """Runs a compiled model on positional numpy inputs."""

    def __init__(self, compiled: Any, example: SplitInputs, info: RunnerInfo) -> None:
        self.compiled = compiled
        self.example = example
        self.info = info

    def __call__(self, inputs: dict[str, Any]) -> list[numpy.ndarray]:
        check_static(self.example, inputs)
        results = self.compiled([input_array(inputs[name]) for name in self.example.names])
        return [numpy.asarray(results[out]) for out in self.compiled.outputs]


class OpenVINOBackend:
    """Backend for ``openvino``; ``device`` is an OpenVINO device name (CPU, GPU, NPU)."""

    runtime = "openvino"

    def prepare(
        self,
        loaded: Any,
        example_inputs: dict[str, Any],
        device: str = "CPU",
        precision: str = "fp32",
        cache: ArtifactCache | None = None,
    ) -> OpenVINORunner:
        """Convert (or reuse the cached IR) and compile for ``device`` at ``precision``."""
        core = openvino.Core()
        _check_device(core, device)
        cache = cache or ArtifactCache(None)
        example = split_inputs(example_inputs)
        # The IR does not depend on device or precision (both are compile options).
        key = [loaded.fingerprint(), example.signature(), f"openvino {openvino.__version__}",
               f"torch {torch.__version__}"]
        started = time.perf_counter()
        path, reused = cache.materialize(
            cache.path_for("openvino", key, ".xml"),
            lambda p: _convert(FlatOutputs(loaded.model, example), example, p),
        )
        convert_s = time.perf_counter() - started
        quantized: dict[str, str] = {"artifact_mb": f"{artifact_mb(path):.3f}"}
        if precision in openvino_quantize.RECIPES:
            path, quantized = openvino_quantize.derived_ir(
                path, openvino_quantize.RECIPES[precision], cache, lambda: _calibration(loaded, example))
        started = time.perf_counter()
        compiled = _compile(core, str(path), device, PRECISION_HINTS[precision])
        if len(compiled.inputs) != len(example.names):  # the runner feeds positionally
            raise ExportError(f"OV convert_model: the model takes {len(compiled.inputs)} inputs, "
                              f"the example has {len(example.names)} ({', '.join(example.names)})",
                              step=Step.CONVERT)
        info = RunnerInfo(self.runtime, openvino.__version__, device=_executing_device(compiled, device),
                          requested=device, precision=precision, executed_on=executed_on(compiled), extra={
                              "device_name": str(core.get_property(device, "FULL_DEVICE_NAME")),
                              "inference_precision": compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name(),
                              "artifact": str(path), "cache": "hit" if reused else "miss",
                              "export_s": f"{convert_s:.3f}", "compile_s": f"{time.perf_counter() - started:.3f}",
                              **quantized})
        executed, layers = openvino_quantize.executed_precision(compiled)
        if executed:
            info["executed_precision"], info["compute_layers"] = executed, layers
        return OpenVINORunner(compiled, example, info)


def _calibration(loaded: Any, example: SplitInputs) -> list[list[numpy.ndarray]]:
    """The seeded calibration inputs ONNX Runtime's static int8 uses, as positional lists."""
    return [[sample[name] for name in example.names] for sample in calibration_inputs(loaded, example)]


def _check_device(core: Any, device: str) -> None:
    """BackendUnavailable unless ``device`` (or ``device.N``) is in ``Core.available_devices``."""
    available = list(core.available_devices)
    if not any(d == device or d.startswith(f"{device}.") for d in available):
        raise BackendUnavailable(
            f"OpenVINO device {device!r} not in Core().available_devices = {available} "
            f"(openvino {openvino.__version__})"
        )


def executed_on(compiled: Any) -> str:
    """The devices the compiled model executes on (``EXECUTION_DEVICES``), comma-joined: ``"CPU"``."""
    return ",".join(str(d) for d in compiled.get_property("EXECUTION_DEVICES"))


def _executing_device(compiled: Any, device: str) -> str:
    """``device`` when the compiled model runs there, else what ``EXECUTION_DEVICES`` says."""
    actual = executed_on(compiled).split(",")
    if all(d == device or d.startswith(f"{device}.") for d in actual):
        return device
    return ",".join(actual)


@functools.cache
def _telemetry_off() -> None:
    """Keep OpenVINO's converter from sending usage telemetry from inside a test run.

    Without an opt-out file, ``convert_model`` sends each telemetry event from a forked copy of
    this (torch-sized) process: ~80 forks per model, a third of the conversion time here, spent
    mostly in the kernel, and network traffic nobody asked a test run for. The converter skips
    telemetry when ``CI=true``; its singleton is created once that way, so nothing is written to
    the user's home either. The user's own opt-in/out file is left alone.
    """
    try:
        from openvino.tools.ovc import telemetry_utils
    except ImportError:
        return
    saved = os.environ.get("CI")
    os.environ["CI"] = "true"
    try:
        telemetry_utils.init_ovc_telemetry().consent = False
    except Exception:  # noqa: BLE001 - a telemetry change must never break a conversion
        pass
    finally:
        if saved is None:
            os.environ.pop("CI", None)
        else:
            os.environ["CI"] = saved


def _convert(wrapper: FlatOutputs, example: SplitInputs, path: Any) -> None:
    _telemetry_off()
    try:
        with quiet(), torch.no_grad():
            model = openvino.convert_model(wrapper, example_input=example.tensors)
    except Exception as e:  # noqa: BLE001 - frontend errors have several types
        raise ExportError.at(Step.CONVERT, "OV convert_model", e) from e
    # compress_to_fp16 defaults to True and would round the weights: keep fp32.
    openvino.save_model(model, str(path), compress_to_fp16=False)


def _compile_config(hint: str) -> dict[str, Any]:
    """The precision hint, plus this xdist worker's share of the cores (never for bf16: see above)."""
    config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": hint}
    threads = thread_budget()
    if threads is not None and hint != "bf16":
        config["INFERENCE_NUM_THREADS"] = threads
    return config


def _compile(core: Any, path: str, device: str, hint: str) -> Any:
    try:
        return core.compile_model(path, device, _compile_config(hint))
    except Exception as e:  # noqa: BLE001
        raise ExportError.at(Step.COMPILE, "OV compile", e) from e
