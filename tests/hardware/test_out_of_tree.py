"""An out-of-tree platform, installed as a distribution with a ``pytest_ipfs_accel.platforms`` entry point,
is a platform everywhere with no edit to this package: ``--ipfs-hw``, ``ipfs-accel hw``, ``skill
--cross-platform``, ``templates validate``, the report's hardware table and the recorded versions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

PACKAGE = '''
"""ootplat: eager torch standing in for a runtime this package has never heard of."""

from pytest_ipfs_accel.backends import RunnerInfo
from pytest_ipfs_accel.hardware import Platform, PlatformSpec


def probe(name):
    return Platform(name, "eagerx", "cpu", True, "eagerx on the host CPU", emulated="software")


class Runner:
    def __init__(self, loaded):
        self.loaded = loaded
        self.info = RunnerInfo("eagerx", "0.1", device="cpu", requested="cpu", precision="fp32", executed_on="cpu")

    def __call__(self, inputs):
        return [t.detach().cpu().numpy() for t in self.loaded.forward(inputs)]


class EagerBackend:
    runtime = "eagerx"

    def prepare(self, loaded, example_inputs, device, precision="fp32", cache=None):
        return Runner(loaded)


def platforms():
    return [PlatformSpec("oot", runtime="eagerx", default_device="cpu", probe="ootplat:probe",
                         backend="ootplat:EagerBackend", tolerances={"fp32": (1e-6, 1e-6)},
                         emulated="software", distributions=("ootplat",))]
'''


@pytest.fixture
def site(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``ootplat`` installed (a module and its .dist-info) in a folder on PYTHONPATH for every subprocess."""
    root = pytester.path / "site"
    info = root / "ootplat-0.1.dist-info"
    info.mkdir(parents=True)
    (root / "ootplat.py").write_text(PACKAGE)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ootplat\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[pytest_ipfs_accel.platforms]\noot = ootplat:platforms\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    return root


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest_ipfs_accel", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
def test_ipfs_hw_runs_it_and_the_report_and_versions_show_it(pytester: pytest.Pytester, site: Path) -> None:
    result = pytester.runpytest_subprocess("--ipfs-models=bert", "--ipfs-hw=cpu,oot", "--ipfs-kinds=load,parity",
                                           "--ipfs-db=run.duckdb", "--ipfs-report=report.md", "-v", "-p",
                                           "no:randomly")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_parity[[]oot[]] PASSED*"])
    report = (pytester.path / "report.md").read_text()
    assert "| hardware | cpu: available; oot: available **emulated: software** |" in report
    versions = subprocess.run([sys.executable, "-c", "import json; from pytest_ipfs_accel.hardware import registry; "
                               "print(json.dumps(registry.recorded_versions()))"],
                              capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(versions.stdout)["ootplat"] == "0.1"
    from pytest_ipfs_accel.report import data as report_data

    stored = report_data.load(pytester.path / "run.duckdb")
    assert stored.run["packages"]["ootplat"] == "0.1"  # the run records the plugin platform's version
    import duckdb

    con = duckdb.connect(str(pytester.path / "run.duckdb"), read_only=True)
    cosine = con.execute("SELECT cosine FROM test_results WHERE node_id LIKE '%test_parity[oot]'").fetchone()[0]
    con.close()
    assert cosine is not None and cosine > 0.99  # parity's accuracy figures reach the store


@pytest.mark.slow
def test_the_cli_sees_it(pytester: pytest.Pytester, site: Path) -> None:
    hw = _cli("hw", "--json", cwd=pytester.path)
    assert hw.returncode == 0, hw.stderr
    oot = json.loads(hw.stdout)[-1]
    assert oot == {"name": "oot", "runtime": "eagerx", "device": "cpu", "available": True,
                   "reason": "eagerx on the host CPU", "emulated": "software", "details": {}}
    table = _cli("hw", cwd=pytester.path)
    assert any(line.startswith("oot ") and "eagerx" in line for line in table.stdout.splitlines()), table.stdout

    skill = _cli("skill", "--model", "bert", "--cross-platform", "-o", "skills", cwd=pytester.path)
    assert skill.returncode == 0, skill.stderr
    module = (pytester.path / "skills" / "skill_bert.py").read_text()
    assert "def init_oot(self" in module and "'oot'" in module

    templates = pytester.path / "tpl" / "skills"
    templates.mkdir(parents=True)
    # a skill template that breaks only when 'oot' is among the platforms it is validated against
    (templates / "skill.py.j2").write_text('{% for p in platforms %}{% if p == "oot" %}def broken(:{% endif %}'
                                           '{% endfor %}\nX = 1\n')
    validated = _cli("templates", "validate", str(pytester.path / "tpl"), cwd=pytester.path)
    assert validated.returncode == 1, validated.stdout + validated.stderr
    assert "wasm, oot)" in validated.stdout, validated.stdout


CONFTEST = '''
from pytest_ipfs_accel.hardware import Platform, PlatformSpec


def pytest_ipfs_platforms(config):
    probe = lambda name: Platform(name, "torch", "cpu", True, "torch, under another name")
    return [PlatformSpec("confplat", runtime="torch", default_device="cpu", probe=probe,
                         tolerances={"fp32": (2e-4, 2e-4)})]
'''


def test_a_conftest_hook_platform_is_known_before_options_are_read(pytester: pytest.Pytester) -> None:
    """``--ipfs-emit`` reads ``--ipfs-hw`` in pytest_cmdline_main, before configure: the hook ran already."""
    pytester.makeconftest(CONFTEST)
    result = pytester.runpytest("--ipfs-models=bert", "--ipfs-hw=cpu,confplat", "--ipfs-kinds=load",
                                "--ipfs-emit=out", "--ipfs-db=none")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert "confplat" in (pytester.path / "out" / "test_bert.py").read_text()
    from pytest_ipfs_accel.hardware import families

    assert "confplat" not in families()  # the in-process run's platform left with its config


def test_a_conftest_hook_that_returns_something_else_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("def pytest_ipfs_platforms(config):\n    return ['oot']\n")
    result = pytester.runpytest("--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-db=none", "--co")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*returned 'oot', not a PlatformSpec; return a list of *PlatformSpec*"])
