"""``ipfs-accel models [--json] [--db PATH]``: the registry's key models, their tiny configs, and where
the results store has seen them pass."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pytest_ipfs_accel.cli.common import DEFAULT_DB, CliError

EPILOG = f"""examples:
  ipfs-accel models                  # name, model type, task, modality, tiny params, platforms passed
  ipfs-accel models --json
  ipfs-accel models --db {DEFAULT_DB} --no-params

"platforms" lists the platforms on which a generated test of the model passed in any run recorded
in the results store (empty when there is no store). Parameter counts are of the tiny random-weight
model the plugin builds (built here, on the CPU; a few seconds for all)."""


def add_parser(sub) -> None:
    p = sub.add_parser("models", help="the model registry, tiny-config sizes and platforms known to pass",
                       description="List the key models of the registry.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    p.add_argument("--json", action="store_true", help="a JSON list, one object per model")
    p.add_argument("--db", type=Path, default=None, help=f"results database (default {DEFAULT_DB})")
    p.add_argument("--no-params", action="store_true", help="skip building the tiny models (no parameter counts)")
    p.set_defaults(func=run)


def tiny_params(spec) -> int | None:
    """Parameter count of the tiny model, or None when it cannot be built here."""
    from pytest_ipfs_accel.models import ModelBuildError, load

    try:
        return sum(p.numel() for p in load(spec).model.parameters())
    except (ModelBuildError, ImportError):
        return None


def passed_platforms(db: Path) -> dict[str, list[str]]:
    """model -> platforms with at least one passed generated item, over every stored run."""
    if not db.is_file():
        return {}
    from pytest_ipfs_accel.store import queries
    from pytest_ipfs_accel.store.schema import StoreError

    try:
        with queries.connect(db) as con:
            rows = con.execute("SELECT DISTINCT model, platform FROM test_results WHERE outcome = 'passed' "
                               "AND model IS NOT NULL AND platform IS NOT NULL ORDER BY model, platform").fetchall()
    except StoreError as exc:
        raise CliError(str(exc)) from None
    out: dict[str, list[str]] = {}
    for model, platform in rows:
        out.setdefault(model, []).append(platform)
    return out


def run(args: argparse.Namespace) -> int:
    from pytest_ipfs_accel.models.registry import KEY_MODELS, KEY_TABLE, resolve

    db = args.db or Path(DEFAULT_DB)
    if args.db is not None and not db.is_file():
        raise CliError(f"--db {db}: no results database there")
    seen = passed_platforms(db)
    rows = []
    for name in KEY_MODELS:
        model_type, modality, task = KEY_TABLE[name]
        params = None if args.no_params else tiny_params(resolve(name))
        if not args.json and not args.no_params:
            print(f"ipfs-accel: built tiny {name}", file=sys.stderr, flush=True)
        rows.append({"name": name, "model_type": model_type, "task": task, "modality": modality,
                     "tiny_params": params, "platforms": seen.get(name, [])})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = [("MODEL", "MODEL_TYPE", "TASK", "MODALITY", "TINY_PARAMS", "PLATFORMS PASSED")]
    table += [(r["name"], r["model_type"], r["task"], r["modality"],
               "-" if r["tiny_params"] is None else f"{r['tiny_params']:,}", ",".join(r["platforms"]))
              for r in rows]
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    for r in table:
        print(("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[5]).rstrip())
    return 0
