"""The runnable examples in examples/ work as their docstrings say."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _copy(pytester, name: str) -> Path:
    shutil.copytree(EXAMPLES / name, pytester.path, dirs_exist_ok=True)
    return pytester.path


def test_demo_ini_generates_bert_and_t5(pytester):
    _copy(pytester, "demo")
    ids = [line for line in pytester.runpytest("--co", "-q").outlines if "::" in line]
    assert len(ids) == 22 and ids[0] == "ipfs/test_bert.py::test_load[cpu]"


@pytest.mark.slow
def test_custom_backend_adds_a_platform(pytester):
    _copy(pytester, "custom_backend")
    result = pytester.runpytest_subprocess("--ipfs-models=bert", "--ipfs-hw=cpu,torchscript", "-v")
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(["*test_parity[[]torchscript[]] PASSED*"])


@pytest.mark.slow
def test_custom_model_directory(pytester):
    root = _copy(pytester, "custom_model")
    subprocess.run([sys.executable, "save_tiny_model.py"], cwd=root, check=True, capture_output=True)
    result = pytester.runpytest_subprocess("--ipfs-models=./my-bert", "--ipfs-kinds=load,parity")
    result.assert_outcomes(passed=5)
