"""The qualcomm platform: ONNX Runtime's QNN plugin execution provider (``onnxruntime-qnn``).

The plugin EP is registered once per process; the probe then opens a session on a
two-node graph (MatMul + Relu) on the asked QNN backend with CPU fallback disabled, so
"available" means a graph really finalized there. On x86 Linux the wheel's HTP backend is
Qualcomm's simulator, recorded as ``emulated="simulator"``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import platform as _host
import re
import sys
import tempfile
import threading
from typing import Any, Iterator

from pytest_ipfs_accel.hardware.platform import Platform, runtime_and_device

#: Backends a ``qualcomm:<device>`` name may ask for -> the QNN library that implements it.
BACKEND_LIBS = {"htp": "QnnHtp", "cpu": "QnnCpu", "gpu": "QnnGpu"}
#: HTP needs a SoC model to finalize graphs in the simulator (60 = SM8650, Snapdragon 8 Gen 3, HTP v75);
#: without it finalization fails with QNN_COMMON_ERROR_MEM_ALLOC. Override with this variable.
SOC_MODEL_ENV = "IPFS_ACCEL_QNN_SOC_MODEL"
DEFAULT_SOC_MODEL = "60"

_lock = threading.Lock()
_registered: dict[str, Any] = {}


def soc_model() -> str:
    return os.environ.get(SOC_MODEL_ENV, DEFAULT_SOC_MODEL)


def register() -> tuple[Any, Any]:
    """Register the QNN plugin EP with onnxruntime once per process; ``(onnxruntime, onnxruntime_qnn)``."""
    import onnxruntime
    import onnxruntime_qnn

    with _lock:
        if not _registered:
            name = onnxruntime_qnn.get_ep_name()
            if not any(d.ep_name == name for d in onnxruntime.get_ep_devices()):
                with captured_log():  # loading the library prints a banner on stdout
                    onnxruntime.register_execution_provider_library(name, onnxruntime_qnn.get_library_path())
            _registered["done"] = True
    return onnxruntime, onnxruntime_qnn


def qnn_devices() -> list[Any]:
    """The ``OrtEpDevice`` entries the QNN plugin EP offers here."""
    ort, qnn = register()
    return [d for d in ort.get_ep_devices() if d.ep_name == qnn.get_ep_name()]


def provider_options(device: str) -> dict[str, str]:
    """QNN EP options for one backend (``htp`` gets the SoC model the simulator needs)."""
    options = {"backend_type": device}
    if device == "htp":
        options["soc_model"] = soc_model()
    return options


def emulated(device: str) -> str:
    """``simulator`` for HTP on a non-ARM host, ``software`` for the QNN CPU backend, else ``no``."""
    if device == "cpu":
        return "software"
    if device == "htp" and _host.machine().lower() not in ("aarch64", "arm64"):
        return "simulator"
    return "no"


def session_options(device: str, profile: bool = False) -> Any:
    """SessionOptions on the QNN device only: CPU EP fallback disabled; ``profile`` turns on ORT profiling
    (one profiled run then tells which provider ran each node)."""
    ort, _ = register()
    options = ort.SessionOptions()
    if profile:
        options.enable_profiling = True
        options.profile_file_prefix = os.path.join(tempfile.gettempdir(), f"ipfs-accel-qnn-{os.getpid()}")
    options.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
    options.log_severity_level = 3
    options.add_provider_for_devices(qnn_devices(), provider_options(device))
    return options


#: An ONNX Runtime error log line: ``... [E:onnxruntime:, file.cc:123 Function] message``.
_ORT_ERROR = re.compile(r"\[E:onnxruntime:[^\]]*\]\s*(.*?)(?:\x1b\[m)?$")
_UNSUPPORTED = re.compile(r"Unsupported nodes in QNN EP: (\{.*\})")
_NODE = re.compile(r"name: ([^,]*), type: ([A-Za-z0-9_]+)")


@contextlib.contextmanager
def captured_log() -> Iterator[list[str]]:
    """Capture what native code writes to fds 1 and 2 (ORT/QNN logs, libnative's banner on stdout,
    which would otherwise corrupt e.g. ``ipfs-accel hw --json``); yields a list filled on exit."""
    lines: list[str] = []
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    with tempfile.TemporaryFile(mode="w+b") as sink:
        for fd in saved:
            os.dup2(sink.fileno(), fd)
        try:
            yield lines
        finally:
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            sink.seek(0)
            lines.extend(sink.read().decode("utf-8", "replace").splitlines())


def log_errors(lines: list[str]) -> list[str]:
    """The messages of ORT error lines, de-duplicated, in order."""
    found = [m.group(1).strip() for ln in lines if (m := _ORT_ERROR.search(ln))]
    return list(dict.fromkeys(x for x in found if x))


def unsupported_nodes(lines: list[str]) -> list[str]:
    """``"GatherND (node_GatherND_46)"`` for each node the QNN EP reported unsupported."""
    nodes = [f"{t} ({n.strip()})" if n.strip() else t
             for ln in lines if (m := _UNSUPPORTED.search(ln)) for n, t in _NODE.findall(m.group(1))]
    return list(dict.fromkeys(nodes))


def _smoke_model() -> bytes:
    """MatMul + Relu, 1x8 @ 8x4, float32: the graph the probe finalizes."""
    import numpy
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(numpy.linspace(-1, 1, 32, dtype=numpy.float32).reshape(8, 4), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Relu", ["h"], ["y"])], "probe",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def probe_qualcomm(name: str) -> Platform:
    """Qualcomm QNN through ``onnxruntime-qnn``: register, list devices, finalize a tiny graph."""
    runtime, device = runtime_and_device(name)

    def absent(reason: str, **details: str) -> Platform:
        return Platform(name, runtime, device, False, reason, emulated(device), details)

    if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnxruntime_qnn") is None:
        return absent("python package 'onnxruntime-qnn' is not installed "
                      "(pip install 'pytest-ipfs-accel[qualcomm]'; wheels for x86_64 Linux and Windows)")
    if device not in BACKEND_LIBS:
        return absent(f"unknown QNN backend {device!r}; one of {', '.join(BACKEND_LIBS)}")
    ort, qnn = register()
    version = getattr(qnn, "__version__", "?")
    sdk = getattr(getattr(qnn, "build_and_package_info", None), "qnn_version", "?")
    lib = getattr(qnn, f"get_qnn_{device}_path")()
    details = {"onnxruntime": ort.__version__, "onnxruntime_qnn": version, "qnn_sdk": sdk, "backend_lib": lib}
    if not os.path.exists(lib):
        return absent(f"onnxruntime-qnn {version} ships no {os.path.basename(lib)} (QNN {device} backend) "
                      f"for {_host.system()} {_host.machine()}", **details)
    if not qnn_devices():
        return absent(f"onnxruntime.get_ep_devices() lists no {qnn.get_ep_name()} device "
                      f"(onnxruntime {ort.__version__}, onnxruntime-qnn {version})", **details)
    if device == "htp":
        details["soc_model"] = soc_model()
    try:
        with captured_log() as log:
            ort.InferenceSession(_smoke_model(), session_options(device))
    except Exception as exc:  # noqa: BLE001 - ORT raises private exception types
        line = (log_errors(log) or str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return absent(f"QNN {device} backend cannot finalize a MatMul+Relu graph: {line[:300]}", **details)
    kind = {"htp": "HTP", "cpu": "CPU", "gpu": "GPU"}[device]
    what = {"simulator": "simulator", "software": "reference (host CPU)", "no": ""}[emulated(device)]
    summary = f"QNN {kind} {what}".strip() + f" (onnxruntime-qnn {version}, QNN SDK {sdk})"
    return Platform(name, runtime, device, True, summary, emulated(device), {"summary": summary, **details})
