"""Lower-precision ONNX files made with ONNX Runtime's own tools, cached next to the fp32 export.

Each :class:`Recipe` names the tool and every setting that changes its output; the derived file's
cache key is the fp32 file's key plus the recipe, so a changed setting makes a new artifact. Static
int8 is calibrated on :data:`CALIBRATION_SAMPLES` inputs synthesized with seeds
``CALIBRATION_SEED + i`` (never the test's own seed): the same model gives the same file.
"""

from __future__ import annotations

import logging
import pathlib
import time
from dataclasses import dataclass
from typing import Any, Callable

from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import BackendUnavailable, ExportError, Step
from pytest_ipfs_accel.backends.onnx_export import SplitInputs, input_array, quiet, split_inputs

CALIBRATION_SAMPLES = 16
CALIBRATION_SEED = 1000


@dataclass(frozen=True)
class Recipe:
    """How one precision is made: ``tool`` and its ``settings`` (both part of the artifact key)."""

    precision: str
    tool: str
    settings: tuple[tuple[str, str], ...] = ()

    def key(self) -> list[str]:
        return [self.precision, self.tool, *(f"{k}={v}" for k, v in self.settings)]

    def describe(self) -> str:
        return f"{self.tool}({', '.join(f'{k}={v}' for k, v in self.settings)})"


RECIPES = {
    "fp16": Recipe("fp16", "onnxruntime.transformers.float16.convert_float_to_float16", (("keep_io_types", "True"),)),
    "int8-dynamic": Recipe("int8-dynamic", "onnxruntime.quantization.quantize_dynamic",
                           (("weight_type", "QInt8"), ("per_channel", "False"))),
    "int8": Recipe("int8", "onnxruntime.quantization.quantize_static", (
        ("format", "QDQ"), ("activation_type", "QUInt8"), ("weight_type", "QInt8"), ("per_channel", "True"),
        ("calibrate", "MinMax"), ("samples", str(CALIBRATION_SAMPLES)), ("seed", str(CALIBRATION_SEED)))),
    "int4": Recipe("int4", "onnxruntime.quantization.matmul_nbits_quantizer.MatMulNBitsQuantizer",
                   (("bits", "4"), ("block_size", "32"), ("is_symmetric", "True"))),
}
#: The QNN HTP's native path: the QDQ model ONNX Runtime's QNN config makes (uint8 activations and weights).
QNN_RECIPES = {"int8": Recipe("int8", "onnxruntime.quantization.execution_providers.qnn.get_qnn_qdq_config", (
    ("activation_type", "QUInt8"), ("weight_type", "QUInt8"), ("calibrate", "MinMax"),
    ("samples", str(CALIBRATION_SAMPLES)), ("seed", str(CALIBRATION_SEED))))}


def calibration_inputs(loaded: Any, example: SplitInputs, n: int = CALIBRATION_SAMPLES) -> list[dict[str, Any]]:
    """``n`` input dicts (numpy) shaped like ``example``, synthesized with seeds ``CALIBRATION_SEED + i``.

    A model whose synthesized inputs change shape with the seed is calibrated on the example alone.
    """
    batch = int(example.tensors[0].shape[0]) if example.tensors and example.tensors[0].dim() else 1
    samples = []
    for i in range(n):
        split = split_inputs(loaded.inputs(batch_size=batch, seed=CALIBRATION_SEED + i))
        if split.signature() != example.signature():
            return [dict(zip(example.names, map(input_array, example.tensors)))]
        samples.append(dict(zip(split.names, map(input_array, split.tensors))))
    return samples


def derived_onnx(source: pathlib.Path, recipe: Recipe, cache: ArtifactCache,
                 calibration: Callable[[], list[dict[str, Any]]]) -> tuple[pathlib.Path, dict[str, str]]:
    """The file ``recipe`` makes from the fp32 ``source`` (built once, then reused); info fields for the runner."""
    return derived("onnx_quantized", ".onnx", source, recipe, cache,
                   lambda out: _build(source, out, recipe, calibration))


def derived(kind: str, suffix: str, source: pathlib.Path, recipe: Recipe, cache: ArtifactCache,
            build: Callable[[pathlib.Path], None]) -> tuple[pathlib.Path, dict[str, str]]:
    """The artifact ``build`` makes from ``source`` for ``recipe``, cached under the source's key plus every
    setting of the recipe (built once, then reused); with the runner's info fields (what, where, size, time)."""
    started = time.perf_counter()
    key = [str(source.parent.name), *recipe.key()]
    path, reused = cache.materialize(cache.path_for(kind, key, suffix), build)
    return path, {"quantization": recipe.describe(), "artifact": str(path), "quantize_cache": "hit" if reused else "miss",
                  "quantize_s": f"{time.perf_counter() - started:.3f}", "artifact_mb": f"{artifact_mb(path):.3f}"}


def artifact_mb(path: pathlib.Path) -> float:
    """Size on disk of an artifact: every file in its folder (external data, ``.bin``), in MB."""
    return sum(p.stat().st_size for p in pathlib.Path(path).parent.iterdir() if p.is_file()) / 1e6


def _build(source: pathlib.Path, out: pathlib.Path, recipe: Recipe, calibration: Callable[[], list[dict]]) -> None:
    builders = {"fp16": _fp16, "int8-dynamic": _dynamic, "int4": _int4}
    build = builders.get(recipe.precision, _qnn_static if recipe in QNN_RECIPES.values() else _static)
    logger = logging.getLogger("onnxruntime.quantization")
    level, logger.level = logger.level, logging.WARNING
    try:
        with quiet():
            build(source, out, calibration)
    except (BackendUnavailable, ExportError):
        raise
    except Exception as e:  # noqa: BLE001 - the quantizers raise many types
        raise ExportError.at(Step.CONVERT, recipe.tool.rsplit(".", 1)[-1], e) from e
    finally:
        logger.level = level
    _check_quantized(out, recipe)


def _fp16(source: pathlib.Path, out: pathlib.Path, _calibration: Callable) -> None:
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    onnx.save(convert_float_to_float16(onnx.load(str(source)), keep_io_types=True), str(out))


def _dynamic(source: pathlib.Path, out: pathlib.Path, _calibration: Callable) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8, per_channel=False)


def _int4(source: pathlib.Path, out: pathlib.Path, _calibration: Callable) -> None:
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    quantizer = MatMulNBitsQuantizer(onnx.load(str(source)), block_size=32, is_symmetric=True)
    quantizer.process()
    quantizer.model.save_model_to_file(str(out))


class _Reader:
    """onnxruntime's CalibrationDataReader protocol over a list of input dicts."""

    def __init__(self, samples: list[dict[str, Any]]) -> None:
        self._it = iter(samples)

    def get_next(self) -> dict[str, Any] | None:
        return next(self._it, None)

    def rewind(self) -> None:  # some calibrators rewind; ours are read once
        pass


def _static(source: pathlib.Path, out: pathlib.Path, calibration: Callable[[], list[dict]]) -> None:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    quantize_static(str(source), str(out), _Reader(calibration()), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                    calibrate_method=CalibrationMethod.MinMax)


def _qnn_static(source: pathlib.Path, out: pathlib.Path, calibration: Callable[[], list[dict]]) -> None:
    from onnxruntime.quantization import CalibrationMethod, QuantType, quantize
    from onnxruntime.quantization.execution_providers.qnn import get_qnn_qdq_config

    config = get_qnn_qdq_config(str(source), _Reader(calibration()), activation_type=QuantType.QUInt8,
                                weight_type=QuantType.QUInt8, calibrate_method=CalibrationMethod.MinMax)
    quantize(str(source), str(out), config)


#: Ops whose presence shows a file holds the asked-for precision.
_MARKS = {"int8": ("QuantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "QLinearMatMul"),
          "int8-dynamic": ("DynamicQuantizeLinear", "MatMulInteger", "DynamicQuantizeMatMul"),
          "int4": ("MatMulNBits",)}


def _check_quantized(path: pathlib.Path, recipe: Recipe) -> None:
    """BackendUnavailable when the tool left the graph without one node of the precision (nothing to run)."""
    import onnx

    marks = _MARKS.get(recipe.precision)
    if marks is None:
        return
    ops = {n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node}
    if not ops & set(marks):
        raise BackendUnavailable(f"{recipe.tool.rsplit('.', 1)[-1]} made no {recipe.precision} node in this "
                                 f"model (none of {', '.join(marks)}): nothing to run in {recipe.precision}")
