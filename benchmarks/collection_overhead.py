"""Generated collection vs plain parametrize, for ~10k items (goal: <= 1.5x).

Prints three medians side by side, measured in one run:
  in-memory   pytest --co with the plugin generating the items from templates
  emitted     the same sources written by --ipfs-emit, collected from disk
  plain       one hand-written test function parametrized with as many ids
Usage: python benchmarks/collection_overhead.py [--runs 5]
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _timing import PYTEST, interleaved, runs_from_argv, wall

KEY = "bert,t5,gpt2,llama,qwen2,vit,clip,clap,whisper,wav2vec2,llava,llava_next,xclip,detr"
HW = "cpu,cuda,rocm,mps,onnxruntime,openvino,qualcomm,webgpu,webnn"
SIZES = ",".join(str(b) for b in range(2, 81))  # 14 models x 9 platforms x 79 sizes = 9954 items
GEN = [f"--ipfs-models={KEY}", f"--ipfs-hw={HW}", "--ipfs-kinds=batch", f"--ipfs-batch-sizes={SIZES}"]


def main() -> None:
    runs = runs_from_argv(__doc__, default=5)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "empty").mkdir()
        (root / "plain").mkdir()
        wall([*PYTEST, *GEN, f"--ipfs-emit={root / 'emitted'}"], root / "empty")
        n = 14 * 9 * 79
        (root / "plain" / "test_plain.py").write_text(
            "import pytest\n\n\n@pytest.mark.parametrize('x', range(%d))\ndef test_x(x):\n    pass\n" % n)
        co = ["--co", "-q", "-p", "no:cacheprovider"]
        t = interleaved({
            "in-memory": [*PYTEST, *co, *GEN, str(root / "empty")],
            "emitted": [*PYTEST, *co, str(root / "emitted")],
            "plain": [*PYTEST, *co, str(root / "plain")],
        }, root, runs)
    print(f"items: {n} (median of {runs} runs each, interleaved)")
    for name, secs in t.items():
        print(f"  {name:<10} {secs:6.2f} s")
    print(f"in-memory / emitted = {t['in-memory'] / t['emitted']:.2f}x")
    print(f"in-memory / plain   = {t['in-memory'] / t['plain']:.2f}x   (goal <= 1.5x)")


if __name__ == "__main__":
    main()
