"""The torch generator and the parity it feeds, in process (no genai runtime imported here)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def llama():
    from pytest_ipfs_accel.generation import checkpoint
    from pytest_ipfs_accel.models.loaded import load
    from pytest_ipfs_accel.models.registry import resolve

    loaded = load(resolve("llama"))
    return loaded, checkpoint.build_model(loaded)


@pytest.mark.slow
def test_torch_generation_is_greedy_timed_per_token_and_varied(llama):
    from pytest_ipfs_accel.generation.generators import generator_for
    from pytest_ipfs_accel.generation.result import make_prompt

    loaded, model = llama
    generator = generator_for("torch", "cpu", loaded, model)
    prompt = make_prompt(loaded.config.vocab_size, 8, 12, 2, 0)
    first, again = generator.generate(prompt, logits=True), generator.generate(prompt)
    assert first.tokens == again.tokens and [len(r) for r in first.tokens] == [12, 12]
    assert len(set(first.tokens[0])) > 1  # INIT_RANGE: a tiny model that repeats one token would hide cache bugs
    assert first.first_logits.shape == (2, loaded.config.vocab_size)
    assert int(first.first_logits[0].argmax()) == first.tokens[0][0]
    assert len(first.steps_s) == 11 and 0 < first.ttft_s < first.total_s
    assert first.ttft_s + sum(first.steps_s) <= first.total_s + 1e-6


@pytest.mark.slow
def test_different_weights_are_named_at_the_first_differing_token(llama):
    import copy

    from pytest_ipfs_accel.generation.generators import generator_for
    from pytest_ipfs_accel.generation.parity import token_parity
    from pytest_ipfs_accel.generation.result import make_prompt

    loaded, model = llama
    other = copy.deepcopy(model)
    with torch.no_grad():
        other.lm_head.weight.mul_(-1.0)  # a head that ranks every token the other way round
    prompt = make_prompt(loaded.config.vocab_size, 8, 6, 1, 0)
    want = generator_for("torch", "cpu", loaded, model).generate(prompt).tokens
    found = token_parity(want, generator_for("torch", "cpu", loaded, other).generate(prompt).tokens)
    assert not found.ok and found.step == 0 and f"reference {want[0][0]}" in found.detail
