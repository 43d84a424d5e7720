"""``from pytest_ipfs_accel.utils import setup_logger, ...``: the seed's import path (see ``seed_compat``)."""

from pytest_ipfs_accel.seed_compat import (
    MissingTemplateVariable,
    ensure_directory,
    setup_logger,
    template_variable_substitution,
)

__all__ = ["MissingTemplateVariable", "ensure_directory", "setup_logger", "template_variable_substitution"]
