"""Input-knob retries read from shape errors that name the size the model wanted.

Each rule looks at one forward error and the inputs that caused it and returns new
knobs for :mod:`.inputs`, or None. They run from :func:`.inputs.next_knobs` before
its blind layout fallbacks, and each is bounded (a counter or a knob it sets once).
"""

from __future__ import annotations

import re
from typing import Any

_MATMUL = re.compile(r"mat1 and mat2 shapes cannot be multiplied \(\d+x(\d+) and (\d+)x\d+\)")
_SIZES = re.compile(r"size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\)")
_RESHAPE = re.compile(r"shape '\[([-\d, ]+)\]' is invalid for input of size (\d+)")
_CONV_2D = re.compile(r"4D \(batched\) input to conv2d, but got input of size: \[\d+, \d+\]")
_NO_TOWER = re.compile(r"initialized without an? (vision|audio)")
_MULTIPLE = re.compile(r"length (\d+) is not a multiple of (\d+)")
#: Mel-width guesses per model (each sets ``n_mels`` and the (batch, time, mel) layout).
MAX_WIDTH_TRIES = 3


def _mel_frames(features: Any, layout: str) -> tuple[int, int]:
    """(mel width, frame count) of an ``input_features`` tensor in ``layout``."""
    if layout == "BFT":
        return int(features.shape[1]), int(features.shape[2])
    return int(features.shape[-1]), int(features.shape[-2])


def _mel_width(error: str, knobs: dict[str, Any], inputs: dict[str, Any]) -> int | None:
    """The mel width an audio front end wants, from a matmul or broadcast error."""
    if inputs["input_features"].dim() < 3:
        return None
    mel, frames = _mel_frames(inputs["input_features"], knobs.get("audio_layout", "BFT"))
    mm = _MATMUL.search(error)
    if mm:
        got, want = int(mm.group(1)), int(mm.group(2))
        if got in (mel, frames):  # features fed straight into a projection
            return want
        if got % mel == 0 and want % (got // mel) == 0:  # k stacked / subsampled frames of mel bins
            return want // (got // mel)
    sizes = _SIZES.search(error)
    if sizes and int(sizes.group(1)) in (mel, frames):
        return int(sizes.group(2))
    return None


def audio_width_fix(error: str, knobs: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any] | None:
    """``input_features`` as (batch, time, N) with the mel width N the error names."""
    tries = knobs.get("_widths", 0)
    if "input_features" not in inputs or tries >= MAX_WIDTH_TRIES:
        return None
    width = _mel_width(error, knobs, inputs)
    if width is None or (width == knobs.get("n_mels") and knobs.get("audio_layout") == "BTF"):
        return None
    return {**knobs, "n_mels": width, "audio_layout": "BTF", "_layouts": 2, "_widths": tries + 1}


def image_size_fix(error: str, knobs: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any] | None:
    """Images of the side length a broadcast error wants (a fixed position grid)."""
    pixels = inputs.get("pixel_values")
    sizes = _SIZES.search(error)
    if pixels is None or sizes is None or knobs.get("image_size") or pixels.dim() < 4:
        return None
    got, want = int(sizes.group(1)), int(sizes.group(2))
    if got not in tuple(pixels.shape[-2:]) or not 8 <= want <= 1024:
        return None
    return {**knobs, "image_size": want}


def samples_fix(error: str, knobs: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any] | None:
    """A waveform whose length is the multiple of a hop size the error names."""
    m = _MULTIPLE.search(error)
    values = inputs.get("input_values")
    if m is None or values is None or int(m.group(1)) != values.shape[-1]:
        return None
    hop = int(m.group(2))
    return {**knobs, "n_samples": hop * max(1, int(m.group(1)) // hop)}


def patch_layout_fix(error: str, knobs: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any] | None:
    """Flattened (patches, width) pixels: the per-patch width a reshape wants, or (patches, C, p, p)."""
    flat = next((inputs[k] for k in ("pixel_values", "hidden_states") if k in inputs), None)
    if flat is None or flat.dim() != 2 or knobs.get("patches_4d"):
        return None
    if _CONV_2D.search(error):
        return {**knobs, "patches_4d": 4}
    if "expected 5, got 3" in error:  # (batch, patches, C, p, p)
        return {**knobs, "patches_4d": 5}
    if knobs.get("patch_dim"):
        return None
    rows, width = flat.shape
    sizes = _SIZES.search(error)
    if sizes and rows in (int(sizes.group(1)), int(sizes.group(2))):  # rows counted as k patches each
        k = max(int(sizes.group(1)), int(sizes.group(2))) // rows
        return {**knobs, "patch_dim": width // k} if k > 1 and width % k == 0 else None
    m = _RESHAPE.search(error)
    if m is None or int(m.group(2)) != flat.numel():
        return None
    dims = [int(x) for x in m.group(1).split(",")]
    if len(dims) == 6 and dims[0] == -1 and dims[1:3] == dims[3:5]:  # (-1, merge, patch, merge, patch, C)
        return {**knobs, "merged_pixels": True}
    total = 1
    for x in dims:
        total *= x if x > 0 else 1
    if -1 in dims or total % rows or total // rows == width:
        return None
    return {**knobs, "patch_dim": total // rows}


def text_len_fix(error: str, knobs: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any] | None:
    """Text as long as the audio frames it is added to (streaming speech models), once."""
    ids, sizes = inputs.get("input_ids"), _SIZES.search(error)
    if ids is None or sizes is None or "text_len" in knobs or ids.dim() != 2:
        return None
    got, want = int(sizes.group(1)), int(sizes.group(2))
    return {**knobs, "text_len": want} if got == ids.shape[1] and 0 < want <= 4096 else None


def no_tower_fix(error: str, knobs: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any] | None:
    """A model built without a vision / audio tower although its forward takes that input: send none."""
    m = _NO_TOWER.search(error)
    knob = {"vision": "no_images", "audio": "no_audio"}.get(m.group(1)) if m else None
    if knob is None or knobs.get(knob):
        return None
    return {**knobs, knob: True}


RULES = (audio_width_fix, image_size_fix, samples_fix, patch_layout_fix, text_len_fix, no_tower_fix)


def retry_knobs(error: str, knobs: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any] | None:
    """The first rule's new knobs, or None when none applies."""
    for rule in RULES:
        fixed = rule(error, knobs, inputs)
        if fixed is not None:
            return fixed
    return None
