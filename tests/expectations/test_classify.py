"""Failure classes from exceptions, and the terminal summary's "failures by class" block."""

from __future__ import annotations

import pytest

from pytest_ipfs_accel.backends.base import ExportError, Step
from pytest_ipfs_accel.expectations.classify import (
    ClassifiedXFail,
    FallbackDetected,
    NumericMismatch,
    failure,
    of_exception,
    step_class,
)
from pytest_ipfs_accel.expectations.summary import lines


@pytest.mark.parametrize(("step", "expected"), [
    (Step.EXPORT, "export"), (Step.CONVERT, "export"), (Step.COMPILE, "compile"), (Step.FIRST_RUN, "runtime"),
    ("compile", "compile"), ("first run", "runtime"),
])
def test_export_steps_map_to_classes(step: Step, expected: str) -> None:
    assert step_class(step) == expected
    assert of_exception(ExportError("x", step=step)) == expected


@pytest.mark.parametrize(("step", "expected"), [("runtime", "runtime"), ("compile", "compile"),
                                               ("checkpoint", "export")])
def test_a_generators_step_names_its_class(step: str, expected: str) -> None:
    """``GenerationError.step`` is a failure class word (or ``checkpoint``: an export)."""
    assert step_class(step) == expected


def test_every_step_has_a_class_and_words_are_not_searched() -> None:
    from pytest_ipfs_accel.expectations.classify import STEP_CLASSES

    assert set(STEP_CLASSES) == set(Step)
    assert ExportError("x").step is Step.EXPORT
    with pytest.warns(DeprecationWarning, match="pass a backends.Step"):
        old = ExportError("x", step="ORT session create")  # an older backend's words: export, with a warning
    assert old.step is Step.EXPORT and step_class("session create compile") == "export"


def timeout_failure() -> BaseException:
    try:
        pytest.fail("Timeout >30.0s")
    except pytest.fail.Exception as exc:
        return exc
    raise AssertionError("pytest.fail did not raise")


@pytest.mark.parametrize(("exc", "expected"), [
    (NumericMismatch("off", 1.0, 2.0), "numeric"), (FallbackDetected("cpu"), "fallback"),
    (ClassifiedXFail("cannot export", "compile"), "compile"), (AssertionError("shape"), "numeric"),
    (TimeoutError("slow"), "timeout"), (timeout_failure(), "timeout"), (RuntimeError("boom"), "runtime"),
    (None, "runtime"),
])
def test_exceptions_map_to_classes(exc, expected: str) -> None:
    assert of_exception(exc) == expected


class Report:
    failed = True
    longrepr = "[XPASS(strict)] planted"


def test_failure_dict_is_json_able_and_names_strict_xpass() -> None:
    got = failure(Report(), NumericMismatch("off", float("inf"), 0.5), "pass", "CPU")
    assert got == {"failure_class": "numeric", "max_abs_diff": None, "max_rel_diff": 0.5, "executed_on": "CPU",
                   "expected": "pass"}
    assert failure(Report(), None, "xfail", None)["failure_class"] == "xpass"


def test_summary_counts_classes_and_lists_failed_items_first() -> None:
    classified = [
        ("a::x", "xfailed", {"failure_class": "export", "expected": None}),
        ("a::y", "failed", {"failure_class": "numeric", "max_abs_diff": 0.01, "max_rel_diff": 0.2, "expected": "pass"}),
        ("a::z", "xfailed", {"failure_class": "export", "expected": "xfail"}),
        ("a::w", "failed", {"failure_class": "fallback", "executed_on": "CPU", "expected": None}),
    ]
    assert lines(classified, shown=3) == [
        "export       2  (2 xfailed)",
        "fallback     1  (1 failed)",
        "numeric      1  (1 failed)",
        "  fallback  failed   a::w  [ran on CPU]",
        "  numeric   failed   a::y  [max |diff| 0.01; max rel 0.2; expected pass]",
        "  export    xfailed  a::x",
        "  ... and 1 more (the results store has them all)",
    ]


def _raised(make) -> BaseException:
    try:
        make()
    except BaseException as exc:  # noqa: BLE001 - the raised exception, with its chain, is the subject
        return exc
    raise AssertionError("nothing raised")


def _hang() -> None:
    from pytest_ipfs_accel.browser.driver import BrowserTimeout

    raise BrowserTimeout("Runtime.evaluate: no answer within 60 s")


def _wrapped(outer):
    def make() -> None:
        try:
            _hang()
        except TimeoutError as exc:
            raise outer from exc
    return make


@pytest.mark.parametrize("make", [
    _hang,  # the browser backend raises its timeouts as they are
    _wrapped(ExportError("onnxruntime-web session create (webnn): BrowserTimeout: ...",
                         step=Step.COMPILE)),
    _wrapped(RuntimeError("onnxruntime-web webnn run failed")),
], ids=["browser-timeout", "export-error-caused-by-a-hang", "run-error-caused-by-a-hang"])
def test_a_hang_is_class_timeout_whatever_step_it_hit(make) -> None:
    """A session create that hung is not "compile" (which would xfail as "cannot export")."""
    assert of_exception(_raised(make)) == "timeout"



def test_an_export_that_hung_fails_with_class_timeout_instead_of_xfailing() -> None:
    """``checks.prepare`` turns an ExportError into an xfail, except when a hang caused it."""
    from pytest_ipfs_accel.expectations.classify import ClassifiedFailure, ClassifiedXFail
    from pytest_ipfs_accel.runtime.checks import ModelRef, _export_failed

    model = ModelRef(name="clap", model_type="clap", modality="text+audio")
    hung = _raised(_wrapped(ExportError("session create: no answer", step=Step.COMPILE)))
    with pytest.raises(ClassifiedFailure) as failed:
        _export_failed(model, "webnn", hung)
    assert failed.value.failure_class == "timeout"
    with pytest.raises(ClassifiedXFail) as xfailed:
        _export_failed(model, "webnn", ExportError("op not supported", step=Step.COMPILE))
    assert xfailed.value.failure_class == "compile"
