"""Input synthesis per modality, the batching contract, probing rules and the generic path."""

from __future__ import annotations

import importlib.util
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from pytest_ipfs_accel.models import KEY_MODELS, LoadedModel, ModelBuildError, load, resolve  # noqa: E402
from pytest_ipfs_accel.models import inputs as synth  # noqa: E402
from pytest_ipfs_accel.models.tiny_config import make_config  # noqa: E402

TEXT_MODELS = ("bert", "t5", "gpt2", "llama", "qwen2", "clip", "clap", "llava", "llava_next", "xclip")

#: name -> {input: shape} for one row (seed 0)
EXPECTED_SHAPES = {
    "bert": {"input_ids": (1, 16), "attention_mask": (1, 16)},
    "t5": {"input_ids": (1, 16), "attention_mask": (1, 16), "decoder_input_ids": (1, 8)},
    "vit": {"pixel_values": (1, 3, 64, 64)},
    "wav2vec2": {"input_values": (1, 1360)},
    "whisper": {"input_features": (1, 80, 64), "decoder_input_ids": (1, 8)},
    "clap": {"input_features": (1, 1, 64, 64), "input_ids": (1, 16), "attention_mask": (1, 16)},
    "clip": {"pixel_values": (1, 3, 64, 64), "input_ids": (1, 16), "attention_mask": (1, 16)},
    "llava": {"pixel_values": (1, 3, 32, 32), "input_ids": (1, 32), "attention_mask": (1, 32)},
    "llava_next": {"pixel_values": (1, 2, 3, 32, 32), "image_sizes": (1, 2), "input_ids": (1, 52)},
    "xclip": {"pixel_values": (1, 4, 3, 64, 64), "input_ids": (1, 16), "attention_mask": (1, 16)},
    "detr": {"pixel_values": (1, 3, 64, 64)},
}


def _loaded(name: str) -> LoadedModel:
    return load(resolve(name))


def _tensors(feed: dict) -> dict:
    return {k: v for k, v in feed.items() if isinstance(v, torch.Tensor)}


@pytest.mark.parametrize("name", sorted(EXPECTED_SHAPES))
def test_modality_shapes(name: str) -> None:
    feed = _loaded(name).inputs()
    got = {k: tuple(v.shape) for k, v in _tensors(feed).items() if k in EXPECTED_SHAPES[name]}
    assert got == EXPECTED_SHAPES[name]


@pytest.mark.parametrize("name", TEXT_MODELS)
def test_text_models_always_get_an_attention_mask(name: str) -> None:
    feed = _loaded(name).inputs(batch_size=2)
    assert feed["attention_mask"].shape == feed["input_ids"].shape
    assert bool((feed["attention_mask"] == 1).all())


@pytest.mark.parametrize("name", ["gpt2", "llama", "qwen2", "t5", "whisper", "llava"])
def test_cache_is_disabled_statically(name: str) -> None:
    assert _loaded(name).inputs()["use_cache"] is False


@pytest.mark.parametrize("name", KEY_MODELS)
def test_inputs_are_deterministic_per_seed(name: str) -> None:
    lm = _loaded(name)
    a, b, c = _tensors(lm.inputs(seed=3)), _tensors(lm.inputs(seed=3)), _tensors(lm.inputs(seed=4))
    assert a.keys() == b.keys() == c.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("name", KEY_MODELS)
def test_batch_rows_equal_singles_with_shifted_seed(name: str) -> None:
    lm, n, seed = _loaded(name), 3, 9
    batch = lm.inputs(batch_size=n, seed=seed)
    for i in range(n):
        single = lm.inputs(1, seed=seed + i)
        assert single.keys() == batch.keys()
        for k, v in single.items():
            if isinstance(v, torch.Tensor):
                assert batch[k].shape[0] == n * v.shape[0]
                torch.testing.assert_close(batch[k][i : i + 1], v, rtol=0, atol=0)
            else:
                assert batch[k] == v


def test_default_seed_is_the_model_seed() -> None:
    lm = _loaded("bert")
    assert torch.equal(lm.inputs()["input_ids"], lm.inputs(seed=lm.seed)["input_ids"])


def test_random_ids_avoid_special_tokens_but_keep_placeholders() -> None:
    lm = _loaded("llava")
    ids = lm.inputs(batch_size=4)["input_ids"]
    image = lm.config.image_token_id
    text_part = ids[ids != image]
    specials = {lm.config.text_config.bos_token_id, lm.config.text_config.eos_token_id, lm.config.text_config.pad_token_id}
    assert not set(text_part.tolist()) & {s for s in specials if s is not None}
    assert int((ids == image).sum()) == 4 * 16


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        _loaded("bert").inputs(batch_size=0)


class _NeedsWidget(torch.nn.Module):
    def forward(self, input_ids, widget):  # noqa: ANN001 - a real module with an unknown required arg
        return input_ids


def test_unknown_required_argument_is_an_input_gap() -> None:
    params = synth.forward_params(_NeedsWidget())
    assert params == {"input_ids": True, "widget": True}
    with pytest.raises(synth.InputGap, match="widget"):
        synth.synthesize(params, make_config("bert"), {}, seed=0)


@pytest.mark.parametrize(
    ("error", "knobs", "expected"),
    [
        ("Image features and image tokens do not match, tokens: 576, features: 16", {}, {"n_image_tokens": 16}),
        ("Image features and image tokens do not match, tokens: 1024, features: 1024",
         {"n_image_tokens": 1024, "_n_image_tokens": (1024,)}, {"n_image_tokens": 16}),
        ("Audio features and audio tokens do not match: tokens: 8, features: 12", {}, {"n_audio_tokens": 12}),
    ],
)  # fmt: skip
def test_placeholder_probe_reads_the_feature_count(error: str, knobs: dict, expected: dict) -> None:
    got = synth.next_knobs(error, knobs, {}, {}, make_config("llava"))
    assert got is not None and {k: got[k] for k in expected} == expected


def test_probe_gives_up_when_no_rule_applies() -> None:
    assert synth.next_knobs("some unrelated failure", {}, {"input_ids": None}, {"input_ids": True}, None) is None


#: generic model types that are not key models: the same code path must build and run them
GENERIC_TYPES = (
    "roberta", "gpt_neox", "mistral", "swin", "hubert", "bart", "distilbert", "convnext",
    "resnet", "segformer", "siglip", "speech_to_text", "qwen2_vl", "paligemma", "mamba",
    "idefics2", "llava_onevision", "wavlm", "marian", "deberta-v2", "beit", "patchtst",
    "pocket_tts_audio_tokenizer_encoder",
)  # fmt: skip


@pytest.mark.parametrize("model_type", GENERIC_TYPES)
def test_generic_model_types_build_and_run(model_type: str) -> None:
    lm = load(resolve(model_type))
    assert lm.spec.source == "tiny"
    outputs = lm.forward(lm.inputs(batch_size=2))
    assert outputs and all(torch.isfinite(t).all() for t in outputs if t.is_floating_point())
    assert sum(p.numel() for p in lm.model.parameters()) < 20_000_000


def test_missing_optional_package_is_a_build_error_naming_it() -> None:
    if importlib.util.find_spec("natten") is not None:
        pytest.skip("natten is installed here")
    with pytest.raises(ModelBuildError, match=r"'dinat'.*natten"):
        load(resolve("dinat"))


def test_probe_stops_passing_use_cache_when_forward_rejects_it() -> None:
    error = "forward() got multiple values for keyword argument 'use_cache'"
    params = {"input_ids": True, "cache": False}
    knobs = synth.next_knobs(error, {}, {}, params, None)
    assert knobs == {"use_cache_kwarg": False}
    config = make_config("bert")
    assert synth.synthesize(params, config, {}, seed=0)["use_cache"] is False
    assert "use_cache" not in synth.synthesize(params, config, knobs, seed=0)
