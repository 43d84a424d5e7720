"""The platform registry: one PlatformSpec per platform, from entry points and the pytest hook."""

from __future__ import annotations

import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from pytest_ipfs_accel.backends import BackendUnavailable, RunnerInfo, base, get_backend
from pytest_ipfs_accel.hardware import (Platform, PlatformSpec, canonical, detect, families, probe, register_platform,
                                        registry)
from pytest_ipfs_accel.runtime import parity

BUILTIN = ("cpu", "cuda", "rocm", "mps", "onnxruntime", "openvino", "qualcomm", "webgpu", "webnn", "wasm")


@pytest.fixture
def clean_registry():
    """Whatever a test adds is gone afterwards (the built-ins are read again from the entry point)."""
    yield
    registry.reset()
    base._LEGACY.clear()
    parity._legacy.clear()


def _probe(name: str) -> Platform:
    return Platform(name, "fakert", "dev0", True, "always here", emulated="software")


def test_builtins_come_from_this_package_entry_point() -> None:
    ours = [ep for ep in entry_points(group=registry.GROUP) if ep.value == registry.BUILTIN]
    assert ours, "pyproject.toml declares the built-ins as an entry point (pip install -e . refreshes it)"
    assert families()[: len(BUILTIN)] == BUILTIN
    onnxruntime = registry.get("onnxruntime:CUDAExecutionProvider")
    assert (onnxruntime.runtime, onnxruntime.default_device, onnxruntime.extra) == ("onnxruntime",
                                                                                     "CPUExecutionProvider", "onnx")
    assert registry.aliases() == {"torch": "cpu", "ort": "onnxruntime", "ov": "openvino", "qnn": "qualcomm"}


def test_every_builtin_has_tolerances_for_each_precision_it_runs() -> None:
    for spec in registry.specs():
        assert set(spec.tolerances) == set(spec.precisions), spec.name
        for precision in spec.precisions:
            assert parity.tolerance(spec.runtime, precision) == spec.tolerances[precision]


@pytest.mark.parametrize(("bad", "problem"), [
    (dict(name="Fake"), "lower-case identifier"),
    (dict(tolerances={"fp16": (1.0, 1.0)}), "not in its precisions"),
    (dict(devices="sideways"), "devices='sideways'"),
])
def test_spec_refuses_what_cannot_work(bad: dict, problem: str) -> None:
    fields = dict(name="fake", runtime="fakert", default_device="dev0", probe=_probe) | bad
    with pytest.raises(ValueError, match=problem):
        PlatformSpec(**fields)


def test_an_added_spec_is_a_platform_everywhere(clean_registry) -> None:
    registry.add([PlatformSpec("fake", "fakert", "dev0", _probe, aliases=("fk",), devices="lower",
                               tolerances={"fp32": (1e-3, 1e-3)}, distributions=("pytest",))])
    assert families()[-1] == "fake" and canonical("FK:Dev1") == "fake:dev1"
    assert [p.name for p in detect()][-1] == "fake"
    assert probe("fake").emulated == "software" and parity.tolerance("fakert", "fp32") == (1e-3, 1e-3)
    with pytest.raises(ValueError, match="unknown platform"):
        canonical("fake2")


def test_a_spec_replaces_the_builtin_of_its_name_and_discard_restores_it(clean_registry) -> None:
    mine = PlatformSpec("wasm", "fakert", "dev0", _probe)
    registry.add([mine])
    assert probe("wasm").reason == "always here" and families() == BUILTIN
    registry.discard([mine])
    assert registry.get("wasm").runtime == "browser"


def test_a_hook_that_returns_something_else_is_refused(clean_registry) -> None:
    with pytest.raises(TypeError, match="not a PlatformSpec"):
        registry.add(["fake"], "a pytest_ipfs_platforms hook")
    assert "fake" not in families()


@pytest.mark.parametrize(("runtime", "precision", "platform"), [
    ("onnxruntime", "int8-weights", "onnxruntime"),
    ("qnn", "bf16", "qualcomm"),
    ("browser", "fp16", "webgpu"),
    ("torch", "int8", "cpu"),
    ("openvino", "int8-dynamic", "openvino"),
])
def test_an_unsupported_precision_is_one_skip_from_the_spec(runtime, precision, platform) -> None:
    """Decided before the backend does any work (nothing is loaded: the model is None here)."""
    spec = registry.get(platform)
    has = "/".join(spec.precisions)
    assert precision not in spec.precisions
    with pytest.raises(BackendUnavailable, match=f"^platform {platform} runs {has} only, not {precision}$"):
        get_backend(runtime).prepare(None, {}, spec.default_device, precision)


def test_runner_info_is_a_dataclass_that_reads_like_the_old_dict() -> None:
    info = RunnerInfo("torch", "2.x", device="cpu", requested="cpu", precision="fp32", extra={"cache": "hit"})
    assert "executed_on" not in info and info.get("executed_on") is None  # not measured yet
    info["executed_on"], info["browser_run_ms"] = "cpu", "1.5"
    assert info.executed_on == "cpu" and info.extra["browser_run_ms"] == "1.5"
    assert info == {"runtime": "torch", "runtime_version": "2.x", "device": "cpu", "requested": "cpu",
                    "precision": "fp32", "emulated": "no", "executed_on": "cpu", "cache": "hit",
                    "browser_run_ms": "1.5"}
    assert {**info, "requested": "cuda"}["requested"] == "cuda" and info["cache"] == "hit"


def test_old_registration_calls_still_work_and_say_what_replaces_them(clean_registry) -> None:
    class FakeBackend:
        runtime = "fakert"

        def prepare(self, loaded, example_inputs, device, precision="fp32", cache=None):
            return ("prepared", device, precision)

    with pytest.warns(DeprecationWarning, match="PlatformSpec"):
        base.register_backend("fakert", FakeBackend)
    with pytest.warns(DeprecationWarning, match="pytest_ipfs_platforms"):
        register_platform("fake", "fakert", "dev0", _probe)
    with pytest.warns(DeprecationWarning, match="tolerances="):
        parity.TOLERANCES[("fakert", "fp32")] = (1e-5, 1e-5)
    assert canonical("fake:DEV1") == "fake:dev1" and probe("fake").available
    assert get_backend("fakert").prepare(None, {}, "dev0") == ("prepared", "dev0", "fp32")
    assert parity.TOLERANCES[("fakert", "fp32")] == parity.tolerance("fakert", "fp32") == (1e-5, 1e-5)
    assert ("onnxruntime", "fp32") in parity.TOLERANCES and "fakert" in base.available_runtimes()


def _dist(site: Path, name: str, entry: str, code: str = "") -> None:
    """A minimal installed distribution: a module and its .dist-info with one platforms entry point."""
    (site / f"{name}.py").write_text(textwrap.dedent(code))
    info = site / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{registry.GROUP}]\n{name} = {entry}\n")


def test_an_installed_entry_point_adds_a_platform_and_a_broken_one_is_skipped_with_a_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_registry) -> None:
    _dist(tmp_path, "goodplat", "goodplat:platforms", """
        from pytest_ipfs_accel.hardware import Platform, PlatformSpec

        def probe(name):
            return Platform(name, "goodrt", "x", False, "no goodrt device here")

        def platforms():
            return [PlatformSpec("goodplat", "goodrt", "x", probe, distributions=("goodplat",))]
    """)
    _dist(tmp_path, "badplat", "badplat:nothing_here")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.reset()
    with pytest.warns(registry.PlatformRegistryWarning, match="'badplat:nothing_here'.*AttributeError"):
        names = families()
    assert names[: len(BUILTIN)] == BUILTIN and names[len(BUILTIN):] == ("goodplat",)
    assert probe("goodplat").reason == "no goodrt device here"
    assert registry.recorded_versions()["goodplat"] == "0.1"
