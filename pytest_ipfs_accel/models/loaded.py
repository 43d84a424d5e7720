"""Build or load a model for a :class:`ModelSpec`, and run it.

``load`` builds a tiny random model from the shrunk transformers config (weights
are a pure function of ``seed``) or loads a local directory, checks that one
forward pass works (adjusting input knobs by bounded probing for generic types),
and caches the result per ``(spec, seed)`` in this process.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_ipfs_accel.models import inputs as synth
from pytest_ipfs_accel.models.overrides import OVERRIDES
from pytest_ipfs_accel.models.pretrained import load_pretrained, weights_stamp
from pytest_ipfs_accel.models.spec import ModelSpec
from pytest_ipfs_accel.models.config_fixes import forward_patch
from pytest_ipfs_accel.models.tiny_config import LAYERS, LEVELS, PARAM_CAP, SMALL_LEVELS, deep_merge, make_config

if TYPE_CHECKING:
    import torch
    from transformers import PretrainedConfig


class ModelBuildError(RuntimeError):
    """A model that cannot be built or loaded; the message names it and says why."""


class MissingPackageError(ModelBuildError):
    """The architecture needs an optional package that is not installed (counted apart from failures)."""

    def __init__(self, model: str, package: str) -> None:
        self.package = package
        super().__init__(f"{model}: needs package {package} (pip install {package})")


#: transformers' ``requires_backends`` names -> pip distribution names.
PIP_NAMES = {"PIL": "pillow", "vision": "pillow", "cv2": "opencv-python", "sklearn": "scikit-learn",
             "sentencepiece": "sentencepiece", "detectron2": "detectron2"}
_REQUIRES = re.compile(r"requires the ([\w.\-]+) library but it was not found")


def missing_package(exc: BaseException) -> str | None:
    """The pip name of the package an ImportError (or transformers' backend check) says is missing."""
    m = _REQUIRES.search(str(exc))
    if m:
        return PIP_NAMES.get(m.group(1), m.group(1).lower())
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        top = exc.name.split(".")[0]
        return PIP_NAMES.get(top, top)
    return None


@dataclass
class LoadedModel:
    """A ready model: ``eval()``, float32, on cpu, plus how to feed it.

    ``knobs`` are the input-synthesis knobs that made the first forward work;
    ``level`` is the shrink level used (``None`` for local directories);
    ``forward_params`` maps each named ``forward`` argument to whether it is required.
    """

    spec: ModelSpec
    model: torch.nn.Module
    config: PretrainedConfig
    seed: int
    knobs: dict[str, Any] = field(default_factory=dict)
    level: str | None = None
    forward_params: dict[str, bool] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.forward_params = synth.forward_params(self.model)

    def inputs(self, batch_size: int = 1, seed: int | None = None) -> dict[str, Any]:
        """Forward kwargs; row ``i`` of a batch equals ``inputs(1, seed + i)`` row 0."""
        row_seed = self.seed if seed is None else seed
        return synth.synthesize(self.forward_params, self.config, self.knobs, row_seed, batch_size)

    def forward(self, inputs: dict[str, Any]) -> list[torch.Tensor]:
        """Run the model without gradients; every output tensor, flattened in a stable order."""
        import torch

        with torch.no_grad():
            return flatten_outputs(self.model(**inputs))

    def fingerprint(self) -> str:
        """sha256 of config, seed, source, path and input knobs: the export-artifact cache key."""
        spec = self.spec
        parts: list[Any] = [self.config.to_json_string(use_diff=False), self.seed, spec.source, spec.path]
        parts += [sorted(self.knobs.items()), self.level]
        if spec.source == "path" and spec.path:
            parts.append(weights_stamp(spec.path))
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def flatten_outputs(out: Any, acc: list[Any] | None = None) -> list[Any]:
    """Tensors of a (nested) model output, depth first, in field order.

    A field holding a list of 2-D tensors of one width (VLM per-image features,
    one entry per image) becomes a single tensor concatenated on dim 0, so the
    number of outputs never depends on the batch size.
    """
    import torch

    acc = [] if acc is None else acc
    if isinstance(out, torch.Tensor):
        acc.append(out)
        return acc
    if hasattr(out, "to_tuple") and callable(out.to_tuple):
        items: Any = out.to_tuple()
    elif isinstance(out, dict):
        items = list(out.values())
    elif isinstance(out, (list, tuple)):
        items = out
    else:
        return acc
    for item in items:
        if _per_item_rows(item):
            acc.append(torch.cat(list(item)))
        else:
            flatten_outputs(item, acc)
    return acc


def _per_item_rows(value: Any) -> bool:
    import torch

    if not isinstance(value, (list, tuple)) or not value:
        return False
    if not all(isinstance(t, torch.Tensor) and t.dim() == 2 for t in value):
        return False
    return len({(t.shape[-1], t.dtype) for t in value}) == 1


def _check_size(config: Any, trust_remote_code: bool) -> None:
    """Refuse configs whose model would exceed :data:`PARAM_CAP` (counted on the meta device)."""
    import torch
    from transformers import AutoModel

    with torch.device("meta"):
        meta = AutoModel.from_config(config, trust_remote_code=trust_remote_code)
    n = sum(p.numel() for p in meta.parameters())
    if n > PARAM_CAP:
        raise ValueError(f"{n / 1e6:.0f}M parameters even with {LAYERS} layers (cap {PARAM_CAP / 1e6:.0f}M)")


def _build_tiny(spec: ModelSpec, level: str, seed: int, patch: dict[str, Any] | None = None) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModel

    config = make_config(spec.model_type, level, patch)
    if level not in SMALL_LEVELS:
        _check_size(config, spec.trust_remote_code)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AutoModel.from_config(config, trust_remote_code=spec.trust_remote_code)
    return model.to(device="cpu", dtype=torch.float32).eval(), model.config


def _probe(loaded: LoadedModel) -> LoadedModel:
    """Run one forward, adjusting knobs up to ``MAX_PROBES`` times; re-raise the first error."""
    first: Exception | None = None
    for _ in range(synth.MAX_PROBES + 1):
        feed: dict[str, Any] = {}
        try:
            feed = loaded.inputs()
            loaded.forward(feed)
            return loaded
        except Exception as exc:  # noqa: BLE001 - any forward failure is a reason to probe
            first = first or exc
            knobs = synth.next_knobs(str(exc), loaded.knobs, feed, loaded.forward_params, loaded.config)
            if knobs is None or isinstance(exc, synth.InputGap):
                break
            loaded.knobs = knobs
    raise first  # type: ignore[misc]


def _reason(exc: BaseException) -> str:
    """``Type: first non-blank line of the message`` (bounded)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    line = " ".join(lines[:2]) if lines and lines[0].endswith(":") else (lines[0] if lines else "")
    return f"{type(exc).__name__}: {line}"[:400]


def build(spec: ModelSpec, seed: int = 0) -> LoadedModel:
    """Like :func:`load` but uncached: a fresh build (or load) every call."""
    knobs = dict(OVERRIDES.get(spec.model_type, {}).get("inputs", {}))
    if spec.source == "path":
        try:
            model, config = load_pretrained(str(spec.path), spec.trust_remote_code)
            return _probe(LoadedModel(spec, model, config, seed, knobs))
        except Exception as exc:
            raise ModelBuildError(f"model {spec.name!r} from {spec.path}: {_reason(exc)}") from exc
    if spec.source != "tiny":
        raise ModelBuildError(f"model {spec.name!r}: unsupported source {spec.source!r}")
    errors: list[str] = []
    model: Any = None
    for level in LEVELS:
        patch = OVERRIDES.get(spec.model_type, {}).get("config")
        for attempt in range(2):  # the second try carries a config patch read from the forward error
            stage = "build"
            try:
                model, config = _build_tiny(spec, level, seed, patch)
                stage = "forward"
                return _probe(LoadedModel(spec, model, config, seed, dict(knobs), level))
            except Exception as exc:  # noqa: BLE001 - try the next level, report all
                package = missing_package(exc)
                if package is not None:  # a missing package: no level will help
                    raise MissingPackageError(f"model {spec.name!r}", package) from exc
                extra = forward_patch(config.to_dict(), str(exc)) if stage == "forward" and not attempt else None
                if extra is None:
                    errors.append(f"[{level}] {stage}: {_reason(exc)}")
                    break
                patch = deep_merge(patch or {}, extra)
            finally:
                model = None  # a failed try's model is garbage before the next one is built
    raise ModelBuildError(f"model {spec.name!r} (model_type {spec.model_type!r}): " + "; ".join(errors))


#: Models kept by :func:`load`; older ones are dropped so a long sweep's memory stays flat.
MAX_CACHED = 2
_CACHE: OrderedDict[tuple[ModelSpec, int], LoadedModel | ModelBuildError] = OrderedDict()


def load(spec: ModelSpec, seed: int = 0) -> LoadedModel:
    """The model for ``spec``: cached per ``(spec, seed)`` (failures too); do not mutate it.

    At most :data:`MAX_CACHED` entries are kept (least recently used dropped first).
    """
    key = (spec, seed)
    if key not in _CACHE:
        while len(_CACHE) >= MAX_CACHED:
            _CACHE.popitem(last=False)
        try:
            _CACHE[key] = build(spec, seed)
        except ModelBuildError as exc:
            exc.__traceback__ = None  # keep no frames (and no model) alive through the cached error
            exc.__cause__ = exc.__context__ = None
            _CACHE[key] = exc
    _CACHE.move_to_end(key)
    hit = _CACHE[key]
    if isinstance(hit, ModelBuildError):
        raise hit
    return hit


def clear_cache() -> None:
    """Forget every model built by :func:`load` in this process and free its memory."""
    _CACHE.clear()
    gc.collect()
