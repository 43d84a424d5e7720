"""Hooks other plugins (and conftest.py files) implement to extend pytest-ipfs-accel."""

from __future__ import annotations

import pytest


@pytest.hookspec
def pytest_ipfs_modify_matrix(config: pytest.Config, matrix: list) -> None:
    """Edit the generation matrix in place before tests are rendered.

    ``matrix`` is a list of ``pytest_ipfs_accel.generate.matrix.ModuleCells``,
    one per model; each maps a kind (``load``, ``forward``, ...) to a list of
    ``Target(platform, precision, batch_size)``. Remove targets to drop items,
    append them to add items; a module left with no kinds is not generated.
    """
