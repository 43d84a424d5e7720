"""Hugging Face model id (``bert-base-uncased``, ``meta-llama/Llama-2-7b-hf``) -> architecture, offline.

Order: a name the registry already accepts (registry name, transformers model_type) is returned
as is; then the local HF cache (``config.json`` of a snapshot, read as a plain file; nothing is
downloaded); then the prefix table :data:`ID_PREFIXES`. A model directory is not an id: callers
pass it on as a path (its own weights), as ``--ipfs-models=DIR`` does. Typo hints for a plain name
are the registry's, the same ones ``--ipfs-models`` gives.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

from pytest_ipfs_accel.models.registry import KEY_MODELS, NAME_RE, UnknownModelError, normalize, resolve
from pytest_ipfs_accel.models.registry import InvalidModelNameError

#: (id prefix, lower-cased, matched against the whole id) -> registry name; longest prefix wins.
ID_PREFIXES: tuple[tuple[str, str], ...] = (
    ("bert-", "bert"),
    ("google-bert/", "bert"),
    ("t5-", "t5"),
    ("google-t5/", "t5"),
    ("google/t5-", "t5"),
    ("gpt2", "gpt2"),
    ("openai-community/gpt2", "gpt2"),
    ("meta-llama/", "llama"),
    ("qwen/qwen2-", "qwen2"),
    ("qwen/qwen2.", "qwen2"),
    ("google/vit-", "vit"),
    ("openai/clip-", "clip"),
    ("laion/clap-", "clap"),
    ("openai/whisper-", "whisper"),
    ("facebook/wav2vec2-", "wav2vec2"),
    ("llava-hf/llava-1.5-", "llava"),
    ("llava-hf/llava-v1.6-", "llava_next"),
    ("microsoft/xclip-", "xclip"),
    ("facebook/detr-", "detr"),
)


def _hub_cache() -> Path:
    """huggingface_hub's cache dir: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    return Path(home).expanduser() / "hub"


def cached_config(model_id: str) -> dict | None:
    """``config.json`` of ``model_id`` in the local HF cache (the ``refs/main`` snapshot, else any), or None."""
    repo = _hub_cache() / ("models--" + model_id.replace("/", "--"))
    snapshots = repo / "snapshots"
    if not snapshots.is_dir():
        return None
    candidates = []
    ref = repo / "refs" / "main"
    if ref.is_file():
        candidates.append(snapshots / ref.read_text(encoding="utf-8").strip())
    candidates += sorted(p for p in snapshots.iterdir() if p.is_dir())
    for snap in candidates:
        file = snap / "config.json"
        if file.is_file():
            try:
                return json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
    return None


def _from_config(model_id: str, config: dict, where: str) -> str:
    model_type = config.get("model_type")
    if not isinstance(model_type, str) or not NAME_RE.fullmatch(model_type):
        raise UnknownModelError(model_id, f"{where} has no valid 'model_type' (got {model_type!r})")
    return normalize(model_type)


def architecture(model_id: str) -> str:
    """The architecture (registry name or model_type) to generate tests for, or UnknownModelError."""
    if not isinstance(model_id, str) or not model_id.strip() or "\x00" in model_id:
        raise InvalidModelNameError(model_id)
    model_id = model_id.strip()
    registry_hints: list[str] | None = None
    if "/" not in model_id:
        try:
            resolve(model_id)
            return normalize(model_id)
        except UnknownModelError as exc:
            registry_hints = exc.suggestions
        except InvalidModelNameError:
            pass
    config = cached_config(model_id)
    if config is not None:
        return _from_config(model_id, config, f"cached config.json of {model_id}")
    low = model_id.lower()
    matches = [(prefix, name) for prefix, name in ID_PREFIXES if low.startswith(prefix)]
    if matches:
        return max(matches, key=lambda m: len(m[0]))[1]
    raise UnknownModelError(model_id, "not a registry name, model_type, local model directory, model in the "
                                      f"local Hugging Face cache ({_hub_cache()}) or known model id prefix",
                            _hints(low) if registry_hints is None else registry_hints)


def _hints(low: str) -> list[str]:
    """Close key models and id prefixes for an id-looking name (``org/model``)."""
    stem = low.rsplit("/", 1)[-1].split("-", 1)[0]
    suggestions = difflib.get_close_matches(stem, KEY_MODELS, n=3, cutoff=0.5)
    return suggestions + [f"{p.rstrip('-./')}..." for p, _ in ID_PREFIXES
                          if difflib.SequenceMatcher(None, low[:len(p)], p).ratio() > 0.7][:3]
