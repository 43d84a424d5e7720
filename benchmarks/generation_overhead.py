"""Generation harness overhead: our generators vs a raw loop of the same runtime (goal: ratio <= 1.05),
and the time to the first generation results from an empty cache.

Part 1 (one process, tiny llama, prompt 8, 16 new tokens): for torch cpu, onnxruntime (genai) and
openvino (genai), the generator the ``generate`` kinds use (``generation.generators``: per-token
clock, token lists, metrics) and a raw loop of the runtime (``model.generate``; ``og.Generator``
append/generate_next_token; ``LLMPipeline.generate``) generate the same prompt, interleaved one by
one. Printed: median whole-generation seconds of each and their ratio (ours / raw), and our decode
tokens/s (batch x (N-1) / (total - TTFT)).
Part 2: ``pytest --ipfs-models=llama --ipfs-hw=cpu,onnxruntime,openvino --ipfs-kinds=generate`` in
a fresh folder (empty artifact cache), wall time.
Usage: python benchmarks/generation_overhead.py [--runs 30]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import PYTEST, runs_from_argv

P, N, BATCH = 8, 16, 1


def raw_torch(model, prompt):
    import torch

    ids = torch.tensor(prompt.input_ids)
    mask = torch.ones_like(ids)

    def once() -> float:
        start = time.perf_counter()
        with torch.no_grad():
            model.generate(ids, attention_mask=mask, do_sample=False, max_new_tokens=N, min_new_tokens=N)
        return time.perf_counter() - start
    return once


def raw_ort(generator, prompt):
    import numpy as np
    import onnxruntime_genai as og

    ids = np.asarray(prompt.input_ids, dtype=np.int32)

    def once() -> float:
        params = og.GeneratorParams(generator.model)
        params.set_search_options(do_sample=False, max_length=P + N, min_length=P + N, batch_size=BATCH)
        loop = og.Generator(generator.model, params)
        start = time.perf_counter()
        loop.append_tokens(ids)
        while not loop.is_done():
            loop.generate_next_token()
        return time.perf_counter() - start
    return once


def raw_openvino(generator, prompt):
    import numpy as np
    import openvino as ov
    import openvino_genai

    ids = np.asarray(prompt.input_ids, dtype=np.int64)
    feed = openvino_genai.TokenizedInputs(ov.Tensor(ids), ov.Tensor(np.ones_like(ids)))
    config = openvino_genai.GenerationConfig()
    config.max_new_tokens = config.min_new_tokens = N
    config.do_sample = False

    def once() -> float:
        start = time.perf_counter()
        generator.pipe.generate(feed, config)
        return time.perf_counter() - start
    return once


def overhead(runs: int) -> None:
    from pytest_ipfs_accel.backends.artifacts import ArtifactCache
    from pytest_ipfs_accel.generation import checkpoint, generators, metrics, result
    from pytest_ipfs_accel.models.loaded import load
    from pytest_ipfs_accel.models.registry import resolve

    loaded = load(resolve("llama"))
    model = checkpoint.build_model(loaded)
    prompt = result.make_prompt(loaded.config.vocab_size, P, N, BATCH, 0)
    cache = ArtifactCache(Path(tempfile.mkdtemp(prefix="gen-overhead-")))
    print(f"{'runtime':12} {'ours s':>10} {'raw s':>10} {'ratio':>6} {'ours decode tok/s':>18}")
    for runtime, device, raw in (("torch", "cpu", raw_torch), ("onnxruntime", "CPUExecutionProvider", raw_ort),
                                 ("openvino", "CPU", raw_openvino)):
        generator = generators.generator_for(runtime, device, loaded, model, cache)
        raw_once = raw(model if runtime == "torch" else generator, prompt)
        ours, raws = [], []
        generator.generate(prompt), raw_once()  # warm-up
        for _ in range(runs):
            ours.append(generator.generate(prompt))
            raws.append(raw_once())
        ours_s, raw_s = statistics.median(r.total_s for r in ours), statistics.median(raws)
        decode = metrics.summarize(ours, BATCH, P, N)["decode_tokens_per_s"]
        print(f"{runtime:12} {ours_s:10.6f} {raw_s:10.6f} {ours_s / raw_s:6.3f} {decode:18.0f}", flush=True)


def first_results() -> None:
    with tempfile.TemporaryDirectory(prefix="gen-first-") as tmp:
        (Path(tmp) / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        cmd = PYTEST + ["-p", "no:randomly", "-q", "--ipfs-models=llama", "--ipfs-hw=cpu,onnxruntime,openvino",
                        "--ipfs-kinds=generate", "--ipfs-db=none"]  # a fresh folder: an empty artifact cache
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        took = time.perf_counter() - start
    last = [ln for ln in done.stdout.splitlines() if ln.strip()][-1:]
    print(f"empty cache: {' '.join(cmd[3:])}: {took:.1f} s, exit {done.returncode}: {' '.join(last)}")


if __name__ == "__main__":
    count = runs_from_argv(__doc__, 30)
    overhead(count)
    first_results()
    sys.exit(0)
