"""Runtimes that execute a loaded model: torch, onnxruntime, openvino, qnn (browser: ``pytest_ipfs_accel.browser``).

Cheap to import: each backend module (and its runtime) loads on ``get_backend``; which backend
serves a runtime is the ``backend`` of its PlatformSpec (``pytest_ipfs_accel.platforms``).
"""

from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import (
    Backend,
    BackendUnavailable,
    ExportError,
    Runner,
    Step,
    available_runtimes,
    get_backend,
    register_backend,
)
from pytest_ipfs_accel.backends.info import RunnerInfo

__all__ = [
    "ArtifactCache",
    "Backend",
    "BackendUnavailable",
    "ExportError",
    "Runner",
    "RunnerInfo",
    "Step",
    "available_runtimes",
    "get_backend",
    "register_backend",
]
