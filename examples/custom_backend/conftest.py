"""A new platform in one file: TorchScript (``torch.jit.trace``) on the CPU.

    cd examples/custom_backend && pytest --ipfs-models=bert --ipfs-hw=cpu,torchscript

The ``pytest_ipfs_platforms`` hook returns one PlatformSpec: name, runtime, default device, probe,
backend, precisions and tolerances. The generated load / forward / parity / batch items then include
``[torchscript]``, compared with torch-cpu fp32 like every other backend. To make the platform exist
outside pytest too (``ipfs-accel hw``, ``skill --cross-platform``), ship the same ``platforms()``
function as an entry point in the ``pytest_ipfs_accel.platforms`` group of a package.
"""

from __future__ import annotations

import importlib.util
import warnings

from pytest_ipfs_accel.backends import ExportError, RunnerInfo, Step
from pytest_ipfs_accel.hardware import Platform, PlatformSpec


def probe_torchscript(name: str) -> Platform:
    """Present when torch is installed; the reason says what was checked."""
    found = importlib.util.find_spec("torch") is not None
    reason = "torch.jit on the host CPU" if found else "python package 'torch' is not installed"
    return Platform(name, "torchscript", "cpu", found, reason)


class TorchScriptBackend:
    """Backend protocol: ``prepare(...)`` returns a Runner (``info`` + ``__call__``)."""

    runtime = "torchscript"

    def prepare(self, loaded, example_inputs, device, precision="fp32", cache=None):
        import torch
        from pytest_ipfs_accel.backends.onnx_export import FlatOutputs, split_inputs

        example = split_inputs(example_inputs)
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                traced = torch.jit.trace(FlatOutputs(loaded.model, example).eval(), example.tensors,
                                         check_trace=False, strict=False)
        except Exception as exc:  # an architecture TorchScript cannot trace: xfail, not crash
            raise ExportError.at(Step.EXPORT, "torch.jit.trace", exc) from exc
        return TracedRunner(traced, example.names, torch.__version__)


class TracedRunner:
    def __init__(self, traced, names, version):
        self.traced, self.names = traced, names
        self.info = RunnerInfo("torchscript", version, device="cpu", requested="cpu", precision="fp32",
                               executed_on="cpu")

    def __call__(self, inputs):
        import torch

        with torch.no_grad():
            return [t.numpy() for t in self.traced(*(inputs[n] for n in self.names))]


def platforms() -> list[PlatformSpec]:
    return [PlatformSpec(
        "torchscript", runtime="torchscript", default_device="cpu", probe=probe_torchscript,
        backend=TorchScriptBackend, precisions=("fp32",),
        tolerances={"fp32": (1e-5, 1e-5)},  # same kernels as eager: only fusion reorders sums
        extra="torch", distributions=("torch",),
    )]


def pytest_ipfs_platforms(config):
    return platforms()
