"""The platform registry: every PlatformSpec, from entry points and from the pytest hook.

Specs come, in this order, from the entry-point group :data:`GROUP` (this package's own built-ins
first: ``builtin = "pytest_ipfs_accel.platforms:builtin"``, then other distributions' entry points
by name), then from :func:`add` (the plugin passes what ``pytest_ipfs_platforms(config)`` hooks
return). Each entry point is a callable returning PlatformSpecs. Entry points are read lazily, on
the first question about platforms; a spec added later with a known name replaces it in place.
"""

from __future__ import annotations

import warnings
from typing import Iterable

from pytest_ipfs_accel.hardware.spec import PlatformSpec, resolve

#: Entry-point group: ``[project.entry-points."pytest_ipfs_accel.platforms"] name = "module:callable"``.
GROUP = "pytest_ipfs_accel.platforms"
#: This package's built-in platforms (also loaded from here when the package runs without its metadata).
BUILTIN = "pytest_ipfs_accel.platforms:builtin"
#: Distributions every run records, before those the platforms name.
BASE_DISTRIBUTIONS = ("pytest", "pytest-ipfs-accel")

_specs: dict[str, PlatformSpec] | None = None
_added: list[PlatformSpec] = []
_generation = 0


class PlatformRegistryWarning(RuntimeWarning):
    """An installed platform entry point that cannot be loaded (it is left out)."""


def _entry_point_specs() -> list[PlatformSpec]:
    """Specs from the entry-point group, built-ins first; a broken entry point warns and is skipped."""
    from importlib.metadata import entry_points

    points = sorted(entry_points(group=GROUP), key=lambda ep: (ep.value != BUILTIN, ep.name, ep.value))
    seen: set[str] = set()
    found: list[PlatformSpec] = []
    for ep in points:
        if ep.value in seen:  # the same distribution seen twice on the path (editable + site dir)
            continue
        seen.add(ep.value)
        found += _call(ep.value, f"entry point {ep.name!r} = {ep.value!r} (group {GROUP})")
    if BUILTIN not in seen:  # running from a source tree whose metadata is not installed
        found = _call(BUILTIN, "the built-in platforms") + found
    return found


def _call(ref: str, where: str) -> list[PlatformSpec]:
    try:
        made = list(resolve(ref)())
        bad = [m for m in made if not isinstance(m, PlatformSpec)]
        if bad:
            raise TypeError(f"returned {type(bad[0]).__name__}, not PlatformSpec")
    except Exception as exc:  # noqa: BLE001 - one broken plugin must not hide every platform
        warnings.warn(f"pytest-ipfs-accel: {where} failed and is ignored: {type(exc).__name__}: {exc} "
                      "(fix or uninstall the distribution that declares it)", PlatformRegistryWarning, stacklevel=2)
        return []
    return made


def _table() -> dict[str, PlatformSpec]:
    global _specs
    if _specs is None:
        table: dict[str, PlatformSpec] = {}
        for spec in [*_entry_point_specs(), *_added]:
            table[spec.name] = spec
        _specs = table
    return _specs


def add(specs: Iterable[PlatformSpec], origin: str = "a plugin") -> None:
    """Register specs (the pytest hook's, or a program's); a known name is replaced in place."""
    global _generation
    specs = list(specs)
    for spec in specs:
        if not isinstance(spec, PlatformSpec):
            raise TypeError(f"{origin} returned {spec!r}, not a PlatformSpec")
    table = _table()
    for spec in specs:
        _added.append(spec)
        table[spec.name] = spec
    _generation += 1


def discard(specs: Iterable[PlatformSpec]) -> None:
    """Undo :func:`add` for these specs (a built-in they replaced is back)."""
    global _specs, _generation
    gone = {id(spec) for spec in specs}
    _added[:] = [spec for spec in _added if id(spec) not in gone]
    _specs = None
    _generation += 1


def generation() -> int:
    """Bumped by every :func:`add`: a cache keyed on it sees new platforms."""
    return _generation


def specs() -> tuple[PlatformSpec, ...]:
    """Every registered platform, in generation order (built-ins first)."""
    return tuple(_table().values())


def families() -> tuple[str, ...]:
    """The names of every registered platform, built-ins first."""
    return tuple(_table())


def get(name: str) -> PlatformSpec:
    """The spec of a family (``openvino``) or of a canonical name (``openvino:GPU``); KeyError if none."""
    return _table()[name.partition(":")[0]]


def aliases() -> dict[str, str]:
    """Every alias spelling -> the family it names (``ort`` -> ``onnxruntime``)."""
    return {alias: spec.name for spec in _table().values() for alias in spec.aliases}


def for_runtime(runtime: str) -> list[PlatformSpec]:
    """The specs served by ``runtime``, in registry order."""
    return [spec for spec in _table().values() if spec.runtime == runtime]


def distributions() -> dict[str, tuple[str, ...]]:
    """What a run records: package label -> the distributions that provide it (first installed wins).

    A spec's ``"a|b|c"`` entry is one package provided by any of a, b or c (labelled a).
    """
    groups = [*BASE_DISTRIBUTIONS, *(d for spec in _table().values() for d in spec.distributions)]
    found: dict[str, tuple[str, ...]] = {}
    for group in groups:
        names = tuple(n.strip() for n in group.split("|") if n.strip())
        found.setdefault(names[0], names)
    return found


def recorded_versions() -> dict[str, str | None]:
    """Installed versions of :func:`distributions`, read from metadata (nothing is imported)."""
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for label, dists in distributions().items():
        found[label] = None
        for dist in dists:
            try:
                found[label] = version(dist)
                break
            except PackageNotFoundError:
                continue
    return found


def reset() -> None:
    """Forget everything read or added (tests; a new entry point installed in this process)."""
    global _specs, _generation
    _specs = None
    _added.clear()
    _generation += 1
