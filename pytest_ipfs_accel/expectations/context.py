"""What the running generated item shares with the checks it calls (one item at a time per process).

The plugin opens a context around each item's call phase with the expectation that applies;
``runtime.checks`` reads its tolerance override and writes what executed the work, and the
report hook reads that back. Module state is safe here: pytest (and each xdist worker) runs
one item at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_ipfs_accel.expectations.file import Expectation


@dataclass
class ItemContext:
    """Facts about the running item: the expectation applied, where its work executed."""

    expectation: Expectation | None = None
    executed_on: str | None = None


_current = ItemContext()


def begin(expectation: Expectation | None) -> ItemContext:
    """Start a fresh context for the next item."""
    global _current
    _current = ItemContext(expectation)
    return _current


def current() -> ItemContext:
    return _current


def tolerance_override(precision: str) -> tuple[float | None, float | None]:
    """``(atol, rtol)`` the running item's expectation sets for ``precision`` (None: keep the default)."""
    exp = _current.expectation
    return exp.tolerance.get(precision, (None, None)) if exp is not None else (None, None)
