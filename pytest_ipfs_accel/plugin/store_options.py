"""``--ipfs-db`` / ``ipfs_db`` and ``--ipfs-db-timeout`` / ``ipfs_db_timeout``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ipfs_accel.store.paths import DEFAULT_DB

DEFAULT_TIMEOUT = "5"


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
    cli = config.getoption("ipfs_db")
    raw, base = (cli, config.invocation_params.dir) if cli is not None else (
        config.getini("ipfs_db"), config.inipath.parent if config.inipath else config.rootpath)
    raw = str(raw or "").strip()
    if raw.lower() == "none":
        return None
    if not raw:
        return config.rootpath / DEFAULT_DB
    if "\x00" in raw or "\n" in raw:
        raise pytest.UsageError(f"--ipfs-db: {raw!r} is not a usable file name.")
    path = Path(raw).expanduser()
    return path if path.is_absolute() else Path(base) / path


def lock_timeout(config: pytest.Config) -> float:
    cli = config.getoption("ipfs_db_timeout")
    raw = str(cli if cli is not None else config.getini("ipfs_db_timeout")).strip()
    return non_negative(raw, "--ipfs-db-timeout", "a number of seconds >= 0")


def non_negative(text: str, option: str, expected: str, shown: str | None = None) -> float:
    """A finite float >= 0 from ``text``, else a UsageError quoting ``shown`` (default: text)."""
    from pytest_ipfs_accel import settings

    try:
        return settings.non_negative(text)
    except settings.OptionValueError:
        raise pytest.UsageError(f"{option}: {shown if shown is not None else repr(text)} is not {expected}.") from None
