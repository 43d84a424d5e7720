"""What every ``ipfs-accel`` subcommand shares."""

from __future__ import annotations

from pytest_ipfs_accel.store.paths import DEFAULT_DB  # noqa: F401  (one place for the default path)


class CliError(Exception):
    """One line for stderr; exit status 2."""
