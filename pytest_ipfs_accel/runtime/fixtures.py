"""Fixtures the generated tests use; registered by the plugin, so emitted files need no conftest."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def ipfs_artifacts(request: pytest.FixtureRequest):
    """The export-artifact cache under pytest's cache dir (``None`` root: disabled)."""
    from ..backends.artifacts import ArtifactCache

    config = request.config
    disabled = config.getoption("ipfs_no_cache", None) or config.getini("ipfs_no_cache")
    if disabled or getattr(config, "cache", None) is None:
        return ArtifactCache(None)
    return ArtifactCache(config.cache.mkdir("ipfs-accel-artifacts"))
