"""The seed generators' helpers: ``setup_logger``, ``ensure_directory``, ``template_variable_substitution``."""

from __future__ import annotations

import logging
import os
import string
import sys
from pathlib import Path


class MissingTemplateVariable(KeyError):
    """A ``{name}`` in a template with no value given; ``.name`` is the variable."""

    def __init__(self, name: str, template: str) -> None:
        self.name = name
        super().__init__(f"template variable {name!r} has no value (template: {template[:80]!r})")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


def setup_logger(name: str, level: int | str = logging.INFO) -> logging.Logger:
    """A logger writing ``LEVEL name: message`` to stderr; calling it again adds no second handler."""
    logger = logging.getLogger(name)
    logger.setLevel(level if isinstance(level, int) else level.upper())
    if not any(getattr(h, "_ipfs_accel", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._ipfs_accel = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    return logger


def ensure_directory(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and parents) if needed; returns it as a Path. A file there raises NotADirectoryError."""
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise NotADirectoryError(f"{p} exists and is not a directory")
    p.mkdir(parents=True, exist_ok=True)
    return p


def template_variable_substitution(template: str, variables: dict) -> str:
    """``str.format``-style ``{name}`` substitution; a missing name raises MissingTemplateVariable."""
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None and field != "":
            name = field.split(".", 1)[0].split("[", 1)[0]
            if name not in variables:
                raise MissingTemplateVariable(name, template)
    return template.format(**variables)
