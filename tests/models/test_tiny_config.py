"""Generic shrink rules, checked on real default configs and on hand-made dicts."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from transformers import AutoConfig  # noqa: E402

from pytest_ipfs_accel.models.tiny_config import (  # noqa: E402
    VOCAB_CAP,
    WIDTH,
    deep_merge,
    make_config,
    shrink_config_dict,
    special_token_ids,
)


def _shrunk(model_type: str, level: str = "tiny") -> dict:
    return shrink_config_dict(AutoConfig.for_model(model_type).to_dict(), level)


def test_widths_depths_and_vocab_shrink() -> None:
    d = _shrunk("bert")
    assert (d["hidden_size"], d["num_attention_heads"], d["intermediate_size"], d["num_hidden_layers"]) == (
        WIDTH, 4, 128, 2,
    )  # fmt: skip
    assert d["vocab_size"] == VOCAB_CAP and d["max_position_embeddings"] == 512


def test_wide_level_keeps_vocab_and_geometry() -> None:
    d = _shrunk("vit", "wide")
    assert d["hidden_size"] == WIDTH and d["image_size"] == 224 and d["patch_size"] == 16


def test_special_ids_above_the_cap_are_remapped_distinctly() -> None:
    d = _shrunk("whisper")
    ids = {k: d[k] for k in ("decoder_start_token_id", "pad_token_id", "eos_token_id")}
    assert all(0 <= v < d["vocab_size"] <= VOCAB_CAP for v in ids.values())
    assert ids["decoder_start_token_id"] != ids["eos_token_id"]
    assert max(special_token_ids(d)) < d["vocab_size"]


def test_vocab_grows_to_hold_a_patched_special_id() -> None:
    d = shrink_config_dict(AutoConfig.for_model("llama").to_dict(), "tiny", {"eos_token_id": 5000})
    assert d["vocab_size"] == 5001


def test_moe_and_per_layer_lists_follow_the_counts() -> None:
    mixtral, qwen3 = _shrunk("mixtral"), _shrunk("qwen3")
    assert (mixtral["num_local_experts"], mixtral["num_experts_per_tok"]) == (4, 2)
    assert len(qwen3["layer_types"]) == qwen3["num_hidden_layers"] == 2


def test_gqa_is_kept() -> None:
    d = _shrunk("mistral")  # 32 heads, 8 kv heads -> still grouped
    assert d["num_attention_heads"] == 4 and d["num_key_value_heads"] == 2


def test_timm_resnet_backbone_becomes_native() -> None:
    d = _shrunk("detr")
    assert d["backbone_config"]["model_type"] == "resnet"
    assert d["backbone_config"]["depths"] == [1, 1, 1, 1]


def test_swin_window_fits_the_last_stage_and_stage_widths_scale() -> None:
    swin, resnet = _shrunk("swin"), _shrunk("resnet")
    grid = swin["image_size"] // swin["patch_size"]
    assert grid % swin["window_size"] == 0 and swin["window_size"] <= grid >> (len(swin["depths"]) - 1)
    assert resnet["hidden_sizes"] == [8, 16, 32, 64]


def test_anyres_pinpoints_follow_the_vision_tower() -> None:
    d = _shrunk("llava_next")
    px = d["vision_config"]["image_size"]
    assert px < 336 and [px, 2 * px] in d["image_grid_pinpoints"]


def test_vision_feature_layer_stays_valid() -> None:
    assert _shrunk("llava")["vision_feature_layer"] in (-2, -1, 0, 1)


def test_deep_merge_merges_dicts_and_replaces_the_rest() -> None:
    base = {"a": {"x": 1, "y": 2}, "b": [1, 2], "c": 3}
    assert deep_merge(base, {"a": {"y": 5}, "b": [9]}) == {"a": {"x": 1, "y": 5}, "b": [9], "c": 3}
    assert base["a"]["y"] == 2  # input untouched


def test_unknown_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="level"):
        shrink_config_dict({}, "huge")


def test_make_config_returns_the_config_class() -> None:
    config = make_config("gpt2", patch={"n_layer": 1})
    assert type(config).__name__ == "GPT2Config" and config.n_layer == 1 and config.n_embd == WIDTH


def test_layer_types_keep_every_kind() -> None:
    d = _shrunk("gemma3_text")  # 5 sliding : 1 full in the default config
    assert d["layer_types"] == ["sliding_attention", "full_attention"]
