"""The registry, lazy imports, and the error messages that become skip/xfail reasons."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from pytest_ipfs_accel.backends import base
from pytest_ipfs_accel.backends.base import BackendUnavailable, ExportError, describe, get_backend


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, check=False)


def test_importing_backends_imports_no_runtime() -> None:
    proc = _run("""
        import sys
        import pytest_ipfs_accel.backends, pytest_ipfs_accel.backends.base
        import pytest_ipfs_accel.backends.artifacts, pytest_ipfs_accel.runtime.parity
        heavy = {"torch", "onnxruntime", "openvino", "onnx", "transformers"} & set(sys.modules)
        print(sorted(heavy))
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_missing_runtime_package_is_backend_unavailable() -> None:
    proc = _run("""
        import sys
        sys.modules["onnxruntime"] = None  # what Python does for a package that is not installed
        from pytest_ipfs_accel.backends import BackendUnavailable, get_backend
        try:
            get_backend("onnxruntime")
        except BackendUnavailable as e:
            print("unavailable:", e)
    """)
    assert proc.returncode == 0, proc.stderr
    assert "unavailable: onnxruntime: package 'onnxruntime' is not installed" in proc.stdout


def test_unknown_runtime_lists_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown runtime 'tensorrt'; known: browser, onnxruntime, openvino, qnn, torch"):
        get_backend("tensorrt")


def test_registered_backend_with_missing_module_is_a_bug_not_a_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(base._LEGACY, "broken", "pytest_ipfs_accel.backends.no_such_module:X")
    with pytest.raises(ModuleNotFoundError):
        get_backend("broken")


def test_get_backend_returns_protocol_instances() -> None:
    for runtime in ("torch", "onnxruntime", "openvino"):
        backend = get_backend(runtime)
        assert isinstance(backend, base.Backend)
        assert backend.runtime == runtime


def test_describe_walks_the_cause_chain_and_names_ops() -> None:
    try:
        try:
            raise RuntimeError("\n====\nExporting the operator 'aten::diff' to ONNX opset 17 is not supported")
        except RuntimeError as inner:
            raise ValueError("Failed to export the model with torch.export.") from inner
    except ValueError as outer:
        text = describe(outer)
    assert text == ("RuntimeError: Exporting the operator 'aten::diff' to ONNX opset 17 is not supported "
                    "[ops: aten::diff]")


def test_describe_skips_location_boilerplate() -> None:
    err = RuntimeError("Check 'false' failed at src/x.cpp:151:\nFrontEnd API failed with OpConversionFailure:\n"
                       "Model wasn't fully converted.\n-- No conversion rule found for operations: aten::histc")
    assert describe(err) == ("RuntimeError: No conversion rule found for operations: aten::histc "
                             "[ops: aten::histc]")


def test_export_error_names_step() -> None:
    err = ExportError.at(base.Step.COMPILE, "OV compile", RuntimeError("unsupported layout"))
    assert str(err) == "OV compile: RuntimeError: unsupported layout"
    assert err.step is base.Step.COMPILE
    assert not issubclass(ExportError, BackendUnavailable)
