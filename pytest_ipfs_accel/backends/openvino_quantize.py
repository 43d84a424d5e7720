"""OpenVINO precisions: NNCF-compressed or -quantized IRs (cached), and the precision the plugin really ran.

``int8-weights`` / ``int4`` are NNCF ``compress_weights`` (weight-only: INT8_ASYM; INT4_SYM per output
channel, ``group_size=-1``, because tiny models' widths are not multiples of 128); ``int8`` is
``nncf.quantize`` (weights and activations, ``ModelType.TRANSFORMER``) calibrated on the same seeded
synthesized inputs as ONNX Runtime's static int8. The low-precision IR is compiled with the f32 hint:
what NNCF left in float stays f32, so the error measured is the quantization's alone.
"""

from __future__ import annotations

import pathlib
from typing import Any, Callable

from pytest_ipfs_accel.backends import precision as precisions
from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import ExportError, Step
from pytest_ipfs_accel.backends.onnx_export import quiet
from pytest_ipfs_accel.backends.onnx_quantize import CALIBRATION_SAMPLES, CALIBRATION_SEED, Recipe, derived

RECIPES = {
    "int8-weights": Recipe("int8-weights", "nncf.compress_weights", (("mode", "INT8_ASYM"),)),
    "int4": Recipe("int4", "nncf.compress_weights", (("mode", "INT4_SYM"), ("group_size", "-1"), ("ratio", "1.0"))),
    "int8": Recipe("int8", "nncf.quantize", (("model_type", "TRANSFORMER"), ("preset", "PERFORMANCE"),
                                             ("samples", str(CALIBRATION_SAMPLES)), ("seed", str(CALIBRATION_SEED)))),
}
#: Execution-graph layer types whose runtime precision is the model's compute precision.
_COMPUTE_LAYERS = frozenset({"FullyConnected", "Convolution", "GroupConvolution", "Deconvolution", "MatMul",
                             "ScaledDotProductAttention", "Gemm"})


def derived_ir(source: pathlib.Path, recipe: Recipe, cache: ArtifactCache,
               calibration: Callable[[], list[list[Any]]]) -> tuple[pathlib.Path, dict[str, str]]:
    """The IR ``recipe`` makes from the fp32 IR ``source`` (built once, then reused); info fields for the runner."""
    return derived("openvino_quantized", ".xml", source, recipe, cache,
                   lambda out: _build(source, out, recipe, calibration))


def _build(source: pathlib.Path, out: pathlib.Path, recipe: Recipe, calibration: Callable[[], list[list[Any]]]) -> None:
    import openvino

    try:
        import nncf
    except ModuleNotFoundError as e:
        from pytest_ipfs_accel.backends.base import BackendUnavailable

        raise BackendUnavailable(f"openvino {recipe.precision} needs NNCF: pip install 'pytest-ipfs-accel[openvino]' "
                                 "(or pip install nncf)") from e
    model = openvino.Core().read_model(str(source))
    settings = dict(recipe.settings)
    try:
        with quiet():
            if recipe.tool == "nncf.quantize":
                made = nncf.quantize(model, nncf.Dataset(calibration()), subset_size=CALIBRATION_SAMPLES,
                                     model_type=nncf.ModelType.TRANSFORMER, preset=nncf.QuantizationPreset.PERFORMANCE)
            else:
                extra = {"group_size": int(settings["group_size"]), "ratio": float(settings["ratio"])} \
                    if "group_size" in settings else {}
                made = nncf.compress_weights(model, mode=getattr(nncf.CompressWeightsMode, settings["mode"]), **extra)
    except Exception as e:  # noqa: BLE001 - NNCF raises many types
        raise ExportError.at(Step.CONVERT, recipe.tool, e) from e
    openvino.save_model(made, str(out), compress_to_fp16=False)


def executed_precision(compiled: Any) -> tuple[str, str]:
    """``(family, "int8: 10, fp32: 3")`` of the compute layers in the compiled model's execution graph.

    Each layer's ``runtimePrecision`` is what the plugin chose to run it in: e.g. the CPU plugin runs
    an f16 hint as bf16 where it has no f16 compute, and a compressed weight shows as u8 / i4.
    """
    try:
        ops = compiled.get_runtime_model().get_ordered_ops()
    except Exception:  # noqa: BLE001 - a plugin without an execution graph: nothing claimed
        return "", ""
    families = []
    for op in ops:
        info = op.get_rt_info()
        if "layerType" in info and info["layerType"].astype(str) in _COMPUTE_LAYERS and "runtimePrecision" in info:
            families.append(precisions.dtype_family(info["runtimePrecision"].astype(str)))
    return precisions.summarize(families)
