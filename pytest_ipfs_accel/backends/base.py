"""The backend protocol, its two errors, and the runtime -> backend lookup (through the PlatformSpecs).

Nothing heavy is imported here: a backend module (and with it torch, onnxruntime
or openvino) is imported only when :func:`get_backend` is asked for it. Which precisions a
platform runs is decided here, once, from its spec (:class:`PrecisionChecked`).
"""

from __future__ import annotations

import enum
import re
import warnings
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, runtime_checkable

from pytest_ipfs_accel.hardware import registry
from pytest_ipfs_accel.hardware.spec import PlatformSpec, resolve

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


class Step(str, enum.Enum):
    """The step of preparing a runner that failed (``expectations.classify`` maps it to a failure class)."""

    EXPORT = "export"  # torch -> ONNX (or another exchange format)
    CONVERT = "convert"  # a runtime's own converter (OpenVINO convert_model)
    COMPILE = "compile"  # session creation, compile_model, QNN finalize
    FIRST_RUN = "first run"  # the prepared graph (or eager model) failed its first run


class ExportError(Exception):
    """The runtime cannot export, convert or compile this model: the test xfails.

    The message names the failing step and the first meaningful line of the
    underlying error, plus any unsupported op names found in it; ``step`` is a :class:`Step`.
    """

    def __init__(self, message: str, step: Step | str = Step.EXPORT) -> None:
        super().__init__(message)
        self.step = _step(step)

    @classmethod
    def at(cls, step: Step, where: str, cause: BaseException) -> ExportError:
        """``"<where>: <Type>: <first meaningful line> [ops: ...]"``."""
        return cls(f"{where}: {describe(cause)}", step)


def _step(step: Step | str) -> Step:
    """A Step from a Step or its value; other words (an older backend's) count as the export step."""
    try:
        return Step(step)
    except ValueError:
        warnings.warn(f"ExportError(step={step!r}): pass a backends.Step (EXPORT, CONVERT, COMPILE, FIRST_RUN)",
                      DeprecationWarning, stacklevel=3)
        return Step.EXPORT


@runtime_checkable
class Runner(Protocol):
    """A prepared model: numpy outputs in the order of ``LoadedModel.forward``."""

    info: Mapping[str, str]  # a RunnerInfo (backends.info) for the built-in runners

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


#: runtime -> factory added through the deprecated :func:`register_backend`.
_LEGACY: dict[str, str | Callable[[], Backend]] = {}


def register_backend(runtime: str, factory: str | Callable[[], Backend]) -> None:
    """Deprecated: give the factory as ``PlatformSpec(backend=...)`` instead. Still adds or replaces a backend."""
    warnings.warn("register_backend() is deprecated: set backend= on the PlatformSpec your "
                  "pytest_ipfs_platforms hook or 'pytest_ipfs_accel.platforms' entry point returns",
                  DeprecationWarning, stacklevel=2)
    _LEGACY[runtime] = factory


def available_runtimes() -> list[str]:
    """Runtimes some platform is served by (registered, not necessarily installed)."""
    return sorted({s.runtime for s in registry.specs() if s.backend is not None} | set(_LEGACY))


def _factory(runtime: str) -> str | Callable[[], Backend]:
    if runtime in _LEGACY:
        return _LEGACY[runtime]
    for spec in registry.for_runtime(runtime):
        if spec.backend is not None:
            return spec.backend
    raise ValueError(f"unknown runtime {runtime!r}; known: {', '.join(available_runtimes())}")


def get_backend(runtime: str) -> Backend:
    """The backend for ``runtime`` (precision-checked); BackendUnavailable if its packages are missing."""
    factory = _factory(runtime)
    try:
        made = resolve(factory)
    except ModuleNotFoundError as e:
        root = (e.name or "").partition(".")[0]
        if root not in RUNTIME_PACKAGES:
            raise
        raise BackendUnavailable(f"{runtime}: package {root!r} is not installed ({e})") from e
    specs = registry.for_runtime(runtime)
    backend: Backend = made()
    return PrecisionChecked(backend, specs) if specs else backend


class PrecisionChecked:
    """A backend whose ``prepare`` first checks the precision against its platform's spec: the one place
    that decides an unsupported precision (a skip naming the platform and the precisions it runs)."""

    def __init__(self, backend: Backend, specs: list[PlatformSpec]) -> None:
        self.backend, self.specs = backend, specs
        self.runtime = backend.runtime

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def platform(self, device: str) -> PlatformSpec:
        """The spec of the platform ``device`` belongs to (its default device), else the runtime's first."""
        return next((s for s in self.specs if s.default_device == device), self.specs[0])

    def prepare(self, loaded: Any, example_inputs: dict[str, Any], device: str, precision: str = "fp32",
                cache: ArtifactCache | None = None, **kwargs: Any) -> Runner:
        check_precision(self.platform(device), precision)
        return self.backend.prepare(loaded, example_inputs, device, precision, cache, **kwargs)


def check_precision(spec: PlatformSpec, precision: str) -> None:
    """BackendUnavailable (a skip) unless ``spec`` runs ``precision``."""
    if precision not in spec.precisions:
        raise BackendUnavailable(f"platform {spec.name} runs {'/'.join(spec.precisions)} only, not {precision}")
