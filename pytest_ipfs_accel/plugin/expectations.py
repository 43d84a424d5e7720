"""The expectations plugin: marks generated items from the file, classifies their failures.

Registered by ``pytest_ipfs_accel.plugin`` for runs that generate tests or find an expectations
file (emitted test files carry the same markers, so the file applies to them too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_ipfs_accel.markers import labels
from pytest_ipfs_accel.plugin import wire
from pytest_ipfs_accel.expectations import context
from pytest_ipfs_accel.expectations.file import DEFAULT_NAME, Expectation, Expectations, ExpectationsError, load, locate
from pytest_ipfs_accel.plugin.options import given, once

EXPECTATION = pytest.StashKey[Expectation]()
_LOADED = pytest.StashKey[Expectations]()
PLUGIN_NAME = "ipfs-accel-expectations"
#: Failed / xfailed items listed under "failures by class" (the counts cover all of them).
SHOWN = 20


def addoptions(parser: pytest.Parser) -> None:
    help_text = (f"TOML file of per model x platform x kind expectations (pass|xfail|skip, tolerances, "
                 f"max_slowdown); default: {DEFAULT_NAME} in the rootdir if it exists; 'none' ignores it")
    group = parser.getgroup("ipfs-accel", "pytest-ipfs-accel: models x hardware")
    group.addoption("--ipfs-expectations", dest="ipfs_expectations", default=None, metavar="PATH|none",
                    help=help_text)
    parser.addini("ipfs_expectations", help_text, default="")


def path(config: pytest.Config) -> Path | None:
    """The file ``--ipfs-expectations`` / ini ``ipfs_expectations`` / the rootdir default points to
    (command-line paths relative to the invocation folder, ini paths to the ini file's folder)."""
    found = given(config, "ipfs_expectations")
    return locate(found.text, found.where, found.base, config.rootpath)


def loaded(config: pytest.Config) -> Expectations:
    """The run's expectations, read once (at configure); empty without a file; UsageError when malformed."""
    return once(config, _LOADED, _load)


def _load(config: pytest.Config) -> Expectations:
    try:
        found = path(config)
        return load(found) if found is not None else Expectations()
    except ExpectationsError as exc:
        raise pytest.UsageError(str(exc)) from None


def register(config: pytest.Config, active: bool) -> None:
    """Load the file (UsageError when malformed) and register the plugin when there is work for it."""
    expectations = loaded(config)
    if active or expectations.rules:
        config.pluginmanager.register(ExpectationsPlugin(expectations), PLUGIN_NAME)


def outcome_key(item: pytest.Item) -> tuple[str, str, str] | None:
    """``(model, platform, kind)`` of a generated item (from its markers and params), else None."""
    model, platform, kind = labels(item)
    if model is None or platform is None or kind is None:
        return None
    return str(model), str(platform), str(kind)


class ExpectationsPlugin:
    """Applies expectations at collection; labels failed / xfailed generated reports with a class."""

    def __init__(self, expectations: Expectations) -> None:
        self.expectations = expectations
        self.classified: list[tuple[str, str, dict[str, Any]]] = []  # (nodeid, outcome, ipfs_failure)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if not self.expectations.rules:
            return  # nothing to apply: ~10k items collect without reading their markers
        for item in items:
            found = outcome_key(item)
            exp = self.expectations.lookup(*found) if found else None
            if exp is None:
                continue
            item.stash[EXPECTATION] = exp
            if exp.expected == "xfail":
                item.add_marker(pytest.mark.xfail(reason=exp.reason, strict=True))
            elif exp.expected == "skip":
                item.add_marker(pytest.mark.skip(reason=exp.reason))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        context.begin(item.stash.get(EXPECTATION, None))

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: sees the report after xfail handling
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        from pytest_ipfs_accel.expectations.classify import failure

        report = yield
        if (report.failed or hasattr(report, "wasxfail")) and outcome_key(item) is not None:
            exp = item.stash.get(EXPECTATION, None)
            setattr(report, wire.FAILURE, failure(report, call.excinfo.value if call.excinfo else None,
                                                  exp.expected if exp else None, context.current().executed_on))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        found = wire.attribute(report, wire.FAILURE)
        if found is not None:
            outcome = "xfailed" if hasattr(report, "wasxfail") else "failed"
            self.classified.append((report.nodeid, outcome, found))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from pytest_ipfs_accel.expectations.summary import lines

        if not self.classified:
            return
        terminalreporter.section("ipfs-accel failures by class")
        for line in lines(self.classified, SHOWN):
            terminalreporter.write_line(line)
