"""Forward inputs synthesized from a model's ``forward`` signature and its config.

Every row of a batch is drawn from its own ``torch.Generator`` seeded with
``seed + row``, so row ``i`` of a batch equals the single-row inputs for
``seed + i``. ``knobs`` adjust the synthesis (from :mod:`.overrides` or found by
probing): ``text_len``, ``image_size``, ``n_image_tokens``, ``n_image_patches``,
``image_sizes``, ``n_audio_tokens``, ``audio_layout`` (``BFT``/``BTF``/``B1TF``),
``n_frames``, ``n_samples``, ``wave3d``, ``use_cache_kwarg``, ``spectrogram_values``,
``n_mels``, ``patch_dim``, ``flat_patches``, ``extra_args`` (optional arguments to fill by name, added when a
forward error names one).
"""

from __future__ import annotations

import inspect
import re
from typing import Any

TEXT_LEN, DECODER_LEN, AUDIO_TOKENS = 16, 8, 8
DEFAULT_IMAGE_PX, DEFAULT_SAMPLES, DEFAULT_FRAMES, DEFAULT_MELS = 224, 16000, 200, 80
SUB_CONFIGS = ("vision_config", "text_config", "audio_config", "encoder_config")
MAX_PROBES = 10


class InputGap(ValueError):
    """The forward signature has a required argument no rule can synthesize."""


def forward_params(model: Any) -> dict[str, bool]:
    """Named ``forward`` parameters of a model -> whether each is required."""
    params = {}
    for name, p in inspect.signature(model.forward).parameters.items():
        if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            params[name] = p.default is inspect.Parameter.empty
    return params


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def config_value(cfg: Any, names: tuple[str, ...], default: Any = None) -> Any:
    """First non-None attribute among ``names`` on ``cfg``, then on its sub-configs."""
    for holder in [cfg] + [getattr(cfg, s, None) for s in SUB_CONFIGS]:
        if holder is None or isinstance(holder, dict):
            continue
        for n in names:
            if getattr(holder, n, None) is not None:
                return getattr(holder, n)
    return default


def config_int(cfg: Any, names: tuple[str, ...], default: int) -> int:
    """Like :func:`config_value`, but falls back to ``default`` unless the value is an int."""
    v = config_value(cfg, names, default)
    return v if _int(v) else default


def _token(cfg: Any, kind: str) -> int | None:
    for k in (f"{kind}_token_id", f"{kind}_token_index", f"{kind}_token"):
        if _int(getattr(cfg, k, None)):
            return getattr(cfg, k)
    return None


def _image_hw(cfg: Any, knobs: dict[str, Any]) -> tuple[int, int]:
    v = knobs.get("image_size") or config_value(cfg, ("image_size", "img_size", "input_size"), DEFAULT_IMAGE_PX)
    if _int(v):
        return v, v
    if isinstance(v, (list, tuple)) and len(v) >= 2:
        return int(v[-2]), int(v[-1])
    if isinstance(v, dict):
        edge = v.get("shortest_edge", DEFAULT_IMAGE_PX)
        return int(v.get("height", edge)), int(v.get("width", edge))
    return DEFAULT_IMAGE_PX, DEFAULT_IMAGE_PX


def _grid_inputs(key: str, grid_key: str, cfg: Any, knobs: dict[str, Any], g: Any) -> tuple[dict[str, Any], int]:
    """Qwen-VL style flattened patches plus a ``(t, h, w)`` grid; returns inputs and token count."""
    import torch

    merge = config_int(cfg, ("spatial_merge_size", "merge_size"), 2)
    temporal = config_int(cfg, ("temporal_patch_size",), 2)
    patch = config_int(cfg, ("patch_size",), 16)
    channels = config_int(cfg, ("num_channels", "in_channels", "in_chans"), 3)
    side = 2 * merge
    width = knobs.get("patch_dim") or channels * temporal * patch * patch
    flat = torch.randn(side * side, width, generator=g)
    return {key: flat, grid_key: torch.tensor([[1, side, side]])}, side * side // (merge * merge)


def _dense_pixels(
    key: str, params: dict[str, bool], cfg: Any, knobs: dict[str, Any], g: Any, frames: int
) -> tuple[dict[str, Any], int]:
    """``(1, C, H, W)`` images, or ``(1, frames, C, H, W)`` videos / anyres patches; and a token count."""
    import torch

    channels = config_int(cfg, ("num_channels", "in_channels", "in_chans", "input_channels"), 3)
    h, w = _image_hw(cfg, knobs)
    patch = config_value(cfg, ("patch_size",), 16)
    patch = patch if _int(patch) else (patch[-1] if isinstance(patch, (list, tuple)) else 16)
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
    return out, seq if _int(seq) else max(1, frames) * max(1, (h // patch) * (w // patch))


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
    if "pixel_values" in params:
        key = "pixel_values"
    elif "pixel_values_videos" in params and "input_ids" in params:
        key = "pixel_values_videos"
    elif params.get("hidden_states") and grid_key:
        key = "hidden_states"
    else:
        return {}, []
    video = key == "pixel_values_videos"
    token = _token(cfg, "video") if video else None
    token = _token(cfg, "image") if token is None else token
    if grid_key and (key != "pixel_values" or grid_key == "image_grid_thw" or params[grid_key]):
        out, n_tok = _grid_inputs(key, grid_key, cfg, knobs, g)
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
    if "input_features" in params:
        mel = config_int(cfg, ("num_mel_bins", "feature_size", "input_feat_per_channel", "n_mels"), DEFAULT_MELS)
        if _int(getattr(cfg, "input_channels", None)) and _int(getattr(cfg, "input_feat_per_channel", None)):
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
    token = _token(cfg, "audio")
    if not out or token is None or "input_ids" not in params:
        return out, []
    return out, [token] * knobs.get("n_audio_tokens", AUDIO_TOKENS)


def _random_ids(cfg: Any, length: int, g: Any) -> Any:
    """``(1, length)`` ids drawn from the low vocabulary, avoiding every special id."""
    import torch

    from .tiny_config import special_token_ids

    text_cfg = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    vocab = getattr(text_cfg, "vocab_size", None) or getattr(cfg, "vocab_size", None) or 1000
    specials = special_token_ids(cfg.to_dict())
    allowed = [i for i in range(3, max(4, min(vocab, 1000))) if i not in specials] or [0]
    pick = torch.randint(0, len(allowed), (1, length), generator=g)
    return torch.tensor(allowed)[pick]


def _text(params: dict[str, bool], cfg: Any, knobs: dict[str, Any], g: Any, placeholders: list[int]) -> dict[str, Any]:
    """``input_ids`` (with placeholders after the 2nd token), masks and decoder ids."""
    import torch

    out: dict[str, Any] = {}
    if "input_ids" in params:
        ids = _random_ids(cfg, knobs.get("text_len", TEXT_LEN), g)
        ids = torch.cat([ids[:, :2], torch.tensor([placeholders], dtype=torch.long).reshape(1, -1), ids[:, 2:]], 1)
        out["input_ids"] = ids
        if "attention_mask" in params:
            out["attention_mask"] = torch.ones_like(ids)
        if "mm_token_type_ids" in params and placeholders:
            types = {_token(cfg, "image"): 1, _token(cfg, "video"): 2, _token(cfg, "audio"): 3}
            out["mm_token_type_ids"] = torch.tensor([[types.get(int(i), 0) for i in ids[0]]])
    if "decoder_input_ids" in params and (getattr(cfg, "is_encoder_decoder", False) or params["decoder_input_ids"]):
        out["decoder_input_ids"] = _random_ids(cfg, DECODER_LEN, g)
    return out


def _required(params: dict[str, bool], inputs: dict[str, Any], cfg: Any, g: Any) -> dict[str, Any]:
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
            h, w = _image_hw(cfg, {})
            out[name] = torch.randn(1, config_int(cfg, ("num_channels",), 3), h, w, generator=g)
        elif name == "attention_mask" and ids is not None:
            out[name] = torch.ones_like(ids)
        elif name == "token_type_ids" and ids is not None:
            out[name] = torch.zeros_like(ids)
        elif name in ("past_values", "past_observed_mask"):  # PatchTST-style forecasting window
            lags = config_value(cfg, ("lags_sequence",), None) or [0]  # history = context + the largest lag
            length = config_int(cfg, ("context_length",), 32) + max(lags)
            shape = (1, length, config_int(cfg, ("num_input_channels",), 1))
            out[name] = torch.randn(*shape, generator=g) if name == "past_values" else torch.ones(*shape)
        else:
            out[name] = _by_name(name, cfg, ids, g)
    return out


def _fillable(name: str) -> bool:
    """Whether :func:`_by_name` has a rule for an argument name."""
    return name.endswith(_FLOAT_SUFFIXES + ("_ids", "mask")) or name in ("ids", "latents") or "pixel_values" in name


_FLOAT_SUFFIXES = ("_embeds", "_embeddings", "hidden_states", "_features", "_feats")


def _by_name(name: str, cfg: Any, ids: Any, g: Any) -> Any:
    """A required argument no modality rule produced, from its name's suffix and the config widths."""
    import torch

    seq = ids.shape[1] if ids is not None else config_int(cfg, ("num_query_tokens", "num_queries"), TEXT_LEN)
    if name == "latents":  # audio-codec decoders: channels-first latent frames
        width = config_int(cfg, ("latent_dim", "codebook_dim", "hidden_size"), 64)
        return torch.randn(1, width, AUDIO_TOKENS, generator=g)
    if name.endswith(_FLOAT_SUFFIXES):
        width = config_int(cfg, ("hidden_size", "d_model", "embed_dim"), 64)
        return torch.randn(1, seq, width, generator=g)
    if name.endswith("_ids") or name == "ids":
        return _random_ids(cfg, seq, g)
    if name.endswith("mask"):
        return torch.ones(1, seq, dtype=torch.long)
    if "pixel_values" in name:  # "high_res_pixel_values" -> the high_res_vision_config's image size
        tower = getattr(cfg, name.split("pixel_values")[0] + "vision_config", None)
        h, w = _image_hw(tower if tower is not None and not isinstance(tower, dict) else cfg, {})
        return torch.randn(1, config_int(cfg, ("num_channels",), 3), h, w, generator=g)
    raise InputGap(f"no rule for required forward argument {name!r}")


def synthesize_row(params: dict[str, bool], cfg: Any, knobs: dict[str, Any], seed: int) -> dict[str, Any]:
    """One batch row (batch dim 1) of inputs, deterministic for ``seed``."""
    import torch

    g = torch.Generator().manual_seed(seed)
    pixels, image_tokens = _pixels(params, cfg, knobs, g)
    audio, audio_tokens = _audio(params, cfg, knobs, g)
    inputs = {**pixels, **audio}
    inputs.update(_text(params, cfg, knobs, g, image_tokens + audio_tokens))
    inputs.update(_required(params, inputs, cfg, g))
    for name in knobs.get("extra_args", ()):  # optional arguments an error said were needed
        if name in params and name not in inputs:
            inputs[name] = _by_name(name, cfg, inputs.get("input_ids"), g)
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
    if named and _fillable(named[0]):  # "encoder_hidden_states must be given ...": add that argument
        return {**knobs, "extra_args": (*knobs.get("extra_args", ()), named[0])}
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
