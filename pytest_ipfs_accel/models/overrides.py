"""Per-architecture fixes as data: model_type -> {"config": patch, "inputs": knobs, "why": text}.

``config`` is deep-merged into the shrunk config dict by
:func:`.tiny_config.shrink_config_dict`; ``inputs`` are knobs for :mod:`.inputs`
(see its docstring). Nothing else in the package branches on model names.
"""

from __future__ import annotations

from typing import Any

_TINY_CLIP_VISION = {"image_size": 32, "patch_size": 8}  # 4x4 = 16 patches

OVERRIDES: dict[str, dict[str, Any]] = {
    "clap": {
        "why": "Swin audio tower: hidden = patch_embeds_hidden_size * 2**(stages-1); a 64x64 spectrogram "
        "in 4x4 patches gives 16/8/4 px stages, each a multiple of the 4 px window",
        "config": {
            "audio_config": {
                "patch_embeds_hidden_size": 16,
                "hidden_size": 64,
                "spec_size": 64,
                "window_size": 4,
                "depths": [1, 1, 1],
                "num_attention_heads": [1, 2, 4],
            }
        },
        "inputs": {"audio_layout": "B1TF", "n_frames": 64},
    },
    "detr": {
        "why": "small native ResNet backbone (no timm) and 64 px images",
        "config": {
            "backbone_config": {"embedding_size": 16, "hidden_sizes": [16, 32, 64, 128], "layer_type": "basic"},
            "num_queries": 8,
        },
        "inputs": {"image_size": 64},
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
    "wav2vec2": {
        "why": "narrow conv feature extractor and a short waveform (4 frames of 320 samples + 80)",
        "config": {"conv_dim": [32] * 7, "num_conv_pos_embeddings": 16},
        "inputs": {"n_samples": 1360},
    },
    "whisper": {
        "why": "32 encoder positions -> 64 mel frames instead of 3000",
        "config": {"max_source_positions": 32, "max_target_positions": 64},
    },
    "xclip": {"why": "4 frames instead of 8", "config": {"vision_config": {"num_frames": 4}}},
}
