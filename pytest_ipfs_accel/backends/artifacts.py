"""On-disk cache of exported artifacts (ONNX files, OpenVINO IR), safe under xdist.

An artifact lives in its own directory ``root/<kind>/<key>/``; it is built in a
private temporary directory and published with one atomic ``os.rename``, so a
reader sees either nothing or every file (``.xml`` + ``.bin``, ``.onnx`` +
external data) complete.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import shutil
import tempfile
import uuid
import weakref
from typing import Callable, Sequence

_ARTIFACT_STEM = "model"


class ArtifactCache:
    """Content-keyed artifact directories under ``root``; ``root=None`` disables reuse."""

    def __init__(self, root: pathlib.Path | None) -> None:
        self.enabled = root is not None
        self._scratch: pathlib.Path | None = None
        self.root = pathlib.Path(root) if root is not None else None
        self._failures: dict[pathlib.Path, Exception] = {}

    @classmethod
    def at(cls, root: pathlib.Path) -> tuple[ArtifactCache, str]:
        """A cache at ``root`` if that folder can be created and written, else ``(disabled, why)``."""
        try:
            root.mkdir(parents=True, exist_ok=True)
            probe = tempfile.mkdtemp(prefix=".write-probe-", dir=root)
            os.rmdir(probe)
        except OSError as exc:
            return cls(None), str(exc) if exc.filename else f"{root}: {exc}"
        return cls(root), ""

    def path_for(self, kind: str, key_parts: Sequence[str], suffix: str) -> pathlib.Path:
        """Where the artifact for ``key_parts`` lives: ``root/kind/<sha256>/model<suffix>``.

        ``key_parts`` should hold everything the artifact depends on: model
        fingerprint, input signature, runtime and its version, torch version, precision.
        """
        if not kind.isidentifier():
            raise ValueError(f"artifact kind must be an identifier, got {kind!r}")
        digest = hashlib.sha256("\x1f".join(key_parts).encode()).hexdigest()[:40]
        return self._base() / kind / digest / f"{_ARTIFACT_STEM}{suffix}"

    def materialize(
        self, path: pathlib.Path, build: Callable[[pathlib.Path], None]
    ) -> tuple[pathlib.Path, bool]:
        """Return ``(path to use, reused)``; ``build(tmp_path)`` writes the files when needed.

        ``build`` receives the file path to write inside a private directory; it may
        write siblings next to it (``.bin``, external data). A failed build is
        remembered for this cache object and re-raised (an unconvertible model is
        not re-converted for every precision). A disabled cache builds into a fresh
        directory on every call.
        """
        if self.enabled and path.exists():
            return path, True
        if path in self._failures:
            raise self._failures[path]
        tmp_dir = self._build_privately(path, build)
        if not self.enabled:
            return tmp_dir / path.name, False
        try:
            os.rename(tmp_dir, path.parent)  # atomic: readers see all files or none
        except OSError:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            if not path.exists():  # anything but "another worker published first"
                raise
        return path, False

    def _build_privately(self, path: pathlib.Path, build: Callable[[pathlib.Path], None]) -> pathlib.Path:
        """Run ``build`` in a fresh sibling directory of ``path.parent``; return that directory."""
        path.parent.parent.mkdir(parents=True, exist_ok=True)
        tmp_dir = path.parent.parent / f".tmp-{path.parent.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp_dir.mkdir()
        try:
            build(tmp_dir / path.name)
        except Exception as e:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            if self.enabled:
                self._failures[path] = e
            raise
        return tmp_dir

    def clear(self) -> None:
        """Delete every cached artifact and forget remembered failures."""
        self._failures.clear()
        for base in (self.root, self._scratch):
            if base is not None and base.exists():
                shutil.rmtree(base)

    def _base(self) -> pathlib.Path:
        if self.root is not None:
            return self.root
        if self._scratch is None:
            self._scratch = pathlib.Path(tempfile.mkdtemp(prefix="ipfs-accel-artifacts-"))
            weakref.finalize(self, shutil.rmtree, self._scratch, True)
        return self._scratch

    def __repr__(self) -> str:
        return f"ArtifactCache({str(self.root) if self.enabled else None!r})"
