"""benchmarks/coverage.py: how it narrows the selection and the pytest command it runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("transformers")

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "coverage.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("coverage_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_kth_and_spread_samples_are_deterministic(script) -> None:
    from pytest_ipfs_accel.models.selection import base_model_types

    every = script.models_arg(script.parse(["--models", "all", "--every", "10"])).split(",")
    assert every == list(base_model_types())[::10]
    args = script.parse(["--models", "all", "--sample", "12"])
    spread = script.models_arg(args)
    assert len(spread.split(",")) == 12 and spread == script.models_arg(args)
    assert script.models_arg(script.parse(["--models", "sample"])) == "sample"  # left to the plugin


def test_bad_selector_exits_with_one_line(script) -> None:
    with pytest.raises(SystemExit, match="coverage.py: unknown modality 'smell'"):
        script.models_arg(script.parse(["--models", "modality:smell", "--sample", "3"]))


def test_pytest_command_isolates_items(script) -> None:
    args = script.parse(["--models", "all", "--hw", "cpu", "--kinds", "forward", "-n", "2", "--timeout", "99"])
    cmd = script.pytest_cmd(args, "all", "/tmp/x.duckdb", "/tmp/w")
    if importlib.util.find_spec("pytest_timeout"):
        assert "--timeout=99" in cmd
    assert "--max-worker-restart=10000" in cmd and cmd[cmd.index("-n") + 1] == "2"
    assert "--ipfs-models=all" in cmd and "--ipfs-db=/tmp/x.duckdb" in cmd
    no_xdist = script.pytest_cmd(script.parse(["-n", "0"]), "bert", "/tmp/x.duckdb", "/tmp/w")
    assert "-n" not in no_xdist and not any(a.startswith("--max-worker-restart") for a in no_xdist)
