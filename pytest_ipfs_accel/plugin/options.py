"""Command line and ini options -> one frozen, validated RunConfig (converters: ``settings``).

Every ``--ipfs-*`` option is read the same way: :func:`given` (the command line, else the ini key,
with where the value came from) and converted with a ``settings`` converter through :func:`read`,
so a bad value is one UsageError line naming ``--ipfs-x`` or ``ini ipfs_x``. Settings resolved
outside the RunConfig are stashed with :func:`once`: nothing reads an option twice."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import pytest

from pytest_ipfs_accel.settings import (
    DEFAULT_KINDS,
    DEFAULT_NEW_TOKENS,
    DEFAULT_PROMPT_TOKENS,
    KINDS,
    MAX_BATCH_SIZE,
    MAX_NEW_TOKENS,
    MAX_PROMPT_TOKENS,
    MAX_SEED,
    PRECISIONS,
    OptionValueError,
    RunConfig,
    Given,
    batch_sizes,
    choices,
    emit_dir,
    given,
    new_tokens,
    platforms,
    plugin_kinds,
    prompt_tokens,
    seed,
    split,
    template_sources,
)

__all__ = ["Given", "RunConfig", "addoptions", "checked", "from_pytest", "given", "once", "read", "register"]
T = TypeVar("T")

#: (option, ini key, help, default for the ini key)
_OPTIONS = (
    ("models", "comma list of models: registry names (bert, t5, ...), transformers model types, "
               "local directories holding a saved model, or selectors: all, task:<pipeline task>, "
               "modality:<text|vision|audio|video|text+image|text+audio|...>. Without it the plugin is inert.", ""),
    ("hw", "comma list of platforms (cpu, cuda, rocm, mps, onnxruntime|ort[:EP], openvino[:DEVICE], "
           "qualcomm, webgpu, webnn); default: every platform detected here", ""),
    ("kinds", f"comma list of test kinds to generate ({', '.join(KINDS)}); default: {','.join(DEFAULT_KINDS)} "
              "(benchmark alone when --benchmark-only is given)", ""),
    ("emit", "write the generated test files into DIR and exit instead of running them; a file there that "
             "pytest-ipfs-accel did not generate is not replaced (see --ipfs-emit-force)", ""),
    ("seed", f"seed for tiny random weights and synthesized inputs, 0..{MAX_SEED} (default 0)", "0"),
    ("batch-sizes", f"comma list of batch sizes, 1..{MAX_BATCH_SIZE}; the batch kind checks each size > 1 "
                    "(default 1,2)", "1,2"),
    ("prompt-tokens", f"prompt length of the generate kinds, 1..{MAX_PROMPT_TOKENS} (default {DEFAULT_PROMPT_TOKENS})",
     str(DEFAULT_PROMPT_TOKENS)),
    ("new-tokens", f"tokens the generate kinds generate greedily, 2..{MAX_NEW_TOKENS} (default {DEFAULT_NEW_TOKENS})",
     str(DEFAULT_NEW_TOKENS)),
    ("precisions", f"comma list of precisions ({', '.join(PRECISIONS)}); default fp32", "fp32"),
    ("templates", "comma list of template directories or template databases (.duckdb, from "
                  "'ipfs-accel templates create-db') searched before the shipped templates; a template "
                  "there overrides the shipped one of the same name", ""),
)
_FLAGS = (
    ("trust-remote-code", "allow models from local directories to run their own code (off by default)"),
    ("no-cache", "do not reuse or store exported ONNX / OpenVINO artifacts in pytest's cache dir"),
    ("emit-force", "let --ipfs-emit replace files in DIR that pytest-ipfs-accel did not generate "
                   "(hand-written tests, links)"),
)


def addoptions(parser: pytest.Parser) -> None:
    """Register the run's ``--ipfs-*`` options and their ini keys."""
    register(parser, [(name, name.upper().replace("-", "_"), help_text, default) for name, help_text, default in _OPTIONS],
             _FLAGS)


def register(parser: pytest.Parser, valued, flags=()) -> None:
    """The one way an ``--ipfs-<name>`` option is registered, each with its ini key ``ipfs_<name>``:
    ``valued`` rows are ``(name, metavar, help, ini default)``, ``flags`` rows ``(name, help)``.
    The command line wins over the ini key (both default to None/unset here)."""
    group = parser.getgroup("ipfs-accel", "pytest-ipfs-accel: models x hardware")
    for name, metavar, help_text, default in valued:
        key = "ipfs_" + name.replace("-", "_")
        group.addoption(f"--ipfs-{name}", dest=key, default=None, metavar=metavar, help=help_text)
        parser.addini(key, help_text, default=default)
    for name, help_text in flags:
        key = "ipfs_" + name.replace("-", "_")
        group.addoption(f"--ipfs-{name}", dest=key, action="store_true", default=None, help=help_text)
        parser.addini(key, help_text, type="bool", default=False)


def checked(where: str, convert: Callable[..., T], *args: Any) -> T:
    """``convert(*args)``, its OptionValueError turned into a UsageError (exit 4) naming ``where``."""
    try:
        return convert(*args)
    except OptionValueError as exc:
        raise pytest.UsageError(f"{where}: {exc}") from None


def read(config: pytest.Config, dest: str, convert: Callable[..., T], *args: Any, listed: bool = False) -> T:
    """Option ``dest`` (command line, else ini) converted with ``convert(value, *args)``: ``value`` is
    its stripped text, or its comma list when ``listed``; a bad value is a UsageError naming where
    the value came from (``--ipfs-x`` or ``ini ipfs_x``)."""
    found = given(config, dest)
    return checked(found.where, convert, split(found.raw) if listed else found.text, *args)


def once(config: pytest.Config, key: pytest.StashKey[T], resolve: Callable[[pytest.Config], T]) -> T:
    """``resolve(config)`` the first time, the stashed value after: each setting is read once."""
    if key not in config.stash:
        config.stash[key] = resolve(config)
    return config.stash[key]


def from_pytest(config: pytest.Config, kind_specs: list | None = None) -> RunConfig:
    """Build and validate the RunConfig; problems raise pytest.UsageError (exit 4). ``kind_specs``:
    the kinds plugins add (``pytest_ipfs_kinds``), accepted by ``--ipfs-kinds`` with their templates."""
    hw = split(given(config, "ipfs_hw").raw)
    extra_kinds, kind_templates = checked("--ipfs-kinds", plugin_kinds, list(kind_specs or ()), config.rootpath)
    kinds = given(config, "ipfs_kinds")
    precisions = given(config, "ipfs_precisions")
    return RunConfig(
        models=tuple(dict.fromkeys(split(given(config, "ipfs_models").raw))),
        hw=read(config, "ipfs_hw", platforms, listed=True) if hw else None,
        kinds=checked(kinds.where, choices, split(kinds.raw) or _default_kinds(config), KINDS + extra_kinds),
        emit=read(config, "ipfs_emit", emit_dir),
        emit_force=bool(given(config, "ipfs_emit_force").raw),
        seed=read(config, "ipfs_seed", seed),
        batch_sizes=read(config, "ipfs_batch_sizes", batch_sizes, listed=True),
        precisions=checked(precisions.where, choices, split(precisions.raw) or ("fp32",), PRECISIONS),
        trust_remote_code=bool(given(config, "ipfs_trust_remote_code").raw),
        use_cache=not given(config, "ipfs_no_cache").raw,
        prompt_tokens=read(config, "ipfs_prompt_tokens", prompt_tokens),
        new_tokens=read(config, "ipfs_new_tokens", new_tokens),
        templates=read(config, "ipfs_templates", template_sources, config.rootpath, listed=True) + kind_templates,
    )


def _default_kinds(config: pytest.Config) -> tuple[str, ...]:
    """No kinds asked for: the benchmark kind alone under ``--benchmark-only`` (pytest-benchmark
    would skip every other kind anyway), else the checks without the benchmark kind."""
    return ("benchmark",) if getattr(config.option, "benchmark_only", False) else DEFAULT_KINDS
