"""The Platform record and the names users may write in ``--ipfs-hw`` (read from the registry)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pytest_ipfs_accel.hardware import registry

_DEVICE = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")


class UnknownPlatformError(ValueError):
    """A ``--ipfs-hw`` entry that names no platform."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name, self.suggestions = name, suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        with_devices = [s.name for s in registry.specs() if s.devices is not None]
        super().__init__(
            f"unknown platform {name!r}{hint} Known: {', '.join(families())}"
            + (f", plus {', '.join(f'{n}:<DEVICE>' for n in with_devices)}." if with_devices else ".")
        )


@dataclass(frozen=True)
class Platform:
    """What a probe found for one platform name.

    ``runtime``/``device`` say what executes the work; ``available`` is False
    with ``reason`` naming what was probed; ``emulated`` is ``"no"`` for real
    hardware, otherwise what stands in (``"software"``, ``"simulator"``).
    """

    name: str
    runtime: str
    device: str
    available: bool
    reason: str = ""
    emulated: str = "no"
    details: dict[str, str] = field(default_factory=dict, compare=False)


def canonical(name: str) -> str:
    """Normalise a user spelling (``ort``, ``ort:cuda``, ``OpenVINO:gpu``) to its canonical name.

    Raises UnknownPlatformError for names that are not platforms at all.
    """
    raw = name.strip()
    family, _, device = raw.partition(":")
    aliases = registry.aliases()
    family = aliases.get(family.lower(), family.lower())
    if family not in families():
        import difflib

        pool = list(families()) + list(aliases)
        raise UnknownPlatformError(raw, difflib.get_close_matches(family, pool, n=3, cutoff=0.5))
    if not device:
        return family
    spelled = registry.get(family).device_spelling(device) if _DEVICE.match(device) else None
    if not spelled:
        raise UnknownPlatformError(raw, [family])
    return f"{family}:{spelled}"


def families() -> tuple[str, ...]:
    """Every registered platform family: the built-in ones, then those plugins registered."""
    return registry.families()


def execution_provider(device: str) -> str:
    """``cuda`` / ``CUDA`` / ``CUDAExecutionProvider`` -> ``CUDAExecutionProvider``."""
    if device.endswith("ExecutionProvider"):
        return device
    known = {"cpu": "CPU", "cuda": "CUDA", "tensorrt": "Tensorrt", "rocm": "ROCM", "migraphx": "MIGraphX",
             "openvino": "OpenVINO", "dml": "Dml", "coreml": "CoreML", "qnn": "QNN", "webgpu": "WebGpu",
             "xnnpack": "XNNPACK", "azure": "Azure"}
    return f"{known.get(device.lower(), device)}ExecutionProvider"


def runtime_and_device(name: str) -> tuple[str, str]:
    """The runtime and device a canonical platform name runs on."""
    family, _, device = name.partition(":")
    spec = registry.get(family)
    return spec.runtime, device or spec.default_device
