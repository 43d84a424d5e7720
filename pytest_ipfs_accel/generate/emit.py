"""--ipfs-emit: write the generated sources to a directory, never outside it, never over a file a
person wrote (unless forced), never through a link."""

from __future__ import annotations

import re
from pathlib import Path

from pytest_ipfs_accel.files import FileWriteError, check_target, write_text

_FILENAME = re.compile(r"^test_[a-z0-9_]+\.py$")


class EmitError(Exception):
    """A file could not be written where it was asked to go."""


def emit(directory: Path, sources: dict[str, str], force: bool = False, flag: str = "--force") -> list[Path]:
    """Write each source to ``directory/filename``; returns the paths written.

    Every target is checked before the first one is written, so a refusal leaves nothing behind;
    ``force`` replaces files without our generated-file marker (``flag`` names how to ask for it)."""
    root = directory.expanduser().resolve()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EmitError(f"cannot create {directory}: {exc.strerror}") from None
    if not root.is_dir():
        raise EmitError(f"{directory} is not a directory")
    targets = {}
    for filename in sources:
        if not _FILENAME.match(filename):
            raise EmitError(f"refusing to write {filename!r}: generated files go directly into {root}")
        targets[filename] = root / filename
    try:
        for target in targets.values():
            check_target(target, force, flag)
        return [write_text(targets[name], source, force=force, flag=flag, mkdir=False)
                for name, source in sources.items()]
    except FileWriteError as exc:
        raise EmitError(str(exc)) from None
