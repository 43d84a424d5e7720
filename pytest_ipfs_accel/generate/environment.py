"""The jinja2 environment that renders test modules, and where templates live."""

from __future__ import annotations

import functools
import re
from pathlib import Path

_SAFE_TEXT = re.compile(r"[^A-Za-z0-9_.:,+/ -]")


def shipped_templates() -> Path:
    """The templates folder: inside the wheel, or at the repo root in a source checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "tests").is_dir():
            return candidate
    raise FileNotFoundError(f"pytest-ipfs-accel templates not found next to {here}; reinstall the package")


def pyrepr(value: object) -> str:
    """Render a value as a Python literal; the only way outside values enter generated code."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "(" + "".join(pyrepr(v) + ", " for v in value) + ")"
    raise TypeError(f"refusing to render {type(value).__name__} into generated code")


def safe_text(value: object) -> str:
    """Text for docstrings and comments: anything that could end them is dropped."""
    return _SAFE_TEXT.sub("", str(value))


def identifier(value: object) -> str:
    """A Python identifier for generated code (a class or method name); anything else is refused."""
    import keyword

    text = str(value)
    if not text.isidentifier() or keyword.iskeyword(text) or not text.isascii():
        raise ValueError(f"refusing to render {text!r} as a Python identifier")
    return text


def is_template_db(value: str | Path) -> bool:
    """A ``--ipfs-templates`` entry that names a DuckDB template database rather than a folder."""
    return str(value).endswith(".duckdb")


def db_loader(path: str):
    """A loader over the templates of a DuckDB template database (read once, the file is not kept open).

    Template filenames read ``<db>:<name>`` so errors point at the database and the template."""
    import jinja2

    from pytest_ipfs_accel.store.templates import read_sources

    sources = read_sources(path)

    def load(name: str):
        if name not in sources:
            return None
        return sources[name], f"{path}:{name}", lambda: True

    return jinja2.FunctionLoader(load)


def loader_for(extra: tuple[str, ...] = ()):
    """User template dirs and databases in the order given (first wins), then the shipped templates."""
    import jinja2

    loaders = [db_loader(e) if is_template_db(e) else jinja2.FileSystemLoader(e) for e in extra]
    return jinja2.ChoiceLoader([*loaders, jinja2.FileSystemLoader(str(shipped_templates()))])


def make_environment(loader, sandbox: bool = True):
    """The generation environment's settings and filters over any loader.

    Templates are code (what they render runs as a test), but rendering one must not run anything:
    with ``sandbox`` (any user template: a folder, a template database, a file being validated)
    rendering happens in jinja2's immutable sandbox, which refuses attribute access into Python
    internals (``__globals__``, ``__init__``, ...) with a SecurityError. The templates shipped in this
    package alone render without it: the sandbox checks every attribute access, which made
    collection of 10k items 3x slower to render."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    kind = ImmutableSandboxedEnvironment if sandbox else jinja2.Environment
    env = kind(loader=loader, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
               trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["py"] = pyrepr
    env.filters["text"] = safe_text
    env.filters["ident"] = identifier
    return env


@functools.lru_cache(maxsize=8)
def environment(extra: tuple[str, ...] = ()):
    """A StrictUndefined environment over user template dirs or ``.duckdb`` template databases
    (first) and the shipped ones; sandboxed whenever there is a user template source."""
    return make_environment(loader_for(extra), sandbox=bool(extra))
