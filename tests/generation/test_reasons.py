"""Failure reasons name the cause: OpenVINO's conversion errors are many lines, the first says little."""

from __future__ import annotations

import pytest

from pytest_ipfs_accel.generation.result import one_line


def _convert_error(module, example) -> BaseException:
    ov = pytest.importorskip("openvino")
    with pytest.raises(Exception) as raised:
        ov.convert_model(module, example_input=example)
    return raised.value


@pytest.mark.slow  # imports torch and openvino
def test_unconverted_ops_and_tracing_errors_are_named_on_the_one_line():
    torch = pytest.importorskip("torch")

    class Histogram(torch.nn.Module):
        def forward(self, x):
            return torch.histc(x, bins=4)

    class Mismatch(torch.nn.Module):
        def forward(self, x):
            return x + torch.ones(3, 7)

    histc = one_line(_convert_error(Histogram(), (torch.rand(8),)))
    assert histc == "No conversion rule found for operations: aten::histc"  # not OpenVINO's source file line
    traced = one_line(_convert_error(Mismatch(), (torch.rand(3, 4),)))
    assert traced.startswith("Couldn't get TorchScript module by tracing. The size of tensor a (4) must match")


def test_a_plain_error_keeps_its_first_line():
    assert one_line(ValueError("first\nsecond")) == "first" and one_line(ValueError("")) == ""
    assert len(one_line(ValueError("x" * 999))) == 300


@pytest.mark.slow  # imports torch and transformers
def test_a_state_space_cache_is_named_before_any_tracing():
    pytest.importorskip("openvino")
    transformers = pytest.importorskip("transformers")
    from pytest_ipfs_accel.generation import openvino_loop
    from pytest_ipfs_accel.generation.result import GenerationError

    config = transformers.MambaConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, state_size=4, expand=2)
    with pytest.raises(GenerationError, match="export: MambaForCausalLM keeps LinearAttentionLayer state in its "
                                              "cache: the stateful export here carries key/value caches only"):
        openvino_loop.convert(transformers.MambaForCausalLM(config).eval())
