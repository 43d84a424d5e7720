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


SELECTORS = ("task:image-classification", "modality:video")  # the README's two selector examples


def test_selector_expectations_name_models_the_selectors_select():
    """Each known failure in examples/selectors/ipfs-expectations.toml is an xfail with a reason, and its
    model glob matches an architecture one of the README's selectors picks (a typo would match none)."""
    from pytest_ipfs_accel.expectations.file import load
    from pytest_ipfs_accel.models.selection import expand

    rules = load(EXAMPLES / "selectors" / "ipfs-expectations.toml").rules
    selected = {name for selector in SELECTORS for name in expand(selector)}
    assert {"perceiver", "sam2_video", "edgetam_video"} <= selected
    assert len(rules) >= 3
    for rule in rules:
        assert rule.expectation.expected == "xfail" and "InputGap" in rule.expectation.reason
        hits = [name for name in selected if rule.matches(name, "cpu", "forward")]
        assert hits, f"{rule.model!r} matches no architecture of {SELECTORS}"
        assert "llava_next_video" not in hits  # it passes forward on cpu: a strict xfail would fail the run


@pytest.mark.slow
def test_selector_known_failures_are_xfailed(pytester):
    """The architectures that fail the README's selector examples xfail there, saying why."""
    _copy(pytester, "selectors")
    result = pytester.runpytest_subprocess("--ipfs-models=perceiver,sam2_video,edgetam_video", "--ipfs-hw=cpu",
                                           "--ipfs-kinds=forward", "--ipfs-db=none", "-rx")
    result.assert_outcomes(xfailed=3)
    result.stdout.fnmatch_lines(["*XFAIL*test_perceiver.py::test_forward[[]cpu[]]*InputGap*"])


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


def test_ci_run_is_readme_command_2_plus_the_steps_it_lists():
    """.ci/run runs the README's command 2 in a fresh venv, and every other step it has is in the README's table."""
    root = EXAMPLES.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    ci = (root / ".ci" / "run").read_text(encoding="utf-8")
    command = next(line for line in readme.splitlines() if line.startswith("pip install -e '.[test]' && "))
    install, test = command.split(" && ")
    assert "python3 -m venv .venv" in ci and install.replace("pip install", "pip install -q") in ci
    assert test in ci.splitlines(), f"{test!r} is not a line of .ci/run"
    assert '"$status" -eq 5' in ci  # no tests collected is a failure
    table = readme.split("`bash .ci/run` (what CI runs)", 1)[1].split("\n\n", 2)[1]
    for step in ("apt-get install", "ipfs-accel setup web", "lint-imports"):
        assert step in ci and f"| `{step}" in table, step
    assert "import-linter" in (root / "pyproject.toml").read_text(encoding="utf-8")
