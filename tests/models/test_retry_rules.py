"""Shape-error retries, literal config fixes, and the argument-name rules added for the long tail."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from pytest_ipfs_accel.models import inputs as synth  # noqa: E402
from pytest_ipfs_accel.models.config_fixes import fix_from_error  # noqa: E402
from pytest_ipfs_accel.models.retry_rules import retry_knobs  # noqa: E402
from pytest_ipfs_accel.models.tiny_config import make_config, shrink_config_dict  # noqa: E402


def test_literal_value_in_a_validation_message_is_applied_to_the_dotted_field() -> None:
    d = {"adaptor_config": {"intermediate_size": 64}, "text_config": {"hidden_size": 64}}
    msg = "`adaptor_config.intermediate_size` (64) must equal `text_config.hidden_size // 4` (16)."
    assert fix_from_error(d, msg) and d["adaptor_config"]["intermediate_size"] == 16


def test_layer_count_follows_the_number_of_layer_types() -> None:
    d = {"num_hidden_layers": 72, "layer_types": ["a", "b"]}
    assert fix_from_error(d, "`num_hidden_layers` (72) must be equal to the number of `layer_types` (2)")
    assert d["num_hidden_layers"] == 2


@pytest.mark.parametrize(
    ("error", "mels"),
    [
        ("mat1 and mat2 shapes cannot be multiplied (80x200 and 320x64)", 320),  # features straight into a Linear
        ("mat1 and mat2 shapes cannot be multiplied (25x640 and 1024x64)", 128),  # 8 stacked frames of mel bins
        ("The size of tensor a (200) must match the size of tensor b (560) at non-singleton dimension 2", 560),
    ],
)
def test_mel_width_is_read_from_shape_errors(error: str, mels: int) -> None:
    knobs = retry_knobs(error, {}, {"input_features": torch.zeros(1, 80, 200)})
    assert knobs is not None and knobs["n_mels"] == mels and knobs["audio_layout"] == "BTF"


def test_mel_width_retries_are_bounded() -> None:
    knobs = {"_widths": 3}
    error = "mat1 and mat2 shapes cannot be multiplied (80x200 and 320x64)"
    assert retry_knobs(error, knobs, {"input_features": torch.zeros(1, 80, 200)}) is None


def test_waveform_length_becomes_a_multiple_of_the_hop() -> None:
    error = "`input_values` length 16000 is not a multiple of 1920. Prepare the audio with the extractor."
    knobs = retry_knobs(error, {}, {"input_values": torch.zeros(1, 16000)})
    assert knobs == {"n_samples": 15360}


def test_flat_patch_width_is_read_from_a_reshape_error() -> None:
    error = "shape '[1, 16, 3, 16, 16]' is invalid for input of size 24576"
    assert retry_knobs(error, {}, {"pixel_values": torch.zeros(16, 1536)}) == {"patch_dim": 768}


def test_flat_patches_become_4d_for_a_conv_embedding() -> None:
    error = "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [16, 1176]"
    knobs = retry_knobs(error, {}, {"pixel_values": torch.zeros(16, 1176)})
    assert knobs == {"patches_4d": 4}
    got = synth.synthesize({"pixel_values": True, "image_grid_thw": True}, make_config("qwen2_vl"), knobs, seed=0)
    assert got["pixel_values"].dim() == 4


def test_text_length_follows_the_audio_frames_it_is_added_to() -> None:
    error = "The size of tensor a (16) must match the size of tensor b (25) at non-singleton dimension 1"
    assert retry_knobs(error, {}, {"input_ids": torch.zeros(1, 16)}) == {"text_len": 25}
    assert retry_knobs(error, {"text_len": 25}, {"input_ids": torch.zeros(1, 16)}) is None


def test_missing_tower_drops_that_input() -> None:
    error = "Image features were requested, but the model was initialized without a vision_config."
    assert retry_knobs(error, {}, {"pixel_values": torch.zeros(1, 3, 8, 8)}) == {"no_images": True}
    cfg = make_config("gemma4")  # the default leaves vision_config and audio_config empty
    params = {"input_ids": True, "pixel_values": False, "input_features": False}
    assert set(synth.synthesize(params, cfg, {}, seed=0)) == {"input_ids"}


def test_forecasting_window_companions_share_its_length() -> None:
    cfg = make_config("time_series_transformer")
    params = {"past_values": True, "past_time_features": True, "past_observed_mask": True}
    got = synth.synthesize(params, cfg, {}, seed=0)
    lengths = {got[k].shape[1] for k in params}
    assert len(lengths) == 1 and got["past_time_features"].shape[-1] == cfg.num_time_features


def test_explicit_mamba_ssm_width_follows_heads_times_head_size() -> None:
    d = shrink_config_dict({"hidden_size": 1024, "mamba_n_heads": 128, "mamba_d_head": 64, "mamba_d_ssm": 8192}, "tiny")
    assert d["mamba_d_ssm"] == d["mamba_n_heads"] * d["mamba_d_head"]


def test_merged_pixel_blocks_are_read_from_a_six_way_reshape() -> None:
    error = "shape '[-1, 2, 20, 2, 20, 2400]' is invalid for input of size 38400"
    knobs = retry_knobs(error, {}, {"pixel_values": torch.zeros(16, 2400)})
    assert knobs == {"merged_pixels": True}
    got = synth.synthesize({"pixel_values": True, "image_grid_thw": True}, make_config("qwen2_vl"), knobs, seed=0)
    px = got["pixel_values"]
    assert px.dim() == 4 and px.shape[1] == px.shape[2]
