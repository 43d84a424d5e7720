"""In-memory modules: generated source -> a pytest Module that never touches the disk."""

from __future__ import annotations

import ast
import linecache
import types
from pathlib import Path

import pytest

from .render import Rendered

#: Virtual folder under the rootdir that holds in-memory modules in node IDs.
VIRTUAL_DIR = "ipfs"


class GeneratedModule(pytest.Module):
    """A test module whose source lives in memory; collected like a file on disk.

    The source is registered with ``linecache`` under the virtual path, so
    tracebacks and ``inspect`` show real lines, and asserts are rewritten as
    pytest rewrites them in files.
    """

    rendered: Rendered

    def _getobj(self) -> types.ModuleType:
        filename, source = str(self.path), self.rendered.source
        linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
        code = compile(_rewritten(self.rendered, self.path, self.config), filename, "exec", dont_inherit=True)
        module = types.ModuleType(f"ipfs_generated.{self.path.stem}")
        module.__file__ = filename
        exec(code, module.__dict__)
        return module


def _rewritten(rendered: Rendered, path: Path, config: pytest.Config) -> ast.Module:
    """The module's AST with pytest's assertion rewriting applied (as for files on disk)."""
    tree = rendered.tree
    try:
        from _pytest.assertion.rewrite import rewrite_asserts
    except ImportError:  # pragma: no cover - private API moved: plain asserts still work
        return tree
    rewrite_asserts(tree, rendered.source.encode(), path, config)
    return tree


def generated_items(session: pytest.Session, sources: dict[str, Rendered]) -> list[pytest.Item]:
    """Collect each source as ``<rootdir>/ipfs/<filename>``; reports errors like any module."""
    root = session.config.rootpath / VIRTUAL_DIR
    items: list[pytest.Item] = []
    for filename, rendered in sources.items():
        module = GeneratedModule.from_parent(session, path=root / filename)
        module.rendered = rendered
        items.extend(session.genitems(module))
    return items
