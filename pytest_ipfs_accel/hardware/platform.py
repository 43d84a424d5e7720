"""The Platform record and the names users may write in ``--ipfs-hw``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Platform families, in the order items are generated.
FAMILIES = ("cpu", "cuda", "rocm", "mps", "onnxruntime", "openvino", "qualcomm", "webgpu", "webnn", "wasm")

#: Spellings accepted on the command line and what they mean.
ALIASES = {"ort": "onnxruntime", "torch": "cpu", "ov": "openvino", "qnn": "qualcomm"}

#: family -> (runtime, default device)
RUNTIME_OF = {
    "cpu": ("torch", "cpu"),
    "cuda": ("torch", "cuda"),
    "rocm": ("torch", "cuda"),  # ROCm builds of torch expose the GPU as "cuda"
    "mps": ("torch", "mps"),
    "onnxruntime": ("onnxruntime", "CPUExecutionProvider"),
    "openvino": ("openvino", "CPU"),
    "qualcomm": ("qnn", "htp"),  # onnxruntime-qnn plugin EP; devices htp | cpu | gpu (QNN backends)
    "webgpu": ("browser", "webgpu"),
    "webnn": ("browser", "webnn"),
    "wasm": ("browser", "wasm"),
}

#: Families added at run time by other plugins (register_platform): family -> (runtime, device)
EXTRA_FAMILIES: dict[str, tuple[str, str]] = {}

_DEVICE = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")


class UnknownPlatformError(ValueError):
    """A ``--ipfs-hw`` entry that names no platform."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name, self.suggestions = name, suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(
            f"unknown platform {name!r}{hint} Known: {', '.join(families())}, "
            "plus openvino:<DEVICE> and ort:<ExecutionProvider>."
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
    family = ALIASES.get(family.lower(), family.lower())
    if family not in families():
        import difflib

        pool = list(families()) + list(ALIASES)
        raise UnknownPlatformError(raw, difflib.get_close_matches(family, pool, n=3, cutoff=0.5))
    if not device:
        return family
    if family not in ("onnxruntime", "openvino", "qualcomm", *EXTRA_FAMILIES) or not _DEVICE.match(device):
        raise UnknownPlatformError(raw, [family])
    if family == "onnxruntime":
        return f"onnxruntime:{execution_provider(device)}"
    return f"{family}:{device.upper() if family == 'openvino' else device.lower()}"


def families() -> tuple[str, ...]:
    """Built-in families, then those other plugins registered."""
    return FAMILIES + tuple(EXTRA_FAMILIES)


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
    runtime, default = RUNTIME_OF.get(family) or EXTRA_FAMILIES[family]
    return runtime, device or default
