"""Generic, name-based rules that shrink a transformers config to a tiny one.

Rules look only at attribute *names* of ``AutoConfig.for_model(t).to_dict()`` and
are applied recursively to sub-configs. Per-architecture fixes live as data in
:mod:`.overrides`. Levels, tried in order by :func:`.loaded.load`:

* ``"tiny"``: width 64, 4 heads of 16, FFN 128, 2 layers, 4 experts / top-2,
  vocab capped at 1024 (special ids above the cap are remapped below it),
  positions <= 512, ViT images <= 64 px;
* ``"wide"``: like ``tiny`` but vocab, positions and image geometry are kept;
* ``"layers"``: only depth and expert counts are reduced (every width as shipped), for
  architectures whose widths are coupled in ways the rules miss; the built model must
  stay under :data:`PARAM_CAP` parameters (checked on the meta device).
"""

from __future__ import annotations

import copy
from typing import Any

from pytest_ipfs_accel.models.config_fixes import MAX_FIXES, fill_nones, fix_from_error, follow_hidden

LEVELS = ("tiny", "wide", "layers")
SMALL_LEVELS = ("tiny", "wide")
PARAM_CAP = 300_000_000

WIDTH, HEADS, HEAD_DIM, INTER, LAYERS, EXPERTS, TOP_K = 64, 4, 16, 128, 2, 4, 2
VOCAB_CAP, MAX_POSITIONS, IMAGE_PX = 1024, 512, 64


def _caps(keys: str, cap: int) -> dict[str, int]:
    return dict.fromkeys(keys.split(), cap)


#: Counts reduced at every level (depth, experts).
STRUCTURAL_CAPS: dict[str, int] = {
    **_caps("num_experts num_local_experts n_routed_experts moe_num_experts", EXPERTS),
    **_caps("num_experts_per_tok num_experts_per_token moe_topk moe_k", TOP_K),
    **_caps("n_shared_experts num_shared_experts moe_num_shared_experts", 1),
    **_caps("n_group topk_group first_k_dense_replace", 1),
}
LAYER_KEYS = (
    "num_hidden_layers num_layers n_layer n_layers encoder_layers decoder_layers num_decoder_layers "
    "num_encoder_layers depth decoder_num_hidden_layers decoder_num_layers num_text_layers "
    "num_vision_layers resampler_depth memory_attention_num_layers memory_fuser_num_layers "
    "num_lstm_layers"
).split()
LIST_DEPTH_KEYS = frozenset(
    "depths blocks_per_stage stage_num_blocks stage_numb_of_layers num_layers_per_stage".split()
)

#: Widths reduced at the ``tiny`` and ``wide`` levels.
WIDTH_CAPS: dict[str, int] = {
    **_caps(
        "hidden_size d_model n_embd n_embed embed_dim embedding_size embedding_dim hidden_dim "
        "word_embed_proj_dim projection_dim out_hidden_size text_hidden_size encoder_hidden_size "
        "output_hidden_size projector_hidden_size projection_hidden_size vision_hidden_size audio_hidden_size "
        "pooler_output_size projection_hidden_dim attention_hidden_size hidden_size_global d_embed "
        "model_dim text_embed_dim vision_embed_dim image_text_hidden_size decoder_hidden_size "
        "encoder_hidden_dim memory_attention_hidden_size memory_encoder_hidden_size "
        "mask_downsampler_embed_dim memory_fuser_embed_dim adapter_in_dim mit_hidden_size projection_size dim",
        WIDTH,
    ),
    **_caps(
        "intermediate_size ffn_dim encoder_ffn_dim decoder_ffn_dim d_ff n_inner mlp_dim "
        "moe_intermediate_size shared_expert_intermediate_size shared_intermediate_size "
        "decoder_intermediate_size ffn_hidden_size linear_units memory_fuser_intermediate_dim "
        "memory_attention_feed_forward_hidden_size encoder_feedforward_dim decoder_feedforward_dim "
        "iou_head_hidden_dim expert_intermediate_size mit_intermediate_size",
        INTER,
    ),
    **_caps(
        "num_attention_heads n_head n_heads num_heads encoder_attention_heads "
        "decoder_attention_heads decoder_num_attention_heads encoder_num_attention_heads "
        "attention_heads swa_num_attention_heads index_n_heads linear_num_heads "
        "mit_num_attention_heads prompt_num_attention_heads",
        HEADS,
    ),
    **_caps(
        "head_dim d_kv dim_head swa_head_dim index_head_dim v_head_dim qk_nope_head_dim "
        "linear_key_head_dim linear_value_head_dim attention_head_dim linear_head_dim "
        "query_pre_attn_scalar kv_channels qk_rope_head_dim",
        HEAD_DIM,
    ),
    **_caps("kv_lora_rank q_lora_rank", 32),
    **_caps("rotary_dim time_step_rank", 8),
    **_caps("state_size d_state mamba_d_state ssm_state_size", 16),
    **_caps("n_groups mamba_n_groups", 1),
    "linear_num_key_heads": 2,
    "linear_num_value_heads": 4,
}
LIST_WIDTH_KEYS = ("hidden_sizes", "conv_dim")
KV_KEYS = ("num_key_value_heads", "swa_num_key_value_heads", "num_kv_heads", "multi_query_group_num")
STATE_KEYS = ("state_size", "d_state", "mamba_d_state", "ssm_state_size")
SKIP_DICTS = frozenset({"id2label", "label2id", "quantization_config", "rope_parameters", "rope_scaling"})
DROP_KEYS = ("transformers_version", "_name_or_path", "architectures")


def is_int(v: Any) -> bool:
    """True for ints that are not bools."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_token_key(key: Any) -> bool:
    """Keys that hold special token ids (``eos_token_id``, ``image_token_index``, ...)."""
    return isinstance(key, str) and key.endswith(("token_id", "token_index", "token_ids"))


def special_token_ids(d: dict[str, Any]) -> set[int]:
    """All non-negative special token ids anywhere in a config dict."""
    found: set[int] = set()
    for k, v in d.items():
        if isinstance(v, dict) and k not in SKIP_DICTS:
            found |= special_token_ids(v)
        elif is_token_key(k):
            vals = v if isinstance(v, list) else [v]
            found.update(x for x in vals if is_int(x) and x >= 0)
    return found


def _token_remap(specials: set[int], cap: int) -> dict[int, int]:
    """Map special ids >= cap to distinct free ids just below cap (order kept)."""
    big = sorted(i for i in specials if i >= cap)
    free = [i for i in range(cap - 1, -1, -1) if i not in specials][: len(big)]
    return dict(zip(big, sorted(free)))


def _remap_tokens(d: dict[str, Any], remap: dict[int, int]) -> None:
    for k, v in d.items():
        if isinstance(v, dict) and k not in SKIP_DICTS:
            _remap_tokens(v, remap)
        elif is_token_key(k) and is_int(v):
            d[k] = remap.get(v, v)
        elif is_token_key(k) and isinstance(v, list):
            d[k] = [remap.get(x, x) if is_int(x) else x for x in v]


def _map_index(i: Any, orig_n: int | None, n: int) -> Any:
    """Map a layer index of an ``orig_n``-layer stack onto an ``n``-layer one."""
    if not is_int(i):
        return i
    if i < 0:
        return max(i, -(n + 1))
    if orig_n and i < orig_n:
        return min(n - 1, (i * n) // orig_n)
    return min(i, n) if orig_n else min(i, n - 1)


def _native_resnet(k: str, v: Any) -> dict[str, Any] | None:
    """transformers' own ResNet for a timm ResNet ``backbone_config`` (so timm is not needed)."""
    if k != "backbone_config" or not isinstance(v, dict) or v.get("model_type") != "timm_backbone":
        return None
    if not str(v.get("backbone", "")).startswith("resnet"):
        return None
    stages = [f"stage{i}" for i in v.get("out_indices") or [1, 2, 3, 4]]
    return {"model_type": "resnet", "out_features": stages, "layer_type": "bottleneck", "depths": [1] * 4}


def _shrink_scalars(d: dict[str, Any], level: str, stage_counts: set[int]) -> bool:
    """Apply the cap tables; return True when a width was reduced."""
    changed_width = False
    for k, v in list(d.items()):
        if _native_resnet(k, v) is not None:
            d[k] = _native_resnet(k, v)
        elif isinstance(v, dict) and k not in SKIP_DICTS and k != "per_layer_config":
            shrink_dict(v, level)
        elif k in ("use_pretrained_backbone", "use_timm_backbone") and v:
            d[k] = False
        elif k in LAYER_KEYS and is_int(v) and v > LAYERS and v not in stage_counts:
            d[k] = LAYERS
        elif k in LIST_DEPTH_KEYS and isinstance(v, list) and all(is_int(x) for x in v):
            d[k] = [min(x, 1) for x in v]
        elif k in STRUCTURAL_CAPS and is_int(v) and v > STRUCTURAL_CAPS[k]:
            d[k] = STRUCTURAL_CAPS[k]
        elif level in SMALL_LEVELS and k in WIDTH_CAPS and is_int(v) and v > WIDTH_CAPS[k]:
            d[k] = WIDTH_CAPS[k]
            changed_width = changed_width or WIDTH_CAPS[k] == WIDTH
    return changed_width


def _fix_couplings(d: dict[str, Any], orig_heads: Any, changed_width: bool) -> None:
    """Keep widths that must agree with each other consistent after shrinking."""
    for k in KV_KEYS:  # keep MHA / MQA / GQA semantics
        v = d.get(k)
        if is_int(v) and v > 1:
            d[k] = HEADS if (v == orig_heads and v >= HEADS) else min(v, 2)
    if all(k in d for k in ("qk_nope_head_dim", "qk_rope_head_dim")) and is_int(d.get("qk_head_dim")):
        d["qk_head_dim"] = d["qk_nope_head_dim"] + d["qk_rope_head_dim"]
    if all(is_int(d.get(k)) for k in ("expand", "head_dim", "num_heads", "hidden_size")) and any(
        s in d for s in STATE_KEYS
    ):  # mamba2: num_heads * head_dim == expand * hidden
        d["num_heads"] = d["expand"] * d["hidden_size"] // d["head_dim"]
    if is_int(d.get("mamba_n_heads")) and is_int(d.get("mamba_d_head")):
        d["mamba_d_head"] = HEAD_DIM
        d["mamba_n_heads"] = (d.get("mamba_expand") or 2) * d.get("hidden_size", WIDTH) // HEAD_DIM
        if is_int(d.get("mamba_d_ssm")):  # an explicit SSM width must equal heads x head size
            d["mamba_d_ssm"] = d["mamba_n_heads"] * d["mamba_d_head"]
    if changed_width:  # per-stage head lists (swin-like) follow the narrowed embedding
        for k in ("num_heads", "num_attention_heads"):
            if isinstance(d.get(k), list) and all(is_int(x) for x in d[k]):
                d[k] = [1] * len(d[k])
    _fix_rope(d)


def _fix_rope(d: dict[str, Any]) -> None:
    """mRoPE sections and longrope factors follow the (smaller) rotary half-dim."""
    hd = d["head_dim"] if is_int(d.get("head_dim")) else HEAD_DIM
    for rk in ("rope_parameters", "rope_scaling"):
        rp = d.get(rk)
        if not isinstance(rp, dict):
            continue
        factor = d.get("partial_rotary_factor") or rp.get("partial_rotary_factor") or 1.0
        half = max(1, int(hd * factor) // 2)
        for sub in [rp] + [x for x in rp.values() if isinstance(x, dict)]:
            ms = sub.get("mrope_section")
            if isinstance(ms, list) and ms and sum(ms) > half:
                new = [max(1, x * half // sum(ms)) for x in ms]
                new[0] += half - sum(new)
                sub["mrope_section"] = new
            for fk in ("short_factor", "long_factor"):
                if isinstance(sub.get(fk), list) and len(sub[fk]) > half:
                    sub[fk] = sub[fk][:half]


def _shrink_geometry(d: dict[str, Any]) -> None:
    """``tiny`` level only: vocab, positions and ViT image size."""
    if is_int(d.get("vocab_size")) and d["vocab_size"] > VOCAB_CAP:
        d["vocab_size"] = VOCAB_CAP
    for k in ("max_position_embeddings", "n_positions"):
        if is_int(d.get(k)) and d[k] > MAX_POSITIONS:
            d[k] = MAX_POSITIONS
    if is_int(d.get("image_size")) and is_int(d.get("patch_size")) and d["image_size"] > IMAGE_PX:
        p = min(d["patch_size"], 16)
        d["patch_size"], d["image_size"] = p, p * max(2, IMAGE_PX // p)
        stages = len(d["depths"]) if isinstance(d.get("depths"), list) else 1
        if is_int(d.get("window_size")):  # swin-like: the window must fit the last stage
            d["window_size"] = max(1, min(d["window_size"], (d["image_size"] // p) >> (stages - 1)))
    for k in LIST_WIDTH_KEYS:  # per-stage channel lists keep their ratios, widest = WIDTH
        v = d.get(k)
        if isinstance(v, list) and v and all(is_int(x) and x > 0 for x in v) and max(v) > WIDTH:
            d[k] = [max(8, x * WIDTH // max(v)) for x in v]


def _keep_kinds(v: list[Any], n: int) -> list[Any]:
    """First ``n`` items of ``layer_types``, but every kind (e.g. ``full_attention``) survives if it fits."""
    kept = v[:n]
    missing = [x for x in dict.fromkeys(v) if isinstance(x, str) and x not in kept]
    if missing and len(missing) < n:
        kept[n - len(missing) :] = missing
    return kept


def _trim_layer_lists(d: dict[str, Any], orig_n: int, n: int) -> None:
    """Per-layer lists and layer indices follow a reduced layer count."""
    for k, v in list(d.items()):
        if not isinstance(v, list) or not v or k.startswith(("conv_", "tdnn_")) or "token" in k:
            continue
        if any(s in k for s in ("index", "indices", "indexes")) and k != "out_indices":
            if all(is_int(x) for x in v):
                d[k] = [_map_index(x, orig_n, n) for x in v]
        elif len(v) == orig_n and k not in LIST_DEPTH_KEYS:
            d[k] = _keep_kinds(v, n) if k == "layer_types" else v[:n]
    plc = d.get("per_layer_config")
    if isinstance(plc, dict):
        d["per_layer_config"] = {
            kk: vv for kk, vv in plc.items() if str(kk).lstrip("-").isdigit() and int(kk) < n
        }
    if isinstance(d.get("stage_names"), list) and len(d["stage_names"]) == orig_n + 1:
        oi = d.get("out_indices")
        d.pop("stage_names", None)
        d.pop("out_features", None)
        if isinstance(oi, list):
            mapped = [max(1, _map_index(x, orig_n, n) + (x > 0)) if x >= 0 else x for x in oi]
            d["out_indices"] = sorted(dict.fromkeys(min(x, n) for x in mapped))


def shrink_dict(d: dict[str, Any], level: str) -> None:
    """Shrink one (sub-)config dict in place (see module docstring for levels)."""
    stage_counts = {len(d[k]) for k in LIST_DEPTH_KEYS if isinstance(d.get(k), list)}
    count_key = next((k for k in LAYER_KEYS if is_int(d.get(k)) and 0 < d[k] and d[k] not in stage_counts), None)
    orig_n = d[count_key] if count_key else None
    orig_heads = d.get("num_attention_heads")
    fill_nones(d, before=True)
    before = {k: v for k, v in d.items() if is_int(v)}
    changed_width = _shrink_scalars(d, level, stage_counts)
    if level in SMALL_LEVELS:
        _fix_couplings(d, orig_heads, changed_width)
        follow_hidden(d, before)
    if level == "tiny":
        _shrink_geometry(d)
    fill_nones(d, before=False)
    n = d.get(count_key) if count_key else None
    if orig_n and is_int(n) and n < orig_n:
        _trim_layer_lists(d, orig_n, n)
    for k in ("vision_feature_layer", "vision_feature_layers", "select_layer"):
        v = d.get(k)
        if is_int(v) or (isinstance(v, list) and all(is_int(x) for x in v)):
            d[k] = [_map_index(x, None, LAYERS) for x in v] if isinstance(v, list) else _map_index(v, None, LAYERS)


def _fit_vocab(d: dict[str, Any], max_special: int) -> None:
    """Every vocab must hold the largest special id it may see."""
    for k, v in d.items():
        if isinstance(v, dict) and k not in SKIP_DICTS:
            _fit_vocab(v, max_special)
    vocab = d.get("vocab_size")
    if is_int(vocab) and 0 < vocab <= max_special < vocab + 100_000:
        d["vocab_size"] = max_special + 1


def _qwen_vl_mrope(d: dict[str, Any]) -> None:
    """Qwen-VL-style mRoPE: the default section lives in code; make it explicit and small."""
    vc, tc = d.get("vision_config"), d.get("text_config")
    if not (isinstance(vc, dict) and isinstance(tc, dict) and "temporal_patch_size" in vc):
        return
    rp = tc.get("rope_parameters")
    if isinstance(rp, dict) and "rope_type" in rp and "mrope_section" not in rp:  # flat, not per layer type
        hd = tc["head_dim"] if is_int(tc.get("head_dim")) else HEAD_DIM
        factor = tc.get("partial_rotary_factor") or rp.get("partial_rotary_factor") or 1.0
        half = max(3, int(hd * factor) // 2)
        rp["mrope_section"] = [half - 2 * (half * 3 // 8), half * 3 // 8, half * 3 // 8]


def _vision_px(d: dict[str, Any]) -> Any:
    return d["vision_config"].get("image_size") if isinstance(d.get("vision_config"), dict) else None


def _fit_image_tokens(d: dict[str, Any]) -> None:
    """Pooled image tokens (``mm_tokens_per_image``) cannot outnumber a shrunk tower's patches."""
    for v in d.values():  # nested multimodal encoders (T5Gemma2's encoder)
        if isinstance(v, dict) and isinstance(v.get("vision_config"), dict):
            _fit_image_tokens(v)
    vc = d.get("vision_config")
    if not isinstance(vc, dict) or not is_int(d.get("mm_tokens_per_image")):
        return
    px, patch = vc.get("image_size"), vc.get("patch_size")
    if is_int(px) and is_int(patch) and patch > 0:
        d["mm_tokens_per_image"] = min(d["mm_tokens_per_image"], (px // patch) ** 2)


def _scale_pinpoints(d: dict[str, Any], old_px: Any, new_px: Any) -> None:
    """LLaVA-NeXT-style anyres resolutions follow a shrunk vision tower image size."""
    pins = d.get("image_grid_pinpoints")
    if is_int(old_px) and is_int(new_px) and new_px < old_px and isinstance(pins, list):
        d["image_grid_pinpoints"] = [[x * new_px // old_px for x in p] for p in pins if isinstance(p, list)]


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated recursively with ``patch`` (dicts merge, other values replace)."""
    out = dict(base)
    for k, v in patch.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def shrink_config_dict(d: dict[str, Any], level: str, patch: dict[str, Any] | None = None) -> dict[str, Any]:
    """Shrunk copy of a full config dict, with an optional override ``patch`` merged last."""
    if level not in LEVELS:
        raise ValueError(f"unknown shrink level {level!r}; expected one of {LEVELS}")
    d = copy.deepcopy(d)
    for k in DROP_KEYS:
        d.pop(k, None)
    old_px = _vision_px(d)
    shrink_dict(d, level)
    if level in SMALL_LEVELS:
        _qwen_vl_mrope(d)
    _scale_pinpoints(d, old_px, _vision_px(d))
    _fit_image_tokens(d)
    if level == "tiny":
        _remap_tokens(d, _token_remap(special_token_ids(d), VOCAB_CAP))
    d = deep_merge(d, patch or {})
    _fit_vocab(d, max(special_token_ids(d) or {0}))
    return d


def make_config(model_type: str, level: str = "tiny", patch: dict[str, Any] | None = None) -> Any:
    """A shrunk ``PretrainedConfig`` for a transformers ``model_type``."""
    from transformers import AutoConfig

    base = AutoConfig.for_model(model_type)
    d = shrink_config_dict(base.to_dict(), level, patch)
    for attempt in range(MAX_FIXES + 1):
        try:
            return type(base).from_dict(d)
        except Exception as exc:  # a strict config naming the fields it wants equal: fix, retry
            if attempt == MAX_FIXES or not fix_from_error(d, str(exc)):
                raise
    raise AssertionError("unreachable")
