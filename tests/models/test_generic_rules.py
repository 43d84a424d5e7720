"""Generic builder rules beyond the key models: the layers level, package needs, input fallbacks,
probing, and the memory guard of the model cache."""

from __future__ import annotations

import gc
import importlib.util
import weakref

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from pytest_ipfs_accel.models import inputs as synth  # noqa: E402
from pytest_ipfs_accel.models import loaded  # noqa: E402
from pytest_ipfs_accel.models.loaded import MissingPackageError, ModelBuildError, missing_package  # noqa: E402
from pytest_ipfs_accel.models.registry import resolve  # noqa: E402
from pytest_ipfs_accel.models.tiny_config import LAYERS, make_config, shrink_config_dict  # noqa: E402


def test_layers_level_keeps_widths_and_cuts_depth() -> None:
    cfg = make_config("bert", "layers")
    assert cfg.hidden_size == 768 and cfg.num_attention_heads == 12
    assert cfg.num_hidden_layers == LAYERS


def test_none_horizon_gets_a_value() -> None:
    assert shrink_config_dict({"prediction_length": None, "context_length": 32}, "tiny")["prediction_length"] == 8


@pytest.mark.parametrize(
    ("message", "package"),
    [
        ("DinatModel requires the natten library but it was not found in your environment.", "natten"),
        ("TimmWrapperModel requires the PIL library but it was not found in your environment.", "pillow"),
        ("some unrelated failure", None),
    ],
)
def test_missing_package_is_read_from_transformers_message(message: str, package: str | None) -> None:
    assert missing_package(ImportError(message)) == package


def test_missing_module_names_its_top_level_package() -> None:
    exc = ModuleNotFoundError("No module named 'timm.layers'", name="timm.layers")
    assert missing_package(exc) == "timm"


def test_architecture_needing_a_package_raises_missing_package_error() -> None:
    if importlib.util.find_spec("natten") is not None:
        pytest.skip("natten is installed here")
    with pytest.raises(MissingPackageError, match=r"needs package natten \(pip install natten\)") as info:
        loaded.build(resolve("dinat"))
    assert info.value.package == "natten" and isinstance(info.value, ModelBuildError)


def test_build_errors_name_the_stage_per_level() -> None:
    with pytest.raises(ModelBuildError, match=r"\[tiny\] (build|forward): .*\[layers\] (build|forward): "):
        loaded.build(resolve("bark"))  # BarkModel has no forward at all


class _NeedsEmbeds(torch.nn.Module):
    def forward(self, input_ids, query_embeds, decoder_mask):  # noqa: ANN001 - generic fallbacks
        return query_embeds


def test_required_arguments_fall_back_to_name_rules() -> None:
    params = synth.forward_params(_NeedsEmbeds())
    cfg = make_config("bert")
    got = synth.synthesize(params, cfg, {}, seed=0)
    assert got["query_embeds"].shape == (1, got["input_ids"].shape[1], cfg.hidden_size)
    assert got["decoder_mask"].shape == got["input_ids"].shape and bool(got["decoder_mask"].all())


def test_image_pair_probe_reads_the_pair_count() -> None:
    error = "Input must be a 5D tensor of shape (batch_size, 2, num_channels, height, width)"
    knobs = synth.next_knobs(error, {}, {"pixel_values": torch.zeros(1)}, {"pixel_values": True}, None)
    assert knobs == {"n_image_patches": 2}


def test_cache_keeps_few_models_and_clear_cache_frees_them() -> None:
    loaded.clear_cache()
    first = loaded.load(resolve("bert"))
    ref = weakref.ref(first.model)
    del first
    for name in ("gpt2", "llama")[: loaded.MAX_CACHED]:
        loaded.load(resolve(name))
    gc.collect()
    assert ref() is None, "the least recently used model is still alive"
    kept = weakref.ref(loaded.load(resolve("llama")).model)
    loaded.clear_cache()
    assert kept() is None


@pytest.mark.parametrize(
    ("config", "message", "expected"),
    [
        ({"codebook_dim": 512, "hidden_size": 64}, "ValueError: `codebook_dim` (512) must equal `hidden_size` (64).",
         {"codebook_dim": 64, "hidden_size": 64}),
        ({"a": {"swa_head_dim": 16, "qk_nope_head_dim": 16, "qk_rope_head_dim": 8}},
         "Class validation error:\n    ValueError: SWA swa_head_dim must equal qk_nope_head_dim + qk_rope_head_dim",
         {"a": {"swa_head_dim": 24, "qk_nope_head_dim": 16, "qk_rope_head_dim": 8}}),
        ({"adapter_input_size": 1024, "hidden_size": 64}, "adapter_input_size must match hidden_size",
         {"adapter_input_size": 64, "hidden_size": 64}),
    ],
)  # fmt: skip
def test_config_validation_errors_name_the_fields_to_couple(config: dict, message: str, expected: dict) -> None:
    from pytest_ipfs_accel.models.config_fixes import fix_from_error

    assert fix_from_error(config, message) and config == expected
    assert not fix_from_error(config, message)  # already equal: nothing more to do


def test_none_fields_get_values_before_and_after_shrinking() -> None:
    from pytest_ipfs_accel.models.config_fixes import IMAGE_TOKEN_ID, fill_nones

    moe = {"n_routed_experts": 64, "num_experts_per_tok": None, "topk_group": None}
    fill_nones(moe, before=True)
    assert moe["num_experts_per_tok"] == 2 and moe["topk_group"] == 1
    dense = {"num_experts_per_tok": None}
    fill_nones(dense, before=True)
    assert dense["num_experts_per_tok"] is None  # no experts: routing stays off
    vlm = {"vision_config": {}, "image_token_index": None}
    fill_nones(vlm, before=True)
    assert vlm["image_token_index"] == IMAGE_TOKEN_ID
    attn = {"head_dim": None, "hidden_size": 64, "num_attention_heads": 4}
    fill_nones(attn, before=False)
    assert attn["head_dim"] == 16


def test_mrope_split_error_becomes_a_nested_config_patch() -> None:
    from pytest_ipfs_accel.models.config_fixes import forward_patch

    d = {"text_config": {"rope_parameters": {"rope_theta": 1e4}}}
    error = ("split_with_sizes expects split_sizes to sum exactly to 8 (input tensor's size at dimension -1), "
             "but got split_sizes=[16, 24, 24]")
    patch = forward_patch(d, error)
    assert patch == {"text_config": {"rope_parameters": {"mrope_section": [2, 3, 3]}}}
    assert forward_patch(d, "unrelated") is None


def test_stacked_feature_width_is_read_from_layer_norm_error() -> None:
    error = "Given normalized_shape=[160], expected input with shape [*, 160], but got input of size[1, 80, 200]"
    knobs = synth.next_knobs(error, {}, {"input_features": torch.zeros(1)}, {"input_features": True}, None)
    assert knobs is not None and knobs["n_mels"] == 160 and knobs["audio_layout"] == "BTF"


def test_images_become_flat_patches_when_the_tower_says_so() -> None:
    error = "mat1 and mat2 shapes cannot be multiplied (672x224 and 768x64)"
    pixels = {"pixel_values": torch.zeros(1, 3, 224, 224)}
    params = {"pixel_values": True, "spatial_shapes": False, "pixel_attention_mask": False}
    knobs = synth.next_knobs(error, {}, pixels, params, None)
    assert knobs == {"flat_patches": 768}
    got = synth.synthesize(params, make_config("vit"), knobs, seed=0)
    assert got["pixel_values"].shape == (1, 16, 768)
    assert got["spatial_shapes"].tolist() == [[4, 4]] and got["pixel_attention_mask"].shape == (1, 16)


#: architectures each rule above brought to a forward pass (model type -> the rule)
RULE_WITNESSES = {
    "blip-2": "image placeholder id filled",
    "ministral": "head_dim derived",
    "deepseek_v2": "MoE routing filled",
    "gemma3": "pooled image tokens fit the patches",
    "qwen2_vl_text": "mRoPE patch from the forward error",
    "audio-spectrogram-transformer": "spectrogram input_values probe",
    "wav2vec2-bert": "stacked features probe",
    "blip_2_qformer": "argument named by the error added",
    "deepseek_vl_hybrid": "high-res pixels from the high-res tower",
    "siglip2_vision_model": "flat patches when spatial_shapes is required",
    "lfm2_vl": "flat patches read from the matmul error",
}


@pytest.mark.slow
@pytest.mark.parametrize("model_type", sorted(RULE_WITNESSES))
def test_rule_witnesses_forward(model_type: str) -> None:
    lm = loaded.build(resolve(model_type))
    outputs = lm.forward(lm.inputs())
    assert outputs and all(torch.isfinite(t).all() for t in outputs if t.is_floating_point())
