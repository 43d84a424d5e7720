"""A DuckDB database of jinja templates, keyed by their name under the templates folder.

One table, ``templates(name PK, kind, parent, source, sha256, version, created_at, updated_at)``, and
``schema_version``. ``name`` is the loader name (``tests/models/bert.py.j2``), so a database can stand in
for a templates folder (``--ipfs-templates=PATH.duckdb``); ``source`` is the file's exact text, so
export -> import -> export is byte-identical. Loading a folder is idempotent: an unchanged source is left
alone, a changed one gets ``version + 1`` and a new ``updated_at``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

DEFAULT_TEMPLATE_DB = ".ipfs_accel/templates.duckdb"
SCHEMA_VERSION = 1
KINDS = ("tests", "skills", "reports")
SUFFIX = ".j2"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS templates (
    name VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL CHECK (kind IN ('tests', 'skills', 'reports')),
    parent VARCHAR,
    source VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
"""
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")


class TemplateDBError(Exception):
    """A template database cannot be used as asked; one line."""


@dataclass(frozen=True)
class Row:
    name: str
    kind: str
    parent: str | None
    sha256: str
    version: int
    created_at: object
    updated_at: object
    size: int


def kind_of(name: str) -> str:
    """``tests/...`` -> ``tests``; a name outside the three kinds is an error naming them."""
    top = PurePosixPath(name).parts[0] if "/" in name else ""
    if top not in KINDS or not _NAME.match(name) or ".." in PurePosixPath(name).parts:
        raise TemplateDBError(f"{name}: a template name is <kind>/<path>{SUFFIX} with kind one of "
                              f"{', '.join(KINDS)}")
    return top


def parent_of(source: str) -> str | None:
    """The ``{% extends "..." %}`` target when it is a constant, else None (also for a syntax error)."""
    import jinja2
    from jinja2 import nodes

    try:
        tree = jinja2.Environment().parse(source)
    except jinja2.TemplateSyntaxError:
        return None
    for node in tree.find_all(nodes.Extends):
        if isinstance(node.template, nodes.Const) and isinstance(node.template.value, str):
            return node.template.value
    return None


def sha256(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def connect(path: str | Path, *, create: bool = False):
    """A connection with the schema in place; ``create=False`` opens an existing file read-only."""
    import duckdb

    path = Path(path)
    if not create:
        if not path.is_file():
            raise TemplateDBError(f"{path}: no template database there (create one with: "
                                  f"ipfs-accel templates create-db --db {path})")
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            raise TemplateDBError(f"{path}: cannot open as a DuckDB database: {_line(exc)}") from None
        _check_schema(con, path)
        return con
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as exc:
        raise TemplateDBError(f"{path}: cannot open as a DuckDB database: {_line(exc)}") from None
    con.execute(_SCHEMA)
    if con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 0:
        con.execute("INSERT INTO schema_version VALUES (?)", [SCHEMA_VERSION])
    _check_schema(con, path)
    return con


def _line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _check_schema(con, path: Path) -> None:
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if not {"templates", "schema_version"} <= tables:
        con.close()
        raise TemplateDBError(f"{path}: not a template database (no templates/schema_version tables)")
    version = con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    if version != SCHEMA_VERSION:
        con.close()
        raise TemplateDBError(f"{path}: template database schema version {version}, this version of "
                              f"pytest-ipfs-accel reads {SCHEMA_VERSION}")


def upsert(con, name: str, source: str) -> str:
    """Insert or update one template; returns ``added``, ``updated`` or ``unchanged``."""
    kind = kind_of(name)
    digest = sha256(source)
    row = con.execute("SELECT sha256, version FROM templates WHERE name = ?", [name]).fetchone()
    if row is None:
        con.execute("INSERT INTO templates (name, kind, parent, source, sha256, version) VALUES (?, ?, ?, ?, ?, 1)",
                    [name, kind, parent_of(source), source, digest])
        return "added"
    if row[0] == digest:
        return "unchanged"
    con.execute("UPDATE templates SET parent = ?, source = ?, sha256 = ?, version = ?, "
                "updated_at = current_timestamp WHERE name = ?",
                [parent_of(source), source, digest, row[1] + 1, name])
    return "updated"


def files_in(folder: str | Path) -> dict[str, Path]:
    """``name -> file`` for every ``*.j2`` under ``folder`` (names are POSIX paths relative to it)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TemplateDBError(f"{folder}: not a directory")
    found = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob(f"*{SUFFIX}")) if p.is_file()}
    return {name: path for name, path in found.items() if "__pycache__" not in name}


def load_folder(db: str | Path, folder: str | Path, progress=None) -> dict[str, list[str]]:
    """Load every template under ``folder`` into ``db`` (created if missing), in one transaction.

    Returns ``{"added": [...], "updated": [...], "unchanged": [...]}``. Names outside the known
    kinds and files that are not UTF-8 are errors, before anything is written."""
    files = files_in(folder)
    if not files:
        raise TemplateDBError(f"{folder}: no *{SUFFIX} templates there")
    sources = {}
    for name, path in files.items():
        kind_of(name)
        try:
            sources[name] = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TemplateDBError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    result: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": []}
    con = connect(db, create=True)
    try:
        con.execute("BEGIN TRANSACTION")
        for i, (name, source) in enumerate(sources.items(), 1):
            result[upsert(con, name, source)].append(name)
            if progress:
                progress(i, len(sources), name)
        con.execute("COMMIT")
    finally:
        con.close()
    return result


def rows(db: str | Path) -> list[Row]:
    con = connect(db)
    try:
        found = con.execute("SELECT name, kind, parent, sha256, version, created_at, updated_at, "
                            "strlen(source) FROM templates ORDER BY name").fetchall()
    finally:
        con.close()
    return [Row(*r) for r in found]


def read_sources(db: str | Path) -> dict[str, str]:
    """``name -> source`` of every template in ``db``."""
    con = connect(db)
    try:
        return dict(con.execute("SELECT name, source FROM templates ORDER BY name").fetchall())
    finally:
        con.close()


def source_of(db: str | Path, name: str) -> str:
    sources = read_sources(db)
    if name not in sources:
        import difflib

        close = difflib.get_close_matches(name, list(sources), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise TemplateDBError(f"{name}: no such template in {db}{hint}; see: ipfs-accel templates list --db {db}")
    return sources[name]


def export(db: str | Path, folder: str | Path, progress=None, force: bool = False) -> list[Path]:
    """Write every template of ``db`` under ``folder`` by name, byte for byte.

    A file there with other content (edits not imported yet) is kept: nothing is written and
    TemplateDBError names it, unless ``force``. Identical files are left as they are."""
    import os

    from pytest_ipfs_accel.files import FileWriteError, write_text

    sources = read_sources(db)
    folder = Path(folder)
    targets = {name: folder.joinpath(*PurePosixPath(name).parts) for name in sources}
    changed = [name for name, target in targets.items() if not _same(target, sources[name])]
    for name in changed:
        if os.path.lexists(targets[name]) and not force:
            raise TemplateDBError(f"{targets[name]} exists with other content than {name} in {db} (edits not "
                                  "imported yet?); import it first, or pass --force to replace it")
    try:
        for i, name in enumerate(changed, 1):
            write_text(targets[name], sources[name], force=True)
            if progress:
                progress(i, len(changed), name)
    except FileWriteError as exc:
        raise TemplateDBError(str(exc)) from None
    return list(targets.values())


def _same(path: Path, source: str) -> bool:
    """``path`` is a regular file (not a link) holding exactly ``source``."""
    try:
        return not path.is_symlink() and path.is_file() and path.read_bytes() == source.encode("utf-8")
    except OSError:
        return False
