"""The tolerance table and within_tolerance(): every way outputs can disagree gives a clear failure."""

from __future__ import annotations

import numpy
import pytest

from pytest_ipfs_accel.runtime.parity import TOLERANCES, ParityResult, tolerance, within_tolerance

A = numpy.array([[0.1, -1.3, 2.7], [3.3, 0.0, -4.2]], dtype=numpy.float32)
IDS = numpy.array([[1, 2, 3]], dtype=numpy.int64)


def test_table_covers_every_runtime_precision_and_is_ordered() -> None:
    required = {("torch", p) for p in ("fp32", "fp16", "bf16")} | {("onnxruntime", "fp32")}
    required |= {("openvino", p) for p in ("fp32", "fp16", "bf16")}
    assert required <= set(TOLERANCES)
    for runtime in ("torch", "openvino"):
        assert tolerance(runtime, "fp32") < tolerance(runtime, "bf16")
    assert tolerance("onnxruntime", "fp32") <= (2e-4, 2e-4)
    assert tolerance("openvino", "fp32") <= (1e-3, 1e-3)
    assert tolerance("torch", "fp16") <= tolerance("torch", "bf16")


def test_unknown_pair_names_known_ones() -> None:
    with pytest.raises(ValueError, match=r"no tolerance for tensorrt/int8; known: .*onnxruntime/fp32"):
        tolerance("tensorrt", "int8")


def test_identical_and_within_tolerance_pass() -> None:
    same = within_tolerance([A, IDS], [A.copy(), IDS.copy()], 0, 0)
    assert isinstance(same, ParityResult) and (same.ok, same.max_abs, same.max_rel) == (True, 0.0, 0.0)
    result = within_tolerance([A], [A + 5e-5], 1e-4, 0)
    assert result.ok and result.max_abs == pytest.approx(5e-5, rel=1e-2)
    assert result.detail.startswith("1 output(s) match: max |diff| 5")
    assert result.max_rel == pytest.approx(5e-5 / 0.1, rel=0.05)  # the zero element is atol's business


def test_rtol_scales_with_the_reference() -> None:
    got = A * (1 + 1e-3)
    assert within_tolerance([A], [got], 0, 2e-3).ok
    assert not within_tolerance([A], [got], 0, 5e-4).ok


def test_failure_names_output_position_and_values() -> None:
    got = A.copy()
    got[1, 2] += 0.5
    result = within_tolerance([IDS, A], [IDS, got], 1e-4, 1e-4)
    assert not result.ok and result.worst_output == 1
    assert result.max_abs == pytest.approx(0.5)
    assert result.detail == ("output 1 of 2: 1/6 elements outside atol 0.0001 + rtol 0.0001*|ref|; "
                             "worst at [1, 2]: ref -4.2, got -3.7 (|diff| 0.5)")


def test_count_and_shape_mismatch_fail_clearly() -> None:
    count = within_tolerance([A, A], [A], 1, 1)
    assert not count.ok and count.detail == "output count differs: reference has 2, actual 1"
    shape = within_tolerance([A], [A.reshape(3, 2)], 1, 1)
    assert not shape.ok and shape.detail == "output 0 of 1: shape (3, 2) != reference (2, 3)"


def test_nan_where_reference_is_finite_fails_even_with_huge_tolerance() -> None:
    got = A.copy()
    got[0, 0] = numpy.nan
    result = within_tolerance([A], [got], 1e9, 1e9)
    assert not result.ok and "NaN where the reference is finite" in result.detail
    both = A.copy()
    both[0, 0] = numpy.nan
    assert within_tolerance([both], [both.copy()], 0, 0).ok


def test_infinities_must_match_exactly() -> None:
    ref = numpy.array([numpy.inf, -numpy.inf, 1.0])
    assert within_tolerance([ref], [ref.copy()], 0, 0).ok
    assert not within_tolerance([ref], [numpy.array([numpy.inf, numpy.inf, 1.0])], 1e9, 1e9).ok
    assert not within_tolerance([ref], [numpy.array([1e30, -numpy.inf, 1.0])], 1e9, 1e9).ok


def test_integer_outputs_compare_exactly() -> None:
    assert not within_tolerance([IDS], [IDS + 1], 10, 10).ok
    assert not within_tolerance([IDS], [IDS.astype(numpy.float32) + 0.5], 10, 10).ok
    assert within_tolerance([IDS], [IDS.astype(numpy.int32)], 0, 0).ok


def test_accepts_torch_tensors_including_bf16() -> None:
    torch = pytest.importorskip("torch")
    ref = torch.tensor(A)
    result = within_tolerance([ref], [ref.to(torch.bfloat16)], *tolerance("torch", "bf16"))
    assert result.ok and 0 < result.max_abs < 0.02
    assert not within_tolerance([ref], [ref.to(torch.bfloat16)], 1e-6, 1e-6).ok


def test_empty_outputs_pass() -> None:
    empty = numpy.zeros((0, 4), dtype=numpy.float32)
    assert within_tolerance([empty], [empty.copy()], 0, 0).ok
    assert within_tolerance([], [], 0, 0).ok


def test_the_old_names_still_work_for_files_emitted_before_the_rename() -> None:
    """Emitted test files call ``checks.compare`` and skill files import ``parity.compare`` (README:
    "emitted files need nothing but the installed plugin"); the new names say what they do."""
    from pytest_ipfs_accel.runtime import checks, parity

    assert parity.compare is parity.within_tolerance
    assert checks.compare is checks.assert_parity
