"""``ipfs-accel db``: results databases of many machines in one place.

    ipfs-accel db export --parquet fleet/box1 [--db PATH]     # one file per table per run
    ipfs-accel db merge a.duckdb b.duckdb fleet/ -o all.duckdb  # idempotent; folders of exports too
    ipfs-accel db import .ipfs_accel/results.RUN.spill.jsonl [--db PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pytest_ipfs_accel.store.writer import DEFAULT_LOCK_TIMEOUT as DEFAULT_TIMEOUT
from pytest_ipfs_accel.cli.common import DEFAULT_DB, CliError


def add_parser(sub) -> None:
    top = sub.add_parser("db", help="merge, export (Parquet) and import results databases",
                         description="Bring results from many machines into one database.")
    dsub = top.add_subparsers(dest="db_command", metavar="ACTION")
    dsub.required = True

    p = dsub.add_parser("merge", help="merge DuckDB files and Parquet export folders into one database",
                        description="Add the runs and rows of each input that OUTPUT lacks (runs by id, rows by "
                                    "run and node id): merging twice adds nothing. Inputs are not modified.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="a .duckdb file or a Parquet export folder")
    p.add_argument("-o", "--output", type=Path, required=True, help="database to merge into (created if absent)")
    _timeout_option(p, "OUTPUT")
    p.set_defaults(func=merge)

    p = dsub.add_parser("export", help="write every run as Parquet files: DIR/<table>/<run_id>.parquet",
                        description="Export folders from several machines can be copied into one folder and "
                                    "merged with 'ipfs-accel db merge DIR -o all.duckdb'.")
    p.add_argument("--parquet", type=Path, required=True, metavar="DIR", help="folder to write into")
    p.add_argument("--db", type=Path, default=None, help=f"results database (default {DEFAULT_DB})")
    p.set_defaults(func=export)

    p = dsub.add_parser("import", help="load a spill file (written when the database was locked)")
    p.add_argument("spill", type=Path, metavar="SPILL", help="a <db>.<run-id>.spill.jsonl file")
    p.add_argument("--db", type=Path, default=None, help="database to load into (default: the one it names)")
    _timeout_option(p, "the database")
    p.set_defaults(func=import_)


def _timeout_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"how long to wait while another process (a pytest run, another merge) holds {what} "
                             f"(default {DEFAULT_TIMEOUT:g})")


def _seconds(text: str) -> float:
    """``--timeout``: the converter ``--ipfs-db-timeout`` uses (same values, same error text)."""
    from pytest_ipfs_accel import settings

    try:
        return settings.seconds(text)
    except settings.OptionValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _locked(exc: Exception, timeout: float) -> CliError:
    return CliError(f"{exc}: it is in use (a pytest run or another merge); try again when it ends, or wait longer "
                    f"with --timeout (now {timeout:g} s)")


def merge(args: argparse.Namespace) -> int:
    from pytest_ipfs_accel.store.merge import merge as merge_dbs, summary
    from pytest_ipfs_accel.store.schema import StoreError
    from pytest_ipfs_accel.store.writer import DatabaseLocked

    try:
        added = merge_dbs(args.inputs, args.output, timeout=args.timeout)
    except DatabaseLocked as exc:
        raise _locked(exc, args.timeout) from None
    except StoreError as exc:
        raise CliError(f"{exc} ({args.output} is unchanged)") from None
    print(f"ipfs-accel db merge: added {summary(added)} to {args.output}")
    return 0


def export(args: argparse.Namespace) -> int:
    from pytest_ipfs_accel.store.merge import export_parquet, summary
    from pytest_ipfs_accel.store.schema import StoreError

    if args.parquet.exists() and not args.parquet.is_dir():
        raise CliError(f"--parquet {args.parquet}: a file is there; give a folder")
    try:
        written = export_parquet(args.db or Path(DEFAULT_DB), args.parquet)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write into {args.parquet}: {exc.strerror or exc}") from None
    print(f"ipfs-accel db export: wrote {summary(written)} Parquet files under {args.parquet}")
    return 0


def import_(args: argparse.Namespace) -> int:
    from pytest_ipfs_accel.store.schema import StoreError
    from pytest_ipfs_accel.store.spill import import_spill
    from pytest_ipfs_accel.store.writer import DatabaseLocked

    if not args.spill.is_file():
        raise CliError(f"{args.spill}: no such spill file")
    try:
        inserted = import_spill(args.spill, args.db, timeout=args.timeout,
                                warn=lambda line: print(f"ipfs-accel db import: warning: {line}", file=sys.stderr))
    except DatabaseLocked as exc:
        raise _locked(exc, args.timeout) from None
    except StoreError as exc:
        raise CliError(str(exc)) from None
    print(f"ipfs-accel db import: inserted {', '.join(f'{n} {t}' for t, n in inserted.items())}")
    return 0
