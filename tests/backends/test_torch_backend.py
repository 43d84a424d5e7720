"""torch backend: exact on cpu fp32, within the table at fp16/bf16, absent devices skip."""

from __future__ import annotations

from typing import Any

import numpy
import pytest

from pytest_ipfs_accel.backends.base import Backend, BackendUnavailable, Runner, get_backend
from pytest_ipfs_accel.runtime.parity import tolerance, within_tolerance


@pytest.fixture(scope="module")
def backend() -> Backend:
    pytest.importorskip("torch")
    return get_backend("torch")


def test_cpu_fp32_is_the_reference_itself(backend: Backend, bert: Any) -> None:
    inputs = bert.inputs()
    runner = backend.prepare(bert, inputs, "cpu")
    assert isinstance(runner, Runner)
    got, ref = runner(inputs), bert.forward(inputs)
    assert len(got) == len(ref) == 2
    assert all(numpy.array_equal(g, r.numpy()) for g, r in zip(got, ref))
    assert runner.info == {**runner.info, "runtime": "torch", "device": "cpu", "precision": "fp32",
                           "emulated": "no"}


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
@pytest.mark.parametrize("model", ["bert", "t5"])
def test_low_precision_within_table(backend: Backend, model: str, precision: str,
                                    request: pytest.FixtureRequest) -> None:
    loaded = request.getfixturevalue(model)
    inputs = loaded.inputs()
    runner = backend.prepare(loaded, inputs, "cpu", precision)
    got = runner(inputs)
    result = within_tolerance(loaded.forward(inputs), got, *tolerance("torch", precision))
    assert result.ok, result.detail
    assert result.max_abs > 0, "a cast copy must not be the fp32 model"
    assert all(g.dtype == numpy.float32 for g in got)
    assert str(next(loaded.model.parameters()).dtype) == "torch.float32"  # the original is untouched


@pytest.mark.parametrize(
    ("device", "probe"),
    [("cuda", "torch.cuda.is_available() is False"), ("cuda:1", "torch.cuda.is_available() is False"),
     ("mps", "torch.backends.mps.is_available() is False")],
)
def test_absent_accelerator_is_unavailable(backend: Backend, bert: Any, device: str, probe: str) -> None:
    import torch

    present = {"cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    if present[device.split(":")[0]]:
        pytest.skip(f"this machine has {device}")
    with pytest.raises(BackendUnavailable) as info:
        backend.prepare(bert, bert.inputs(), device)
    assert str(info.value) == f"{probe} (torch {torch.__version__})"


def test_bad_precision_is_a_skip_and_changed_static_inputs_an_error(backend: Backend, t5: Any) -> None:
    inputs = t5.inputs()
    with pytest.raises(BackendUnavailable, match="platform cpu runs fp32/fp16/bf16/int8-dynamic only, not int8"):
        backend.prepare(t5, inputs, "cpu", "int8")
    runner = backend.prepare(t5, inputs, "cpu")
    with pytest.raises(ValueError, match="static inputs"):
        runner({**inputs, "use_cache": True})
