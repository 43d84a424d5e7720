"""Hardware detection against the real runtimes installed here."""

import platform

import pytest

from pytest_ipfs_accel.hardware import DISABLE_ENV, UnknownPlatformError, canonical, detect, families, probe
from pytest_ipfs_accel.hardware.detect import auto_order


def test_cpu_is_always_detected():
    cpu = probe("cpu")
    assert cpu.available and cpu.runtime == "torch" and cpu.device == "cpu"


def test_every_family_is_probed_with_a_reason():
    found = {p.name: p for p in detect()}
    assert list(found) == list(families())
    assert families()[:10] == ("cpu", "cuda", "rocm", "mps", "onnxruntime", "openvino", "qualcomm", "webgpu", "webnn", "wasm")
    for p in found.values():
        assert p.reason, f"{p.name} has no reason"


def test_absent_cuda_names_what_was_probed():
    import torch

    cuda = probe("cuda")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert not cuda.available
    assert "torch.cuda.is_available()" in cuda.reason and torch.__version__ in cuda.reason


def test_onnxruntime_and_openvino_cpu_present():
    assert probe("ort").available and probe("onnxruntime").name == "onnxruntime"
    assert probe("openvino").device == "CPU" and probe("openvino:CPU").available


def test_unknown_openvino_device_is_absent_not_an_error():
    npu = probe("openvino:NPU9")
    assert not npu.available and "available_devices" in npu.reason


def test_env_var_hides_platforms(monkeypatch):
    monkeypatch.setenv(DISABLE_ENV, "openvino,cuda")
    hidden = probe("openvino")
    assert not hidden.available and DISABLE_ENV in hidden.reason
    assert not probe("openvino:CPU").available  # a family hides its devices
    assert probe("onnxruntime").available


@pytest.mark.parametrize(("spelling", "name"), [
    ("ort", "onnxruntime"),
    ("ORT:cuda", "onnxruntime:CUDAExecutionProvider"),
    ("onnxruntime:CPUExecutionProvider", "onnxruntime:CPUExecutionProvider"),
    ("openvino:gpu", "openvino:GPU"),
    ("torch", "cpu"),
])
def test_canonical_names(spelling, name):
    assert canonical(spelling) == name


@pytest.mark.parametrize("bad", ["opnvino", "cuda:0;rm", "tpu", "cpu:fast"])
def test_unknown_platform_suggests(bad):
    with pytest.raises(UnknownPlatformError) as info:
        canonical(bad)
    assert repr(bad.strip()) in str(info.value)
    if bad == "opnvino":
        assert info.value.suggestions == ["openvino"]


def test_auto_order_tries_real_hardware_before_emulated():
    names = ["qualcomm", "webgpu", "openvino", "onnxruntime", "cpu", "qualcomm"]
    order = auto_order(names)
    assert sorted(order) == sorted(set(names))
    emulated = [probe(name).emulated != "no" for name in order]
    assert emulated == sorted(emulated), f"a real platform comes after an emulated one: {order}"
    real = [name for name in order if probe(name).emulated == "no"]
    assert real == [name for name in dict.fromkeys(names) if name in real]  # given order kept within a group
    qnn = probe("qualcomm")
    if platform.machine() == "x86_64" and qnn.available:  # the HTP simulator of onnxruntime-qnn ([test] extra)
        assert qnn.emulated == "simulator"
        assert all(order.index(name) < order.index("qualcomm") for name in real), order
