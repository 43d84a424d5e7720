"""torch -> ONNX: a wrapper that takes positional tensors and returns flat outputs.

Exporters and converters want ``forward(*tensors) -> tuple[Tensor, ...]``; a
transformers model takes keyword tensors plus static kwargs (``use_cache=False``)
and returns a ``ModelOutput``. :class:`FlatOutputs` bridges the two, flattening
outputs with ``LoadedModel.forward``'s own ``flatten_outputs``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import pathlib
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy
import torch

from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import ExportError, Step, describe
from pytest_ipfs_accel.models.loaded import flatten_outputs

#: Legacy (TorchScript) exporter opset; the dynamo exporter picks its own.
LEGACY_OPSET = 17
#: Weights above this size go to ONNX external data (protobuf's limit is 2 GiB).
_EXTERNAL_DATA_BYTES = 1 << 30


@dataclass(frozen=True)
class SplitInputs:
    """Model inputs split into positional tensors (in order) and static kwargs."""

    names: tuple[str, ...]
    tensors: tuple[torch.Tensor, ...]
    static: dict[str, Any]

    def signature(self) -> str:
        """Names, shapes and dtypes (and static values): part of every artifact key."""
        parts = [f"{n}:{tuple(t.shape)}:{t.dtype}" for n, t in zip(self.names, self.tensors)]
        parts += [f"{k}={v!r}" for k, v in sorted(self.static.items())]
        return ";".join(parts)


def split_inputs(inputs: dict[str, Any]) -> SplitInputs:
    """Split ``LoadedModel.inputs()`` into tensors and static (non-tensor) kwargs."""
    names = tuple(k for k, v in inputs.items() if isinstance(v, torch.Tensor))
    static = {k: v for k, v in inputs.items() if not isinstance(v, torch.Tensor)}
    return SplitInputs(names, tuple(inputs[k] for k in names), static)


def check_static(example: SplitInputs, inputs: dict[str, Any]) -> None:
    """Exported graphs bake static kwargs in; refuse inputs whose static kwargs differ."""
    got = {k: v for k, v in inputs.items() if not isinstance(v, torch.Tensor)}
    if got != example.static:
        raise ValueError(f"static inputs {got!r} differ from the exported {example.static!r}")


def input_array(value: Any) -> numpy.ndarray:
    """A model input as the numpy array a runtime session is fed."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return numpy.asarray(value)


class FlatOutputs(torch.nn.Module):
    """``forward(*tensors)`` -> tuple of flattened output tensors."""

    def __init__(self, model: torch.nn.Module, example: SplitInputs) -> None:
        super().__init__()
        self.model = model
        # Mirror the model's mode: exporters restore the wrapper's mode on exit, and a fresh Module is
        # in training mode, which would flip the shared (cached) model into training (dropout on).
        self.train(model.training)
        self.names = example.names
        self.static = dict(example.static)

    def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        kwargs = dict(zip(self.names, tensors), **self.static)
        return tuple(flatten_outputs(self.model(**kwargs)))


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence exporter/converter chatter: prints (also from C++), graph dumps, logs, warnings.

    Exporters print whole graphs on failure; the error itself still propagates.
    """
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    try:
        with open(os.devnull, "w") as devnull, warnings.catch_warnings(), \
                contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for fd in saved:
                os.dup2(devnull.fileno(), fd)
            warnings.simplefilter("ignore")
            yield
    finally:
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        logging.disable(previous)


def export_onnx(wrapper: FlatOutputs, example: SplitInputs, path: pathlib.Path) -> str:
    """Export with static shapes: the dynamo exporter, else the legacy one.

    Returns the mode that worked (``"dynamo"`` or ``"legacy"``); raises
    :class:`ExportError` naming both failures.
    """
    with torch.no_grad():
        n_outputs = len(wrapper(*example.tensors))
    names = {"input_names": list(example.names), "output_names": [f"output_{i}" for i in range(n_outputs)]}
    big = sum(p.numel() * p.element_size() for p in wrapper.parameters()) > _EXTERNAL_DATA_BYTES
    attempts: dict[str, dict[str, Any]] = {
        "dynamo": {"dynamo": True, "external_data": big, "verbose": False, "artifacts_dir": str(path.parent)},
        "legacy": {"dynamo": False, "opset_version": LEGACY_OPSET},
    }
    errors: list[str] = []
    for mode, options in attempts.items():
        try:
            with quiet(), torch.no_grad():
                torch.onnx.export(wrapper, example.tensors, str(path), **names, **options)
            return mode
        except Exception as e:  # noqa: BLE001 - every exporter failure becomes an ExportError
            errors.append(f"onnx {mode} export: {describe(e)}")
    raise ExportError("; ".join(errors), step=Step.EXPORT)


Exporter = Callable[["FlatOutputs", SplitInputs, pathlib.Path], str]


def cached_onnx(loaded: Any, example: SplitInputs, cache: ArtifactCache, runtime_tag: str,
                extra_key: Sequence[str] = (), export: Exporter = export_onnx) -> tuple[pathlib.Path, dict[str, str]]:
    """The model's ONNX file for ``example``: exported once, then reused from the artifact cache.

    The key is the model fingerprint, the input signature, ``runtime_tag`` (runtime and version, plus
    anything that changes the export), the torch version and ``extra_key``. Returns the path and
    the runner ``info`` fields every ONNX backend reports: exporter, artifact, cache, export_s.
    The caller owns ``cache`` and must keep it alive while it uses the path: a disabled cache
    (``ArtifactCache(None)``) deletes its temporary directory when it is garbage-collected.
    """
    key = [loaded.fingerprint(), example.signature(), runtime_tag, f"torch {torch.__version__}", *extra_key]
    modes: list[str] = []
    started = time.perf_counter()
    path, reused = cache.materialize(cache.path_for("onnx", key, ".onnx"),
                                     lambda p: modes.append(export(FlatOutputs(loaded.model, example), example, p)))
    return path, {
        "exporter": modes[0] if modes else "cached",
        "artifact": str(path),
        "cache": "hit" if reused else "miss",
        "export_s": f"{time.perf_counter() - started:.3f}",
    }
