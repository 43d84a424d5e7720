"""torch eager: ``model.generate(do_sample=False)`` with its KV cache, timed per new token.

Timing follows optimum-benchmark's per-token tracker: a logits processor records the clock each
time a new token's logits are ready (after a device synchronize on GPUs); the first record ends
the prefill.
"""

from __future__ import annotations

import time
from typing import Any

from pytest_ipfs_accel.generation.result import Generation, GenerationError, Prompt


#: Synthesized forward inputs generate() sets itself (or refuses twice): decoder side, flags, cache.
_NOT_FOR_GENERATE = ("decoder_", "labels", "use_cache", "return_dict", "output_", "past_key_values", "cache")


class _Clock:
    """A logits processor that only records when each new token's scores arrive."""

    def __init__(self, synchronize) -> None:
        self.synchronize = synchronize
        self.times: list[float] = []

    def __call__(self, input_ids, scores):
        self.synchronize()
        self.times.append(time.perf_counter())
        return scores


class TorchGenerator:
    """Greedy generation with a torch model on ``device`` (cpu, cuda, mps; ROCm is ``cuda`` in torch)."""

    runtime = "torch"

    def __init__(self, model: Any, device: str, family: str, loaded: Any) -> None:
        import copy

        import torch

        self.device = "cuda" if device in ("rocm", "hip") else device
        # a copy on another device: the CPU model stays the reference's
        self.model = model if self.device == "cpu" else copy.deepcopy(model).to(self.device)
        self.family, self.loaded, self.torch = family, loaded, torch
        self.info = {"runtime": "torch", "device": device, "class": type(model).__name__}

    def _inputs(self, prompt: Prompt) -> dict[str, Any]:
        torch = self.torch
        if self.family in ("causal", "seq2seq"):
            ids = torch.tensor(prompt.input_ids, dtype=torch.long)
            feed = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
        else:  # speech and vision: the synthesized inputs of the tests, without decoder-side ones
            feed = {k: v for k, v in self.loaded.inputs(batch_size=prompt.batch, seed=self.loaded.seed).items()
                    if not k.startswith(_NOT_FOR_GENERATE) and hasattr(v, "shape")}
        return {k: v.to(self.device) if hasattr(v, "to") else v for k, v in feed.items()}

    def _sync(self) -> None:
        if self.device.startswith("cuda"):
            self.torch.cuda.synchronize()
        elif self.device == "mps":
            self.torch.mps.synchronize()

    def generate(self, prompt: Prompt, logits: bool = False) -> Generation:
        """N new tokens per row, greedy; first-step raw logits when ``logits``."""
        from transformers import LogitsProcessorList

        feed, clock = self._inputs(prompt), _Clock(self._sync)
        kwargs = dict(do_sample=False, num_beams=1, use_cache=True, max_new_tokens=prompt.new_tokens,
                      min_new_tokens=prompt.new_tokens, logits_processor=LogitsProcessorList([clock]),
                      return_dict_in_generate=True, output_logits=logits)
        try:
            with self.torch.no_grad():
                self._sync()
                start = time.perf_counter()
                out = self.model.generate(**feed, **kwargs)
                self._sync()
                end = time.perf_counter()
        except Exception as exc:  # noqa: BLE001 - the model's own generate failing is the answer
            raise GenerationError("runtime", f"generate(): {type(exc).__name__}: {str(exc)[:300]}") from None
        sequences = out.sequences.cpu()
        new = sequences[:, -prompt.new_tokens:] if self.family == "causal" else sequences[:, 1:]
        first = out.logits[0].float().cpu().numpy() if logits and out.logits else None
        ticks = clock.times
        return Generation(tokens=new.tolist(), ttft_s=ticks[0] - start if ticks else end - start,
                          steps_s=[b - a for a, b in zip(ticks, ticks[1:])], total_s=end - start,
                          first_logits=first, info=dict(self.info))
