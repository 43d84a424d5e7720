"""``ipfs-accel report``: render a run from the store; with --input, import pytest-benchmark JSON first.

    ipfs-accel report --db PATH --output report.html [--format html|md] [--run RUN_ID|last]
    ipfs-accel report --db box1.duckdb box2.duckdb fleet/ --output fleet.html   # machines side by side
    ipfs-accel report --input benchmark.json [more.json ...] --output report.html [--db PATH]

``--input`` takes the JSON pytest-benchmark writes with ``pytest --benchmark-json=FILE`` (or its
``--benchmark-autosave`` files); a file imported before is recognised and not imported twice.

Several ``--db`` inputs (databases, or folders of ``ipfs-accel db export --parquet`` files) are
merged into a temporary database first; the report then shows machines side by side.

An empty store is not an error: the report says "no runs recorded", a warning goes to stderr,
and the exit status is 0 (a CI step that renders before anything ran should not fail for it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pytest_ipfs_accel.files import FileWriteError
from pytest_ipfs_accel.cli.common import DEFAULT_DB, CliError


def add_parser(sub) -> None:
    rep = sub.add_parser("report", help="render an HTML or Markdown report from the results store",
                         description="Render a report of one run from the results database; with --input, "
                                     "first import pytest-benchmark JSON files into it (one run per file; "
                                     "write them with pytest-benchmark's 'pytest --benchmark-json=FILE').")
    rep.add_argument("--db", type=Path, nargs="+", default=None, metavar="PATH",
                     help=f"results database(s) or Parquet export folder(s) (default {DEFAULT_DB} in the current "
                          "directory); several are merged and shown machine by machine")
    rep.add_argument("--input", nargs="+", type=Path, metavar="JSON",
                     help="pytest-benchmark JSON file(s) to import: what 'pytest --benchmark-json=FILE' (or "
                          "--benchmark-autosave) writes; a file imported before is not imported again")
    rep.add_argument("--output", "-o", type=Path, required=True, help="report file (.html or .md)")
    rep.add_argument("--force", action="store_true",
                     help="replace an existing --output file that pytest-ipfs-accel did not write")
    rep.add_argument("--format", choices=("html", "md"), help="default: from the --output suffix")
    rep.add_argument("--run", default=None,
                     help="run id, or 'last' (default: the last imported run with --input, else 'last')")
    rep.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pytest_ipfs_accel.report import format_for, write
    from pytest_ipfs_accel.report import data as report_data
    from pytest_ipfs_accel.store.schema import StoreError

    try:
        fmt = args.format or format_for(args.output)
    except ValueError as exc:
        raise CliError(f"--output {exc}; or give --format") from None
    dbs = args.db or [Path(DEFAULT_DB)]
    db, run = dbs[0], args.run
    several = len(dbs) > 1 or db.is_dir()
    if several and args.input:
        raise CliError("--input imports into one database: give a single --db with it")
    missing = [str(p) for p in dbs if not p.exists()] if several else []
    if missing:
        raise CliError(f"no such database or folder: {', '.join(missing)}")
    try:
        if several:
            from pytest_ipfs_accel.report.data import load_sources

            data = load_sources(dbs, run or "last")
        else:
            if args.input:
                from pytest_ipfs_accel.store.pytest_json import NotBenchmarkJSON, import_files

                try:
                    done = import_files(args.input, db)
                except NotBenchmarkJSON as exc:
                    raise CliError(str(exc)) from None
                _say_imported(done, db)
                run = run or done[-1].run_id
            elif not db.is_file():
                raise CliError(f"{db}: no results database there (give --db PATH, or run pytest with "
                               "--ipfs-models first, or import pytest-benchmark JSON with --input)")
            data = report_data.load(db, run or "last")
    except StoreError as exc:
        raise CliError(str(exc)) from None
    if data.empty:
        print(f"ipfs-accel: warning: no runs recorded in {db}; the report says so", file=sys.stderr)
    try:
        write(data, args.output, fmt, force=args.force)
    except FileWriteError as exc:
        raise CliError(str(exc)) from None
    print(f"ipfs-accel: report written to {args.output}")
    return 0


def _say_imported(done: list, db: Path) -> None:
    new = [d.run_id for d in done if d.new]
    if new:
        print(f"ipfs-accel: imported {len(new)} file(s) into {db} as run(s) {', '.join(new)}")
    for d in done:
        if not d.new:
            print(f"ipfs-accel: {d.path} was already imported as run {d.run_id}; not imported again")
