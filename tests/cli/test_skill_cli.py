"""``ipfs-accel skill`` run as users run it; the skill imported and run on real runtimes."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import pytest


ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # as the cli fixture uses


def test_help_and_bad_arguments(tmp_path, skill):
    r = skill("--help", cwd=tmp_path)
    assert r.returncode == 0 and "examples:" in r.stdout and "--cross-platform" in r.stdout
    r = skill("--model", "no_such_model_xyz", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("ipfs-accel: error: --model:") and r.stderr.count("\n") == 1
    r = skill("--model", "bert", "--platform", "cpu,gpux", cwd=tmp_path)
    assert r.returncode == 2 and "--platform" in r.stderr
    assert skill(cwd=tmp_path).returncode == 2  # --model is required


@pytest.fixture
def skill(cli):
    """``ipfs-accel skill ARGS``."""
    return lambda *args, **kw: cli("skill", *args, **kw)


def test_cpu_only_by_default(tmp_path, skill):
    r = skill("--model", "bert", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    source = (tmp_path / "skills" / "skill_bert.py").read_text()
    tree = ast.parse(source)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "BertSkill")
    methods = {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
    assert "init_cpu" in methods and "init_openvino" not in methods and {"run", "init", "available_platforms"} <= methods
    ast.parse((tmp_path / "skills" / "test_skill_bert.py").read_text())


def test_a_hand_written_skill_file_is_kept_unless_forced(tmp_path, skill):
    mine = tmp_path / "skills" / "skill_bert.py"
    mine.parent.mkdir()
    mine.write_text("# my own skill\n")
    r = skill("--model", "bert", cwd=tmp_path)
    assert r.returncode == 2 and "--force" in r.stderr and r.stderr.count("\n") == 1
    assert mine.read_text() == "# my own skill\n"
    r = skill("--model", "bert", "--force", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "class BertSkill" in mine.read_text()


_ORDER = """
import json, sys
sys.path.insert(0, "skills")
from skill_bert import BertSkill, PLATFORMS
from pytest_ipfs_accel.hardware import probe
print(json.dumps({"platforms": list(PLATFORMS), "auto": BertSkill.auto_order(),
                  "available": BertSkill.available_platforms(),
                  "emulated": {name: probe(name).emulated for name in PLATFORMS}}))
"""


def test_auto_tries_emulated_platforms_last(tmp_path, skill):
    """On x86 the QNN HTP simulator (~115 ms a run) must not win init("auto") over onnxruntime (~0.3 ms)."""
    r = skill("--model", "bert", "--platform", "cpu,onnxruntime,qualcomm", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    run = subprocess.run([sys.executable, "-c", _ORDER], cwd=tmp_path, env=ENV, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert sorted(out["auto"]) == sorted(out["platforms"])
    flags = [out["emulated"][name] != "no" for name in out["auto"]]
    assert flags == sorted(flags), out
    assert out["available"] == [name for name in out["auto"] if name in out["available"]]
    if out["emulated"]["qualcomm"] == "simulator" and "qualcomm" in out["available"]:
        assert out["available"][-1] == "qualcomm" and out["available"][0] == "onnxruntime", out


_RUN = """
import json, sys
sys.path.insert(0, "skills")
import numpy
from skill_bert import BertSkill, PlatformUnavailable
from pytest_ipfs_accel.hardware import probe
from pytest_ipfs_accel.runtime.parity import tolerance, within_tolerance
out = {"available": BertSkill.available_platforms()}
ref = BertSkill().init_cpu().run()
for name in ("onnxruntime", "openvino"):
    skill = getattr(BertSkill(), "init_" + name)()
    got = skill.run()
    out[name] = within_tolerance(ref, got, *tolerance(skill.runtime, "fp32")).ok
try:
    BertSkill().init_cuda()  # no CUDA on these machines
except PlatformUnavailable as exc:
    out["cuda"] = str(exc)
out["auto"] = BertSkill().init("auto").platform
out["auto_emulated"] = probe(out["auto"]).emulated
out["shapes"] = [list(numpy.asarray(o).shape) for o in ref]
print(json.dumps(out))
"""


@pytest.mark.slow
def test_cross_platform_skill_runs_and_its_test_passes(tmp_path, skill):
    r = skill("--model", "bert", "--cross-platform", "-o", "skills", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    methods = {n.name for n in ast.walk(ast.parse((tmp_path / "skills" / "skill_bert.py").read_text()))
               if isinstance(n, ast.FunctionDef)}
    assert {f"init_{p}" for p in ("cpu", "cuda", "openvino", "onnxruntime", "qualcomm", "webgpu", "webnn")} <= methods

    run = subprocess.run([sys.executable, "-c", _RUN], cwd=tmp_path, env=ENV, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert {"cpu", "onnxruntime", "openvino"} <= set(out["available"])
    assert out["onnxruntime"] is True and out["openvino"] is True
    assert out["cuda"].startswith("cuda: ") and "torch.cuda.is_available()" in out["cuda"]
    assert out["auto"] == out["available"][0] and out["auto_emulated"] == "no", out  # never the simulator
    assert out["shapes"]

    test = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v",
                           "skills/test_skill_bert.py"], cwd=tmp_path, env=ENV, capture_output=True, text=True,
                          timeout=300)
    assert test.returncode == 0, test.stdout[-3000:]
    for name in ("test_runs", "test_available_platforms", "test_matches_cpu[onnxruntime]",
                 "test_matches_cpu[openvino]"):
        assert f"{name} PASSED" in test.stdout, test.stdout[-3000:]
    assert "test_matches_cpu[cuda] SKIPPED" in test.stdout
