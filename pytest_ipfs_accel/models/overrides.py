"""Per-architecture fixes as data: model_type -> {"config": patch, "inputs": knobs, "why": text}.

``config`` is deep-merged into the shrunk config dict by
:func:`.tiny_config.shrink_config_dict`; ``inputs`` are knobs for :mod:`.inputs`
(see its docstring). Nothing else in the package branches on model names.
"""

from __future__ import annotations

from typing import Any

_TINY_CLIP_VISION = {"image_size": 32, "patch_size": 8}  # 4x4 = 16 patches
_ROPE_BY_LAYER_TYPE = {
    "why": "RoPE parameters are keyed by layer type; the default leaves them empty",
    "rope": {"full_attention": {"rope_type": "default", "rope_theta": 10000.0}},
}
_QSA = {  # Qwen4-Exp sparse-attention indexer: sizes default to None, one kv head required
    "indexer_n_heads": 2,
    "indexer_kv_heads": 1,
    "indexer_head_dim": 16,
    "indexer_budget": 16,
    "indexer_compress_ratio": 4,
}
_QSA_WHY = "the sparse-attention (QSA) indexer sizes default to None; one kv head is required"
_VISION_START = {
    "why": "mRoPE index code reads a vision-start id the thinker config does not define",
    "config": {"vision_start_token_id": 999},
}
_GROUNDING = {
    "why": "logits over max_text_len positions are -inf past the text: make it the synthesized text length",
    "config": {"max_text_len": 16},
}
_MERGER_256 = {
    "why": "the merger output is hidden * spatial_merge_size**2 = 64 * 4 wide",
    "config": {"out_hidden_size": 256},
}

OVERRIDES: dict[str, dict[str, Any]] = {
    "clap": {
        "why": (
            "Swin audio tower: hidden = patch_embeds_hidden_size * 2**(stages-1); a 64x64 spectrogram in 4x4 "
            "patches gives 16/8/4 px stages, each a multiple of the 4 px window"
        ),
        "config": {
            "audio_config": {
                "patch_embeds_hidden_size": 16,
                "hidden_size": 64,
                "spec_size": 64,
                "window_size": 4,
                "depths": [1, 1, 1],
                "num_attention_heads": [1, 2, 4],
            },
        },
        "inputs": {"audio_layout": "B1TF", "n_frames": 64},
    },
    "cohere_compass": {
        "why": _ROPE_BY_LAYER_TYPE["why"],
        "config": {"text_config": {"rope_parameters": _ROPE_BY_LAYER_TYPE["rope"]}},
    },
    "cohere_compass_text": {
        "why": _ROPE_BY_LAYER_TYPE["why"],
        "config": {"rope_parameters": _ROPE_BY_LAYER_TYPE["rope"]},
    },
    "dbrx": {
        "why": "the attention sub-config must carry its own rope_theta and a qkv clip",
        "config": {"attn_config": {"rope_theta": 10000.0, "clip_qkv": 8.0}},
    },
    "deepseek_ocr2": {
        "why": "the default leaves the per-layer MLP kinds unset",
        "config": {"text_config": {"mlp_layer_types": ["dense", "sparse"]}},
    },
    "detr": {
        "why": "small native ResNet backbone (no timm) and 64 px images",
        "config": {
            "backbone_config": {"embedding_size": 16, "hidden_sizes": [16, 32, 64, 128], "layer_type": "basic"},
            "num_queries": 8,
        },
        "inputs": {"image_size": 64},
    },
    "diffusion_gemma": {
        "why": "the MoE block is on but its expert counts default to None",
        "config": {"text_config": {"num_experts": 4, "top_k_experts": 2, "moe_intermediate_size": 128}},
    },
    "dory": {
        "why": "input + recurrent + output blocks must add up to the layer count (one each)",
        "config": {
            "n_input_layers": 1,
            "n_recurrent_layers": 1,
            "n_output_layers": 1,
            "num_hidden_layers": 3,
            "layer_types": ["sliding_attention", "full_attention", "full_attention"],
        },
    },
    "dots1": {
        "why": "the default leaves the routed / shared expert counts unset",
        "config": {"n_routed_experts": 4, "num_experts_per_tok": 2, "n_shared_experts": 1},
    },
    "esm": {
        "why": "the default leaves vocab_size unset (ESM-2 has 33 tokens)",
        "config": {"vocab_size": 33, "pad_token_id": 1, "mask_token_id": 32},
    },
    "gemma3n_text": {
        "why": "with 2 layers no layer can reuse another's kv cache",
        "config": {"num_kv_shared_layers": 0},
    },
    "grounding-dino": _GROUNDING,
    "lfm2_moe": {
        "why": "the default leaves layer_types unset",
        "config": {"layer_types": ["conv", "full_attention"]},
    },
    "llama4": {
        "why": "the vision adapter MLP takes the pixel-shuffled width: hidden / ratio**2 = 64 / 0.25",
        "config": {
            "vision_config": {
                "intermediate_size": 256,
                "projector_input_dim": 64,
                "projector_output_dim": 64,
                "vision_output_dim": 64,
            },
        },
    },
    "llava": {
        "why": "16 image tokens = 4x4 patches of the CLIP tower (CLS dropped by the default strategy)",
        "config": {"vision_config": _TINY_CLIP_VISION, "image_seq_length": 16},
    },
    "llava_next": {
        "why": "anyres with one 32x32 pinpoint: base + 1 tile; 16 base + 4x(4+1 newline) tile tokens",
        "config": {"vision_config": _TINY_CLIP_VISION, "image_grid_pinpoints": [[32, 32]], "image_seq_length": 16},
        "inputs": {"n_image_patches": 2, "image_sizes": True, "n_image_tokens": 36},
    },
    "mm-grounding-dino": _GROUNDING,
    "moonshine_streaming": {"why": "the top config must name its kv heads", "config": {"num_key_value_heads": 4}},
    "muse_glimmer": _MERGER_256,
    "muse_spark": _MERGER_256,
    "qwen2_5_omni_thinker": _VISION_START,
    "qwen3_omni_moe_thinker": _VISION_START,
    "qwen4_exp": {"why": _QSA_WHY, "config": {"text_config": _QSA}},
    "qwen4_exp_text": {"why": _QSA_WHY, "config": _QSA},
    "rf_detr": {
        "why": "fewer object queries than the encoder proposals of a small image",
        "config": {"num_queries": 8},
    },
    "seggpt": {
        "why": "the merge layer must come before every encoder output kept (2 layers)",
        "config": {"merge_index": 0, "intermediate_hidden_state_indices": [1, 1, 1, 1]},
        "inputs": {"image_size": [448, 448]},
    },
    "step3p7": {
        "why": "sliding layers need a window the default leaves unset",
        "config": {"text_config": {"sliding_window": 64}},
    },
    "t5gemma2_encoder": {
        "why": "the text sub-config must carry dropout_rate",
        "config": {"text_config": {"dropout_rate": 0.0}},
    },
    "vits": {
        "why": "the stochastic duration predictor samples noise, so the waveform length changed from run to run",
        "config": {"use_stochastic_duration_prediction": False},
    },
    "wav2vec2": {
        "why": "narrow conv feature extractor and a short waveform (4 frames of 320 samples + 80)",
        "config": {"conv_dim": [32, 32, 32, 32, 32, 32, 32], "num_conv_pos_embeddings": 16},
        "inputs": {"n_samples": 1360},
    },
    "whisper": {
        "why": "32 encoder positions -> 64 mel frames instead of 3000",
        "config": {"max_source_positions": 32, "max_target_positions": 64},
    },
    "xclip": {"why": "4 frames instead of 8", "config": {"vision_config": {"num_frames": 4}}},
    "xmod": {"why": "adapters need a default language (the first one)", "config": {"default_language": "en_XX"}},
}
