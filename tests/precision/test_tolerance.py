"""Precision names, the Tolerance type and the accuracy metrics of lossy precisions (no runtime needed)."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from pytest_ipfs_accel.backends.precision import (
    PRECISIONS,
    Tolerance,
    dtype_family,
    precision_mismatch,
    summarize,
)
from pytest_ipfs_accel.hardware import registry
from pytest_ipfs_accel.runtime.parity import agreement, cosine, tolerance, within_tolerance
from pytest_ipfs_accel.settings import PRECISIONS as OPTION_PRECISIONS


def test_tolerance_unpacks_as_the_pair_and_keeps_floors_through_pickle_and_replace() -> None:
    tol = Tolerance(cosine=0.99, top1=0.9)
    atol, rtol = tol
    assert math.isinf(atol) and rtol == 0.0
    again = pickle.loads(pickle.dumps(tol))
    assert again.floors() == {"cosine": 0.99, "top1": 0.9}
    changed = tol.replace(cosine=0.5, atol=None)
    assert changed.floors() == {"cosine": 0.5, "top1": 0.9} and math.isinf(changed.atol)
    assert "cosine >= 0.5" in changed.describe()


def test_every_option_precision_is_known_and_every_spec_precision_has_a_tolerance() -> None:
    assert set(OPTION_PRECISIONS) == set(PRECISIONS)
    for spec in registry.specs():
        for precision in spec.precisions:
            if spec.tolerances:
                assert spec.tolerance(precision) is not None, f"{spec.name}/{precision}"


@pytest.mark.parametrize(("runtime", "precision"), [("onnxruntime", "int8"), ("openvino", "int4"),
                                                    ("torch", "int8-dynamic"), ("qnn", "int8")])
def test_lossy_precisions_are_judged_by_a_cosine_floor_not_atol(runtime: str, precision: str) -> None:
    tol = tolerance(runtime, precision)
    assert math.isinf(tol.atol) and tol.cosine is not None and tol.top1 is not None


def test_executed_precision_summary_and_mismatch() -> None:
    assert dtype_family("u8") == "int8" and dtype_family("tensor(float16)") == "fp16" and dtype_family("i4") == "int4"
    assert summarize(["fp32", "int8", "int8"]) == ("int8", "int8: 2, fp32: 1")
    assert summarize([]) == ("", "")
    assert precision_mismatch("int8-dynamic", "int8") == ""
    assert precision_mismatch("fp16", "bf16") == ""  # OpenVINO CPU's documented substitution
    assert precision_mismatch("int8", "") == ""  # the runtime cannot tell: nothing claimed
    assert "executed fp32" in precision_mismatch("int4", "fp32")


def test_cosine_and_topk_agreement() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(1, 4, 10)).astype(np.float32)
    assert cosine([ref], [ref]) == (pytest.approx(1.0), 0)
    assert cosine([np.zeros(3)], [np.zeros(3)]) == (1.0, 0)
    flipped = ref.copy()
    flipped[0, 0] = -flipped[0, 0]  # one of four positions: argmax moves
    top1, top5, at = agreement([ref], [flipped])
    assert at == 0 and top1 == 0.75 and top5 == 0.75
    assert agreement([np.ones((2, 3))], [np.ones((2, 3))]) == (None, None, -1)  # fewer than five scores
    value, _ = cosine([ref], [np.full_like(ref, np.nan)])
    assert math.isnan(value)


def test_a_missed_floor_fails_naming_the_metric_and_the_shortfall() -> None:
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(1, 8, 16)).astype(np.float32)
    noisy = ref + rng.normal(scale=0.5, size=ref.shape).astype(np.float32)
    result = within_tolerance([ref], [noisy], Tolerance(cosine=0.99))
    assert not result.ok and result.metric == "cosine"
    assert result.detail.startswith(f"cosine {result.cosine:.4f} < floor 0.99 (output 0 of 1; short by ")
    passed = within_tolerance([ref], [noisy], Tolerance(cosine=0.5))
    assert passed.ok and "cosine >= 0.5" in passed.detail and passed.accuracy()["cosine"] == result.cosine


def test_top1_floor_and_nan_outputs_fail() -> None:
    ref = np.eye(6, dtype=np.float32)[None]  # six positions, argmax on the diagonal
    shifted = np.roll(ref, 1, axis=-1)
    result = within_tolerance([ref], [shifted], Tolerance(top1=0.9))
    assert not result.ok and result.metric == "top1" and result.top1 == 0.0
    nan = within_tolerance([ref], [np.full_like(ref, np.nan)], Tolerance(cosine=0.1))
    assert not nan.ok


def test_plain_pairs_still_compare_element_wise() -> None:
    ref = np.ones((2, 5), dtype=np.float32)
    result = within_tolerance([ref], [ref + 1e-3], 1e-2, 0.0)
    assert result.ok and result.cosine == pytest.approx(1.0) and result.top1 == 1.0
    assert not within_tolerance([ref], [ref + 1.0], 1e-2, 0.0).ok



def test_a_lower_precision_that_ran_in_float_is_a_fallback_failure() -> None:
    """Never a silent fp32 run: what the runtime says it executed is checked against what was asked."""
    from pytest_ipfs_accel.expectations.classify import FallbackDetected
    from pytest_ipfs_accel.runtime import checks

    class Ran:  # a runner's report, as a backend fills it after its profiled first run
        info = {"runtime": "torch", "device": "cpu", "requested": "cpu", "executed_on": "cpu",
                "precision": "int8-dynamic", "executed_precision": "fp32", "compute_layers": "fp32: 12"}

    with pytest.raises(FallbackDetected, match=r"cpu: asked for int8-dynamic \(int8 compute\), the runtime executed "
                                               r"fp32 \(fp32: 12\)"):
        checks.assert_runs_where_asked(Ran(), "cpu")
    Ran.info["executed_precision"] = "int8"
    checks.assert_runs_where_asked(Ran(), "cpu")
