"""Failure classes of generated items, and the exceptions that carry them from the checks.

Classes: ``export`` (export / conversion failed), ``compile`` (session creation, compile_model,
QNN finalize), ``numeric`` (parity or batch mismatch: with max abs / rel diff), ``runtime``
(error while running), ``timeout`` (a step that hung: never xfailed as an export the runtime cannot
do), ``fallback`` (the work ran elsewhere than asked),
``xpass`` (an expected xfail passed: strict), and ``perf`` (set by the regression gate).
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_ipfs_accel.backends.base import ExportError, Step

CLASSES = ("export", "compile", "numeric", "runtime", "timeout", "fallback", "xpass", "perf")


class CheckFailed(AssertionError):
    """A check failed for a known reason: ``failure_class`` says which."""

    failure_class = "runtime"


class NumericMismatch(CheckFailed):
    """Outputs differ from the reference beyond the tolerance."""

    failure_class = "numeric"

    def __init__(self, message: str, max_abs: float | None = None, max_rel: float | None = None) -> None:
        super().__init__(message)
        self.max_abs, self.max_rel = max_abs, max_rel


class FallbackDetected(CheckFailed):
    """The runtime executed the work somewhere other than the platform asked for."""

    failure_class = "fallback"


class ClassifiedFailure(pytest.fail.Exception):  # type: ignore[misc,name-defined]
    """``pytest.fail`` (no traceback) that carries a failure class."""

    def __init__(self, message: str, failure_class: str) -> None:
        super().__init__(message, pytrace=False)
        self.failure_class = failure_class


class ClassifiedXFail(pytest.xfail.Exception):  # type: ignore[misc,name-defined]
    """``pytest.xfail`` that carries a failure class (an export the runtime cannot do)."""

    def __init__(self, message: str, failure_class: str) -> None:
        super().__init__(message)
        self.failure_class = failure_class


# Short names in tracebacks and the short summary ("NumericMismatch: ..."), as pytest does for Failed;
# ClassifiedFailure reads as pytest.fail's "Failed: ...".
for _cls in (CheckFailed, NumericMismatch, FallbackDetected, ClassifiedFailure, ClassifiedXFail):
    _cls.__module__ = "builtins"
ClassifiedFailure.__qualname__ = "Failed"


#: The step that failed (``ExportError.step``) -> the failure class.
STEP_CLASSES = {Step.EXPORT: "export", Step.CONVERT: "export", Step.COMPILE: "compile", Step.FIRST_RUN: "runtime"}


def step_class(step: Step | str) -> str:
    """``ExportError.step`` -> ``export``, ``compile`` or ``runtime``; a class name given as the step (a
    generator's ``GenerationError.step``) is itself; anything else is ``export``."""
    try:
        return STEP_CLASSES[Step(step)]
    except ValueError:
        return step if step in STEP_CLASSES.values() else "export"


def timed_out(exc: BaseException) -> bool:
    """A TimeoutError (e.g. a browser step with no answer) anywhere in the cause chain, or
    pytest-timeout's ``Timeout`` failure: a hang, whatever step it hit."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        if isinstance(link, TimeoutError):
            return True
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)
    return isinstance(exc, pytest.fail.Exception) and str(getattr(exc, "msg", exc)).strip("+ \n").startswith("Timeout")


def of_exception(exc: BaseException | None) -> str:
    """The class of the exception a failed or xfailed item raised."""
    if exc is None:
        return "runtime"
    cls = getattr(exc, "failure_class", None)
    if isinstance(cls, str):
        return cls
    if timed_out(exc):
        return "timeout"
    if isinstance(exc, ExportError):
        return step_class(exc.step)
    if isinstance(exc, AssertionError):
        return "numeric"
    return "runtime"


def failure(report: Any, exc: BaseException | None, expected: str | None, executed_on: str | None) -> dict:
    """The JSON-able ``report.ipfs_failure`` dict for a failed or xfailed report."""
    if exc is None and report.failed and str(report.longrepr).startswith("[XPASS(strict)]"):
        failure_class = "xpass"
    else:
        failure_class = of_exception(exc)
    return {"failure_class": failure_class, "max_abs_diff": _finite(getattr(exc, "max_abs", None)),
            "max_rel_diff": _finite(getattr(exc, "max_rel", None)), "executed_on": executed_on,
            "expected": expected}


def _finite(value: Any) -> float | None:
    """A float for JSON (inf and NaN -> None: JSON has no spelling for them)."""
    import math

    if not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None
