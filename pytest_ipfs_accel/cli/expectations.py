"""``ipfs-accel expectations``: write a stored run's outcomes into the expectations file; check a file.

    ipfs-accel expectations update --from-run last [--db PATH] [-o ipfs-expectations.toml]
    ipfs-accel expectations check [FILE]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pytest_ipfs_accel.cli.common import DEFAULT_DB, CliError

DEFAULT_FILE = "ipfs-expectations.toml"


def add_parser(sub) -> None:
    exp = sub.add_parser("expectations", help="expectations file: update it from a stored run, or check it",
                         description="The expectations file says per model x platform x kind what should "
                                     "happen (pass | xfail | skip, tolerances, max_slowdown).")
    actions = exp.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    upd = actions.add_parser("update", help="write the outcomes of a stored run into the file, for review",
                             description="Failed / xfailed cells become expected = \"xfail\" with the stored "
                                         "message as reason; passing cells drop their xfail; tolerances and "
                                         "max_slowdown are kept. Comments in the file are not kept.")
    upd.add_argument("--from-run", required=True, metavar="RUN_ID|last", help="the stored run to take outcomes from")
    upd.add_argument("--db", type=Path, default=None, help=f"results database (default {DEFAULT_DB})")
    upd.add_argument("-o", "--output", type=Path, default=Path(DEFAULT_FILE),
                     help=f"expectations file to update (default {DEFAULT_FILE}; created if missing)")
    upd.set_defaults(func=run)
    chk = actions.add_parser("check", help="validate a file: exit 2 with the problem, else print its rules")
    chk.add_argument("file", nargs="?", type=Path, default=Path(DEFAULT_FILE))
    chk.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pytest_ipfs_accel.expectations.file import Expectations, ExpectationsError, load

    path = args.file if args.action == "check" else args.output
    try:
        existing = load(path) if args.action == "check" or path.is_file() else Expectations()
    except ExpectationsError as exc:
        raise CliError(str(exc)) from None
    if args.action == "check":
        print(f"ipfs-accel: {args.file}: {len(existing.rules)} rule(s), valid")
        return 0
    return _update(args, existing)


def _update(args: argparse.Namespace, existing) -> int:
    from pytest_ipfs_accel.expectations.update import expected_outcomes, merge
    from pytest_ipfs_accel.expectations.write import dumps
    from pytest_ipfs_accel.store import queries
    from pytest_ipfs_accel.store.schema import StoreError

    db = args.db or Path(DEFAULT_DB)
    try:
        with queries.connect(db) as con:
            run_id = queries.resolve_run(con, args.from_run)
            cursor = con.execute("SELECT * FROM test_results WHERE run_id = ? ORDER BY node_id", [run_id])
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    except StoreError as exc:
        raise CliError(str(exc)) from None
    cells = expected_outcomes(rows)
    if not cells:
        raise CliError(f"run {run_id} in {db} has no generated test results to take outcomes from")
    updated = merge(existing, cells)
    header = (f"Expectations per model x platform x kind; the last matching [[expect]] wins.\n"
              f"Updated by: ipfs-accel expectations update --from-run {args.from_run} (run {run_id}); "
              "review before committing.")
    from pytest_ipfs_accel.files import FileWriteError, write_text

    try:  # the file's rules were read and merged above: replacing it (never through a link) keeps them
        write_text(args.output, dumps(updated, header), force=True)
    except FileWriteError as exc:
        raise CliError(str(exc)) from None
    xfails = sum(1 for c in cells.values() if c[0] == "xfail")
    print(f"ipfs-accel: {args.output}: {len(updated.rules)} rule(s) from run {run_id} "
          f"({len(cells)} cell(s), {xfails} xfail)")
    return 0
