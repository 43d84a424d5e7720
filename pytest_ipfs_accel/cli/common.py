"""What every ``ipfs-accel`` subcommand shares."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from pytest_ipfs_accel.settings import OptionValueError
from pytest_ipfs_accel.store.paths import DEFAULT_DB  # noqa: F401  (one place for the default path)

T = TypeVar("T")


class CliError(Exception):
    """One line for stderr; exit status 2."""


def converted(flag: str, convert: Callable[..., T], *args: Any) -> T:
    """``convert(*args)`` with a converter the pytest options use too (``settings``): the same values
    accepted, the same error text, named with this CLI's ``flag`` (CliError, exit 2)."""
    try:
        return convert(*args)
    except OptionValueError as exc:
        raise CliError(f"{flag}: {exc}") from None
