"""The calls generated tests make. Each turns runtime facts into pytest outcomes.

Absent platform or runtime -> skip; an architecture the runtime cannot export
-> xfail with the concrete error; wrong numbers -> fail. Heavy imports happen
inside the functions, so importing a generated module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from pytest_ipfs_accel.models.spec import ModelSpec
from pytest_ipfs_accel.runtime import keys


@dataclass(frozen=True)
class ModelRef:
    """The model a generated module tests, as literal values baked into its source."""

    name: str
    model_type: str
    modality: str
    source: str = "tiny"
    path: str | None = None
    trust_remote_code: bool = False
    seed: int = 0

    def spec(self) -> ModelSpec:
        return ModelSpec(name=self.name, model_type=self.model_type, modality=self.modality,
                         source=self.source, path=self.path, trust_remote_code=self.trust_remote_code)


@dataclass(frozen=True)
class Reference:
    """torch-cpu fp32 outputs of the model on fixed inputs."""

    inputs: dict[str, Any]
    outputs: list[Any]  # numpy arrays


_REFERENCES: dict[ModelRef, Reference] = {}
_RUNNERS: dict[tuple, Any] = {}  # a Runner, or the exception preparing it raised


def params(*rows: tuple) -> list:
    """``(platform, value..., id)`` rows -> pytest.param objects marked ``ipfs_hw(name=platform)``
    (one mark per platform, shared by its rows: ~10k rows collect measurably faster)."""
    marks: dict[str, Any] = {}
    return [pytest.param(*row[:-1], id=row[-1],
                         marks=marks.get(row[0]) or marks.setdefault(row[0], pytest.mark.ipfs_hw(name=row[0])))
            for row in rows]


def _skip(reason: str) -> None:
    """Skip, reported at the generated test's location (not this helper's) in the summary."""
    raise pytest.skip.Exception(reason, _use_item_location=True)


def require(platform: str):
    """The probed Platform, or skip naming what was probed."""
    from pytest_ipfs_accel.hardware import probe

    found = probe(platform)
    if not found.available:
        _skip(f"{platform} not available: {found.reason}")
    return found


def loaded(model: ModelRef):
    """The built (tiny) or loaded (local path) torch model; cached per process.

    Missing torch/transformers, or an optional package the architecture needs, skips (the
    reason names the package to install); a model that cannot be built fails with the
    builder's one-line reason, not a deep traceback.
    """
    try:
        from pytest_ipfs_accel.models.loaded import MissingPackageError, ModelBuildError, load
    except ModuleNotFoundError as exc:
        _skip(f"{model.name}: python package {exc.name!r} is not installed "
              "(pip install 'pytest-ipfs-accel[torch]')")
    try:
        return load(model.spec(), seed=model.seed)
    except ModelBuildError as exc:
        reason, missing = str(exc), isinstance(exc, MissingPackageError)
    if missing:  # an architecture that needs an optional package (timm, natten, ...): counted apart
        _skip(reason)
    pytest.fail(reason, pytrace=False)  # outside the except: no "during handling" chain


def _numpy(tensors) -> list[Any]:
    return [t.detach().float().numpy() if t.is_floating_point() else t.detach().numpy() for t in tensors]


def reference(model: ModelRef) -> Reference:
    """Inputs for batch size 1 and the torch-cpu fp32 outputs on them; cached per process."""
    if model not in _REFERENCES:
        lm = loaded(model)
        inputs = lm.inputs(batch_size=1, seed=model.seed)
        _REFERENCES[model] = Reference(inputs, _numpy(lm.forward(inputs)))
    return _REFERENCES[model]


def _signature(inputs: dict[str, Any]) -> tuple:
    return tuple((k, tuple(getattr(v, "shape", ())), str(getattr(v, "dtype", v))) for k, v in sorted(inputs.items()))


def prepare(model: ModelRef, platform: str, precision: str, artifacts=None, example: dict | None = None):
    """A Runner for the model on the platform, built once per process per input signature.

    An export the runtime cannot do xfails (classed ``export``/``compile``/``runtime`` from the
    failing step), or fails when the expectations file says this cell must pass. A runner whose
    work ran elsewhere than asked fails with class ``fallback``.
    """
    from pytest_ipfs_accel.backends.base import BackendUnavailable, ExportError, get_backend
    from pytest_ipfs_accel.host.threads import thread_budget

    found = require(platform)
    example = reference(model).inputs if example is None else example
    key = (model, platform, precision, _signature(example), thread_budget())  # a benchmark's runner may use every core
    if key not in _RUNNERS:
        try:
            backend = get_backend(found.runtime)
            _RUNNERS[key] = backend.prepare(loaded(model), example, found.device, precision, artifacts)
        except (BackendUnavailable, ExportError) as exc:
            _RUNNERS[key] = exc
    runner = _RUNNERS[key]
    if isinstance(runner, ExportError):
        _export_failed(model, platform, runner)
    if isinstance(runner, BackendUnavailable):
        _skip(f"{platform}: {runner}")
    assert_runs_where_asked(runner, platform)
    return runner


def _export_failed(model: ModelRef, platform: str, error: Exception) -> None:
    """xfail, or fail when an expectation says this cell passes; either way with its failure class."""
    from pytest_ipfs_accel.expectations import context
    from pytest_ipfs_accel.expectations.classify import ClassifiedFailure, ClassifiedXFail, step_class, timed_out

    if timed_out(error):  # a hang is not something the runtime cannot do: it fails, never xfails
        raise ClassifiedFailure(f"{platform}: {model.name}: {error} (no answer in time: a hang fails)", "timeout")
    failure_class = step_class(getattr(error, "step", ""))
    message = f"{platform}: cannot export {model.name}: {error}"
    expectation = context.current().expectation
    if expectation is not None and expectation.expected == "pass":
        raise ClassifiedFailure(f"{message} (the expectations file says this passes)", failure_class)
    raise ClassifiedXFail(message, failure_class)


def assert_runs_where_asked(runner, platform: str) -> None:
    """The runner executes on the device the platform names, not somewhere else (class ``fallback``).

    Runners report ``info["requested"]`` and ``info["executed_on"]`` (what really ran the graph:
    ORT profiling, OpenVINO ``EXECUTION_DEVICES``, torch output devices); without them the
    ``device`` the runner reports is compared with the probed one.
    """
    __tracebackhide__ = True
    from pytest_ipfs_accel.backends.precision import precision_mismatch
    from pytest_ipfs_accel.expectations import context
    from pytest_ipfs_accel.expectations.classify import FallbackDetected
    from pytest_ipfs_accel.expectations.fallback import mismatch
    from pytest_ipfs_accel.hardware import probe

    info = getattr(runner, "info", None) or {}
    context.current().executed_on = info.get("executed_on") or info.get("device")
    problem = mismatch(info.get("requested"), info.get("executed_on"))
    if problem:
        raise FallbackDetected(f"{platform}: {problem}")
    lower = precision_mismatch(str(info.get("precision", "")), str(info.get("executed_precision", "")))
    if lower:  # e.g. a quantizer that left every compute layer in float: never a silent fp32 run
        raise FallbackDetected(f"{platform}: {lower} ({info.get('compute_layers')})")
    expected = probe(platform).device
    if info.get("device") != expected:
        raise FallbackDetected(f"{platform}: asked for device {expected!r}, runner executes on "
                               f"{info.get('device')!r} ({info})")


def assert_well_formed(outputs: list, expected: list) -> None:
    """Same output count and shapes as the reference, every float finite."""
    import numpy as np

    assert len(outputs) == len(expected), f"{len(outputs)} outputs, reference has {len(expected)}"
    for i, (got, ref) in enumerate(zip(outputs, expected)):
        got = np.asarray(got)
        assert got.shape == ref.shape, f"output {i}: shape {got.shape}, reference {ref.shape}"
        if got.dtype.kind == "f":
            bad = int((~np.isfinite(got)).sum())
            assert bad == 0, f"output {i}: {bad} of {got.size} values are NaN or inf"


def assert_parity(reference_outputs: list, outputs: list, runtime: str, precision: str, request=None):
    """Assert parity with the reference with the tolerance written down for (runtime, precision).

    The expectations file may override atol / rtol (and the cosine / top-k floors) for the running item.
    A mismatch raises :class:`NumericMismatch` (an AssertionError carrying max abs / rel diff; its
    message names the metric that failed and by how much); else the result (``result.accuracy()``:
    cosine, top-1, top-5, max |diff|). Given the item's ``request``, those figures are attached to the
    item first (:func:`record_accuracy`), passed or failed.
    """
    __tracebackhide__ = True
    from pytest_ipfs_accel.runtime.parity import tolerance, within_tolerance

    result = within_tolerance(reference_outputs, outputs, _overridden(tolerance(runtime, precision), precision))
    if request is not None:
        record_accuracy(request, result)
    if not result.ok:
        _mismatch(result.detail, result)
    return result


#: Deprecated name of :func:`assert_parity`: test files ``--ipfs-emit`` wrote before the rename call
#: ``checks.compare(...)``; ``runtime.generation`` still does.
compare = assert_parity


def _overridden(default, precision: str):
    """The spec's Tolerance with what the running item's expectation sets for ``precision``."""
    from pytest_ipfs_accel.expectations import context

    atol, rtol = context.tolerance_override(precision)
    exp = context.current().expectation
    floors = getattr(exp, "floors", {}).get(precision, {}) if exp is not None else {}
    return default.replace(atol=atol, rtol=rtol, **floors)


def benchmark_accuracy(model: ModelRef, platform: str, precision: str, batch_size: int, artifacts=None) -> dict:
    """What a benchmark row stores beside its timings: cosine, top-1/top-5 agreement with torch cpu fp32 on
    the timed inputs, and the artifact's size on disk (``artifact_mb``; None for eager torch). Never judges."""
    from pytest_ipfs_accel.runtime.parity import within_tolerance

    lm = loaded(model)
    inputs = lm.inputs(batch_size=batch_size, seed=model.seed)
    runner = prepare(model, platform, precision, artifacts, example=inputs)  # the benchmark's own, cached
    figures = within_tolerance(_numpy(lm.forward(inputs)), runner(inputs), float("inf")).accuracy()
    size = (getattr(runner, "info", None) or {}).get("artifact_mb")
    return {"cosine": figures["cosine"], "top1": figures["top1"], "top5": figures["top5"],
            "artifact_mb": float(size) if size not in (None, "") else None}


def record_accuracy(request, result) -> None:
    """Attach a parity result's figures to the item (user property ``ipfs_accuracy``: cosine, top1, top5,
    max_abs_diff), for the recorder to store with the result row."""
    request.node.user_properties.append((ACCURACY, result.accuracy()))


#: user_properties key of a parity item's accuracy figures.
ACCURACY = keys.ACCURACY


def _mismatch(message: str, result) -> None:
    __tracebackhide__ = True
    from pytest_ipfs_accel.expectations.classify import NumericMismatch

    raise NumericMismatch(message, getattr(result, "max_abs", None), getattr(result, "max_rel", None))


def assert_batch_consistent(model: ModelRef, platform: str, batch_size: int, artifacts=None) -> None:
    """Outputs for a batch of N equal the outputs of the N samples run one by one."""
    import numpy as np

    lm = loaded(model)
    batched = lm.inputs(batch_size=batch_size, seed=model.seed)
    singles = [lm.inputs(batch_size=1, seed=model.seed + i) for i in range(batch_size)]
    batch_out = prepare(model, platform, "fp32", artifacts, example=batched)(batched)
    single_runner = prepare(model, platform, "fp32", artifacts, example=singles[0])
    single_out = [single_runner(s) for s in singles]
    pairs = []
    # Outputs line up by position; a model that returns one tensor per sample (llava's image
    # features) has more outputs batched, and those trailing ones have no single-run partner.
    for j, got in enumerate(batch_out[: min(len(s) for s in single_out)]):
        first = np.asarray(single_out[0][j])
        if first.ndim and first.shape[0] == 1 and np.asarray(got).shape == (batch_size, *first.shape[1:]):
            pairs.append((np.concatenate([np.asarray(s[j]) for s in single_out]), np.asarray(got)))
    assert pairs, f"no output of {model.name} has a batch dimension to compare"
    try:
        assert_parity([p[0] for p in pairs], [p[1] for p in pairs], single_runner.info["runtime"], "fp32")
        return
    except AssertionError as exc:
        differs = exc
    _mismatch(f"batch of {batch_size} differs from single runs: {differs}", differs)  # outside: no chain


def clear_caches() -> None:
    """Drop the cached references, runners and built models (between generated modules of a long sweep)."""
    from pytest_ipfs_accel.models import loaded as loaded_models

    _REFERENCES.clear()
    _RUNNERS.clear()
    loaded_models.clear_cache()
