"""``ipfs-accel generate``, run as users run it (a subprocess), against ``pytest --ipfs-emit``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # as the cli fixture uses


def _ipfs_emit(folder, *options: str) -> None:
    """``pytest OPTIONS --ipfs-emit=emitted`` in ``folder``, as a user runs it."""
    emitted = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *options, "--ipfs-emit=emitted"],
                             cwd=folder, env=ENV, capture_output=True, text=True, timeout=300)
    assert emitted.returncode == 0, emitted.stdout + emitted.stderr


def test_tests_equal_ipfs_emit_byte_for_byte(tmp_path, cli):
    gen = cli("generate", "tests", "-g", "bert", "-p", "cpu,cuda,openvino", "-o", "test_bert.py", cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr
    _ipfs_emit(tmp_path, "--ipfs-models=bert", "--ipfs-hw=cpu,cuda,openvino")
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
    gen = cli("generate", "tests", "--generate", "bert", "--platform", "webgpu,webnn", cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr
    src = gen.stdout  # no -o: printed, nothing on disk touched
    assert "webgpu" in src and "webnn" in src and "openvino" not in src
    assert not list(tmp_path.iterdir())
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
    # a local model directory is its own model (its weights), named after the directory
    gen = cli("generate", "tests", "-g", str(snap), "-p", "cpu", "-o", "out2", cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr
    assert f"path={str(snap)!r}" in (tmp_path / "out2" / "test_0123abcd.py").read_text()


def test_key_tests_one_file_per_key_model(tmp_path, cli):
    from pytest_ipfs_accel.models import KEY_MODELS

    gen = cli("generate", "key-tests", "-o", "keys", "-p", "cpu", cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == sorted(f"test_{m}.py" for m in KEY_MODELS)


@pytest.mark.parametrize("args, needle", [
    (["-g", "berty-base", "-p", "cpu"], "unknown model 'berty-base'"),
    (["-g", "bert", "-p", "opnvino"], "did you mean openvino"),
    (["-g", "bert", "--kinds", "load,fwd"], "--kinds: unknown value 'fwd'. Did you mean 'forward'?"),
    (["-g", "bert", "--batch-sizes", "0"], "--batch-sizes"),
    (["-g", "bert", "--batch-sizes", "1000000000000"], "--batch-sizes: '1000000000000' is not an integer from 1 to 4096"),
    (["-g", "bert", "--seed", str(2**64)], "--seed: '18446744073709551616' is not an integer from 0 to 4294967295"),
    (["-g", "bert,t5", "-o", "x.py"], "pass a directory"),
    (["-g", "bert,t5"], "2 models give 2 files: pass -o DIR"),
    (["-g", "./nope/"], "-g/--generate: the model directory './nope/' does not exist"),
    (["-g", "bret"], "-g/--generate: unknown model 'bret'"),
    (["-g", "bert", "--templates", "junk.duckdb"], "--templates: 'junk.duckdb': no template database there"),
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


def _model_dir(path):
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 8}))
    return path


def test_local_model_dir_is_what_ipfs_emit_writes(tmp_path, cli):
    """-g ./dir uses the directory's own weights (path=...), as --ipfs-models=./dir does; not the tiny bert."""
    _model_dir(tmp_path / "my_model")
    gen = cli("generate", "tests", "-g", "./my_model", "-p", "cpu", "-o", "gen", cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr
    _ipfs_emit(tmp_path, "--ipfs-models=./my_model", "--ipfs-hw=cpu")
    source = (tmp_path / "gen" / "test_my_model.py").read_text()
    assert source == (tmp_path / "emitted" / "test_my_model.py").read_text()
    assert f"path={str(tmp_path / 'my_model')!r}" in source and "source='path'" in source


def test_typo_hints_are_the_ones_pytest_gives(tmp_path, cli):
    for cli_args, option in [(["-g", "bret"], "--ipfs-models=bret"),
                             (["-g", "bert", "--kinds", "parrity"], "--ipfs-kinds=parrity")]:
        gen = cli("generate", "tests", *cli_args, cwd=tmp_path)
        run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--co", "--ipfs-models=bert",
                              option], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
        hint = run.stderr[run.stderr.index("id you mean"):].split("?")[0]
        assert hint in gen.stderr, (gen.stderr, run.stderr)


def test_output_file_a_person_wrote_is_kept_unless_forced(tmp_path, cli):
    mine = tmp_path / "test_bert.py"
    mine.write_text("def test_mine():\n    pass\n")
    for out in ("test_bert.py", "."):
        gen = cli("generate", "tests", "-g", "bert", "-p", "cpu", "-o", out, cwd=tmp_path)
        assert gen.returncode == 2 and "not a file pytest-ipfs-accel generated" in gen.stderr, gen.stderr
        assert "--force" in gen.stderr and len(gen.stderr.strip().splitlines()) == 1
        assert mine.read_text() == "def test_mine():\n    pass\n"
    assert cli("generate", "tests", "-g", "bert", "-p", "cpu", "-o", "test_bert.py", "--force",
               cwd=tmp_path).returncode == 0
    assert cli("generate", "tests", "-g", "bert", "-p", "cpu,openvino", "-o", "test_bert.py",
               cwd=tmp_path).returncode == 0  # a file we generated is ours to replace
    assert "openvino" in mine.read_text() and sorted(p.name for p in tmp_path.iterdir()) == ["test_bert.py"]
