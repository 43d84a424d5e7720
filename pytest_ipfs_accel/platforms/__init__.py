"""The built-in platforms, one PlatformSpec each, registered through this package's own entry point
(``[project.entry-points."pytest_ipfs_accel.platforms"] builtin = "pytest_ipfs_accel.platforms:builtin"``),
exactly as a third-party platform package registers its own.

Probes and backends are ``"module:attr"`` paths: nothing here imports a runtime.

Tolerances are ``(atol, rtol)`` against torch cpu fp32 on the same inputs. Measured on the 14 key tiny
models (models.registry.KEY_MODELS, seed 0) with torch 2.13, onnxruntime 1.32, openvino 2026.4.1 on an
AMD EPYC (avx512_bf16). "t" below is the smallest atol = rtol that passes. xclip sets most bounds: its
seed-0 text_embeds (a re-normalized sum) is ill-conditioned, 10-50x worse than the other 13 models.
"""

from __future__ import annotations

from pytest_ipfs_accel.backends.precision import Tolerance
from pytest_ipfs_accel.hardware.platform import execution_provider
from pytest_ipfs_accel.hardware.spec import PlatformSpec

_PROBES = "pytest_ipfs_accel.hardware.probes"
_BACKENDS = "pytest_ipfs_accel.backends"
_ORT = "onnxruntime|onnxruntime-gpu|onnxruntime-openvino|onnxruntime-qnn|onnxruntime-directml"

# Lossy precisions are judged by floors, not atol: the least cosine similarity of any float output and
# the top-1 agreement on the scored output (runtime.parity), with torch cpu fp32. Measured on tiny bert,
# vit and whisper, seed 0 (benchmarks/precision_sweep.py): static int8 worst cosine 0.933 (vit's tanh
# pooler, ORT QDQ; QNN 0.940), dynamic int8 0.9997, weight-only int8 0.99994, int4 0.9856 (vit, NNCF);
# top-1 worst 0.875 (whisper int4 / torch dynamic int8). Floors leave room for other seeds and models.
INT8_STATIC = Tolerance(cosine=0.9, top1=0.5)  # weights + activations: the activations' error dominates
INT8_DYNAMIC = Tolerance(cosine=0.99, top1=0.6)
INT8_WEIGHTS = Tolerance(cosine=0.995, top1=0.7)  # weight-only: compute stays float
INT4_WEIGHTS = Tolerance(cosine=0.95, top1=0.5)

TORCH_TOLERANCES = {
    # cpu vs itself is bit-identical; cuda/mps fp32 run other kernels, so ORT's bound.
    "fp32": (2e-4, 2e-4),
    # t <= 4.7e-3 for 13 models (wav2vec2 worst), xclip 4.5e-2; fp16 eps is 9.8e-4.
    "fp16": (1e-1, 1e-1),
    # t <= 2.5e-2 for 13 models (llava worst), xclip 1.0e-1; bf16 eps is 7.8e-3.
    "bf16": (2e-1, 2e-1),
    # torch.ao.quantization.quantize_dynamic on nn.Linear, CPU only
    "int8-dynamic": INT8_DYNAMIC,
}
OPENVINO_TOLERANCES = {
    # t <= 3e-6 (xclip); 1e-3 leaves room for GPU/NPU plugins' fp32 kernels.
    "fp32": (1e-3, 1e-3),
    # bf16 hint: t <= 2.4e-2 for 13 models (detr worst), xclip 8.2e-2.
    "bf16": (2e-1, 2e-1),
    # The CPU plugin runs an f16 hint as bf16 where it has no f16 compute (measured here:
    # Runner.info["inference_precision"] == "bf16", identical numbers), so bf16's bound.
    "fp16": (2e-1, 2e-1),
    # NNCF: nncf.quantize (weights + activations), compress_weights INT8_ASYM / INT4_SYM (weight-only)
    "int8": INT8_STATIC, "int8-weights": INT8_WEIGHTS, "int4": INT4_WEIGHTS,
}
ORT_TOLERANCES = {
    # t <= 2e-6 for 13 models, xclip 1.0e-4 (other input seeds: 4e-6): 2x margin.
    "fp32": (2e-4, 2e-4),
    # float16 converter, fp32 I/O: the CPU provider has no fp16 Gemm (a skip there); CUDA computes fp16.
    "fp16": (1e-1, 1e-1),
    # quantize_static QDQ, quantize_dynamic, MatMulNBits 4-bit weights
    "int8": INT8_STATIC, "int8-dynamic": INT8_DYNAMIC, "int4": INT4_WEIGHTS,
}
# Qualcomm QNN HTP (onnxruntime-qnn 2.7.0 simulator, soc_model 60) computes float graphs in
# fp16 whatever the asked precision: bert max |diff| 4.8e-3 (|ref| <= 3.3); torch fp16's bound.
# int8: the QDQ model of onnxruntime's QNN config (uint8 activations and weights), the HTP's native path.
QNN_TOLERANCES = {"fp32": (1e-1, 1e-1), "fp16": (1e-1, 1e-1), "int8": INT8_STATIC}
# onnxruntime-web 1.30 in headless Chromium, bert seed 0: wasm max |diff| 7.2e-7, webnn (cpu,
# TFLite/XNNPACK) 4.8e-7; matmul/MLP graphs on webgpu (SwiftShader) 1.5e-6: ORT's bound.
BROWSER_TOLERANCES = {"fp32": (2e-4, 2e-4)}

_TORCH = dict(runtime="torch", backend=f"{_BACKENDS}.torch_backend:TorchBackend",
              precisions=tuple(TORCH_TOLERANCES), tolerances=TORCH_TOLERANCES, extra="torch",
              distributions=("torch", "transformers"))
_BROWSER = dict(runtime="browser", probe="pytest_ipfs_accel.browser.probe:probe_platform",
                backend="pytest_ipfs_accel.browser.backend:BrowserBackend", tolerances=BROWSER_TOLERANCES,
                extra="web", distributions=(_ORT,))


def builtin() -> list[PlatformSpec]:
    """The ten built-in platforms, in the order items are generated."""
    return [
        PlatformSpec("cpu", default_device="cpu", probe=f"{_PROBES}:probe_cpu", aliases=("torch",), **_TORCH),
        PlatformSpec("cuda", default_device="cuda", probe=f"{_PROBES}:probe_cuda", **_TORCH),
        # ROCm builds of torch expose the GPU as "cuda"
        PlatformSpec("rocm", default_device="cuda", probe=f"{_PROBES}:probe_rocm", **_TORCH),
        PlatformSpec("mps", default_device="mps", probe=f"{_PROBES}:probe_mps", **_TORCH),
        PlatformSpec("onnxruntime", "onnxruntime", "CPUExecutionProvider", f"{_PROBES}:probe_onnxruntime",
                     f"{_BACKENDS}.onnxruntime_backend:OnnxRuntimeBackend", aliases=("ort",),
                     devices=execution_provider, precisions=tuple(ORT_TOLERANCES), tolerances=ORT_TOLERANCES,
                     extra="onnx", distributions=(_ORT,)),
        PlatformSpec("openvino", "openvino", "CPU", f"{_PROBES}:probe_openvino",
                     f"{_BACKENDS}.openvino_backend:OpenVINOBackend", aliases=("ov",), devices="upper",
                     precisions=tuple(OPENVINO_TOLERANCES), tolerances=OPENVINO_TOLERANCES, extra="openvino",
                     distributions=("openvino",)),
        # onnxruntime-qnn plugin EP; devices htp | cpu | gpu (QNN backends); HTP computes fp16
        PlatformSpec("qualcomm", "qnn", "htp", "pytest_ipfs_accel.hardware.qnn_probe:probe_qualcomm",
                     f"{_BACKENDS}.qnn_backend:QnnBackend", aliases=("qnn",), devices="lower",
                     precisions=tuple(QNN_TOLERANCES), tolerances=QNN_TOLERANCES, emulated="simulator",
                     extra="qualcomm", distributions=(_ORT, "onnxruntime-qnn")),
        PlatformSpec("webgpu", default_device="webgpu", emulated="software", **_BROWSER),
        PlatformSpec("webnn", default_device="webnn", emulated="cpu", **_BROWSER),
        PlatformSpec("wasm", default_device="wasm", **_BROWSER),
    ]
