"""``expectations update``: fold a stored run's outcomes into an expectations file.

Per model x platform x kind cell of the run: any failed, errored or xfailed item makes the cell
``xfail`` (reason: the stored message, prefixed with its failure class); all passed (or
xpassed, strict ones included) makes it ``pass``; skipped-only cells and ``perf`` failures leave the file alone.
Existing rules are kept in order: an exact rule (no glob) for a cell of the run gets the new
outcome and keeps its tolerances and thresholds (a plain ``pass`` rule with neither is dropped);
glob rules stay as written, and exact rules are appended after them for cells whose outcome
differs from what the file already says (the last matching rule wins).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable

from pytest_ipfs_accel.expectations.file import Expectation, Expectations, Rule

#: ``(model, platform, kind)``: what an expected outcome is kept for.
OutcomeKey = tuple[str, str, str]
_FAILED = ("failed", "error", "xfailed")
_GLOB = set("*?[")


def expected_outcomes(rows: Iterable[dict[str, Any]]) -> dict[OutcomeKey, tuple[str, str]]:
    """Stored result rows -> ``{(model, platform, kind): (pass|xfail, reason)}``."""
    cells: dict[OutcomeKey, tuple[str, str]] = {}
    for row in rows:
        if not (row.get("model") and row.get("platform") and row.get("kind")):
            continue  # not a generated item
        key = (str(row["model"]), str(row["platform"]), str(row["kind"]))
        outcome, failure_class = row.get("outcome"), row.get("failure_class")
        if failure_class == "xpass" or str(row.get("message") or "").startswith("[XPASS(strict)]"):
            outcome = "xpassed"  # a strict xfail that passed: the cell passes now
        if outcome in _FAILED and failure_class != "perf":
            if cells.get(key, ("pass",))[0] != "xfail":
                message = (str(row.get("message") or "").strip().splitlines() or [str(outcome)])[0]
                cells[key] = ("xfail", f"[{failure_class}] {message}" if failure_class else message)
        elif outcome in ("passed", "xpassed") and key not in cells:
            cells[key] = ("pass", "")
    return cells


def _exact(rule: Rule) -> bool:
    return not any(ch in _GLOB for ch in rule.model + rule.platform + rule.kind)


def merge(existing: Expectations, cells: dict[OutcomeKey, tuple[str, str]]) -> Expectations:
    """The updated expectations (see the module docstring)."""
    rules: list[Rule] = []
    done: set[OutcomeKey] = set()
    for rule in existing.rules:
        key = (rule.model, rule.platform, rule.kind)
        if not (_exact(rule) and key in cells):
            rules.append(rule)
            continue
        done.add(key)
        expected, reason = cells[key]
        exp = dataclasses.replace(rule.expectation, expected=expected, reason=reason)
        if expected != "pass" or exp.tolerance or exp.floors or exp.max_slowdown is not None:
            rules.append(dataclasses.replace(rule, expectation=exp))
    current = Expectations(tuple(rules))
    for key in sorted(set(cells) - done):
        expected, reason = cells[key]
        found = current.lookup(*key)
        if (found.expected if found else "pass") != expected:  # keep what a glob rule sets besides
            rules.append(Rule(*key, dataclasses.replace(found or Expectation(), expected=expected, reason=reason)))
    return Expectations(tuple(rules), existing.path)
