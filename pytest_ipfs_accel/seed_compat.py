"""The seed generators' Python API, kept for scripts written against ``generators.config`` and
``generators.utils``: ``GeneratorConfig`` (the ``ipfs-accel generate`` defaults, every value from the
engine) and the helpers ``setup_logger``, ``ensure_directory``, ``template_variable_substitution``.

    from pytest_ipfs_accel.config import GeneratorConfig          # or: from pytest_ipfs_accel.seed_compat import ...
    GeneratorConfig.get_default_hardware_backends()   # ['cpu', 'cuda', 'rocm', ...]
    GeneratorConfig.get_key_model_types()             # ['bert', 't5', 'gpt2', ...]

``pytest_ipfs_accel.config`` and ``pytest_ipfs_accel.utils`` re-export these names (the import paths the
README's "Coming from" table gives); nothing else in the package uses them.
"""

from __future__ import annotations

import logging
import os
import string
import sys
from pathlib import Path

from pytest_ipfs_accel.settings import given
from pytest_ipfs_accel.store.paths import DEFAULT_DB

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
        for absent ones skip, saying why). Overrides, first wins: ``$IPFS_ACCEL_DEFAULT_HW``, then
        ``--ipfs-hw`` or else the ``ipfs_hw`` ini key of ``config`` (a pytest.Config, read as the plugin
        reads it). Unknown names raise UnknownPlatformError."""
        from pytest_ipfs_accel.hardware.platform import canonical, families

        raw = _split(os.environ.get(HW_ENV, ""))
        if not raw and config is not None:
            raw = _split(given(config, "ipfs_hw").raw)
        if not raw:
            return list(families())
        return list(dict.fromkeys(canonical(name) for name in raw))

    @classmethod
    def get_key_model_types(cls) -> list[str]:
        """The registry's key models (``models.KEY_MODELS``), or ``$IPFS_ACCEL_KEY_MODELS``."""
        from pytest_ipfs_accel.models.registry import KEY_MODELS

        return _split(os.environ.get(MODELS_ENV, "")) or list(KEY_MODELS)


class MissingTemplateVariable(KeyError):
    """A ``{name}`` in a template with no value given; ``.name`` is the variable."""

    def __init__(self, name: str, template: str) -> None:
        self.name = name
        super().__init__(f"template variable {name!r} has no value (template: {template[:80]!r})")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


def setup_logger(name: str, level: int | str = logging.INFO) -> logging.Logger:
    """A logger writing ``LEVEL name: message`` to stderr; calling it again adds no second handler."""
    logger = logging.getLogger(name)
    logger.setLevel(level if isinstance(level, int) else level.upper())
    if not any(getattr(h, "_ipfs_accel", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._ipfs_accel = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    return logger


def ensure_directory(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and parents) if needed; returns it as a Path. A file there raises NotADirectoryError."""
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise NotADirectoryError(f"{p} exists and is not a directory")
    p.mkdir(parents=True, exist_ok=True)
    return p


def template_variable_substitution(template: str, variables: dict) -> str:
    """``str.format``-style ``{name}`` substitution; a missing name raises MissingTemplateVariable."""
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None and field != "":
            name = field.split(".", 1)[0].split("[", 1)[0]
            if name not in variables:
                raise MissingTemplateVariable(name, template)
    return template.format(**variables)
