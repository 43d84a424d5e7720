"""ONNX Runtime through onnxruntime-genai: its model builder makes the genai folder, ``og.Generator``
runs the greedy loop.

The builder runs in a child process (``python -m onnxruntime_genai.models.builder``, bounded by
:data:`BUILD_TIMEOUT_S`) on the saved checkpoint folder; its output folder is cached in the artifact
cache keyed by the model fingerprint, the builder's version, the precision and the execution
provider. Before any of that, :func:`check_architecture` refuses a model class the installed
builder has no branch for (read from its source, not imported), naming it as the builder would.
Timing: ``append_tokens`` runs the prefill, so the clock starts before it; each
``generate_next_token`` + ``get_next_tokens`` gives one new token.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pytest_ipfs_accel.generation.result import Generation, GenerationError, GenerationUnavailable, Prompt

BUILD_TIMEOUT_S = 600
#: ONNX Runtime execution provider -> the builder's ``-e`` value.
BUILDER_EP = {"CPUExecutionProvider": "cpu", "CUDAExecutionProvider": "cuda", "DmlExecutionProvider": "dml"}
#: our precision -> the builder's ``-p`` value.
BUILDER_PRECISION = {"fp32": "fp32", "fp16": "fp16", "bf16": "bf16"}


def require_package():
    try:
        import onnxruntime_genai as og
    except ImportError:
        raise GenerationUnavailable("onnxruntime-genai is not installed (pip install 'pytest-ipfs-accel[generate]')") from None
    return og


@functools.lru_cache(maxsize=1)
def builder_architectures() -> frozenset[str] | None:
    """Model classes the installed builder dispatches on (``config.architectures[0] == "..."`` in
    ``onnxruntime_genai/models/builder.py``); None when that file cannot be read or names none."""
    found = importlib.util.find_spec("onnxruntime_genai")
    if found is None or not found.submodule_search_locations:
        return None
    source = Path(list(found.submodule_search_locations)[0]) / "models" / "builder.py"
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    names = {c.value for node in ast.walk(tree) if isinstance(node, ast.Compare) and _is_architecture(node.left)
             for c in node.comparators if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return frozenset(names) or None


def _is_architecture(node: ast.AST) -> bool:
    """``<anything>.architectures[...]``."""
    return (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
            and node.value.attr == "architectures")


def check_architecture(architecture: str) -> None:
    """GenerationError (step ``export``) when the builder's table lacks ``architecture``: the refusal the
    builder itself would print after a minutes-long save and import, decided before anything is built."""
    known = builder_architectures()
    if known is not None and architecture not in known:
        raise GenerationError("export", f"onnxruntime-genai builder: The {architecture} model is not currently "
                                        "supported (not in the builder's architecture table; nothing was built)")


def build(checkpoint: Path, target: Path, precision: str, ep: str) -> None:
    """Run the genai model builder on ``checkpoint`` into ``target``; GenerationError naming its last line."""
    cmd = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(checkpoint), "-o", str(target),
           "-p", BUILDER_PRECISION[precision], "-e", ep, "-c", str(target.parent / "hf-cache")]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise GenerationError("export", f"onnxruntime-genai builder: no answer in {BUILD_TIMEOUT_S} s") from None
    if done.returncode != 0 or not (target / "genai_config.json").is_file():
        lines = [ln.strip() for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
        last = lines[-1].replace(str(checkpoint), _architecture(checkpoint)) if lines else "no genai_config.json"
        raise GenerationError("export", f"onnxruntime-genai builder: {last}")


def _architecture(checkpoint: Path) -> str:
    """The class named in the checkpoint's config.json (what the builder's messages are about)."""
    import json

    try:
        names = json.loads((checkpoint / "config.json").read_text(encoding="utf-8")).get("architectures") or []
    except (OSError, ValueError):
        names = []
    return str(names[0]) if names else "checkpoint"


def folder_for(checkpoint: Path, checkpoint_key: str, precision: str, ep: str, artifacts: Any) -> Path:
    """The built genai folder, from the artifact cache when it is there."""
    from importlib.metadata import version

    from pytest_ipfs_accel.generation.checkpoint import cached_folder

    key = [checkpoint_key, "onnxruntime-genai", version("onnxruntime-genai"), precision, ep]
    return cached_folder(artifacts, "ort_genai", key, lambda target: build(checkpoint, target, precision, ep))


class OrtGenaiGenerator:
    """Greedy generation with ``og.Generator`` on the genai folder."""

    runtime = "onnxruntime"

    def __init__(self, folder: Path, provider: str) -> None:
        og = require_package()
        try:
            self.model = og.Model(str(folder))
        except Exception as exc:  # noqa: BLE001
            raise GenerationError("compile", f"og.Model: {type(exc).__name__}: {str(exc)[:300]}") from None
        self.og = og
        self.info = {"runtime": "onnxruntime", "device": provider, "loop": "onnxruntime-genai og.Generator"}

    def generate(self, prompt: Prompt, logits: bool = False) -> Generation:
        import numpy as np

        og = self.og
        params = og.GeneratorParams(self.model)
        total = prompt.length + prompt.new_tokens
        params.set_search_options(do_sample=False, max_length=total, min_length=total, batch_size=prompt.batch)
        ids = np.asarray(prompt.input_ids, dtype=np.int32)
        try:
            generator = og.Generator(self.model, params)
            start = time.perf_counter()
            generator.append_tokens(ids)  # the prefill
            first = np.asarray(generator.get_logits())[:, -1, :].astype(np.float32) if logits else None
            ticks = []
            while not generator.is_done() and len(ticks) < prompt.new_tokens:
                generator.generate_next_token()
                ticks.append(time.perf_counter())
            end = time.perf_counter()
            # read once at the end: a per-step get_next_tokens would add ~10 % to a tiny model's loop
            tokens = [[int(t) for t in generator.get_sequence(row)[prompt.length:]] for row in range(prompt.batch)]
        except Exception as exc:  # noqa: BLE001
            raise GenerationError("runtime", f"og.Generator: {type(exc).__name__}: {str(exc)[:300]}") from None
        return Generation(tokens=tokens, ttft_s=ticks[0] - start if ticks else end - start,
                          steps_s=[b - a for a, b in zip(ticks, ticks[1:])], total_s=end - start,
                          first_logits=first, info=dict(self.info))
