"""Models under test: registry, tiny configs, input synthesis, loading.

Importing this package is cheap: torch and transformers load only when a model
is built (:func:`load`) or a generic model type is resolved.
"""

from pytest_ipfs_accel.models.loaded import LoadedModel, MissingPackageError, ModelBuildError, clear_cache, load
from pytest_ipfs_accel.models.registry import KEY_MODELS, InvalidModelNameError, UnknownModelError, known_names, resolve
from pytest_ipfs_accel.models.spec import MODALITIES, ModelSpec

__all__ = [
    "KEY_MODELS",
    "MODALITIES",
    "InvalidModelNameError",
    "LoadedModel",
    "MissingPackageError",
    "ModelBuildError",
    "ModelSpec",
    "UnknownModelError",
    "clear_cache",
    "known_names",
    "load",
    "resolve",
]
