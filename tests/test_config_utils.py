"""The seed's Python API: GeneratorConfig and the utils helpers."""

from __future__ import annotations

import importlib
import logging
import re
from pathlib import Path

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


def _coming_from_api_cells() -> list[str]:
    """The right-hand cells of the README's "Coming from" rows that name a Python import."""
    readme = Path(__file__).resolve().parent.parent / "README.md"
    return [line.split("|")[2] for line in readme.read_text(encoding="utf-8").splitlines()
            if line.startswith("| `from generators.")]


def test_coming_from_table_calls_what_exists():
    """Every ``name()`` the table writes is reachable as written from its import line (a classmethod is
    written ``GeneratorConfig.name()``, not as if it were a module function)."""
    cells = _coming_from_api_cells()
    assert len(cells) >= 2
    for cell in cells:
        codes = re.findall(r"`([^`]+)`", cell)
        line = re.fullmatch(r"from (\S+) import (.+)", codes[0])
        assert line, f"the first code of {cell!r} is not an import line"
        module = importlib.import_module(line.group(1))
        imported = {name.strip(): getattr(module, name.strip()) for name in line.group(2).split(",")}
        for code in codes[1:]:
            call = re.fullmatch(r"([A-Za-z_][\w.]*)\(\)", code)
            if call is None:
                continue  # environment variable names
            head, *rest = call.group(1).split(".")
            assert head in imported, f"README writes `{code}` but `{codes[0]}` gives no name {head!r}"
            target = imported[head]
            for attr in rest:
                target = getattr(target, attr)
            assert callable(target) and target() is not None


def test_default_hardware_backends_read_the_command_line_like_the_plugin(pytester, monkeypatch):
    """The one reader of "command line, else ini" (``settings.given``): ``--ipfs-hw`` wins over the ini."""
    monkeypatch.delenv("IPFS_ACCEL_DEFAULT_HW", raising=False)
    pytester.makeini("[pytest]\nipfs_hw = cpu, openvino\n")
    config = pytester.parseconfig("--ipfs-hw=onnxruntime")
    assert GeneratorConfig.get_default_hardware_backends(config) == ["onnxruntime"]
