"""PyTorch eager: the reference (cpu fp32) and low-precision / accelerator runs."""

from __future__ import annotations

import copy
from typing import Any

import numpy
import torch

from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import BackendUnavailable, ExportError, Step
from pytest_ipfs_accel.backends.info import RunnerInfo
from pytest_ipfs_accel.backends.onnx_export import FlatOutputs, SplitInputs, check_static, split_inputs

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16, "int8-dynamic": torch.float32}
#: Module types ``torch.ao.quantization.quantize_dynamic`` turns into int8-weight, dynamic-activation kernels.
DYNAMIC_INT8 = "torch.ao.quantization.quantize_dynamic({nn.Linear}, dtype=qint8)"


class TorchRunner:
    """Casts float inputs to the model's dtype and device; returns float32-or-exact numpy."""

    def __init__(self, module: FlatOutputs, example: SplitInputs, device: torch.device,
                 dtype: torch.dtype, info: RunnerInfo) -> None:
        self.module, self.example, self.device, self.dtype, self.info = (
            module, example, device, dtype, info)

    def __call__(self, inputs: dict[str, Any]) -> list[numpy.ndarray]:
        return [_to_numpy(t) for t in self.raw(inputs)]

    def raw(self, inputs: dict[str, Any]) -> tuple[torch.Tensor, ...]:
        """The model's output tensors, where the model left them."""
        check_static(self.example, inputs)
        tensors = [self._place(inputs[name]) for name in self.example.names]
        with torch.inference_mode():
            return self.module(*tensors)

    def resident(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """``inputs`` already cast and on the device: host-to-device copies done once, outside any timing."""
        placed = {name: self._place(inputs[name]) for name in self.example.names}
        return {**placed, **{k: v for k, v in inputs.items() if k not in placed}}

    def timed(self, resident_inputs: dict[str, Any]) -> tuple[torch.Tensor, ...]:
        """What a benchmark times: the forward pass on :meth:`resident` inputs, outputs left on the device,
        the device synchronised before returning (CUDA/ROCm/MPS run asynchronously); no host copy."""
        outputs = self.raw(resident_inputs)
        _synchronize(self.device)
        return outputs

    def _place(self, value: Any) -> torch.Tensor:
        t = torch.as_tensor(value)
        if t.is_floating_point():
            t = t.to(self.dtype)
        return t.to(self.device)


class TorchBackend:
    """Backend for ``torch``; ``device`` is "cpu", "cuda", "mps" (or "cuda:N")."""

    runtime = "torch"

    def prepare(
        self,
        loaded: Any,
        example_inputs: dict[str, Any],
        device: str = "cpu",
        precision: str = "fp32",
        cache: ArtifactCache | None = None,
    ) -> TorchRunner:
        """Place a copy of the model (the original for cpu fp32) and run it once."""
        del cache  # eager torch has nothing to export
        target = probe_device(device)
        dtype = DTYPES[precision]
        model = loaded.model
        extra = {"device_name": _device_name(target)}
        if precision == "int8-dynamic":
            model, extra["executed_precision"], extra["compute_layers"] = _dynamic_int8(model, target)
            extra["quantization"] = DYNAMIC_INT8
        elif target.type != "cpu" or dtype != torch.float32:
            model = copy.deepcopy(model).to(device=target, dtype=dtype)
        example = split_inputs(example_inputs)
        info = RunnerInfo(self.runtime, torch.__version__, device=_executing_device(model, target), requested=device,
                          precision=precision, extra=extra)
        runner = TorchRunner(FlatOutputs(model, example).eval(), example, target, dtype, info)
        try:
            info.executed_on = executed_on(runner.raw(example_inputs))
        except (NotImplementedError, RuntimeError) as e:
            if "not implemented for" not in str(e):
                raise
            raise ExportError.at(Step.FIRST_RUN, f"torch {precision} on {target.type}", e) from e
        return runner


def _dynamic_int8(model: torch.nn.Module, target: torch.device) -> tuple[torch.nn.Module, str, str]:
    """A dynamically quantized copy (int8 ``Linear`` weights, activations quantized per call), CPU only;
    returns it with the family and counts of its compute layers (``"int8: 12, fp32: 2"``)."""
    if target.type != "cpu":
        raise BackendUnavailable(f"torch int8-dynamic runs on the CPU only (quantized::linear_dynamic has no "
                                 f"{target.type} kernel)")
    import warnings

    from pytest_ipfs_accel.backends import precision as precisions

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization's deprecation notice: torchao is its successor
        quantized = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)
    kinds = ["fp32" if isinstance(m, torch.nn.Linear) else "int8" for m in quantized.modules()
             if isinstance(m, (torch.nn.Linear, torch.ao.nn.quantized.dynamic.Linear))]
    family, counts = precisions.summarize(kinds)
    if family != "int8":
        raise BackendUnavailable("torch quantize_dynamic found no nn.Linear to quantize in this model")
    return quantized, family, counts


def _synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def probe_device(device: str) -> torch.device:
    """The torch device for ``device``, or BackendUnavailable naming what was probed."""
    target = torch.device(device)
    if target.type == "cpu":
        return target
    if target.type == "mps":
        available = torch.backends.mps.is_available()
        probe = "torch.backends.mps.is_available()"
    else:
        module = getattr(torch, target.type, None)
        available = bool(module is not None and module.is_available())
        probe = f"torch.{target.type}.is_available()"
    if not available:
        raise BackendUnavailable(f"{probe} is False (torch {torch.__version__})")
    count = _device_count(target.type)
    if target.index is not None and target.index >= count:
        raise BackendUnavailable(f"{device} requested but torch sees {count} {target.type} device(s)")
    return target


def _device_count(kind: str) -> int:
    module = getattr(torch, kind, None)
    counter = getattr(module, "device_count", None)
    return int(counter()) if callable(counter) else 1


def _executing_device(model: torch.nn.Module, target: torch.device) -> str:
    """Where the weights really are: ``cuda`` (``cuda:1`` when an index was asked for)."""
    actual = next(model.parameters(), torch.empty(0, device=target)).device
    return str(actual) if target.index is not None else actual.type


def executed_on(outputs: tuple[torch.Tensor, ...]) -> str:
    """The devices holding the outputs, comma-joined: ``"cpu"``, ``"cuda:0"``."""
    return ",".join(sorted({str(t.device) for t in outputs})) or "cpu"


def _device_name(target: torch.device) -> str:
    if target.type == "cuda":
        return torch.cuda.get_device_name(target)
    return target.type


def _to_numpy(t: torch.Tensor) -> numpy.ndarray:
    """Low-precision floats come back as float32 (numpy has no bfloat16)."""
    t = t.detach().cpu()
    if t.is_floating_point() and t.dtype != torch.float64:
        t = t.float()
    return t.numpy()
