"""Config values the shrinking rules must fill or fix, and retry rules read from errors.

:func:`fill_nones`: fields a default config leaves ``None`` although the model needs a value
(time-series horizons, MoE routing, ``head_dim``, kv heads, an image placeholder id);
:func:`follow_hidden`: fields that equalled the hidden size follow it when it shrinks.
:func:`forward_patch`: a config patch read from a forward error (mRoPE sections).

A strict config class that rejects a shrunk config usually says which fields are coupled:
``codebook_dim (512) must equal hidden_size (64)``, ``SWA head_dim must equal
qk_nope_head_dim + qk_rope_head_dim``, ``n_input_layers + n_recurrent_layers +
n_output_layers must equal num_hidden_layers``. :func:`fix_from_error` finds the (sub-)config
holding those fields and sets the side with one field to the value of the other side.
"""

from __future__ import annotations

import re
from typing import Any

MAX_FIXES = 4
#: Filled before shrinking; MoE routing only where an expert count is set.
NONE_DEFAULTS = {"prediction_length": 8}
MOE_NONE_DEFAULTS = {"num_experts_per_tok": 2, "top_k_experts": 2, "n_group": 1, "topk_group": 1}
EXPERT_COUNT_KEYS = ("num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts")
#: A free id for an image placeholder a vision-language default leaves unset (+1: audio, +2: video).
IMAGE_TOKEN_ID = 1000
_EQUAL = re.compile(r"\bmust (?:be equal(?: to)?|equal|match)\b", re.I)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def fill_nones(d: dict[str, Any], before: bool) -> None:
    """Fill ``None`` fields of one (sub-)config dict: defaults ``before`` shrinking, derived ones after."""
    if before:
        moe = any(_is_int(d.get(k)) for k in EXPERT_COUNT_KEYS)
        for k, v in {**NONE_DEFAULTS, **(MOE_NONE_DEFAULTS if moe else {})}.items():
            if k in d and d[k] is None:
                d[k] = v
        for tower, keys, token in (("vision_config", ("image_token_id", "image_token_index"), IMAGE_TOKEN_ID),
                                   ("audio_config", ("audio_token_id", "audio_token_index"), IMAGE_TOKEN_ID + 1),
                                   ("vision_config", ("video_token_id", "video_token_index"), IMAGE_TOKEN_ID + 2)):
            for k in keys if isinstance(d.get(tower), dict) else ():
                if k in d and d[k] is None:
                    d[k] = token
        return
    hidden, heads = d.get("hidden_size"), d.get("num_attention_heads")
    if "head_dim" in d and d["head_dim"] is None and _is_int(hidden) and _is_int(heads) and heads:
        d["head_dim"] = hidden // heads
    if "num_key_value_heads" in d and d["num_key_value_heads"] is None and _is_int(heads):
        d["num_key_value_heads"] = heads  # None means one kv head per query head


#: Unlisted fields that follow the hidden size when they equalled it (depthwise groups, embed dims).
FOLLOW_SUFFIXES = ("groups", "_dim", "_size")


def follow_hidden(d: dict[str, Any], before: dict[str, Any]) -> None:
    """Fields the rules left alone that equalled the old hidden size take the new one."""
    old, new = before.get("hidden_size"), d.get("hidden_size")
    if not (_is_int(old) and _is_int(new)) or old == new:
        return
    for k, v in before.items():
        if v == old and d.get(k) == old and k.endswith(FOLLOW_SUFFIXES) and "vocab" not in k:
            d[k] = new


def _names(side: str, d: dict[str, Any]) -> list[str]:
    return [n for n in _NAME.findall(side) if _is_int(d.get(n))]


def _holders(d: dict[str, Any]) -> list[dict[str, Any]]:
    """``d`` and every nested sub-config dict, depth first."""
    out = [d]
    for v in d.values():
        if isinstance(v, dict):
            out += _holders(v)
    return out


def _apply(d: dict[str, Any], left: str, right: str) -> bool:
    lnames, rnames = _names(left, d), _names(right, d)
    if not lnames or not rnames:
        return False
    lhs, rhs = lnames[-1:] if len(lnames) == 1 else lnames, rnames[:1] if len(rnames) == 1 else rnames
    if len(lhs) == 1:  # "a must equal b [+ c]": a follows the other side
        target, value = lhs[0], sum(d[n] for n in rhs)
    elif len(rhs) == 1:  # "a + b + c must equal n": n follows the sum
        target, value = rhs[0], sum(d[n] for n in lhs)
    else:
        return False
    if d[target] == value:
        return False
    d[target] = value
    return True


#: "`text_config.num_hidden_layers` (72) must be equal to the number of `layer_types` (2)": the
#: message states the value it wants, so the named (possibly dotted) field takes it.
_LITERAL = re.compile(r"`([A-Za-z_][\w.]*)` \((\d+)\) must (?:be equal(?: to)?|equal|match)\b[^()]*\((\d+)\)")


def _set_literal(d: dict[str, Any], message: str) -> bool:
    m = _LITERAL.search(message)
    if m is None:
        return False
    *path, key = m.group(1).split(".")
    holder: Any = d
    for k in path:
        holder = holder.get(k) if isinstance(holder, dict) else None
    if not isinstance(holder, dict) or not _is_int(holder.get(key)) or holder[key] == int(m.group(3)):
        return False
    holder[key] = int(m.group(3))
    return True


def fix_from_error(d: dict[str, Any], message: str) -> bool:
    """Apply one "X must equal Y" fix from ``message`` to config dict ``d``; True when changed."""
    if _set_literal(d, message):
        return True
    for line in message.splitlines():
        parts = _EQUAL.split(line, maxsplit=1)
        if len(parts) != 2:
            continue
        left = parts[0].rsplit(":", 1)[-1]
        right = re.split(r"[,;.](?:\s|$)", parts[1], maxsplit=1)[0]
        for holder in _holders(d):
            if _apply(holder, left, right):
                return True
    return False


_SPLIT = re.compile(r"split_sizes to sum exactly to (\d+).*?split_sizes=\[([\d, ]+)\]")


def _path_to(d: dict[str, Any], key: str, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Keys leading from ``d`` to the first dict holding ``key`` (depth first)."""
    if isinstance(d.get(key), dict):
        return path
    for k, v in d.items():
        if isinstance(v, dict):
            found = _path_to(v, key, (*path, k))
            if found is not None:
                return found
    return None


def forward_patch(d: dict[str, Any], message: str) -> dict[str, Any] | None:
    """A config patch for a forward error that names the coupled sizes, or None.

    ``split_sizes to sum exactly to 8 ... split_sizes=[16, 24, 24]``: a default mRoPE section
    that lives in code; an explicit one scaled to the shrunk rotary half-dim is patched in.
    """
    m = _SPLIT.search(message)
    path = _path_to(d, "rope_parameters") if m else None
    if m is None or path is None:
        return None
    total, sizes = int(m.group(1)), [int(x) for x in m.group(2).split(",")]
    new = [max(1, x * total // sum(sizes)) for x in sizes]
    new[0] += total - sum(new)
    patch: dict[str, Any] = {"rope_parameters": {"mrope_section": new}}
    for k in reversed(path):
        patch = {k: patch}
    return patch
