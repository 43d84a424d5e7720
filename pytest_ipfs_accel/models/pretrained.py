"""Local model directories: recognise them, read their config, load real weights.

Reading ``config.json`` uses plain :mod:`json` so that :func:`.registry.resolve`
stays free of torch and transformers; only :func:`load_pretrained` imports them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

CONFIG_FILE = "config.json"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".msgpack", ".h5")


def is_model_dir(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a directory holding a ``config.json``."""
    return (Path(path) / CONFIG_FILE).is_file()


def looks_like_path(name: str, hub_ids: bool = False) -> bool:
    """A model name written as a path: absolute, ``~``/``.``-prefixed, or holding a separator.

    With ``hub_ids`` a name such as ``org/model`` may be a Hugging Face id: then only names that
    start like a path or end in a separator count."""
    if os.path.isabs(name) or name.startswith(("~", ".")) or name.endswith(("/", os.sep)):
        return True
    return not hub_ids and (os.sep in name or "/" in name)


def missing_dir(name: str, hub_ids: bool = False) -> str | None:
    """Why a path-looking model name cannot be used (no directory there), else None."""
    if not isinstance(name, str) or "\x00" in name or not name.strip() or not looks_like_path(name, hub_ids):
        return None
    full = os.path.abspath(os.path.expanduser(name))
    if os.path.isdir(full):
        return None
    if os.path.exists(full):
        return f"{name!r} is a file ({full}), not a model directory holding {CONFIG_FILE}"
    return f"the model directory {name!r} does not exist (looked at {full})"


def read_config_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed ``config.json`` of a model directory (``ValueError`` when unreadable)."""
    file = Path(path) / CONFIG_FILE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {file}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{file} does not hold a JSON object")
    return data


def weights_stamp(path: str | os.PathLike[str]) -> list[tuple[str, int, int]]:
    """(name, size, mtime_ns) of the weight files in a directory, sorted; a cache-key ingredient."""
    root = Path(path)
    files = [p for p in root.iterdir() if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES)]
    return sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)


def load_pretrained(path: str, trust_remote_code: bool = False) -> tuple[Any, Any]:
    """``(model, config)`` from a local directory: offline, float32, eval mode, on cpu."""
    import torch
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(path, local_files_only=True, trust_remote_code=trust_remote_code)
    model = AutoModel.from_pretrained(
        path, config=config, local_files_only=True, trust_remote_code=trust_remote_code, dtype=torch.float32
    )
    return model.to(device="cpu", dtype=torch.float32).eval(), model.config
