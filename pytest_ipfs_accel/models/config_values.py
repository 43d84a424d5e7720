"""Config look-ups and shared pieces of input synthesis (sizes, special ids, the input gap error)."""

from __future__ import annotations

from typing import Any

TEXT_LEN, DECODER_LEN, AUDIO_TOKENS = 16, 8, 8
DEFAULT_IMAGE_PX, DEFAULT_SAMPLES, DEFAULT_FRAMES, DEFAULT_MELS = 224, 16000, 200, 80
SUB_CONFIGS = ("vision_config", "text_config", "audio_config", "encoder_config", "encoder", "model_config")


class InputGap(ValueError):
    """The forward signature has a required argument no rule can synthesize."""


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def config_value(cfg: Any, names: tuple[str, ...], default: Any = None) -> Any:
    """First non-None attribute among ``names`` on ``cfg``, then on its sub-configs."""
    first = [getattr(cfg, s, None) for s in SUB_CONFIGS]
    second = [getattr(h, s, None) for h in first if h is not None for s in SUB_CONFIGS]
    for holder in [cfg, *first, *second]:  # nested towers too (encoder.vision_config)
        if holder is None or isinstance(holder, dict):
            continue
        for n in names:
            if getattr(holder, n, None) is not None:
                return getattr(holder, n)
    return default


def config_int(cfg: Any, names: tuple[str, ...], default: int) -> int:
    """Like :func:`config_value`, but falls back to ``default`` unless the value is an int."""
    v = config_value(cfg, names, default)
    return v if is_int(v) else default


def no_tower(cfg: Any, name: str) -> bool:
    """A config that has a slot for a tower but leaves it empty (the model is built without it)."""
    return name in getattr(cfg, "sub_configs", {}) and getattr(cfg, name, None) is None


def token_id(cfg: Any, kind: str) -> int | None:
    for k in (f"{kind}_token_id", f"{kind}_token_index", f"{kind}token_id"):
        if is_int(getattr(cfg, k, None)):
            return getattr(cfg, k)
    return None


def image_hw(cfg: Any, knobs: dict[str, Any]) -> tuple[int, int]:
    v = knobs.get("image_size") or config_value(cfg, ("image_size", "img_size", "input_size"), DEFAULT_IMAGE_PX)
    if is_int(v):
        return v, v
    if isinstance(v, (list, tuple)) and len(v) >= 2:
        return int(v[-2]), int(v[-1])
    if isinstance(v, dict):
        edge = v.get("shortest_edge", DEFAULT_IMAGE_PX)
        return int(v.get("height", edge)), int(v.get("width", edge))
    return DEFAULT_IMAGE_PX, DEFAULT_IMAGE_PX


def random_ids(cfg: Any, length: int, g: Any) -> Any:
    """``(1, length)`` ids drawn from the low vocabulary, avoiding every special id."""
    import torch

    from pytest_ipfs_accel.models.tiny_config import special_token_ids

    text_cfg = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    vocab = getattr(text_cfg, "vocab_size", None) or config_int(cfg, ("vocab_size",), 1000)
    specials = special_token_ids(cfg.to_dict())
    allowed = [i for i in range(3, max(4, min(vocab, 1000))) if i not in specials] or [0]
    pick = torch.randint(0, len(allowed), (1, length), generator=g)
    return torch.tensor(allowed)[pick]
