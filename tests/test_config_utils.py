"""The seed's Python API: GeneratorConfig and the utils helpers."""

from __future__ import annotations

import logging

import pytest

from pytest_ipfs_accel.config import GeneratorConfig
from pytest_ipfs_accel.hardware.platform import UnknownPlatformError, families
from pytest_ipfs_accel.models import KEY_MODELS
from pytest_ipfs_accel.utils import (MissingTemplateVariable, ensure_directory, setup_logger,
                                     template_variable_substitution)


def test_default_hardware_backends(monkeypatch):
    monkeypatch.delenv("IPFS_ACCEL_DEFAULT_HW", raising=False)
    assert GeneratorConfig.get_default_hardware_backends() == list(families())
    monkeypatch.setenv("IPFS_ACCEL_DEFAULT_HW", "cpu, ort ,ov")
    assert GeneratorConfig.get_default_hardware_backends() == ["cpu", "onnxruntime", "openvino"]
    monkeypatch.setenv("IPFS_ACCEL_DEFAULT_HW", "cpu,gpuu")
    with pytest.raises(UnknownPlatformError):
        GeneratorConfig.get_default_hardware_backends()


def test_default_hardware_backends_from_ini(pytester, monkeypatch):
    monkeypatch.delenv("IPFS_ACCEL_DEFAULT_HW", raising=False)
    pytester.makeini("[pytest]\nipfs_hw = cpu, openvino\n")
    config = pytester.parseconfig()
    assert GeneratorConfig.get_default_hardware_backends(config) == ["cpu", "openvino"]
    monkeypatch.setenv("IPFS_ACCEL_DEFAULT_HW", "webgpu")  # the environment wins over the ini
    assert GeneratorConfig.get_default_hardware_backends(config) == ["webgpu"]


def test_key_model_types(monkeypatch):
    monkeypatch.delenv("IPFS_ACCEL_KEY_MODELS", raising=False)
    assert GeneratorConfig.get_key_model_types() == list(KEY_MODELS)
    monkeypatch.setenv("IPFS_ACCEL_KEY_MODELS", "bert,t5")
    assert GeneratorConfig.get_key_model_types() == ["bert", "t5"]
    assert GeneratorConfig.DEFAULT_OUTPUT_DIR and GeneratorConfig.DEFAULT_TEMPLATE_DB_PATH.endswith(".duckdb")


def test_template_variable_substitution():
    template = "Model type: {model_type}, Hardware: {hardware}"
    assert (template_variable_substitution(template, {"model_type": "bert", "hardware": "cuda"})
            == "Model type: bert, Hardware: cuda")
    with pytest.raises(MissingTemplateVariable, match="'hardware'") as info:
        template_variable_substitution(template, {"model_type": "bert"})
    assert isinstance(info.value, KeyError) and info.value.name == "hardware"
    assert template_variable_substitution("{{literal}} {x}", {"x": 1}) == "{literal} 1"


def test_ensure_directory(tmp_path):
    made = ensure_directory(tmp_path / "a" / "b")
    assert made.is_dir() and ensure_directory(str(made)) == made
    (tmp_path / "f").write_text("")
    with pytest.raises(NotADirectoryError):
        ensure_directory(tmp_path / "f")


def test_setup_logger(capsys):
    log = setup_logger("ipfs_accel_test_logger", level="DEBUG")
    assert setup_logger("ipfs_accel_test_logger") is log and len(log.handlers) == 1
    assert log.level == logging.INFO  # the second call set the default level again
    log.warning("hello")
    assert "WARNING ipfs_accel_test_logger: hello" in capsys.readouterr().err
