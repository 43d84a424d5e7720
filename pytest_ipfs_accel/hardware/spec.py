"""PlatformSpec: everything the plugin knows about one platform family, in one object.

A spec carries no import of its runtime: the probe and the backend factory are callables or
``"module:attr"`` paths, resolved (and their runtime imported) only when they are used.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Union

#: A callable, or ``"package.module:attribute"`` imported when first needed.
Ref = Union[str, Callable[..., Any]]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DEVICE_SPELLINGS = ("lower", "upper", "as-is")


@dataclass(frozen=True)
class PlatformSpec:
    """One platform family (``--ipfs-hw=<name>[:<device>]``).

    ``runtime`` names the backend (shared by families that run the same way: cpu/cuda/rocm/mps are
    ``torch``); ``probe(canonical_name) -> Platform`` says what is really there; ``backend()`` returns
    an object with ``prepare(loaded, example_inputs, device, precision, cache) -> Runner``.
    ``devices`` says which ``name:<device>`` spellings it takes: None (none), ``"lower"``,
    ``"upper"``, ``"as-is"`` or a callable normalising the device text. ``tolerances`` maps each
    precision to ``(atol, rtol)`` against torch cpu fp32; ``emulated`` says what may stand in for
    the hardware (``"no"``, ``"simulator"``, ``"software"``: the probe reports what it found);
    ``extra`` is the pip extra that installs the runtime; ``distributions`` are the installed
    distributions whose versions a run records (the first of each ``a|b`` group that is installed).
    """

    name: str
    runtime: str
    default_device: str
    probe: Ref
    backend: Ref | None = None
    aliases: tuple[str, ...] = ()
    devices: str | Callable[[str], str] | None = None
    precisions: tuple[str, ...] = ("fp32",)
    tolerances: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    emulated: str = "no"
    extra: str = ""
    distributions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"platform name {self.name!r} must be a lower-case identifier")
        if isinstance(self.devices, str) and self.devices not in _DEVICE_SPELLINGS:
            raise ValueError(f"platform {self.name!r}: devices={self.devices!r}; use one of {_DEVICE_SPELLINGS} "
                             "or a callable")
        missing = [p for p in self.tolerances if p not in self.precisions]
        if missing:
            raise ValueError(f"platform {self.name!r}: tolerances for {missing}, which are not in its precisions")

    def device_spelling(self, device: str) -> str | None:
        """The canonical spelling of ``device`` for this family; None when it takes no device."""
        how = self.devices
        if how is None:
            return None
        if callable(how):
            return how(device)
        return {"lower": device.lower(), "upper": device.upper()}.get(how, device)

    def probe_fn(self) -> Callable[[str], Any]:
        """The probe, imported if it was given as a path."""
        return resolve(self.probe)

    def tolerance(self, precision: str) -> tuple[float, float] | None:
        return self.tolerances.get(precision)


def resolve(ref: Ref) -> Any:
    """A callable as is; ``"module:attr"`` imported (ModuleNotFoundError propagates to the caller)."""
    if callable(ref):
        return ref
    module_name, _, attr = ref.partition(":")
    if not attr:
        raise ValueError(f"{ref!r} is not a 'package.module:attribute' path")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj
