"""First run (exports ONNX / OpenVINO IR) vs second run (loads them from the cache) (goal: >= 3x).

Runs the load items of the text/vision key models on onnxruntime and openvino twice with one
fresh pytest cache dir, then once more with --ipfs-no-cache as a control.
Usage: python benchmarks/artifact_cache.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _timing import PYTEST, wall

ARGS = ["--ipfs-models=bert,t5,gpt2,llama,qwen2,vit", "--ipfs-hw=onnxruntime,openvino", "--ipfs-kinds=load", "-q"]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cache = ["-o", f"cache_dir={root / 'cache'}"]
        first = wall([*PYTEST, *ARGS, *cache], root)
        second = wall([*PYTEST, *ARGS, *cache], root)
        uncached = wall([*PYTEST, *ARGS, *cache, "--ipfs-no-cache"], root)
    print(f"  first (export)      {first:6.2f} s")
    print(f"  second (cache hit)  {second:6.2f} s")
    print(f"  --ipfs-no-cache     {uncached:6.2f} s")
    print(f"first / second = {first / second:.2f}x   (goal >= 3x)")


if __name__ == "__main__":
    main()
