"""``ipfs-accel benchmark --generate``: the generate_benchmark kind in a child pytest, then the table."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

from pytest_ipfs_accel.cli.benchmark import command
from pytest_ipfs_accel.cli.common import CliError


def cli(*args, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}
    return subprocess.run([sys.executable, "-m", "pytest_ipfs_accel", *args], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=900)


def namespace(**overrides) -> argparse.Namespace:
    values = dict(models="llama", output="r.md", hw=None, batch_sizes="1,4", precisions="fp32", rounds=None,
                  warmup=None, db=None, quiet=True, pytest_args="", generate=True, prompt_tokens="12",
                  new_tokens=None)
    values.update(overrides)
    return argparse.Namespace(**values)


def test_generate_runs_the_generation_kind_without_benchmark_only(tmp_path):
    cmd = command(namespace(), tmp_path)
    assert "--ipfs-kinds=generate_benchmark" in cmd and "--benchmark-only" not in cmd
    assert "--ipfs-prompt-tokens=12" in cmd and not any(c.startswith("--ipfs-new-tokens") for c in cmd)
    assert "--benchmark-only" in command(namespace(generate=False, prompt_tokens=None), tmp_path)
    with pytest.raises(CliError, match="--new-tokens"):
        command(namespace(new_tokens="x"), tmp_path)


@pytest.mark.slow
def test_generate_prints_ttft_decode_and_p90_per_model_platform_batch(tmp_path):
    pytest.importorskip("onnxruntime_genai")
    out = cli("benchmark", "--models", "llama", "--generate", "--hw", "cpu,onnxruntime", "--batch-sizes", "1,2",
              "--rounds", "2", "--db", "res.duckdb", "--output", "r.md", "-q", cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    lines = out.stdout.splitlines()
    start = lines.index("generation (greedy; medians over repeats):")
    assert lines[start + 1].split()[:6] == ["model", "platform", "batch", "TTFT", "ms", "decode"]
    table = [ln.split()[:3] for ln in lines[start + 2:start + 6]]
    assert table == [["llama", "cpu", "1"], ["llama", "cpu", "2"], ["llama", "onnxruntime", "1"],
                     ["llama", "onnxruntime", "2"]]
    assert all(float(ln.split()[3]) > 0 for ln in lines[start + 2:start + 6])
