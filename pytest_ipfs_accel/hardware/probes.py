"""Probes of the built-in torch, ONNX Runtime and OpenVINO platforms: what is really there, and if not, why.

Each probe takes the canonical platform name and returns a Platform; the PlatformSpecs in
``pytest_ipfs_accel.platforms`` name them (QNN's is in ``qnn_probe``, the browsers' in
``browser.probe``). Probes import their runtime lazily; a missing package is an absence, never an error.
"""

from __future__ import annotations

import importlib.util
import platform as _host

from pytest_ipfs_accel.hardware import registry
from pytest_ipfs_accel.hardware.platform import Platform, runtime_and_device


def _absent(name: str, reason: str) -> Platform:
    runtime, device = runtime_and_device(name)
    return Platform(name, runtime, device, False, reason)


def _present(name: str, reason: str, **details: str) -> Platform:
    runtime, device = runtime_and_device(name)
    return Platform(name, runtime, device, True, reason, details=details)


def _missing(package: str, name: str) -> str:
    """The absence of ``package``, with the install command of the platform's extra (its spec's ``extra``)."""
    extra = registry.get(name).extra
    fix = f" (pip install 'pytest-ipfs-accel[{extra}]')" if extra else ""
    return f"python package {package!r} is not installed{fix}"


def probe_cpu(name: str) -> Platform:
    """torch on the host CPU; only checks that torch is importable (cheap)."""
    if importlib.util.find_spec("torch") is None:
        return _absent(name, _missing("torch", name))
    return _present(name, f"torch on {cpu_model()} ({_host.machine()})")


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo, or what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return _host.processor() or "unknown CPU"


def _torch():
    import torch

    return torch


def probe_cuda(name: str) -> Platform:
    """NVIDIA GPUs through a CUDA build of torch."""
    if importlib.util.find_spec("torch") is None:
        return _absent(name, _missing("torch", name))
    torch = _torch()
    if getattr(torch.version, "hip", None):
        return _absent(name, f"torch {torch.__version__} is a ROCm build; use --ipfs-hw=rocm")
    if not torch.cuda.is_available():
        build = torch.version.cuda or "none"
        return _absent(name, f"torch.cuda.is_available() is False (torch {torch.__version__}, CUDA build: {build})")
    return _present(name, f"{torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})",
                    devices=str(torch.cuda.device_count()))


def probe_rocm(name: str) -> Platform:
    """AMD GPUs through a ROCm build of torch (exposed as torch's "cuda" device)."""
    if importlib.util.find_spec("torch") is None:
        return _absent(name, _missing("torch", name))
    torch = _torch()
    hip = getattr(torch.version, "hip", None)
    if not hip:
        return _absent(name, f"torch {torch.__version__} is not a ROCm build (torch.version.hip is None)")
    if not torch.cuda.is_available():
        return _absent(name, f"torch.cuda.is_available() is False on ROCm {hip}")
    return _present(name, f"{torch.cuda.get_device_name(0)} (ROCm {hip})")


def probe_mps(name: str) -> Platform:
    """Apple GPUs through torch's Metal backend."""
    if importlib.util.find_spec("torch") is None:
        return _absent(name, _missing("torch", name))
    torch = _torch()
    if not torch.backends.mps.is_available():
        return _absent(name, f"torch.backends.mps.is_available() is False (torch {torch.__version__} on {_host.system()})")
    return _present(name, "Apple GPU via Metal Performance Shaders")


def probe_onnxruntime(name: str) -> Platform:
    """ONNX Runtime with the execution provider the name asks for."""
    if importlib.util.find_spec("onnxruntime") is None:
        return _absent(name, _missing("onnxruntime", name))
    import onnxruntime

    _, provider = runtime_and_device(name)
    available = onnxruntime.get_available_providers()
    if provider not in available:
        return _absent(name, f"onnxruntime {onnxruntime.__version__} has no {provider} "
                             f"(get_available_providers(): {', '.join(available)})")
    return _present(name, f"onnxruntime {onnxruntime.__version__} {provider}")


def probe_openvino(name: str) -> Platform:
    """OpenVINO on the device the name asks for (CPU by default)."""
    if importlib.util.find_spec("openvino") is None:
        return _absent(name, _missing("openvino", name))
    import openvino

    _, device = runtime_and_device(name)
    devices = openvino.Core().available_devices
    if device not in devices:
        return _absent(name, f"openvino {openvino.__version__}: device {device!r} not in "
                             f"Core().available_devices {devices}")
    return _present(name, f"openvino {openvino.__version__} {device}", devices=",".join(devices))
