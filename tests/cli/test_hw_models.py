"""``ipfs-accel hw`` and ``ipfs-accel models``, run as subprocesses on the real runtimes here."""

from __future__ import annotations

import json
import os

import pytest

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # as the cli fixture uses
def test_hw_json_lists_every_family_with_a_reason(tmp_path, cli):
    from pytest_ipfs_accel.hardware.platform import families

    out = cli("hw", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["name"] for r in rows] == list(families())
    cpu = rows[0]
    assert cpu["available"] is True and cpu["runtime"] == "torch" and cpu["emulated"] == "no"
    assert all(r["reason"] for r in rows)  # absent ones say why, present ones say what


def test_hw_table_and_disable_env(tmp_path, cli):
    out = cli("hw", cwd=tmp_path, env={**ENV, "IPFS_ACCEL_HW_DISABLE": "openvino"})
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("openvino "))
    assert " no " in line and "hidden by IPFS_ACCEL_HW_DISABLE" in line
    assert out.stdout.splitlines()[0].startswith("PLATFORM")


def test_models_without_store_or_params(tmp_path, cli):
    from pytest_ipfs_accel.models import KEY_MODELS

    out = cli("models", "--json", "--no-params", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["name"] for r in rows] == list(KEY_MODELS)
    bert = rows[0]
    assert bert == {"name": "bert", "model_type": "bert", "task": "feature-extraction", "modality": "text",
                    "tiny_params": None, "platforms": []}


@pytest.mark.slow
def test_models_tiny_parameter_counts(tmp_path, cli):
    out = cli("models", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:5] == ["MODEL", "MODEL_TYPE", "TASK", "MODALITY", "TINY_PARAMS"]
    bert = lines[1].split()
    assert bert[0] == "bert" and int(bert[4].replace(",", "")) > 1000


def test_models_missing_db_is_exit_2(tmp_path, cli):
    out = cli("models", "--db", "nope.duckdb", "--no-params", cwd=tmp_path)
    assert out.returncode == 2 and "nope.duckdb" in out.stderr and len(out.stderr.splitlines()) == 1


@pytest.mark.parametrize("command", ["hw", "models"])
def test_help_has_examples(tmp_path, command, cli):
    out = cli(command, "--help", cwd=tmp_path)
    assert out.returncode == 0 and f"ipfs-accel {command} --json" in out.stdout
