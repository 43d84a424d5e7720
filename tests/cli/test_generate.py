"""``ipfs-accel generate``, run as users run it (a subprocess), against ``pytest --ipfs-emit``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # as the cli fixture uses
def test_tests_equal_ipfs_emit_byte_for_byte(tmp_path, cli):
    gen = cli("generate", "tests", "-g", "bert", "-p", "cpu,cuda,openvino", "-o", "test_bert.py", cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr
    emitted = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--ipfs-models=bert",
                              "--ipfs-hw=cpu,cuda,openvino", "--ipfs-emit=emitted"], cwd=tmp_path, env=ENV,
                             capture_output=True, text=True, timeout=300)
    assert emitted.returncode == 0, emitted.stdout + emitted.stderr
    assert (tmp_path / "test_bert.py").read_bytes() == (tmp_path / "emitted" / "test_bert.py").read_bytes()


def test_other_filename_same_content(tmp_path, cli):
    assert cli("generate", "tests", "-g", "bert", "-p", "cpu", "-o", "a/bert_tests.py", cwd=tmp_path).returncode == 0
    assert cli("generate", "tests", "-g", "bert", "-p", "cpu", "-o", "b", cwd=tmp_path).returncode == 0
    assert (tmp_path / "a" / "bert_tests.py").read_text() == (tmp_path / "b" / "test_bert.py").read_text()


@pytest.mark.slow
def test_generated_file_passes_under_plain_pytest(tmp_path, cli):
    gen = cli("generate", "tests", "-g", "bert", "-p", "cpu", "--kinds", "load,forward", "-o", "out", cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "out"], cwd=tmp_path,
                         env=ENV, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout


def test_merged_spelling_and_all_platforms(tmp_path, cli):
    assert cli("generate", "tests", "--generate", "bert", "--platform", "webgpu,webnn", cwd=tmp_path).returncode == 0
    src = (tmp_path / "test_bert.py").read_text()
    assert "webgpu" in src and "webnn" in src and "openvino" not in src
    assert cli("generate", "tests", "-g", "bert", "-p", "all", "-o", "all", cwd=tmp_path).returncode == 0
    assert "qualcomm" in (tmp_path / "all" / "test_bert.py").read_text()


def test_model_id_from_name_table(tmp_path, cli):
    gen = cli("generate", "tests", "-g", "bert-base-uncased", "-p", "cpu,cuda,openvino,qualcomm", "-o", "ids",
              cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr
    assert (tmp_path / "ids" / "test_bert.py").is_file()
    for model_id, arch in [("meta-llama/Llama-3.2-1B", "llama"), ("llava-hf/llava-v1.6-mistral-7b-hf", "llava_next"),
                           ("llava-hf/llava-1.5-7b-hf", "llava"), ("Qwen/Qwen2-0.5B", "qwen2")]:
        assert cli("generate", "tests", "-g", model_id, "-p", "cpu", "-o", "ids", cwd=tmp_path).returncode == 0
        assert (tmp_path / "ids" / f"test_{arch}.py").is_file()


def test_model_id_from_local_hf_cache(tmp_path, cli):
    """An id the name table does not know, found in a huggingface_hub-layout cache: its config decides."""
    repo = tmp_path / "hf" / "hub" / "models--acme--tiny-encoder"
    snap = repo / "snapshots" / "0123abcd"
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    (snap / "config.json").write_text(json.dumps({"model_type": "t5", "d_model": 8}))
    env = {**ENV, "HF_HOME": str(tmp_path / "hf")}
    env.pop("HF_HUB_CACHE", None)
    gen = cli("generate", "tests", "-g", "acme/tiny-encoder", "-p", "cpu", "-o", "out", cwd=tmp_path, env=env)
    assert gen.returncode == 0, gen.stderr
    assert (tmp_path / "out" / "test_t5.py").is_file()
    # and from a local model directory
    gen = cli("generate", "tests", "-g", str(snap), "-p", "cpu", "-o", "out2", cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr
    assert (tmp_path / "out2" / "test_t5.py").is_file()


def test_key_tests_one_file_per_key_model(tmp_path, cli):
    from pytest_ipfs_accel.models import KEY_MODELS

    gen = cli("generate", "key-tests", "-o", "keys", "-p", "cpu", cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == sorted(f"test_{m}.py" for m in KEY_MODELS)


@pytest.mark.parametrize("args, needle", [
    (["-g", "berty-base", "-p", "cpu"], "unknown model 'berty-base'"),
    (["-g", "bert", "-p", "opnvino"], "did you mean openvino"),
    (["-g", "bert", "--kinds", "load,fwd"], "--kinds: unknown kind 'fwd'"),
    (["-g", "bert", "--batch-sizes", "0"], "--batch-sizes"),
    (["-g", "bert,t5", "-o", "x.py"], "pass a directory"),
])
def test_bad_arguments_exit_2_with_one_line(tmp_path, args, needle, cli):
    gen = cli("generate", "tests", *args, cwd=tmp_path)
    assert gen.returncode == 2
    assert needle in gen.stderr and len(gen.stderr.strip().splitlines()) == 1, gen.stderr
    assert not list(tmp_path.iterdir())


def test_help_has_examples(tmp_path, cli):
    out = cli("generate", "tests", "--help", cwd=tmp_path)
    assert out.returncode == 0 and "ipfs-accel generate tests -g bert-base-uncased" in out.stdout
    assert "examples:" in cli("generate", "key-tests", "--help", cwd=tmp_path).stdout
