"""The backend protocol, its two errors, and the runtime -> backend registry.

Nothing heavy is imported here: a backend module (and with it torch, onnxruntime
or openvino) is imported only when :func:`get_backend` is asked for it.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Any, Callable, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy

    from pytest_ipfs_accel.backends.artifacts import ArtifactCache

#: Packages whose absence means "this runtime is not installed" rather than a bug.
RUNTIME_PACKAGES = frozenset(
    {"torch", "numpy", "transformers", "onnx", "onnxscript", "onnxruntime", "openvino"}
)

_OP_NAME = re.compile(r"\b(?:aten|prim|torchvision|onnx|quantized)::[A-Za-z0-9_.]+")
_MAX_LINE = 300
#: Lines that only say where an error was raised, never what went wrong.
_BOILERPLATE = re.compile(r"^(Check '.*' failed at |Exception from src/|FrontEnd API failed with \w+:?$)")
#: Lines that name what is unsupported: preferred over the first line.
_TELLING = re.compile(r"not supported|unsupported|no conversion rule|no onnx function|not implemented",
                      re.IGNORECASE)


class BackendUnavailable(Exception):
    """The runtime is not installed or the device is missing: the test is skipped."""


class ExportError(Exception):
    """The runtime cannot export, convert or compile this model: the test xfails.

    The message names the failing step and the first meaningful line of the
    underlying error, plus any unsupported op names found in it.
    """

    def __init__(self, message: str, step: str = "") -> None:
        super().__init__(message)
        self.step = step

    @classmethod
    def at(cls, step: str, cause: BaseException) -> ExportError:
        """``"<step>: <Type>: <first meaningful line> [ops: ...]"``."""
        return cls(f"{step}: {describe(cause)}", step)


@runtime_checkable
class Runner(Protocol):
    """A prepared model: numpy outputs in the order of ``LoadedModel.forward``."""

    info: dict[str, str]

    def __call__(self, inputs: dict[str, Any]) -> list[numpy.ndarray]: ...


@runtime_checkable
class Backend(Protocol):
    """Turns a loaded model into a :class:`Runner` on one device and precision."""

    runtime: str

    def prepare(
        self,
        loaded: Any,
        example_inputs: dict[str, Any],
        device: str,
        precision: str = "fp32",
        cache: ArtifactCache | None = None,
    ) -> Runner: ...


def describe(cause: BaseException) -> str:
    """One line for an error: the line that names what failed, plus op names found in it.

    The ``raise ... from`` chain is walked because exporters wrap the real error in a
    generic one ("Failed to export the model with torch.export ..."): the first line
    anywhere in it that names something unsupported wins, else the innermost error's.
    """
    chain = _chain(cause)
    ops = sorted(set(_OP_NAME.findall("\n".join(str(e) for e in chain))))
    telling = [(e, ln) for e in chain for ln in _lines(e) if _TELLING.search(ln)]
    described = [(e, _lines(e)[0]) for e in reversed(chain) if _lines(e)]
    exc, line = (telling or described or [(cause, "")])[0]
    text = f"{type(exc).__name__}: {line[:_MAX_LINE]}" if line else type(exc).__name__
    return f"{text} [ops: {', '.join(ops[:8])}]" if ops else text


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its explicit causes (``raise ... from``), outermost first."""
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        cur = cur.__cause__
    return seen


def _lines(exc: BaseException) -> list[str]:
    """Non-empty message lines that say more than where the error was raised."""
    lines = (ln.strip(" -*#=~\t") for ln in str(exc).splitlines())
    return [ln for ln in lines if ln and not _BOILERPLATE.match(ln)]


_REGISTRY: dict[str, str | Callable[[], Backend]] = {
    "torch": "pytest_ipfs_accel.backends.torch_backend:TorchBackend",
    "onnxruntime": "pytest_ipfs_accel.backends.onnxruntime_backend:OnnxRuntimeBackend",
    "openvino": "pytest_ipfs_accel.backends.openvino_backend:OpenVINOBackend",
    "qnn": "pytest_ipfs_accel.backends.qnn_backend:QnnBackend",
    "browser": "pytest_ipfs_accel.browser.backend:BrowserBackend",
}


def register_backend(runtime: str, factory: str | Callable[[], Backend]) -> None:
    """Add or replace a backend: ``"module:Class"`` (imported lazily) or a factory."""
    _REGISTRY[runtime] = factory


def available_runtimes() -> list[str]:
    """Registered runtime names (registered, not necessarily installed)."""
    return sorted(_REGISTRY)


def get_backend(runtime: str) -> Backend:
    """The backend for ``runtime``; BackendUnavailable if its packages are missing."""
    try:
        factory = _REGISTRY[runtime]
    except KeyError:
        raise ValueError(
            f"unknown runtime {runtime!r}; known: {', '.join(available_runtimes())}"
        ) from None
    if callable(factory):
        return factory()
    module_name, _, attr = factory.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        root = (e.name or "").partition(".")[0]
        if root not in RUNTIME_PACKAGES:
            raise
        raise BackendUnavailable(f"{runtime}: package {root!r} is not installed ({e})") from e
    backend: Backend = getattr(module, attr)()
    return backend
