"""--ipfs-emit: write the generated sources to a directory, never outside it."""

from __future__ import annotations

import re
from pathlib import Path

_FILENAME = re.compile(r"^test_[a-z0-9_]+\.py$")


class EmitError(Exception):
    """A file could not be written where it was asked to go."""


def emit(directory: Path, sources: dict[str, str]) -> list[Path]:
    """Write each source to ``directory/filename``; returns the paths written."""
    root = directory.resolve()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EmitError(f"cannot create {directory}: {exc.strerror}") from None
    written = []
    for filename, source in sources.items():
        target = (root / filename).resolve()
        if not _FILENAME.match(filename) or target.parent != root:
            raise EmitError(f"refusing to write {filename!r}: generated files go directly into {root}")
        tmp = target.with_suffix(".py.tmp")
        tmp.write_text(source, encoding="utf-8")
        tmp.replace(target)
        written.append(target)
    return written
