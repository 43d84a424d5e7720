"""Turn a user-supplied model name into a :class:`ModelSpec`.

A name is one of: a registry name (:data:`KEY_MODELS`), any transformers
``model_type`` (hyphens and case are normalised: ``llava-next`` -> ``llava_next``),
or a local directory holding ``config.json``. Names are validated before
anything heavy is imported; registry names resolve without torch or transformers.

Modality heuristic for types outside :data:`KEY_TABLE` (:func:`infer_modality`),
applied to the default config dict (or a local ``config.json``), first match wins:

1. ``is_encoder_decoder`` -> ``encoder-decoder``
2. an audio sub-config (``audio_config``...) -> ``text+audio``
3. a ``video`` model type, or ``num_frames > 1`` at top level / in ``vision_config`` -> ``video``
4. a ``vision_config`` plus a ``text_config`` or ``vocab_size`` -> ``text+image``
5. audio keys (``num_mel_bins``, ``conv_dim``, ``input_feat_per_channel``, ``sampling_rate``,
   ``audio_channels``, or ``feature_size`` without ``vocab_size``) -> ``audio``
6. a ``vision_config``, ``image_size`` / ``patch_size``, or ``num_channels`` without
   ``vocab_size`` -> ``vision``
7. otherwise ``text``.
"""

from __future__ import annotations

import ast
import difflib
import functools
import importlib.util
import os
import re
from pathlib import Path
from typing import Any

from pytest_ipfs_accel.models import pretrained
from pytest_ipfs_accel.models.spec import ModelSpec

KEY_MODELS: tuple[str, ...] = (
    "bert", "t5", "gpt2", "llama", "qwen2", "vit", "clip", "clap",
    "whisper", "wav2vec2", "llava", "llava_next", "xclip", "detr",
)  # fmt: skip

#: registry name -> (transformers model_type, modality, task)
KEY_TABLE: dict[str, tuple[str, str, str]] = {
    "bert": ("bert", "text", "feature-extraction"),
    "t5": ("t5", "encoder-decoder", "text2text-generation"),
    "gpt2": ("gpt2", "text", "text-generation"),
    "llama": ("llama", "text", "text-generation"),
    "qwen2": ("qwen2", "text", "text-generation"),
    "vit": ("vit", "vision", "image-feature-extraction"),
    "clip": ("clip", "text+image", "zero-shot-image-classification"),
    "clap": ("clap", "text+audio", "zero-shot-audio-classification"),
    "whisper": ("whisper", "encoder-decoder", "automatic-speech-recognition"),
    "wav2vec2": ("wav2vec2", "audio", "feature-extraction"),
    "llava": ("llava", "text+image", "image-text-to-text"),
    "llava_next": ("llava_next", "text+image", "image-text-to-text"),
    "xclip": ("xclip", "video", "zero-shot-video-classification"),
    "detr": ("detr", "vision", "object-detection"),
}

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
DEFAULT_TASK = "feature-extraction"


class InvalidModelNameError(ValueError):
    """A model name with characters that may not appear in one (quotes, spaces, code...)."""

    def __init__(self, name: object) -> None:
        self.name = name
        super().__init__(
            f"invalid model name {name!r}: use a registry name or transformers model_type "
            f"matching {NAME_RE.pattern}, or the path of an existing directory with {pretrained.CONFIG_FILE}"
        )


class UnknownModelError(ValueError):
    """A well-formed name that is neither a known model nor a usable directory."""

    def __init__(self, name: str, reason: str = "", suggestions: list[str] | None = None) -> None:
        self.name = name
        self.suggestions = list(suggestions or [])
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        why = reason or "it is not a registry name, a transformers model_type or a model directory"
        super().__init__(
            f"unknown model {name!r}: {why}.{hint} "
            "See pytest_ipfs_accel.models.known_names() for the accepted names."
        )


def normalize(name: str) -> str:
    """Lower-case, with every run of characters outside ``[a-z0-9_]`` turned into ``_``."""
    return re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")


def _mapping_keys(tree: ast.AST) -> set[str]:
    """String keys assigned or ``update``-d into ``CONFIG_MAPPING_NAMES`` in a module's AST."""
    keys: set[str] = set()
    for node in ast.walk(tree):
        value: ast.AST | None = None
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "CONFIG_MAPPING_NAMES" for t in node.targets
        ):
            value = node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "CONFIG_MAPPING_NAMES"
        ):
            value = node
        for sub in ast.walk(value) if value is not None else ():
            if isinstance(sub, ast.Dict):
                keys.update(k.value for k in sub.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
            elif isinstance(sub, ast.Tuple) and len(sub.elts) == 2 and isinstance(sub.elts[0], ast.Constant):
                if isinstance(sub.elts[0].value, str):
                    keys.add(sub.elts[0].value)
    return keys


@functools.lru_cache(maxsize=1)
def transformers_model_types() -> frozenset[str]:
    """Every key of transformers' ``CONFIG_MAPPING_NAMES``, read without importing torch.

    The auto-mapping sources are parsed with :mod:`ast`; if their layout is not
    understood, ``configuration_auto`` is imported instead.
    """
    found = importlib.util.find_spec("transformers")
    if found is None or not found.submodule_search_locations:
        return frozenset()
    auto = Path(list(found.submodule_search_locations)[0]) / "models" / "auto"
    keys: set[str] = set()
    for file in ("auto_mappings.py", "configuration_auto.py"):
        if (auto / file).is_file():
            keys |= _mapping_keys(ast.parse((auto / file).read_text(encoding="utf-8")))
    if not keys:
        from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

        keys = set(CONFIG_MAPPING_NAMES)
    return frozenset(keys)


@functools.lru_cache(maxsize=1)
def _types_by_normal_name() -> dict[str, str]:
    return {normalize(t): t for t in sorted(transformers_model_types())}


def known_names() -> list[str]:
    """Registry names and transformers model types, sorted."""
    return sorted(set(KEY_MODELS) | transformers_model_types())


def _has(d: dict[str, Any], *keys: str) -> bool:
    return any(d.get(k) is not None for k in keys)


def infer_modality(config: dict[str, Any], model_type: str = "") -> str:
    """Modality of a config dict by the heuristic in the module docstring."""
    vision = config.get("vision_config")
    texty = _has(config, "text_config", "vocab_size")
    frames = [config.get("num_frames"), vision.get("num_frames") if isinstance(vision, dict) else None]
    if config.get("is_encoder_decoder"):
        return "encoder-decoder"
    if any(isinstance(v, dict) and "audio" in k for k, v in config.items()):
        return "text+audio"
    if "video" in model_type or any(isinstance(f, int) and f > 1 for f in frames):
        return "video"
    if isinstance(vision, dict) and texty:
        return "text+image"
    if _has(config, "num_mel_bins", "conv_dim", "input_feat_per_channel", "sampling_rate", "audio_channels") or (
        _has(config, "feature_size") and not texty
    ):
        return "audio"
    if isinstance(vision, dict) or _has(config, "image_size", "patch_size") or (_has(config, "num_channels") and not texty):
        return "vision"
    return "text"


def _default_config_dict(model_type: str) -> dict[str, Any]:
    """The default config as a dict; when transformers cannot build it (gemma4_assistant's own defaults
    fail its validation), the config class's declared defaults: naming a model must not crash the run,
    building it fails its items with the real reason."""
    from transformers import AutoConfig

    try:
        return AutoConfig.for_model(model_type).to_dict()
    except Exception:  # noqa: BLE001 - any config error is the model's, reported when it is built
        return _declared_defaults(model_type)


def _declared_defaults(model_type: str) -> dict[str, Any]:
    """The config class's field defaults (dataclass configs), else an empty dict."""
    import dataclasses

    from transformers import CONFIG_MAPPING

    try:
        fields = dataclasses.fields(CONFIG_MAPPING[model_type])
    except (KeyError, TypeError):  # not a dataclass config
        return {}
    return {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}


def _key_spec(name: str, trust_remote_code: bool) -> ModelSpec:
    model_type, modality, task = KEY_TABLE[name]
    return ModelSpec(name, model_type, modality, task, trust_remote_code=trust_remote_code)


@functools.lru_cache(maxsize=None)
def _type_spec(model_type: str, trust_remote_code: bool) -> ModelSpec:
    modality = infer_modality(_default_config_dict(model_type), model_type)
    return ModelSpec(normalize(model_type), model_type, modality, DEFAULT_TASK, trust_remote_code=trust_remote_code)


def _path_spec(path: str, trust_remote_code: bool) -> ModelSpec:
    full = os.path.abspath(path)
    if not pretrained.is_model_dir(full):
        raise UnknownModelError(path, f"directory {full} has no {pretrained.CONFIG_FILE}")
    try:
        config = pretrained.read_config_json(full)
    except ValueError as exc:
        raise UnknownModelError(path, str(exc)) from exc
    model_type = config.get("model_type")
    if not isinstance(model_type, str) or not NAME_RE.fullmatch(model_type):
        raise UnknownModelError(path, f"{pretrained.CONFIG_FILE} has no valid 'model_type' (got {model_type!r})")
    key = KEY_TABLE.get(normalize(model_type))
    return ModelSpec(
        name=normalize(os.path.basename(full.rstrip(os.sep))) or "local_model",
        model_type=model_type,
        modality=key[1] if key else infer_modality(config, model_type),
        task=key[2] if key else DEFAULT_TASK,
        source="path",
        path=full,
        trust_remote_code=trust_remote_code,
    )


def resolve(name: str, *, trust_remote_code: bool = False) -> ModelSpec:
    """The :class:`ModelSpec` for a registry name, transformers model_type or model directory.

    Raises :class:`InvalidModelNameError` for malformed names (before importing
    transformers) and :class:`UnknownModelError`, with close matches, otherwise.
    A path-like name (absolute, or containing a separator) is always a directory;
    a bare name is looked up as a model first and as a directory second.
    """
    if not isinstance(name, str) or not name or "\x00" in name:
        raise InvalidModelNameError(name)
    if not NAME_RE.fullmatch(name) or pretrained.looks_like_path(name):
        if os.path.isdir(os.path.expanduser(name)):
            return _path_spec(os.path.expanduser(name), trust_remote_code)
        missing = pretrained.missing_dir(name)
        if missing is not None:
            raise UnknownModelError(name, missing)
        if not NAME_RE.fullmatch(name):
            raise InvalidModelNameError(name)
        raise UnknownModelError(name, f"no directory {os.path.abspath(name)} exists")
    key = normalize(name)
    if key in KEY_TABLE:
        return _key_spec(key, trust_remote_code)
    model_type = _types_by_normal_name().get(key)
    if model_type is not None:
        return _type_spec(model_type, trust_remote_code)
    if os.path.isdir(name):
        return _path_spec(name, trust_remote_code)
    suggestions = difflib.get_close_matches(key, [normalize(n) for n in known_names()], n=5, cutoff=0.6)
    raise UnknownModelError(name, suggestions=suggestions)
