"""In-memory modules: generated source -> a pytest Module that never touches the disk."""

from __future__ import annotations

import ast
import contextlib
import linecache
import os
import types
from pathlib import Path
from typing import Iterator

import pytest

from pytest_ipfs_accel.generate.render import Rendered
from pytest_ipfs_accel.settings import RunConfig

#: Virtual folder under the rootdir that holds in-memory modules in node IDs.
VIRTUAL_DIR = "ipfs"


@contextlib.contextmanager
def usage_errors() -> Iterator[None]:
    """A generation step's :class:`~pytest_ipfs_accel.generate.pipeline.PlanError` as a UsageError (exit 4)."""
    from pytest_ipfs_accel.generate.pipeline import PlanError

    try:
        yield
    except PlanError as exc:
        raise pytest.UsageError(str(exc)) from None


def planned_sources(cfg: RunConfig, config: pytest.Config) -> dict[str, Rendered]:
    """The run's rendered modules: the plan (with the controller's platform list on an xdist
    worker, edited by ``pytest_ipfs_modify_matrix``) rendered; problems are usage errors."""
    # ``from module import name`` (not ``from package import module``): the same module object as
    # usage_errors() catches from, also after pytester's in-process runs drop and re-import modules
    from pytest_ipfs_accel.generate.pipeline import plan, sources
    from pytest_ipfs_accel.plugin.capabilities import collection_platforms

    def modify(matrix) -> None:
        config.hook.pytest_ipfs_modify_matrix(config=config, matrix=matrix)

    with usage_errors():
        return sources(cfg, plan(cfg, collection_platforms(), modify))


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
        _load_conftests(session.config, root / filename)
        module = GeneratedModule.from_parent(session, path=root / filename)
        module.rendered = rendered
        items.extend(session.genitems(module))
    return items


def _load_conftests(config: pytest.Config, path: Path) -> None:
    """Make the conftest.py files above a virtual module apply to its items (hooks such as
    ``pytest_runtest_logreport`` in the rootdir's conftest), as for a real file there: pytest
    looks conftests up per path (a path that is not a file counts as a directory) and has never
    seen this one."""
    pm = config.pluginmanager
    try:
        pm._loadconftestmodules(  # private, stable since pytest 8.1; without it conftest hooks skip these items
            path, config.getoption("importmode"), rootpath=config.rootpath,
            consider_namespace_packages=bool(config.getini("consider_namespace_packages")))
    except (AttributeError, TypeError, ValueError):  # pragma: no cover - older/newer pytest
        pass


def refuse_real_files(rootpath: Path, models) -> None:
    """A real ``<rootdir>/ipfs/test_<model>.py`` would be collected under the same node IDs as the
    in-memory module (the same tests twice, two records per node): stop with one line instead."""
    for spec in models:
        path = rootpath / VIRTUAL_DIR / f"test_{spec.name}.py"
        if os.path.lexists(path):
            raise pytest.UsageError(
                f"--ipfs-models: {path} exists on disk and has the node IDs of the generated module for "
                f"{spec.name!r} ({VIRTUAL_DIR}/{path.name}); remove or rename that file (e.g. emit to another "
                f"folder: --ipfs-emit=generated/), or leave {spec.name!r} out of --ipfs-models.")
