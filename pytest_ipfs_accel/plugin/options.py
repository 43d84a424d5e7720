"""Command line and ini options -> one frozen, validated RunConfig (converters: ``settings``)."""

from __future__ import annotations

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
    batch_sizes,
    choices,
    emit_dir,
    new_tokens,
    platforms,
    plugin_kinds,
    prompt_tokens,
    seed,
    split,
    template_sources,
)

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


def _value(config: pytest.Config, key: str):
    cli = config.getoption(key)
    return cli if cli is not None else config.getini(key)


def _checked(option: str, convert, *args):
    """``convert(*args)``, its OptionValueError turned into a UsageError naming ``--ipfs-<option>``."""
    try:
        return convert(*args)
    except OptionValueError as exc:
        raise pytest.UsageError(f"--ipfs-{option}: {exc}") from None


def from_pytest(config: pytest.Config, kind_specs: list | None = None) -> RunConfig:
    """Build and validate the RunConfig; problems raise pytest.UsageError (exit 4). ``kind_specs``:
    the kinds plugins add (``pytest_ipfs_kinds``), accepted by ``--ipfs-kinds`` with their templates."""
    hw = split(_value(config, "ipfs_hw"))
    extra_kinds, kind_templates = _checked("kinds", plugin_kinds, list(kind_specs or ()), config.rootpath)
    return RunConfig(
        models=tuple(dict.fromkeys(split(_value(config, "ipfs_models")))),
        hw=_checked("hw", platforms, hw) if hw else None,
        kinds=_checked("kinds", choices, split(_value(config, "ipfs_kinds")) or _default_kinds(config),
                       KINDS + extra_kinds),
        emit=_checked("emit", emit_dir, str(_value(config, "ipfs_emit") or "")),
        emit_force=bool(_value(config, "ipfs_emit_force")),
        seed=_checked("seed", seed, str(_value(config, "ipfs_seed") or "0")),
        batch_sizes=_checked("batch-sizes", batch_sizes, split(_value(config, "ipfs_batch_sizes"))),
        precisions=_checked("precisions", choices, split(_value(config, "ipfs_precisions")) or ("fp32",), PRECISIONS),
        trust_remote_code=bool(_value(config, "ipfs_trust_remote_code")),
        use_cache=not _value(config, "ipfs_no_cache"),
        prompt_tokens=_checked("prompt-tokens", prompt_tokens, str(_value(config, "ipfs_prompt_tokens") or "")),
        new_tokens=_checked("new-tokens", new_tokens, str(_value(config, "ipfs_new_tokens") or "")),
        templates=_checked("templates", template_sources, split(_value(config, "ipfs_templates")),
                           config.rootpath) + kind_templates,
    )


def _default_kinds(config: pytest.Config) -> tuple[str, ...]:
    """No kinds asked for: the benchmark kind alone under ``--benchmark-only`` (pytest-benchmark
    would skip every other kind anyway), else the checks without the benchmark kind."""
    return ("benchmark",) if getattr(config.option, "benchmark_only", False) else DEFAULT_KINDS
