"""``--ipfs-db`` / ``ipfs_db`` and ``--ipfs-db-timeout`` / ``ipfs_db_timeout``, each resolved once."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ipfs_accel import settings
from pytest_ipfs_accel.plugin.options import given, once, read
from pytest_ipfs_accel.store.paths import DEFAULT_DB

DEFAULT_TIMEOUT = "5"
_DB = pytest.StashKey["Path | None"]()
_TIMEOUT = pytest.StashKey[float]()


def addoptions(parser: pytest.Parser) -> None:
    group = parser.getgroup("ipfs-accel", "pytest-ipfs-accel: models x hardware")
    db_help = (f"DuckDB file the run's results are appended to (default {DEFAULT_DB} under the rootdir; "
               "relative paths: to the current directory on the command line, to the ini file's folder "
               "in the ini); 'none' stores nothing")
    group.addoption("--ipfs-db", dest="ipfs_db", default=None, metavar="PATH|none", help=db_help)
    parser.addini("ipfs_db", db_help, default="")
    timeout_help = ("seconds to wait for another process to release the results database before writing "
                    f"the results to a spill file next to it (default {DEFAULT_TIMEOUT})")
    group.addoption("--ipfs-db-timeout", dest="ipfs_db_timeout", default=None, metavar="SECONDS",
                    help=timeout_help)
    parser.addini("ipfs_db_timeout", timeout_help, default=DEFAULT_TIMEOUT)


def db_path(config: pytest.Config) -> Path | None:
    """The results database path, or None when ``none`` disables the store."""
    return once(config, _DB, _db_path)


def _db_path(config: pytest.Config) -> Path | None:
    found = given(config, "ipfs_db")
    raw = found.text
    if raw.lower() == "none":
        return None
    if not raw:
        return config.rootpath / DEFAULT_DB
    if "\x00" in raw or "\n" in raw:
        raise pytest.UsageError(f"{found.where}: {raw!r} is not a usable file name.")
    path = Path(raw).expanduser()
    return path if path.is_absolute() else found.base / path


def lock_timeout(config: pytest.Config) -> float:
    """``--ipfs-db-timeout``: seconds >= 0 to wait for the database lock."""
    return once(config, _TIMEOUT, lambda c: read(c, "ipfs_db_timeout", settings.seconds))
