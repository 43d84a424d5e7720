"""What the generated ``generate`` and ``generate_benchmark`` kinds call.

``generate``: greedy generation on the platform gives, for every row and all N new tokens, the
token ids torch gives on the CPU in fp32 (a mismatch names the first differing step and token,
class ``numeric``); the first step's logits are within the platform's tolerance where the runtime
exposes them (torch, onnxruntime-genai; openvino-genai's pipeline does not).

``generate_benchmark``: repeated greedy generations timed under the device lock with the timing
threads, like the benchmark kind; the record (``generation.metrics`` fields plus model, platform,
noise and memory) is one :class:`~pytest_ipfs_accel.runtime.record.GenerationRecord`, handed to
``item.user_properties`` under :data:`KEY` (``record.to_dict()``), and from there to a
``benchmark_results`` row and the regression gate (``median_s``/``rounds_s`` are whole generations).

Outcomes: a platform or package that is absent skips; a runtime with no generation loop here
(qnn, the browser) skips saying so; a model or runtime that cannot generate xfails naming the
failing step (``checkpoint``, ``export``, ``compile``, ``runtime``), as export failures do.
"""

from __future__ import annotations

from typing import Any

from pytest_ipfs_accel.generation.result import Generation, GenerationError, GenerationUnavailable, Prompt
from pytest_ipfs_accel.runtime import checks, keys
from pytest_ipfs_accel.runtime.record import GenerationRecord

#: user_properties key of the generation benchmark record (``plugin.wire.GENERATION``).
KEY = keys.GENERATION
#: Timed generations when ``--ipfs-benchmark-rounds`` is not given.
DEFAULT_REPEATS = 10

_MODELS: dict[checks.ModelRef, Any] = {}  # the generative torch model (one kept), or its GenerationError
_GENERATORS: dict[tuple, Any] = {}
_REFERENCES: dict[tuple, Generation] = {}


def _torch_model(model: checks.ModelRef) -> Any:
    from pytest_ipfs_accel.generation.checkpoint import build_model

    if model not in _MODELS:
        _MODELS.clear()
        try:
            _MODELS[model] = build_model(checks.loaded(model))
        except GenerationError as exc:
            _MODELS[model] = exc
    return _MODELS[model]


def prompt(model: checks.ModelRef, batch_size: int, prompt_tokens: int, new_tokens: int) -> Prompt:
    """Seeded prompt ids inside the model's vocabulary, avoiding its special ids."""
    from pytest_ipfs_accel.generation.result import make_prompt
    from pytest_ipfs_accel.models.tokenizer import special_ids

    config = checks.loaded(model).config
    text = config.get_text_config(decoder=True)
    return make_prompt(int(text.vocab_size), prompt_tokens, new_tokens, batch_size, model.seed,
                       set(special_ids(config).values()))


def _generator(model: checks.ModelRef, platform: str, artifacts: Any = None) -> Any:
    """The platform's generator, built once per process; skips and xfails as the module doc says."""
    from pytest_ipfs_accel.generation.generators import NotSupported, generator_for
    from pytest_ipfs_accel.host.threads import thread_budget

    found = checks.require(platform)
    key = (model, platform, thread_budget())
    if any(held[0] != model for held in _GENERATORS):  # a long sweep: keep one model's generators only
        _GENERATORS.clear()
    if key not in _GENERATORS:
        try:
            torch_model = _torch_model(model)
            if isinstance(torch_model, GenerationError):
                raise torch_model
            _GENERATORS[key] = generator_for(found.runtime, found.device, checks.loaded(model), torch_model, artifacts)
        except (GenerationError, GenerationUnavailable, NotSupported) as exc:
            _GENERATORS[key] = exc
    made = _GENERATORS[key]
    if isinstance(made, GenerationError):
        checks._export_failed(model, platform, made)
    if isinstance(made, (GenerationUnavailable, NotSupported)):
        checks._skip(f"{platform}: {made}")
    return made


def _run(generator: Any, model: checks.ModelRef, platform: str, feed: Prompt, logits: bool) -> Generation:
    try:
        return generator.generate(feed, logits=logits)
    except GenerationError as exc:
        error = exc
    checks._export_failed(model, platform, error)  # outside the except: no chained traceback
    raise AssertionError("unreachable")


def reference(model: checks.ModelRef, feed: Prompt) -> Generation:
    """torch-cpu fp32 greedy generation of ``feed`` with first-step logits; cached per process."""
    key = (model, feed)
    if key not in _REFERENCES:
        _REFERENCES.clear()
        _REFERENCES[key] = _run(_generator(model, "cpu"), model, "cpu", feed, logits=True)
    return _REFERENCES[key]


def assert_greedy_parity(model: checks.ModelRef, platform: str, batch_size: int, prompt_tokens: int,
                         new_tokens: int, artifacts: Any = None) -> None:
    """Greedy ids equal the reference for every row and step; first-step logits within tolerance."""
    __tracebackhide__ = True
    from pytest_ipfs_accel.generation.parity import token_parity

    generator = _generator(model, platform, artifacts)
    feed = prompt(model, batch_size, prompt_tokens, new_tokens)
    expected = reference(model, feed)
    got = _run(generator, model, platform, feed, logits=True)
    tokens = token_parity(expected.tokens, got.tokens)
    if not tokens.ok:
        checks._mismatch(f"{platform}: greedy tokens differ from torch cpu fp32: {tokens.detail}", tokens)
    if got.first_logits is not None and expected.first_logits is not None:
        checks.assert_parity([expected.first_logits], [got.first_logits], generator.info["runtime"], "fp32")


def benchmark(request: Any, model: checks.ModelRef, platform: str, batch_size: int, prompt_tokens: int,
              new_tokens: int, artifacts: Any = None) -> GenerationRecord:
    """Time repeated greedy generations (see the module doc); returns the record it handed on."""
    from pytest_ipfs_accel.generation.metrics import summarize
    from pytest_ipfs_accel.host.devicelock import device_lock
    from pytest_ipfs_accel.host.threads import timing_threads
    from pytest_ipfs_accel.runtime import bench

    found = checks.require(platform)
    chosen = bench._settings(request.config)
    count = chosen.thread_count()
    with device_lock(found.device, shared=True), timing_threads(count, torch_too=False):
        generator = _generator(model, platform, artifacts)
        feed = prompt(model, batch_size, prompt_tokens, new_tokens)
    device = generator.info.get("device") or found.device
    with device_lock(device) as held, timing_threads(count):
        for _ in range(max(chosen.warmup if chosen.warmup is not None else 1, 1)):
            _run(generator, model, platform, feed, logits=False)  # untimed: first-call allocations stay out
        with bench.Surroundings(chosen) as around:
            runs = [_run(generator, model, platform, feed, logits=False)
                    for _ in range(chosen.rounds or DEFAULT_REPEATS)]
    record = GenerationRecord(**summarize(runs, batch_size, prompt_tokens, new_tokens),
                              **around.fields(request, count, held), model=model.name,
                              platform=platform, precision="fp32", runtime=generator.info.get("runtime"),
                              device=generator.info.get("device"))
    bench.attach(request.node, KEY, record)
    return record


def clear_caches() -> None:
    """Drop the generative models, generators and references (between modules of a long sweep)."""
    _MODELS.clear()
    _GENERATORS.clear()
    _REFERENCES.clear()
