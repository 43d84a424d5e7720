"""Which model types can generate, and through which transformers auto class.

Read from transformers' own ``modeling_auto`` name tables with :mod:`ast` (no torch import), so the
matrix can decide at collection time which models get the ``generate`` kinds.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

#: family -> (the name table in transformers.models.auto.modeling_auto, the auto class that builds it)
#: Checked in this order: whisper is in the causal table too (WhisperForCausalLM), but generates as speech.
FAMILIES: dict[str, tuple[str, str]] = {
    "speech": ("MODEL_FOR_SPEECH_SEQ_2_SEQ_MAPPING_NAMES", "AutoModelForSpeechSeq2Seq"),
    "vision": ("MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES", "AutoModelForImageTextToText"),
    "seq2seq": ("MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES", "AutoModelForSeq2SeqLM"),
    "causal": ("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", "AutoModelForCausalLM"),
}
#: Pipeline tasks of generating models (a local directory whose type is not in the tables).
GENERATIVE_TASKS = frozenset({"text-generation", "text2text-generation", "automatic-speech-recognition",
                              "image-text-to-text"})


def _table_keys(tree: ast.AST, name: str) -> set[str]:
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            for sub in ast.walk(node.value):
                if isinstance(sub, ast.Tuple) and len(sub.elts) == 2 and isinstance(sub.elts[0], ast.Constant):
                    keys.add(str(sub.elts[0].value))
    return keys


@functools.lru_cache(maxsize=1)
def families() -> dict[str, str]:
    """model_type -> family (the first family in :data:`FAMILIES` order that lists it)."""
    found = importlib.util.find_spec("transformers")
    if found is None or not found.submodule_search_locations:
        return {}
    source = Path(list(found.submodule_search_locations)[0]) / "models" / "auto" / "modeling_auto.py"
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return {}
    table: dict[str, str] = {}
    for family, (name, _cls) in FAMILIES.items():
        for model_type in sorted(_table_keys(tree, name)):
            table.setdefault(model_type, family)
    return table


def family(model_type: str, task: str = "") -> str | None:
    """The generating family of a model type (None: it cannot generate)."""
    found = families().get(model_type)
    if found is None and task in GENERATIVE_TASKS:
        return {"text2text-generation": "seq2seq", "automatic-speech-recognition": "speech",
                "image-text-to-text": "vision"}.get(task, "causal")
    return found


def can_generate(model_type: str, task: str = "") -> bool:
    return family(model_type, task) is not None
