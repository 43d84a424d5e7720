"""onnxruntime-genai's builder refuses an architecture it has no branch for before anything is saved or built."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pytest_ipfs_accel.generation import ort_loop
from pytest_ipfs_accel.generation.result import GenerationError

pytest.importorskip("onnxruntime_genai")


def test_the_builder_table_is_read_from_the_installed_builder():
    known = ort_loop.builder_architectures()
    assert known is not None and {"LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM"} <= known
    assert "GPT2LMHeadModel" not in known and "BloomForCausalLM" not in known
    ort_loop.check_architecture("LlamaForCausalLM")  # known: no error
    with pytest.raises(GenerationError, match="export: onnxruntime-genai builder: The BloomForCausalLM model is "
                                              "not currently supported"):
        ort_loop.check_architecture("BloomForCausalLM")


@pytest.mark.slow  # imports torch and transformers
def test_an_unknown_architecture_is_refused_before_the_checkpoint_is_saved(tmp_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from pytest_ipfs_accel.backends.artifacts import ArtifactCache
    from pytest_ipfs_accel.generation.generators import generator_for

    config = transformers.GPT2Config(vocab_size=64, n_embd=16, n_layer=1, n_head=2, n_positions=32)
    with torch.random.fork_rng(devices=[]):
        model = transformers.GPT2LMHeadModel(config).eval()
    loaded = SimpleNamespace(spec=SimpleNamespace(model_type="gpt2", task="text-generation"))
    with pytest.raises(GenerationError) as raised:
        generator_for("onnxruntime", "CPUExecutionProvider", loaded, model, ArtifactCache(tmp_path / "cache"))
    assert raised.value.step == "export" and "GPT2LMHeadModel model is not currently supported" in str(raised.value)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*"))  # nothing saved or built
