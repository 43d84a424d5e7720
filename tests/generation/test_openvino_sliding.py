"""Sliding-window decoders on OpenVINO: greedy parity with torch when the window is shorter than the text."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")


def _tiny(model_type: str, window: int | None = None):
    """The tiny loaded model (its sliding window set to ``window`` if given) and its generating model."""
    from pytest_ipfs_accel.generation import checkpoint
    from pytest_ipfs_accel.models.loaded import load
    from pytest_ipfs_accel.models.registry import resolve

    loaded = load(resolve(model_type))
    if window is not None:
        loaded.config.sliding_window = window  # the generating model is built from this config
    return loaded, checkpoint.build_model(loaded)


@pytest.mark.slow  # imports torch and transformers
def test_only_a_model_with_sliding_layers_asks_for_the_sdpa_backend():
    from pytest_ipfs_accel.generation.openvino_loop import has_sliding_layers

    _loaded, mistral = _tiny("mistral", 4)
    _loaded, llama = _tiny("llama")
    assert has_sliding_layers(mistral) and not has_sliding_layers(llama)


@pytest.mark.slow  # exports and compiles two tiny decoders with OpenVINO
@pytest.mark.parametrize("model_type", ["mistral", "gemma2"])  # every layer sliding; sliding and full alternating
def test_a_window_shorter_than_prompt_plus_new_tokens_keeps_greedy_parity(model_type, tmp_path):
    pytest.importorskip("openvino_genai")
    from pytest_ipfs_accel.backends.artifacts import ArtifactCache
    from pytest_ipfs_accel.generation.generators import generator_for
    from pytest_ipfs_accel.generation.parity import token_parity
    from pytest_ipfs_accel.generation.result import make_prompt

    loaded, model = _tiny(model_type, 4)  # 8 prompt + 16 new tokens: the window slides 20 times
    prompt = make_prompt(loaded.config.vocab_size, 8, 16, 2, 0)
    want = generator_for("torch", "cpu", loaded, model).generate(prompt).tokens
    generator = generator_for("openvino", "CPU", loaded, model, ArtifactCache(tmp_path))
    found = token_parity(want, generator.generate(prompt).tokens)
    assert found.ok, found.detail
    assert generator.info["attention_backend"] == "SDPA"
