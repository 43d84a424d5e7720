"""The generative torch model of a loaded model, and its folder on disk (weights + tokenizer).

The tests' loaded model is the base model (``AutoModel``); generating needs its head. The head
model is built from the same shrunk config with the same seed (tiny; weights drawn with
:data:`INIT_RANGE` instead of the usual 0.02, so that greedy tokens vary from step to step: with
0.02 a tiny model repeats one token, and a broken KV cache would still pass) or loaded from the local
directory (path), in float32 on the CPU. The folder the genai builders read is made once per model
fingerprint in the artifact cache: ``save_pretrained`` plus a tokenizer (the directory's own, or a
tiny word-level one made offline, ``models.tokenizer``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pytest_ipfs_accel.generation.architectures import FAMILIES, family
from pytest_ipfs_accel.generation.result import GenerationError, one_line

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                   "vocab.json", "merges.txt")


#: initializer_range of tiny generative models (see the module docstring).
INIT_RANGE = 0.2


def _varied(config: Any) -> Any:
    """A copy of ``config`` (and its sub-configs) with ``initializer_range`` = :data:`INIT_RANGE`."""
    import copy

    config = copy.deepcopy(config)
    for part in [config, *(getattr(config, k) for k in ("text_config", "decoder", "encoder", "vision_config")
                          if hasattr(config, k))]:
        if hasattr(part, "initializer_range"):
            part.initializer_range = INIT_RANGE
        _clamp_special_ids(part)
    if getattr(config, "is_encoder_decoder", False) and getattr(config, "decoder_start_token_id", None) is None:
        config.decoder_start_token_id = config.pad_token_id  # t5's convention; tiny configs may lack one
    return config


def _clamp_special_ids(config: Any) -> None:
    """A shrunk vocabulary can leave bos/eos/pad ids past its end, or none at all (qwen2): such an id
    becomes the last id (eos and pad: also when missing), so the saved tokenizer, the genai builders and
    torch agree on one eos token, which every runtime masks while ``min_new_tokens`` holds."""
    size = getattr(config, "vocab_size", None)
    if not isinstance(size, int) or size < 1:
        return
    for name in ("eos_token_id", "pad_token_id"):
        if getattr(config, name, None) is None:
            setattr(config, name, size - 1)
    for name in ("bos_token_id", "eos_token_id", "pad_token_id"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value >= size:
            setattr(config, name, size - 1)
        elif isinstance(value, list) and any(isinstance(v, int) and v >= size for v in value):
            setattr(config, name, [min(v, size - 1) for v in value])


def generating_family(loaded: Any) -> str:
    """The loaded model's family (``causal``, ``seq2seq``, ``speech``, ``vision``); GenerationError if none."""
    spec = loaded.spec
    found = family(spec.model_type, spec.task)
    if found is None:
        raise GenerationError("checkpoint", f"{spec.model_type} has no generating head in transformers")
    return found


def build_model(loaded: Any) -> Any:
    """The model with its generating head, eval, float32, on the CPU (GenerationError when it cannot)."""
    import torch
    import transformers

    spec, auto = loaded.spec, getattr(transformers, FAMILIES[generating_family(loaded)][1])
    try:
        if spec.source == "path":
            model = auto.from_pretrained(spec.path, trust_remote_code=spec.trust_remote_code)
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(loaded.seed)
                model = auto.from_config(_varied(loaded.config), trust_remote_code=spec.trust_remote_code)
    except Exception as exc:  # noqa: BLE001 - any build failure is this architecture's answer
        raise GenerationError("checkpoint", f"{auto.__name__}: {type(exc).__name__}: {one_line(exc)}") from None
    return model.to(device="cpu", dtype=torch.float32).eval()


def save_folder(loaded: Any, model: Any, folder: Path) -> None:
    """Weights, config, generation config and a tokenizer into ``folder``."""
    from pytest_ipfs_accel.models.tokenizer import save_tiny_tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder))
    source = Path(loaded.spec.path) if loaded.spec.source == "path" and loaded.spec.path else None
    copied = [name for name in TOKENIZER_FILES if source is not None and (source / name).is_file()]
    for name in copied:
        shutil.copy2(source / name, folder / name)
    if "tokenizer.json" not in copied:
        save_tiny_tokenizer(model.config, folder)


def folder_for(loaded: Any, model: Any, artifacts: Any) -> Path:
    """The saved folder in the artifact cache, keyed by the model fingerprint and transformers' version."""
    from importlib.metadata import version

    key = [loaded.fingerprint(), generating_family(loaded), f"init{INIT_RANGE}-eos", "transformers", version("transformers")]
    try:
        return cached_folder(artifacts, "generation_checkpoint", key, lambda target: save_folder(loaded, model, target))
    except Exception as exc:  # noqa: BLE001 - save_pretrained or the tokenizer refusing this model
        raise GenerationError("checkpoint", f"saving the folder: {type(exc).__name__}: {one_line(exc)}") from None


def cached_folder(artifacts: Any, kind: str, key: list[str], build: Any) -> Path:
    """A folder ``build(target)`` makes, from the artifact cache when it is there (no cache: a temporary one)."""
    from pytest_ipfs_accel.backends.artifacts import ArtifactCache

    cache = artifacts if artifacts is not None else ArtifactCache(None)
    folder, _reused = cache.materialize(cache.path_for(kind, key, ""), build)
    return folder
