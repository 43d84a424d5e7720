"""``--ipfs-require-accelerator``: skip items whose platform is only emulated (simulator, software)."""

from __future__ import annotations

import pytest

from pytest_ipfs_accel.plugin.options import given, once

OPTION = "--ipfs-require-accelerator"
INI = "ipfs_require_accelerator"
_REQUIRED = pytest.StashKey[bool]()
_HELP = "skip generated items on platforms that are only emulated here (QNN HTP simulator, software WebGPU)"


def addoptions(parser: pytest.Parser) -> None:
    """The command-line flag and its ini twin (bool)."""
    group = parser.getgroup("ipfs-accel")
    group.addoption(OPTION, action="store_true", default=None, dest="ipfs_require_accelerator", help=_HELP)
    parser.addini(INI, _HELP, type="bool", default=False)


def required(config: pytest.Config) -> bool:
    """The flag if given, else the ini value; read once (at configure), then from the stash."""
    return once(config, _REQUIRED, lambda c: bool(given(c, INI).raw))


def skip_if_emulated(item: pytest.Item) -> None:
    """For ``pytest_runtest_setup``: skip an ``ipfs_hw(name=...)`` item whose platform is emulated."""
    marker = item.get_closest_marker("ipfs_hw")
    if marker is None or not required(item.config):
        return
    name = marker.kwargs.get("name") or (marker.args[0] if marker.args else None)
    if not name:
        return
    from pytest_ipfs_accel.hardware import probe

    found = probe(name)
    if found.available and found.emulated != "no":
        what = found.details.get("summary") or found.reason or found.emulated
        family = name.partition(":")[0]
        kind = "a QNN HTP simulator" if found.emulated == "simulator" and family == "qualcomm" else \
            f"{found.emulated} ({what})"
        pytest.skip(f"{name} is {kind} here; {OPTION} skips emulated platforms")
