"""A tiny word-level tokenizer made offline for a tiny checkpoint (the genai pipelines need one).

Every id of the model's vocabulary is a word (``t<id>``), except the config's special ids, which
get their usual names (``<s>``, ``</s>``, ``<pad>``, ``<unk>``). Built with the ``tokenizers``
library and saved with ``PreTrainedTokenizerFast.save_pretrained`` (``tokenizer.json`` and
``tokenizer_config.json``), so transformers, onnxruntime-genai and openvino-tokenizers all read it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: config attribute -> (special token name, tokenizer keyword)
SPECIALS = (("bos_token_id", "<s>", "bos_token"), ("eos_token_id", "</s>", "eos_token"),
            ("pad_token_id", "<pad>", "pad_token"), ("unk_token_id", "<unk>", "unk_token"))


def _first_id(value: Any) -> int | None:
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return value if isinstance(value, int) and value >= 0 else None


def special_ids(config: Any) -> dict[str, int]:
    """Special token name -> id, for the config's special ids that lie inside its vocabulary."""
    text = config.get_text_config(decoder=True) if hasattr(config, "get_text_config") else config
    vocab_size = int(getattr(text, "vocab_size", 0) or 0)
    found: dict[str, int] = {}
    for attribute, name, _keyword in SPECIALS:
        token_id = _first_id(getattr(text, attribute, None))
        if token_id is None:
            token_id = _first_id(getattr(config, attribute, None))
        if token_id is not None and token_id < vocab_size and token_id not in found.values():
            found[name] = token_id
    return found


def vocabulary(vocab_size: int, specials: dict[str, int]) -> dict[str, int]:
    """``t<id>`` for every id, special ids named; ``<unk>`` takes the first free id when the config has none."""
    by_id = {token_id: name for name, token_id in specials.items()}
    if "<unk>" not in specials:
        free = next((i for i in range(vocab_size) if i not in by_id), None)
        if free is not None:
            by_id[free] = "<unk>"
    return {by_id.get(i, f"t{i}"): i for i in range(vocab_size)}


def save_tiny_tokenizer(config: Any, folder: Path | str) -> Path:
    """Write a word-level tokenizer for ``config``'s vocabulary into ``folder``; returns the folder."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    text = config.get_text_config(decoder=True) if hasattr(config, "get_text_config") else config
    specials = special_ids(config)
    vocab = vocabulary(int(text.vocab_size), specials)
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>" if "<unk>" in vocab else None))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    keywords = {keyword: name for _a, name, keyword in SPECIALS if name in vocab}
    PreTrainedTokenizerFast(tokenizer_object=core, **keywords).save_pretrained(str(folder))
    return Path(folder)
