"""``GeneratorConfig``: the seed generators' configuration API, as a thin facade over the engine.

    from pytest_ipfs_accel.config import GeneratorConfig
    GeneratorConfig.get_default_hardware_backends()   # ['cpu', 'cuda', 'rocm', ...]
    GeneratorConfig.get_key_model_types()             # ['bert', 't5', 'gpt2', ...]
"""

from __future__ import annotations

import os

from pytest_ipfs_accel.store.writer import DEFAULT_DB

#: Comma list overriding the default platforms, e.g. ``IPFS_ACCEL_DEFAULT_HW=cpu,openvino``.
HW_ENV = "IPFS_ACCEL_DEFAULT_HW"
#: Comma list overriding the key model types, e.g. ``IPFS_ACCEL_KEY_MODELS=bert,t5``.
MODELS_ENV = "IPFS_ACCEL_KEY_MODELS"


def _split(raw) -> list[str]:
    if isinstance(raw, (list, tuple)):
        raw = ",".join(raw)
    return list(dict.fromkeys(x.strip() for x in str(raw or "").replace("\n", ",").split(",") if x.strip()))


class GeneratorConfig:
    """Defaults of the ``ipfs-accel generate`` commands; every value comes from the engine."""

    #: where ``generate key-tests`` writes when no ``-o`` is given
    DEFAULT_OUTPUT_DIR = "generated"
    #: the template database ``ipfs-accel templates create-db`` writes by default
    DEFAULT_TEMPLATE_DB_PATH = ".ipfs_accel/templates.duckdb"
    #: the results store (``--ipfs-db``)
    DEFAULT_RESULTS_DB_PATH = DEFAULT_DB

    @classmethod
    def get_default_hardware_backends(cls, config=None) -> list[str]:
        """Platforms to generate tests for when none are named: every known platform family (tests
        for absent ones skip, saying why). Overrides, first wins: ``$IPFS_ACCEL_DEFAULT_HW``, then the
        ``ipfs_hw`` ini key of ``config`` (a pytest.Config). Unknown names raise UnknownPlatformError."""
        from pytest_ipfs_accel.hardware.platform import canonical, families

        raw = _split(os.environ.get(HW_ENV, ""))
        if not raw and config is not None:
            raw = _split(config.getini("ipfs_hw"))
        if not raw:
            return list(families())
        return list(dict.fromkeys(canonical(name) for name in raw))

    @classmethod
    def get_key_model_types(cls) -> list[str]:
        """The registry's key models (``models.KEY_MODELS``), or ``$IPFS_ACCEL_KEY_MODELS``."""
        from pytest_ipfs_accel.models.registry import KEY_MODELS

        return _split(os.environ.get(MODELS_ENV, "")) or list(KEY_MODELS)
