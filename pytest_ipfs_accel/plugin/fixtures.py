"""Fixtures the generated tests use; registered by the plugin, so emitted files need no conftest."""

from __future__ import annotations

import pytest


class ArtifactCacheWarning(pytest.PytestWarning):
    """The export-artifact cache folder cannot be written: the run goes on without a cache."""


@pytest.fixture(scope="session")
def ipfs_artifacts(request: pytest.FixtureRequest):
    """The export-artifact cache under pytest's cache dir (``None`` root: disabled).

    A cache dir that cannot be created or written (read-only checkout) disables the cache with
    one warning; the items still run, exporting into a temporary folder.
    """
    from pytest_ipfs_accel.backends.artifacts import ArtifactCache

    from pytest_ipfs_accel.plugin import RUN_CONFIG

    config = request.config
    run = config.stash.get(RUN_CONFIG, None)
    if (run is not None and not run.use_cache) or getattr(config, "cache", None) is None:
        return ArtifactCache(None)
    try:
        cache, problem = ArtifactCache.at(config.cache.mkdir("ipfs-accel-artifacts"))
    except OSError as exc:
        cache, problem = ArtifactCache(None), str(exc)
    if problem:
        import warnings

        warnings.warn(ArtifactCacheWarning(f"pytest-ipfs-accel: export artifacts are not cached, the cache folder "
                                           f"cannot be written ({problem}); pass -o cache_dir=<writable dir> "
                                           "or --ipfs-no-cache"), stacklevel=1)
    return cache
