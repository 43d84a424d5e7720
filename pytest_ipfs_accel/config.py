"""``from pytest_ipfs_accel.config import GeneratorConfig``: the seed's import path (see ``seed_compat``)."""

from pytest_ipfs_accel.seed_compat import HW_ENV, MODELS_ENV, GeneratorConfig

__all__ = ["HW_ENV", "MODELS_ENV", "GeneratorConfig"]
