"""``ipfs-accel templates``: the DuckDB template database, template validation and scaffolding.

    ipfs-accel templates create-db [--db PATH]        load the shipped templates (idempotent)
    ipfs-accel templates list|show NAME [--db PATH]
    ipfs-accel templates export DIR|import DIR [--db PATH]
    ipfs-accel templates create bert [--dir DIR] [--force]
    ipfs-accel templates validate [PATH | --db PATH]  exit 1 when any problem is found
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pytest_ipfs_accel.cli.common import CliError

DEFAULT_TEMPLATE_DB = ".ipfs_accel/templates.duckdb"  # = templatedb.store.DEFAULT_TEMPLATE_DB (no duckdb import)

_EXAMPLES = f"""examples:
  ipfs-accel templates create-db                      # shipped templates -> {DEFAULT_TEMPLATE_DB}
  ipfs-accel templates list
  ipfs-accel templates show tests/base.py.j2
  ipfs-accel templates export my_templates/           # edit them, then:
  ipfs-accel templates import my_templates/
  pytest --ipfs-models=bert --ipfs-templates={DEFAULT_TEMPLATE_DB}
  ipfs-accel templates create bert --dir my_templates # my_templates/tests/models/bert.py.j2
  ipfs-accel templates validate my_templates/         # file:line: message per problem; exit 1 if any
  ipfs-accel templates validate --db {DEFAULT_TEMPLATE_DB}
"""


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, default=Path(DEFAULT_TEMPLATE_DB),
                   help=f"template database (default {DEFAULT_TEMPLATE_DB} in the current directory)")


def add_parser(sub) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    top = sub.add_parser("templates", help="template database (DuckDB), validation and new model templates",
                         description="Manage the jinja templates tests and skills are generated from: keep "
                                     "them in a DuckDB database the plugin renders from "
                                     "(--ipfs-templates=PATH.duckdb), validate them, scaffold new ones.",
                         epilog=_EXAMPLES, formatter_class=raw)
    tsub = top.add_subparsers(dest="templates_command", metavar="ACTION")
    tsub.required = True

    p = tsub.add_parser("create-db", help="load the shipped templates into a template database",
                        description="Create the template database, or update it: new templates are added, "
                                    "changed ones get version+1, unchanged ones are left alone.",
                        epilog="example:\n  ipfs-accel templates create-db --db .ipfs_accel/templates.duckdb",
                        formatter_class=raw)
    _db_arg(p)
    p.set_defaults(func=create_db)

    p = tsub.add_parser("list", help="list the templates in the database",
                        epilog="example:\n  ipfs-accel templates list --db .ipfs_accel/templates.duckdb",
                        formatter_class=raw)
    _db_arg(p)
    p.set_defaults(func=list_)

    p = tsub.add_parser("show", help="print one template's source",
                        epilog="example:\n  ipfs-accel templates show tests/model.py.j2", formatter_class=raw)
    p.add_argument("name", help="template name, e.g. tests/base.py.j2 (see: templates list)")
    _db_arg(p)
    p.set_defaults(func=show)

    p = tsub.add_parser("export", help="write every template under DIR by name",
                        description="Write every template under DIR by name. A file there with other content "
                                    "(edits not imported yet) is kept and named, unless --force.",
                        epilog="example:\n  ipfs-accel templates export my_templates/", formatter_class=raw)
    p.add_argument("dir", type=Path, help="folder to write <kind>/<path>.j2 files under")
    p.add_argument("--force", action="store_true", help="replace files in DIR that differ from the database")
    _db_arg(p)
    p.set_defaults(func=export)

    p = tsub.add_parser("import", help="load every *.j2 under DIR into the database",
                        description="Add or update the templates under DIR (names are paths relative to DIR, "
                                    "e.g. tests/models/bert.py.j2); a database is created if missing.",
                        epilog="example:\n  ipfs-accel templates import my_templates/ --db custom.duckdb",
                        formatter_class=raw)
    p.add_argument("dir", type=Path, help="folder holding tests/, skills/ or reports/ templates")
    _db_arg(p)
    p.set_defaults(func=import_)

    p = tsub.add_parser("create", help="scaffold a tests template for one model type",
                        description="Write DIR/tests/models/MODEL_TYPE.py.j2, which extends tests/model.py.j2 "
                                    "and shows (commented) how to override a block. Render with it: "
                                    "pytest --ipfs-templates=DIR.",
                        epilog="example:\n  ipfs-accel templates create bert --dir my_templates\n"
                               "  pytest --ipfs-models=bert --ipfs-templates=my_templates",
                        formatter_class=raw)
    p.add_argument("model_type", help="transformers model_type, e.g. bert")
    p.add_argument("--dir", type=Path, default=Path("templates"), help="templates folder (default ./templates)")
    p.add_argument("--force", action="store_true", help="overwrite an existing template")
    p.set_defaults(func=create)

    p = tsub.add_parser("validate", help="check templates; file:line: message per problem, exit 1 if any",
                        description="Check jinja syntax, the blocks of tests module templates (docstring, "
                                    "imports, model, tests), that every variable is one the renderer passes, "
                                    "and that a sample render (bert on cpu, onnxruntime, openvino) parses as "
                                    "Python. Without PATH or --db: the shipped templates.",
                        epilog="examples:\n  ipfs-accel templates validate\n"
                               "  ipfs-accel templates validate my_templates/tests/models/bert.py.j2\n"
                               "  ipfs-accel templates validate --db .ipfs_accel/templates.duckdb",
                        formatter_class=raw)
    p.add_argument("path", nargs="?", type=Path, help="a template file or a templates folder")
    p.add_argument("--db", type=Path, default=None, help="validate every template in this database")
    p.set_defaults(func=validate)


def _store_call(fn, *args, **kwargs):
    from pytest_ipfs_accel.store.templates import TemplateDBError

    try:
        return fn(*args, **kwargs)
    except TemplateDBError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"{getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}".lstrip(": ")) from None


def _progress(verb: str):
    """One updating line on a terminal; nothing when stderr is not one."""
    if not sys.stderr.isatty():
        return None

    def show(i: int, n: int, name: str) -> None:
        end = "\n" if i == n else ""
        print(f"\r{verb} {i}/{n} {name[:60]:<60}", end=end, file=sys.stderr, flush=True)

    return show


def _load(folder: Path, db: Path, what: str) -> int:
    from pytest_ipfs_accel.store import templates as store

    result = _store_call(store.load_folder, db, folder, progress=_progress("loading"))
    counts = ", ".join(f"{len(v)} {k}" for k, v in result.items())
    print(f"ipfs-accel: {what} into {db}: {counts}")
    for name in result["updated"]:
        print(f"  updated {name}")
    return 0


def create_db(args: argparse.Namespace) -> int:
    from pytest_ipfs_accel.generate.environment import shipped_templates

    return _load(shipped_templates(), args.db, "shipped templates loaded")


def import_(args: argparse.Namespace) -> int:
    if not args.dir.is_dir():
        raise CliError(f"{args.dir}: not a directory")
    return _load(args.dir, args.db, f"templates from {args.dir} imported")


def list_(args: argparse.Namespace) -> int:
    from pytest_ipfs_accel.store import templates as store

    rows = _store_call(store.rows, args.db)
    width = max((len(r.name) for r in rows), default=4)
    print(f"{'NAME':<{width}}  {'KIND':<7}  {'VER':>3}  {'SHA256':<12}  {'UPDATED':<19}  PARENT")
    for r in rows:
        print(f"{r.name:<{width}}  {r.kind:<7}  {r.version:>3}  {r.sha256[:12]}  "
              f"{str(r.updated_at)[:19]:<19}  {r.parent or '-'}")
    print(f"{len(rows)} template(s) in {args.db}")
    return 0


def show(args: argparse.Namespace) -> int:
    from pytest_ipfs_accel.store import templates as store

    sys.stdout.write(_store_call(store.source_of, args.db, args.name))
    return 0


def export(args: argparse.Namespace) -> int:
    from pytest_ipfs_accel.store import templates as store

    if args.dir.exists() and not args.dir.is_dir():
        raise CliError(f"{args.dir}: exists and is not a directory")
    written = _store_call(store.export, args.db, args.dir, progress=_progress("exporting"), force=args.force)
    print(f"ipfs-accel: exported {len(written)} template(s) from {args.db} to {args.dir}")
    return 0


def create(args: argparse.Namespace) -> int:
    from pytest_ipfs_accel.templatedb.scaffold import ScaffoldError, model_template

    try:
        path = model_template(args.model_type, args.dir, force=args.force)
    except ScaffoldError as exc:
        raise CliError(str(exc)) from None
    print(f"ipfs-accel: wrote {path}; use it with: pytest --ipfs-models={args.model_type} "
          f"--ipfs-templates={args.dir}")
    return 0


def validate(args: argparse.Namespace) -> int:
    from pytest_ipfs_accel.generate.environment import shipped_templates
    from pytest_ipfs_accel.templatedb import validate as v

    if args.path is not None and args.db is not None:
        raise CliError("give a PATH or --db, not both")
    if args.db is not None:
        sources = _store_call(v.sources_from_db, args.db)
        search: tuple[str, ...] = (str(args.db),)
        where = str(args.db)
    else:
        path = args.path or shipped_templates()
        if not path.exists():
            raise CliError(f"{path}: no such file or directory")
        sources = _store_call(v.sources_from_path, path)
        search = ()
        where = str(path)
    if not sources:
        raise CliError(f"{where}: no *.j2 templates there")
    problems = v.validate(sources, search)
    for problem in problems:
        print(problem)
    print(f"ipfs-accel: {len(sources)} template(s) checked in {where}: "
          f"{len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0
