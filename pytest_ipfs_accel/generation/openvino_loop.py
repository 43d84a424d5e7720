"""OpenVINO through openvino-genai's ``LLMPipeline``, on an IR made here without optimum-intel.

Export (decoder-only models): ``openvino.convert_model`` traces a wrapper that takes the past keys
and values as flat inputs (``past_key_values.<i>.key|value``) and returns the logits and the
present ones (``present.<i>.key|value``); a ``beam_idx`` input gathers the past rows (as the
pipeline expects); ``make_stateful`` turns each past/present pair into a state whose initial value
is zeros of shape (batch, heads, 0, head_dim); the tokenizer becomes ``openvino_tokenizer.xml`` /
``openvino_detokenizer.xml`` through openvino-tokenizers. The folder (IR, tokenizer IRs, config.json,
generation_config.json) is cached in the artifact cache.

Timing: the pipeline's own ``perf_metrics`` (time to first token, timestamps of each new token);
the total is our clock around ``generate``. The pipeline does not expose logits.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from pytest_ipfs_accel.generation.result import (Generation, GenerationError, GenerationUnavailable, Prompt,
                                                 one_line)

COPIED = ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json")

#: Our pipeline properties, saved beside the IR (a model with sliding-window layers needs the SDPA backend).
PROPERTIES = "ipfs_accel_pipeline.json"

#: The pipeline's default (PagedAttention) backend ignores the sliding-window mask of the stateful IR:
#: measured, mistral with a window of 4 gave full-attention tokens. The SDPA backend runs the IR as built.
SLIDING = {"ATTENTION_BACKEND": "SDPA"}


def require_package():
    try:
        import openvino_genai
        import openvino_tokenizers  # noqa: F401  (registers the tokenizer operations)
    except ImportError as exc:
        raise GenerationUnavailable(f"{exc.name} is not installed (pip install 'pytest-ipfs-accel[generate]')") from None
    return openvino_genai


def _cache_wrapper(model: Any, layers: int):
    """A module: (input_ids, attention_mask, position_ids, *flat past) -> (logits, *flat present).

    A sliding-window layer's cache is a full ``DynamicLayer`` here: the present then holds
    every token seen, and the model's sliding-window mask (built from the config's window and the
    positions) hides the old ones. A ``DynamicSlidingWindowLayer`` would cut the present to the window
    and mask by a token count that tracing freezes to the example's.
    """
    import torch
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer, DynamicSlidingWindowLayer

    class WithFlatCache(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, position_ids, *past):
            cache = DynamicCache(config=self.model.config)
            cache.layers[:layers] = [DynamicLayer() if type(layer) is DynamicSlidingWindowLayer else layer
                                     for layer in cache.layers[:layers]]  # see the docstring
            for i, layer in enumerate(cache.layers[:layers]):
                layer.device = past[2 * i].device
                layer.keys, layer.values, layer.is_initialized = past[2 * i], past[2 * i + 1], True
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                             past_key_values=cache, use_cache=True)
            present = [t for layer in out.past_key_values.layers[:layers] for t in (layer.keys, layer.values)]
            return (out.logits, *present)

    return WithFlatCache()


def _past_shapes(model: Any) -> list[tuple[int, ...]]:
    """(batch, heads, seq, head_dim) of each layer's key and value, from one cached forward."""
    import torch

    ids = torch.ones(1, 2, dtype=torch.long)
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=True)
    cache = getattr(out, "past_key_values", None)
    if cache is None or not hasattr(cache, "layers"):
        raise GenerationError("export", f"{type(model).__name__} returns no DynamicCache to make stateful")
    other = sorted({type(layer).__name__ for layer in cache.layers if not hasattr(layer, "keys")})
    if other:  # mamba-style state: nothing to trace as past keys and values
        raise GenerationError("export", f"{type(model).__name__} keeps {', '.join(other)} state in its cache: "
                                        "the stateful export here carries key/value caches only")
    return [tuple(t.shape) for layer in cache.layers for t in (layer.keys, layer.values)]


def has_sliding_layers(model: Any) -> bool:
    """Whether the model's cache (from its config) has sliding-window layers."""
    from transformers import DynamicCache

    try:
        return any(getattr(layer, "is_sliding", False) for layer in DynamicCache(config=model.config).layers)
    except Exception:  # noqa: BLE001 - a config DynamicCache cannot read has no layer types to look at
        return False


def convert(model: Any) -> Any:
    """The stateless OpenVINO model with named flat past inputs and present outputs."""
    import openvino as ov
    import torch

    shapes = _past_shapes(model)
    layers, batch, past_len, q = len(shapes) // 2, 2, 3, 4
    example = (torch.ones(batch, q, dtype=torch.long), torch.ones(batch, past_len + q, dtype=torch.long),
               torch.arange(past_len, past_len + q).expand(batch, q),
               *[torch.zeros(batch, s[1], past_len, s[3]) for s in shapes])
    specs = [(ov.PartialShape([-1, -1]), ov.Type.i64)] * 3 + [
        (ov.PartialShape([-1, s[1], -1, s[3]]), ov.Type.f32) for s in shapes]
    with torch.no_grad():
        converted = ov.convert_model(_cache_wrapper(model, layers), example_input=example, input=specs)
    kv = [f"{i}.{part}" for i in range(layers) for part in ("key", "value")]
    for port, name in zip(converted.inputs, ["input_ids", "attention_mask", "position_ids",
                                            *[f"past_key_values.{n}" for n in kv]]):
        port.get_tensor().set_names({name})
    for port, name in zip(converted.outputs, ["logits", *[f"present.{n}" for n in kv]]):
        port.get_tensor().set_names({name})
    return converted


def make_stateful(model: Any) -> Any:
    """beam_idx gathers every past input; each past/present pair becomes a state with zero-length init."""
    import numpy as np
    import openvino as ov
    import openvino.opset13 as ops
    from openvino._offline_transformations import apply_make_stateful_transformation

    past = [p for p in model.get_parameters() if p.get_output_tensor(0).get_any_name().startswith("past_key_values.")]
    beam = ops.parameter(ov.PartialShape([-1]), ov.Type.i32, name="beam_idx")
    beam.output(0).get_tensor().set_names({"beam_idx"})
    model.add_parameters([beam])
    for param in past:
        consumers = param.output(0).get_target_inputs()
        gathered = ops.gather(param, beam, ops.constant(0))
        for consumer in consumers:
            consumer.replace_source_output(gathered.output(0))
    names = [p.get_output_tensor(0).get_any_name() for p in past]
    apply_make_stateful_transformation(model, {n: n.replace("past_key_values.", "present.") for n in names})
    shape = ops.shape_of(model.input("input_ids"), output_type="i64")
    batch = ops.gather(shape, ops.constant(np.array([0], dtype=np.int64)), ops.constant(0))
    for op in model.get_ops():
        if op.get_type_name() == "ReadValue":
            dims = [ops.constant(np.array([d.get_min_length()], dtype=np.int64)).output(0)
                    for d in op.get_output_partial_shape(0)]
            dims[0] = batch.output(0)
            op.set_arguments([ops.broadcast(ops.constant(np.array(0.0, dtype=np.float32)), ops.concat(dims, 0))])
    model.validate_nodes_and_infer_types()
    return model


def build(model: Any, checkpoint: Path, target: Path) -> None:
    """The pipeline folder: stateful IR, tokenizer IRs, config files (GenerationError naming the step)."""
    import openvino as ov

    require_package()
    target.mkdir(parents=True)
    try:
        ov.save_model(make_stateful(convert(model)), str(target / "openvino_model.xml"))
    except GenerationError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise GenerationError("export", f"stateful IR: {type(exc).__name__}: {one_line(exc)}") from None
    try:
        from openvino_tokenizers import convert_tokenizer
        from transformers import AutoTokenizer

        tokenizer, detokenizer = convert_tokenizer(AutoTokenizer.from_pretrained(str(checkpoint)), with_detokenizer=True)
        ov.save_model(tokenizer, str(target / "openvino_tokenizer.xml"))
        ov.save_model(detokenizer, str(target / "openvino_detokenizer.xml"))
    except Exception as exc:  # noqa: BLE001
        raise GenerationError("export", f"openvino-tokenizers: {type(exc).__name__}: {one_line(exc)}") from None
    for name in COPIED:
        if (checkpoint / name).is_file():
            shutil.copy2(checkpoint / name, target / name)
    (target / PROPERTIES).write_text(json.dumps(SLIDING if has_sliding_layers(model) else {}))


def folder_for(model: Any, checkpoint: Path, checkpoint_key: str, artifacts: Any) -> Path:
    from importlib.metadata import version

    from pytest_ipfs_accel.generation.checkpoint import cached_folder

    key = [checkpoint_key, "openvino-genai", version("openvino"), version("openvino-tokenizers"), "stateful-v2"]
    return cached_folder(artifacts, "ov_genai", key, lambda target: build(model, checkpoint, target))


class OpenVINOGenerator:
    """Greedy generation with ``LLMPipeline`` on ``device`` (CPU, GPU, NPU)."""

    runtime = "openvino"

    def __init__(self, folder: Path, device: str) -> None:
        genai = require_package()
        properties = json.loads((folder / PROPERTIES).read_text()) if (folder / PROPERTIES).is_file() else {}
        try:
            self.pipe = genai.LLMPipeline(str(folder), device, INFERENCE_PRECISION_HINT="f32", KV_CACHE_PRECISION="f32",
                                          **properties)
        except Exception as exc:  # noqa: BLE001
            raise GenerationError("compile", f"LLMPipeline: {type(exc).__name__}: {one_line(exc)}") from None
        self.genai = genai
        self.info = {"runtime": "openvino", "device": device, "loop": "openvino-genai LLMPipeline",
                     **{k.lower(): v for k, v in properties.items()}}

    def generate(self, prompt: Prompt, logits: bool = False) -> Generation:
        import numpy as np
        import openvino as ov

        genai = self.genai
        config = genai.GenerationConfig()
        config.max_new_tokens = config.min_new_tokens = prompt.new_tokens
        config.do_sample = False
        ids = np.asarray(prompt.input_ids, dtype=np.int64)
        feed = genai.TokenizedInputs(ov.Tensor(ids), ov.Tensor(np.ones_like(ids)))
        try:
            start = time.perf_counter()
            result = self.pipe.generate(feed, config)
            end = time.perf_counter()
        except Exception as exc:  # noqa: BLE001
            raise GenerationError("runtime", f"LLMPipeline.generate: {type(exc).__name__}: {one_line(exc)}") from None
        metrics = result.perf_metrics
        stamps_ms = list(metrics.raw_metrics.m_new_token_times)
        return Generation(tokens=[[int(t) for t in row] for row in result.tokens],
                          ttft_s=float(metrics.get_ttft().mean) / 1e3,
                          steps_s=[(b - a) / 1e3 for a, b in zip(stamps_ms, stamps_ms[1:])], total_s=end - start,
                          first_logits=None, info=dict(self.info))
