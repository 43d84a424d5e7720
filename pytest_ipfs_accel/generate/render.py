"""ModuleCells -> Python source, through jinja2 templates, checked with ast.parse."""

from __future__ import annotations

import ast
import traceback
from dataclasses import dataclass

from pytest_ipfs_accel import __version__
from pytest_ipfs_accel.files import GENERATED_MARKER, MARKER_WINDOW
from pytest_ipfs_accel.generate.environment import environment, safe_text
from pytest_ipfs_accel.generate.matrix import ModuleCells


class TemplateError(Exception):
    """A template failed to render or rendered invalid Python; names template file and line."""


@dataclass(frozen=True)
class Rendered:
    """A generated module: its source, and the AST that proved it parses (reused, not re-parsed)."""

    source: str
    tree: ast.Module


def template_for(cells: ModuleCells, extra: tuple[str, ...] = ()) -> str:
    """The most specific template: ``tests/models/<model_type>.py.j2``, else ``tests/model.py.j2``."""
    env = environment(extra)
    specific = f"tests/models/{cells.model.model_type}.py.j2"
    try:
        env.get_template(specific)
        return specific
    except Exception as exc:  # jinja2.TemplateNotFound, or a syntax error we want reported below
        if type(exc).__name__ != "TemplateNotFound":
            raise template_error(exc, specific) from None
        return "tests/model.py.j2"


def template_error(exc: Exception, name: str) -> TemplateError:
    """A TemplateError for any failure while loading or rendering template ``name`` (a jinja
    error, the sandbox's SecurityError, an exception raised by a filter). Locate the failing template line: jinja puts template frames into the traceback."""
    filename = getattr(exc, "filename", None) or getattr(exc, "name", None)
    lineno = getattr(exc, "lineno", None)
    if not lineno:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.endswith(".j2"):
                filename, lineno = frame.filename, frame.lineno
                break
    where = f"{filename or name}:{lineno or '?'}"
    return TemplateError(f"{where}: {type(exc).__name__}: {getattr(exc, 'message', None) or exc}")


def render(cells: ModuleCells, context: dict, extra: tuple[str, ...] = ()) -> Rendered:
    """Render one module; the result always parses as Python or TemplateError is raised."""
    name = template_for(cells, extra)
    try:
        template = environment(extra).get_template(name)
        source = template.render(model=cells.model, kinds=cells.kinds, platforms=cells.platforms,
                                 template_name=name, version=__version__, **context)
    except Exception as exc:
        raise template_error(exc, name) from None
    source = _marked(source, name)
    try:
        tree = ast.parse(source, filename=cells.filename)
    except SyntaxError as exc:
        line = (exc.text or "").strip()
        raise TemplateError(f"{template.filename}: rendered {cells.filename} is not valid Python at "
                            f"line {exc.lineno}: {exc.msg}: {line!r}") from None
    return Rendered(source, tree)


def _marked(source: str, template: str) -> str:
    """The source with the generated-file marker near its top (added as a comment line when a user
    template dropped it), so that ``--ipfs-emit`` knows the file is its own to replace."""
    if GENERATED_MARKER in source[:MARKER_WINDOW]:
        return source
    return f"# {GENERATED_MARKER} {__version__} from {safe_text(template)}; do not edit, regenerate.\n{source}"
