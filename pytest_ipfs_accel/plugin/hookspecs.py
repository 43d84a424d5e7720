"""Hooks other plugins (and conftest.py files) implement to extend pytest-ipfs-accel."""

from __future__ import annotations

import pytest


@pytest.hookspec
def pytest_ipfs_modify_matrix(config: pytest.Config, matrix: list) -> None:
    """Edit the generation matrix in place before tests are rendered.

    ``matrix`` is a list of ``pytest_ipfs_accel.generate.matrix.ModuleCells``,
    one per model; each maps a kind (``load``, ``forward``, ...) to a list of
    ``Target(platform, precision, batch_size)``. Remove targets to drop items,
    append them to add items; a module left with no kinds is not generated.
    """


@pytest.hookspec
def pytest_ipfs_kinds(config: pytest.Config) -> list:
    """Return test kinds to add: a list of ``pytest_ipfs_accel.settings.KindSpec(name, templates)``.

    ``templates`` is a folder (absolute, or relative to the rootdir) holding
    ``tests/kinds/<name>.py.j2``; ``--ipfs-kinds=<name>`` then generates one function per model from
    it, parametrized by platform x precision like ``load`` and ``forward``. The template renders in
    jinja2's sandbox, as every user template does.
    """


@pytest.hookspec
def pytest_ipfs_report_sections(config: pytest.Config, data) -> list:
    """Return extra sections for this run's HTML and Markdown reports (and ``$GITHUB_STEP_SUMMARY``).

    ``data`` is the ``pytest_ipfs_accel.report.data.ReportData`` read back from the results store
    (``data.run``, ``data.matrix``, ``data.benchmarks``, ...). Return a list of
    ``pytest_ipfs_accel.report.data.Section(title, html, markdown)`` (or None); they are rendered after
    the built-in sections, with no edit to the shipped report templates. ``html`` is inserted as
    markup: escape what you did not write (``markupsafe.escape``); ``markdown`` as text.
    """


@pytest.hookspec
def pytest_ipfs_platforms(config: pytest.Config) -> list:
    """Return platforms to add: a list of ``pytest_ipfs_accel.hardware.PlatformSpec`` (or None).

    Called once per process at configure, before ``--ipfs-hw`` is read, so a ``conftest.py`` can add
    a platform (or replace a built-in one of the same name). A platform that should exist outside
    pytest too (``ipfs-accel hw``, ``skill --cross-platform``, ``templates validate``) is better
    declared as an entry point in the ``pytest_ipfs_accel.platforms`` group of its distribution.
    """
