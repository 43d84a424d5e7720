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


@functools.lru_cache(maxsize=8)
def environment(extra: tuple[str, ...] = ()):
    """A StrictUndefined environment over user template dirs (first) and the shipped ones."""
    import jinja2

    loader = jinja2.FileSystemLoader([*extra, str(shipped_templates())])
    env = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["py"] = pyrepr
    env.filters["text"] = safe_text
    return env
