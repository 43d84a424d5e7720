"""``--ipfs-models`` selectors: ``all``, ``task:<name>``, ``modality:<name>``.

* ``all``: every base AutoModel architecture of the installed transformers
  (``CONFIG_MAPPING_NAMES`` ∩ ``MODEL_MAPPING_NAMES``);
* ``task:<name>``: the architectures transformers' pipeline task ``<name>`` can load
  (``SUPPORTED_TASKS[name]["pt"]`` auto classes and their model mappings, aliases
  such as ``ner`` accepted), limited to base architectures;
* ``modality:<name>``: base architectures whose inferred modality
  (:func:`.registry.infer_modality`) is ``<name>``; ``text+vision`` is an alias of
  ``text+image``;
* ``sample``: :data:`CI_SAMPLE`, a fixed ~30-architecture cross-modality sample (CI's sweep).

Every selector expands to model types sorted by name; plain names pass through.
"""

from __future__ import annotations

import functools

from pytest_ipfs_accel.models.spec import MODALITIES

SELECTOR_PREFIXES = ("task:", "modality:")
MODALITY_ALIASES = {"text+vision": "text+image", "image": "vision", "image+text": "text+image",
                    "vision+text": "text+image", "audio+text": "text+audio", "encoder_decoder": "encoder-decoder"}
#: Tasks transformers serves with plain ``AutoModel``: the modalities that make them meaningful.
AUTOMODEL_TASK_MODALITIES = {
    "image-feature-extraction": ("vision", "text+image", "video"),
    "zero-shot-audio-classification": ("text+audio",),
}


#: A fixed, cheap cross-modality sample (one needs an optional package: natten), for CI.
CI_SAMPLE: tuple[str, ...] = (
    "albert", "bert", "distilbert", "gpt2", "gpt_neox", "llama", "mamba", "mistral", "opt",  # text
    "bart", "speech_to_text", "t5",  # encoder-decoder
    "convnext", "deit", "dinat", "dinov2", "levit", "resnet", "segformer", "vit", "yolos",  # vision
    "hubert", "wav2vec2",  # audio
    "blip", "clip", "paligemma", "qwen2_vl",  # text+image
    "timesformer", "videomae", "vivit",  # video
    "patchtst",  # time series
)  # fmt: skip


class SelectorError(ValueError):
    """A selector naming no known task or modality."""


def is_selector(name: str) -> bool:
    """True for ``all``, ``task:...`` and ``modality:...``."""
    return name in ("all", "sample") or name.startswith(SELECTOR_PREFIXES)


@functools.lru_cache(maxsize=1)
def base_model_types() -> tuple[str, ...]:
    """Sorted model types that have both a config and a base ``AutoModel`` class."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
    from transformers.models.auto.modeling_auto import MODEL_MAPPING_NAMES

    return tuple(sorted(set(CONFIG_MAPPING_NAMES) & set(MODEL_MAPPING_NAMES)))


@functools.lru_cache(maxsize=1)
def task_table() -> dict[str, frozenset[str]]:
    """Pipeline task (and alias) -> base model types it can load, from transformers' own tables."""
    from transformers.pipelines import SUPPORTED_TASKS, TASK_ALIASES

    base = set(base_model_types())
    table: dict[str, frozenset[str]] = {}
    for task, entry in SUPPORTED_TASKS.items():
        types: set[str] = set()
        for auto_cls in entry.get("pt", ()):
            types |= set(getattr(getattr(auto_cls, "_model_mapping", None), "_model_mapping", {}) or {})
        table[task] = frozenset(types & base)
    for alias, task in TASK_ALIASES.items():
        if task in table:
            table[alias] = table[task]
    return table


def modality_names() -> list[str]:
    """Accepted ``modality:`` names (canonical ones and aliases), sorted."""
    return sorted(set(MODALITIES) | set(MODALITY_ALIASES))


def _modality_of(model_type: str) -> str:
    from pytest_ipfs_accel.models.registry import resolve

    return resolve(model_type).modality


def _by_modality(types: tuple[str, ...] | frozenset[str], wanted: tuple[str, ...]) -> list[str]:
    return sorted(t for t in types if _modality_of(t) in wanted)


def expand(selector: str) -> list[str]:
    """Sorted model types for one selector; :class:`SelectorError` lists valid names."""
    if selector == "all":
        return list(base_model_types())
    if selector == "sample":
        return sorted(CI_SAMPLE)
    kind, _, value = selector.partition(":")
    value = value.strip().lower()
    if kind == "task":
        table = task_table()
        if value not in table:
            raise SelectorError(f"unknown task {value!r} in {selector!r}; valid tasks: {', '.join(sorted(table))}")
        if value in AUTOMODEL_TASK_MODALITIES:
            return _by_modality(table[value], AUTOMODEL_TASK_MODALITIES[value])
        return sorted(table[value])
    modality = MODALITY_ALIASES.get(value, value)
    if modality not in MODALITIES:
        raise SelectorError(
            f"unknown modality {value!r} in {selector!r}; valid modalities: {', '.join(modality_names())}")
    return _by_modality(base_model_types(), (modality,))


def spread(types: list[str], n: int) -> list[str]:
    """``n`` of ``types`` spread evenly over modalities (round-robin, evenly spaced within each); sorted."""
    groups: dict[str, list[str]] = {}
    for t in sorted(types):
        groups.setdefault(_modality_of(t), []).append(t)
    picks: list[str] = []
    queues = {m: g[:: max(1, len(g) // max(1, n // len(groups)))] for m, g in sorted(groups.items())}
    while len(picks) < min(n, len(types)):
        for m in list(queues):
            if queues[m] and len(picks) < n:
                picks.append(queues[m].pop(0))
            elif not queues[m]:
                queues[m] = [t for t in groups[m] if t not in picks]
    return sorted(picks)


def expand_names(names: tuple[str, ...] | list[str]) -> list[str]:
    """Plain names unchanged, selectors replaced by their sorted expansion; duplicates dropped."""
    out: dict[str, None] = {}
    for name in names:
        for item in expand(name) if is_selector(name) else [name]:
            out.setdefault(item, None)
    return list(out)
