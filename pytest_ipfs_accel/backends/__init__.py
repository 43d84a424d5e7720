"""Runtimes that execute a loaded model: torch, onnxruntime, openvino.

Cheap to import: each backend module (and its runtime) loads on ``get_backend``.
"""

from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import (
    Backend,
    BackendUnavailable,
    ExportError,
    Runner,
    available_runtimes,
    get_backend,
    register_backend,
)

__all__ = [
    "ArtifactCache",
    "Backend",
    "BackendUnavailable",
    "ExportError",
    "Runner",
    "available_runtimes",
    "get_backend",
    "register_backend",
]
