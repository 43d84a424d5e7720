"""Forward inputs synthesized from a model's ``forward`` signature and its config.

Every row of a batch is drawn from its own ``torch.Generator`` seeded with
``seed + row``, so row ``i`` of a batch equals the single-row inputs for
``seed + i``. ``knobs`` adjust the synthesis (from :mod:`.overrides` or found by
probing): ``text_len``, ``image_size``, ``n_image_tokens``, ``n_image_patches``,
``image_sizes``, ``n_audio_tokens``, ``audio_layout`` (``BFT``/``BTF``/``B1TF``),
``n_frames``, ``n_samples``, ``wave3d``, ``use_cache_kwarg``, ``spectrogram_values``,
``n_mels``, ``patch_dim``, ``patches_4d`` (4: ``(patches, C, p, p)``, 5: with a batch dim),
``merged_pixels`` (one ``(p*m, p*m, C)`` pixel block per grid cell), ``flat_patches``,
``no_images`` / ``no_audio`` (the model was built without that tower), ``extra_args``
(optional arguments to fill by name, added when a forward error names one).
Argument-name rules live in :mod:`.named_inputs`, shape-error retries in :mod:`.retry_rules`.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from pytest_ipfs_accel.models.config_values import (
    AUDIO_TOKENS,
    DECODER_LEN,
    DEFAULT_FRAMES,
    DEFAULT_MELS,
    DEFAULT_SAMPLES,
    TEXT_LEN,
    InputGap,
    image_hw,
    is_int,
    no_tower,
    random_ids,
    token_id,
    config_int,
    config_value,
)
from pytest_ipfs_accel.models.named_inputs import by_name, fillable, required_inputs
from pytest_ipfs_accel.models.retry_rules import retry_knobs

MAX_PROBES = 10
__all__ = ["InputGap", "MAX_PROBES", "forward_params", "next_knobs", "synthesize", "synthesize_row"]

def forward_params(model: Any) -> dict[str, bool]:
    """Named ``forward`` parameters of a model -> whether each is required."""
    params = {}
    for name, p in inspect.signature(model.forward).parameters.items():
        if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            params[name] = p.default is inspect.Parameter.empty
    return params


def _grid_inputs(
    key: str, grid_key: str, params: dict[str, bool], cfg: Any, knobs: dict[str, Any], g: Any
) -> tuple[dict[str, Any], int]:
    """Qwen-VL style flattened patches plus a ``(t, h, w)`` grid; returns inputs and token count."""
    import torch

    merge = config_int(cfg, ("spatial_merge_size", "merge_size"), 2)
    temporal = config_int(cfg, ("temporal_patch_size",), 2)
    patch = config_int(cfg, ("patch_size",), 16)
    channels = config_int(cfg, ("num_channels", "in_channels", "in_chans"), 3)
    side = 2 * merge
    if knobs.get("merged_pixels"):  # one (p*m, p*m, C) pixel block per grid cell (Inkling2)
        flat = torch.randn(side * side, patch * merge, patch * merge, channels, generator=g)
    elif knobs.get("patches_4d"):  # (patches, C, p, p) for a conv patch embedding; 5: (1, patches, C, p, p)
        lead = (1,) * (knobs["patches_4d"] - 4)
        flat = torch.randn(*lead, side * side, channels, patch, patch, generator=g)
    else:
        flat = torch.randn(side * side, knobs.get("patch_dim") or channels * temporal * patch * patch, generator=g)
    out = {key: flat, grid_key: torch.tensor([[1, side, side]])}
    for name in ("merge_sizes", "image_merge_sizes"):  # one spatial merge size per image (VideoLLaMA3)
        if name in params:
            out[name] = torch.tensor([merge])
    return out, side * side // (merge * merge)


def _dense_pixels(
    key: str, params: dict[str, bool], cfg: Any, knobs: dict[str, Any], g: Any, frames: int
) -> tuple[dict[str, Any], int]:
    """``(1, C, H, W)`` images, or ``(1, frames, C, H, W)`` videos / anyres patches; and a token count."""
    import torch

    channels = config_int(cfg, ("num_channels", "in_channels", "in_chans", "input_channels"), 3)
    h, w = image_hw(cfg, knobs)
    patch = config_value(cfg, ("patch_size",), 16)
    patch = patch if is_int(patch) else (patch[-1] if isinstance(patch, (list, tuple)) else 16)
    flat = knobs.get("flat_patches") or (channels * patch * patch if params.get("spatial_shapes") else 0)
    if flat:  # NaViT-style: (1, patches, C*p*p) plus the grid that places them
        return _flat_patches(key, params, flat, g), FLAT_GRID * FLAT_GRID
    shape = (1, frames, channels, h, w) if frames else (1, channels, h, w)
    out = {key: torch.randn(*shape, generator=g)}
    if "image_sizes" in params and (params["image_sizes"] or knobs.get("image_sizes")):
        out["image_sizes"] = torch.tensor([[h, w]])
    if "target_sizes" in params:  # the patch grid of each image (MiniCPM-V style)
        out["target_sizes"] = torch.tensor([[h // patch, w // patch]])
    seq = config_value(cfg, ("image_seq_length", "mm_tokens_per_image", "num_image_tokens", "num_query_tokens"))
    return out, seq if is_int(seq) else max(1, frames) * max(1, (h // patch) * (w // patch))


FLAT_GRID = 4


def _flat_patches(key: str, params: dict[str, bool], width: int, g: Any) -> dict[str, Any]:
    """A 4x4 grid of flattened patches, with the shape / mask / position companions the forward takes."""
    import torch

    n = FLAT_GRID * FLAT_GRID
    out = {key: torch.randn(1, n, width, generator=g)}
    companions = {
        "spatial_shapes": lambda: torch.tensor([[FLAT_GRID, FLAT_GRID]]),
        "pixel_attention_mask": lambda: torch.ones(1, n, dtype=torch.long),
        "pixel_position_ids": lambda: torch.cartesian_prod(torch.arange(FLAT_GRID), torch.arange(FLAT_GRID))[None],
    }
    out.update({k: make() for k, make in companions.items() if k in params})
    return out


def _pixels(params: dict[str, bool], cfg: Any, knobs: dict[str, Any], g: Any) -> tuple[dict[str, Any], list[int]]:
    """Image / video inputs and the placeholder token ids they need in the text."""
    grid_key = next((k for k in ("image_grid_thw", "grid_thw", "video_grid_thw") if k in params), None)
    if knobs.get("no_images") or no_tower(cfg, "vision_config"):
        return {}, []
    if "pixel_values" in params:
        key = "pixel_values"
    elif "pixel_values_videos" in params and "input_ids" in params:
        key = "pixel_values_videos"
    elif params.get("hidden_states") and grid_key:
        key = "hidden_states"
    else:
        return {}, []
    video = key == "pixel_values_videos"
    token = token_id(cfg, "video") if video else None
    token = token_id(cfg, "image") if token is None else token
    token = token_id(cfg, "video") if token is None else token  # video-only models (InstructBLIP-Video)
    if grid_key and (key != "pixel_values" or grid_key == "image_grid_thw" or params[grid_key]):
        out, n_tok = _grid_inputs(key, grid_key, params, cfg, knobs, g)
    else:
        frames = config_int(cfg, ("num_frames",), 0)
        if video or (frames > 1 and token is None):  # a video model: frames from the config
            frames = max(frames, 2)
        else:  # an image model: anyres patches when probing / overrides ask for them
            frames = knobs.get("n_image_patches", 0)
        out, n_tok = _dense_pixels(key, params, cfg, knobs, g, frames)
    n_tok = knobs.get("n_image_tokens", n_tok)
    return out, ([token] * n_tok if token is not None and "input_ids" in params else [])


def _audio(params: dict[str, bool], cfg: Any, knobs: dict[str, Any], g: Any) -> tuple[dict[str, Any], list[int]]:
    """Spectrogram features or raw waveforms, and the audio placeholder ids for the text."""
    import torch

    out: dict[str, Any] = {}
    if knobs.get("no_audio") or no_tower(cfg, "audio_config"):
        return out, []
    if "input_features" in params:
        mel = config_int(cfg, ("num_mel_bins", "feature_size", "input_feat_per_channel", "n_mels"), DEFAULT_MELS)
        if is_int(getattr(cfg, "input_channels", None)) and is_int(getattr(cfg, "input_feat_per_channel", None)):
            mel = cfg.input_feat_per_channel * cfg.input_channels
        mel = knobs.get("n_mels") or mel
        source_pos = config_int(cfg, ("max_source_positions",), 0)
        frames = knobs.get("n_frames") or (2 * source_pos if 0 < source_pos <= 1500 else DEFAULT_FRAMES)
        layout = knobs.get("audio_layout", "BFT")
        shape = {"BFT": (1, mel, frames), "BTF": (1, frames, mel), "B1TF": (1, 1, frames, mel)}[layout]
        out["input_features"] = torch.randn(*shape, generator=g)
        for mask in ("feature_attention_mask", "input_features_mask", "audio_attention_mask"):
            if mask in params:
                out[mask] = torch.ones(1, frames, dtype=torch.long)
    elif "input_values" in params:
        samples = knobs.get("n_samples", DEFAULT_SAMPLES)
        shape = (1, 1, samples) if knobs.get("wave3d") else (1, samples)
        if knobs.get("spectrogram_values"):  # AST-style: a (time, mel) spectrogram named input_values
            mel = config_int(cfg, ("num_mel_bins", "feature_size", "n_mels"), DEFAULT_MELS)
            shape = (1, config_int(cfg, ("max_length",), DEFAULT_FRAMES), mel)
        out["input_values"] = torch.randn(*shape, generator=g)
    token = token_id(cfg, "audio")
    if not out or token is None or "input_ids" not in params:
        return out, []
    return out, [token] * knobs.get("n_audio_tokens", AUDIO_TOKENS)


def _text(params: dict[str, bool], cfg: Any, knobs: dict[str, Any], g: Any, placeholders: list[int]) -> dict[str, Any]:
    """``input_ids`` (with placeholders after the 2nd token), masks and decoder ids."""
    import torch

    out: dict[str, Any] = {}
    if "input_ids" in params:
        ids = random_ids(cfg, knobs.get("text_len", TEXT_LEN), g)
        ids = torch.cat([ids[:, :2], torch.tensor([placeholders], dtype=torch.long).reshape(1, -1), ids[:, 2:]], 1)
        out["input_ids"] = ids
        if "attention_mask" in params:
            out["attention_mask"] = torch.ones_like(ids)
        if "mm_token_type_ids" in params and placeholders:
            types = {token_id(cfg, "image"): 1, token_id(cfg, "video"): 2, token_id(cfg, "audio"): 3}
            out["mm_token_type_ids"] = torch.tensor([[types.get(int(i), 0) for i in ids[0]]])
    if "decoder_input_ids" in params and (getattr(cfg, "is_encoder_decoder", False) or params["decoder_input_ids"]):
        out["decoder_input_ids"] = random_ids(cfg, DECODER_LEN, g)
    return out


def synthesize_row(params: dict[str, bool], cfg: Any, knobs: dict[str, Any], seed: int) -> dict[str, Any]:
    """One batch row (batch dim 1) of inputs, deterministic for ``seed``."""
    import torch

    g = torch.Generator().manual_seed(seed)
    pixels, image_tokens = _pixels(params, cfg, knobs, g)
    audio, audio_tokens = _audio(params, cfg, knobs, g)
    inputs = {**pixels, **audio}
    inputs.update(_text(params, cfg, knobs, g, image_tokens + audio_tokens))
    inputs.update(required_inputs(params, inputs, cfg, g))
    for name in knobs.get("extra_args", ()):  # optional arguments an error said were needed
        if name in params and name not in inputs:
            inputs[name] = by_name(name, cfg, inputs.get("input_ids"), g)
    if "use_cache" in params or ("cache" in params and knobs.get("use_cache_kwarg", True)):
        inputs["use_cache"] = False  # ``cache`` models usually forward use_cache via **kwargs
    return inputs


def synthesize(
    params: dict[str, bool], cfg: Any, knobs: dict[str, Any], seed: int, batch_size: int = 1
) -> dict[str, Any]:
    """``batch_size`` rows concatenated on dim 0; non-tensor values come from row 0."""
    import torch

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    rows = [synthesize_row(params, cfg, knobs, seed + i) for i in range(batch_size)]
    return {
        k: torch.cat([r[k] for r in rows]) if isinstance(v, torch.Tensor) and v.dim() else v
        for k, v in rows[0].items()
    }


_MISMATCH = re.compile(
    r"(image|video|audio|multimodal) features and (?:\w+ )?tokens do not match\W+tokens:?\s*"
    r"(?:tensor\()?(\d+)\)?,?\s*features:?\s*(?:tensor\()?(\d+)",
    re.I,
)


def _placeholder_fix(error: str, knobs: dict[str, Any], hidden: int) -> dict[str, Any] | None:
    """Take the feature count from a "features and tokens do not match" error.

    Some models report ``features`` as ``numel / 1`` of a 2-D feature tensor; when the
    reported count was already tried, ``features // hidden`` is tried next.
    """
    m = _MISMATCH.search(error)
    if not m:
        return None
    key = "n_audio_tokens" if m.group(1).lower() == "audio" else "n_image_tokens"
    features = int(m.group(3))
    for count in (features, features // max(1, hidden)):
        if 0 < count < 20000 and count not in knobs.get(f"_{key}", ()):
            return {**knobs, key: count, f"_{key}": (*knobs.get(f"_{key}", ()), count)}
    return None


_MATMUL = re.compile(r"mat1 and mat2 shapes cannot be multiplied \(\d+x(\d+) and (\d+)x\d+\)")
_PATCH_WIDTH = re.compile(r"patch width (\d+) but the model expects (\d+)")
_NORM = re.compile(r"normalized_shape=\[(\d+)\], expected input with shape")
_PAIRS = re.compile(r"\(batch_size, (\d+), num_channels")


def next_knobs(
    error: str, knobs: dict[str, Any], inputs: dict[str, Any], params: dict[str, bool], cfg: Any
) -> dict[str, Any] | None:
    """Knobs to retry with after a failed forward, or None when no rule applies."""
    text_cfg = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    fixed = _placeholder_fix(error, knobs, config_int(text_cfg, ("hidden_size", "d_model"), 1))
    if fixed is not None or _MISMATCH.search(error):
        return fixed
    if "'use_cache'" in error and "use_cache" not in params and knobs.get("use_cache_kwarg", True):
        return {**knobs, "use_cache_kwarg": False}
    flat = next((inputs[k] for k in ("pixel_values", "hidden_states", "pixel_values_videos") if k in inputs), None)
    widths = _MATMUL.search(error) or _PATCH_WIDTH.search(error)
    if widths and flat is not None and int(widths.group(1)) == flat.shape[-1]:
        if flat.dim() == 2 and not knobs.get("patch_dim"):  # flattened patches of another width
            return {**knobs, "patch_dim": int(widths.group(2))}
        if flat.dim() == 4 and not knobs.get("flat_patches"):  # images where the tower wants patches
            return {**knobs, "flat_patches": int(widths.group(2))}
    named = [p for p in params if p not in inputs and re.search(rf"\b{re.escape(p)}\b", error)]
    if named and fillable(named[0]):  # "encoder_hidden_states must be given ...": add that argument
        return {**knobs, "extra_args": (*knobs.get("extra_args", ()), named[0])}
    shaped = retry_knobs(error, knobs, inputs)
    if shaped is not None:
        return shaped
    norm = _NORM.search(error)
    if norm and "input_features" in inputs and not knobs.get("n_mels"):  # stacked frames: wider features
        return {**knobs, "n_mels": int(norm.group(1)), "audio_layout": "BTF", "_layouts": 2}
    tried = knobs.get("_layouts", 0)
    if "input_features" in inputs and tried < 2:
        return {**knobs, "audio_layout": ("BTF", "B1TF")[tried], "_layouts": tried + 1}
    if "input_values" in inputs and not knobs.get("wave3d"):
        return {**knobs, "wave3d": True}
    if "input_values" in inputs and not knobs.get("spectrogram_values"):
        return {**knobs, "wave3d": False, "spectrogram_values": True}
    pixels = inputs.get("pixel_values")
    patches = knobs.get("n_image_patches", 0)
    if pixels is not None and not patches and ("expected 5, got 4" in error or "5D tensor" in error):
        pairs = _PAIRS.search(error)  # "(batch_size, 2, num_channels, ...)": image pairs
        return {**knobs, "n_image_patches": int(pairs.group(1)) if pairs else 1}
    if pixels is not None and "image_sizes" in params:
        if not knobs.get("image_sizes"):
            return {**knobs, "image_sizes": True}
        if patches < 5:
            return {**knobs, "n_image_patches": patches + 1}
    return None
