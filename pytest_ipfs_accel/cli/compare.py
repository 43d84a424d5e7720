"""``ipfs-accel compare``: the regression gate outside pytest, on two stored runs.

    ipfs-accel compare last                      # newest benchmark run vs the one before it
    ipfs-accel compare last:5 [NEW] --markdown   # NEW (default: newest) vs the 5 runs before it
    ipfs-accel compare RUN_A RUN_B --threshold 15 --db results.duckdb

Exit status: 0 no regression, 6 regression found (or, with ``--fail-on-inconclusive``, an item the
gate could not judge), 2 bad input (unknown run, no database). With ``--markdown`` stdout holds
only the Markdown (for ``$GITHUB_STEP_SUMMARY``); the status line goes to stderr.
Same engine as ``--ipfs-compare`` (:mod:`pytest_ipfs_accel.regression.gate`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pytest_ipfs_accel.cli.common import DEFAULT_DB, CliError


def add_parser(sub) -> None:
    cmp = sub.add_parser("compare", help="compare benchmark results of two stored runs (regression gate)",
                         description="Compare the benchmark items of run NEW with baseline BASE: a regression is "
                                     "a fastest round slower than the threshold and than the baseline runs' own "
                                     "spread, timed on a machine that was neither busy nor slower (a fixed "
                                     "reference workload timed beside each item), with a one-sided Mann-Whitney U "
                                     "test on the raw rounds. Exit 6 when one is found.")
    cmp.add_argument("base", metavar="BASE", help="baseline: a run id, 'last' or 'last:N' (the N newest runs "
                                                  "before NEW, rounds pooled)")
    cmp.add_argument("new", metavar="NEW", nargs="?", default=None,
                     help="run to check: a run id or 'last' (default: the newest finished run with benchmarks)")
    cmp.add_argument("--db", type=Path, default=None,
                     help=f"results database (default {DEFAULT_DB} in the current directory)")
    cmp.add_argument("--threshold", default=None, metavar="PCT",
                     help="percent slower an item's fastest round must be to count (default 10; e.g. 15 or 15%%)")
    cmp.add_argument("--markdown", action="store_true",
                     help="print only a GitHub Markdown table on stdout (status lines go to stderr)")
    cmp.add_argument("--fail-on-inconclusive", action="store_true",
                     help="exit 6 also when an item cannot be judged (too few rounds, machine busy)")
    cmp.add_argument("--any-machine", action="store_true",
                     help="compare even when BASE ran on another machine (default: report 'machine changed')")
    cmp.add_argument("--expectations", type=Path, default=None,
                     help="expectations file with per-test max_slowdown (default: ./ipfs-expectations.toml if any)")
    cmp.set_defaults(func=run)


def _threshold(raw: str | None) -> float | None:
    """``--threshold`` with the converter ``--ipfs-fail-on-regression`` uses (same values, same words)."""
    from pytest_ipfs_accel import settings
    from pytest_ipfs_accel.cli.common import converted

    return None if raw is None else converted("--threshold", settings.percent, raw)


def _expectations(path: Path | None):
    from pytest_ipfs_accel.expectations.file import DEFAULT_NAME, ExpectationsError, load

    if path is None:
        path = Path(DEFAULT_NAME)
        if not path.is_file():
            return None
    try:
        return load(path)
    except ExpectationsError as exc:
        raise CliError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from pytest_ipfs_accel.regression import gate, table as gate_table
    from pytest_ipfs_accel.store import queries
    from pytest_ipfs_accel.plugin.gate import REGRESSION_EXIT
    from pytest_ipfs_accel.store.schema import StoreError

    threshold = _threshold(args.threshold)
    expectations = _expectations(args.expectations)
    db = args.db or Path(DEFAULT_DB)
    try:
        with queries.connect(db) as con:
            new = gate.resolve(con, args.new or "last", any_machine=True)[0]
            run = queries.run(con, new)
            base = gate.load(con, gate.resolve(con, args.base, current=new, machine_id=run.get("machine_id"),
                                               any_machine=args.any_machine))
            current = gate.current_items(con, [new])
    except gate.NoBaseline as exc:
        raise CliError(f"{exc}; record benchmarks first (pytest --benchmark-only ...), then compare") from None
    except (StoreError, gate.GateError) as exc:
        raise CliError(str(exc)) from None
    changed = [] if args.any_machine else gate.machine_change(base, run.get("machine_id"), run.get("fingerprint"))
    results = gate.compare(current, base, threshold, gate.expectation_slowdowns(expectations),
                           gate.cores_of(run.get("fingerprint")))
    title = f"{new} vs {', '.join(base.run_ids)}"
    status = sys.stderr if args.markdown else sys.stdout  # the Markdown stays clean for $GITHUB_STEP_SUMMARY
    if args.markdown:
        print(gate_table.markdown(results, f"Benchmark comparison: {title}"), end="")
    else:
        print(f"ipfs-accel compare: {title}: {gate_table.summary(results)}")
        print("\n".join(gate_table.terminal(results)))
    if changed:
        line = (f"machine changed: {'; '.join(changed)} — not calling anything a regression "
                "(--any-machine compares anyway)")
        print(f"\n**{line}**" if args.markdown else line)
        return 0
    failing = [c for c in results if c.status == "regression" or (args.fail_on_inconclusive and c.inconclusive)]
    if failing:
        what = "regression(s)" if any(c.status == "regression" for c in failing) else "inconclusive item(s)"
        print(f"ipfs-accel compare: {len(failing)} {what}: exit status {REGRESSION_EXIT}", file=status)
        return REGRESSION_EXIT
    return 0
