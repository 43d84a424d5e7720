"""Inputs filled by argument name: companions of the modality inputs and any other required argument."""

from __future__ import annotations

from typing import Any

from pytest_ipfs_accel.models.config_values import (
    AUDIO_TOKENS,
    DEFAULT_FRAMES,
    DEFAULT_MELS,
    DEFAULT_SAMPLES,
    TEXT_LEN,
    InputGap,
    config_int,
    image_hw,
    random_ids,
)
from pytest_ipfs_accel.models.series_inputs import series_input

_FLOAT_SUFFIXES = ("_embeds", "_embeddings", "hidden_states", "_features", "_feats")


def required_inputs(params: dict[str, bool], inputs: dict[str, Any], cfg: Any, g: Any) -> dict[str, Any]:
    """Companion inputs: ``bbox`` for layout models, and any other required argument with a rule."""
    import torch

    out: dict[str, Any] = {}
    ids = inputs.get("input_ids")
    if "bbox" in params and ids is not None:
        corner = torch.randint(0, 500, (1, ids.shape[1], 2), generator=g)
        out["bbox"] = torch.cat([corner, corner + 10], dim=-1)
    for name, required in params.items():
        if not required or name in inputs or name in out:
            continue
        if name in ("image", "images"):
            h, w = image_hw(cfg, {})
            out[name] = torch.randn(1, config_int(cfg, ("num_channels",), 3), h, w, generator=g)
        elif name == "attention_mask" and ids is not None:
            out[name] = torch.ones_like(ids)
        elif name == "token_type_ids" and ids is not None:
            out[name] = torch.zeros_like(ids)
        elif name.startswith("past_") or name == "freq":  # a forecasting window (PatchTST, TimesFM, ...)
            out[name] = series_input(name, cfg, g)
        elif (name.endswith("masks") or "pixel_values" in name) and "pixel_values" in inputs:  # SegGPT prompts
            out[name] = torch.rand(inputs["pixel_values"].shape, generator=g)
        elif name.endswith(("_mel", "_mel_mask")):  # (batch, frames, mel) log-mel and its padding mask
            mel = config_int(cfg, ("input_feat_size", "num_mel_bins", "n_mels"), DEFAULT_MELS)
            mask = torch.zeros(1, DEFAULT_FRAMES, dtype=torch.bool)
            out[name] = mask if name.endswith("mask") else torch.randn(1, DEFAULT_FRAMES, mel, generator=g)
        elif name == "input_values":  # a waveform beside other audio inputs (codecs)
            out[name] = torch.randn(1, DEFAULT_SAMPLES, generator=g)
        else:
            out[name] = by_name(name, cfg, ids, g)
    return out


def fillable(name: str) -> bool:
    """Whether :func:`by_name` has a rule for an argument name."""
    named = name.endswith(_FLOAT_SUFFIXES + ("_ids", "mask", "_pos")) or name in ("ids", "latents")
    return named or "pixel_values" in name


def by_name(name: str, cfg: Any, ids: Any, g: Any) -> Any:
    """A required argument no modality rule produced, from its name's suffix and the config widths."""
    import torch

    seq = ids.shape[1] if ids is not None else config_int(cfg, ("num_query_tokens", "num_queries"), TEXT_LEN)
    if name == "latents":  # audio-codec decoders: channels-first latent frames
        width = config_int(cfg, ("latent_dim", "codebook_dim", "hidden_size"), 64)
        return torch.randn(1, width, AUDIO_TOKENS, generator=g)
    own = config_int(cfg, (f"{name}_dim", f"{name.rstrip('s')}_dim"), 0)  # visual_feats -> visual_feat_dim
    if own and name.endswith(_FLOAT_SUFFIXES + ("_pos",)):
        return torch.randn(1, seq, own, generator=g)
    if name.endswith(_FLOAT_SUFFIXES):
        width = config_int(cfg, ("hidden_size", "d_model", "embed_dim"), 64)
        return torch.randn(1, seq, width, generator=g)
    if name.endswith("_ids") or name == "ids":
        return random_ids(cfg, seq, g)
    if name.endswith("mask"):
        return torch.ones(1, seq, dtype=torch.long)
    if "pixel_values" in name:  # "high_res_pixel_values" -> the high_res_vision_config's image size
        tower = getattr(cfg, name.split("pixel_values")[0] + "vision_config", None)
        h, w = image_hw(tower if tower is not None and not isinstance(tower, dict) else cfg, {})
        frames = (max(2, config_int(cfg, ("num_frames",), 2)),) if name.endswith("videos") else ()
        return torch.randn(1, *frames, config_int(cfg, ("num_channels",), 3), h, w, generator=g)
    raise InputGap(f"no rule for required forward argument {name!r}")
