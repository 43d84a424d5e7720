"""The description of a model to test: what it is, not the loaded weights."""

from __future__ import annotations

from dataclasses import dataclass

#: Modalities the input synthesizer knows; every ModelSpec carries one of them.
MODALITIES = (
    "text",
    "vision",
    "audio",
    "text+image",
    "text+audio",
    "video",
    "encoder-decoder",
)


@dataclass(frozen=True)
class ModelSpec:
    """One model under test.

    ``name`` is the identifier used in node IDs and file names (``[a-z0-9_]+``);
    ``model_type`` is the transformers ``model_type``; ``source`` is ``"tiny"``
    (random weights from a shrunk config) or ``"path"`` (a local directory with a
    saved model, real weights).
    """

    name: str
    model_type: str
    modality: str
    task: str = "feature-extraction"
    source: str = "tiny"
    path: str | None = None
    trust_remote_code: bool = False
