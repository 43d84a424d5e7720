"""Command line and ini options -> one frozen, validated RunConfig."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Test kinds generated per model x platform, in generation order.
KINDS = ("load", "forward", "parity", "batch", "benchmark")
#: Generated when no kinds are asked for; ``--benchmark-only`` alone asks for ``benchmark``.
DEFAULT_KINDS = ("load", "forward", "parity", "batch")
PRECISIONS = ("fp32", "fp16", "bf16")
#: Largest batch size accepted: inputs are synthesized row by row, and the row seeds stay in range.
MAX_BATCH_SIZE = 4096
#: Seeds are 0..2**32-1: what numpy accepts too, and seed + row stays within torch's 64-bit range.
MAX_SEED = 2**32 - 1

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


@dataclass(frozen=True)
class RunConfig:
    """Everything the plugin needs to know about a run, validated once."""

    models: tuple[str, ...]
    hw: tuple[str, ...] | None  # None: every detected platform
    kinds: tuple[str, ...] = DEFAULT_KINDS
    emit: Path | None = None
    emit_force: bool = False
    seed: int = 0
    batch_sizes: tuple[int, ...] = (1, 2)
    precisions: tuple[str, ...] = ("fp32",)
    trust_remote_code: bool = False
    use_cache: bool = True
    templates: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """The plugin generates tests only when models were asked for."""
        return bool(self.models)


def addoptions(parser: pytest.Parser) -> None:
    """Register every ``--ipfs-*`` option and its ini key."""
    group = parser.getgroup("ipfs-accel", "pytest-ipfs-accel: models x hardware")
    for name, help_text, default in _OPTIONS:
        key = "ipfs_" + name.replace("-", "_")
        group.addoption(f"--ipfs-{name}", dest=key, default=None, metavar=name.upper().replace("-", "_"),
                        help=help_text)
        parser.addini(key, help_text, default=default)
    for name, help_text in _FLAGS:
        key = "ipfs_" + name.replace("-", "_")
        group.addoption(f"--ipfs-{name}", dest=key, action="store_true", default=None, help=help_text)
        parser.addini(key, help_text, type="bool", default=False)


def _value(config: pytest.Config, key: str):
    cli = config.getoption(key)
    return cli if cli is not None else config.getini(key)


def _split(raw) -> tuple[str, ...]:
    if isinstance(raw, (list, tuple)):
        raw = ",".join(raw)
    return tuple(x.strip() for x in str(raw or "").replace("\n", ",").split(",") if x.strip())


class OptionValueError(ValueError):
    """A bad option value; the message does not name the option (pytest and the CLI spell it their way)."""


def did_you_mean(value: str, allowed) -> str:
    """`` Did you mean 'x'?`` for the closest of ``allowed``, else ``""``: the one typo hint for options."""
    close = difflib.get_close_matches(value, list(allowed), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def choices(values: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    """``values`` without duplicates, each one of ``allowed``; else OptionValueError with a hint."""
    for value in values:
        if value not in allowed:
            raise OptionValueError(f"unknown value {value!r}.{did_you_mean(value, allowed)} "
                                   f"Choose from: {', '.join(allowed)}.")
    return tuple(dict.fromkeys(values))


def integer(raw: str, minimum: int, maximum: int) -> int:
    """A decimal integer in ``minimum..maximum``; else OptionValueError saying the range."""
    text = str(raw).strip()
    if not re.fullmatch(r"\d{1,30}", text) or not minimum <= int(text) <= maximum:
        raise OptionValueError(f"{raw!r} is not an integer from {minimum} to {maximum}.")
    return int(text)


def seed(raw: str) -> int:
    """A seed in ``0..MAX_SEED``."""
    return integer(raw or "0", 0, MAX_SEED)


def batch_sizes(values: tuple[str, ...]) -> tuple[int, ...]:
    """Sorted distinct batch sizes in ``1..MAX_BATCH_SIZE`` (``(1,)`` when none are given)."""
    return tuple(sorted({integer(b, 1, MAX_BATCH_SIZE) for b in values})) or (1,)


def _checked(option: str, convert, *args):
    """``convert(*args)``, its OptionValueError turned into a UsageError naming ``--ipfs-<option>``."""
    try:
        return convert(*args)
    except OptionValueError as exc:
        raise pytest.UsageError(f"--ipfs-{option}: {exc}") from None


def _platforms(values: tuple[str, ...]) -> tuple[str, ...]:
    from pytest_ipfs_accel.hardware import UnknownPlatformError, canonical

    names = []
    for value in values:
        try:
            names.append(canonical(value))
        except UnknownPlatformError as exc:
            raise pytest.UsageError(f"--ipfs-hw: {exc}") from None
    return tuple(dict.fromkeys(names))


def _emit_dir(raw: str) -> Path | None:
    if not raw:
        return None
    if "\x00" in raw or "\n" in raw:
        raise pytest.UsageError(f"--ipfs-emit: {raw!r} is not a usable directory name.")
    path = Path(raw).expanduser()
    if path.exists() and not path.is_dir():
        raise pytest.UsageError(f"--ipfs-emit: {path} exists and is not a directory; pass a directory.")
    return path


def from_pytest(config: pytest.Config) -> RunConfig:
    """Build and validate the RunConfig; problems raise pytest.UsageError (exit 4)."""
    hw = _split(_value(config, "ipfs_hw"))
    return RunConfig(
        models=tuple(dict.fromkeys(_split(_value(config, "ipfs_models")))),
        hw=_platforms(hw) if hw else None,
        kinds=_checked("kinds", choices, _split(_value(config, "ipfs_kinds")) or _default_kinds(config), KINDS),
        emit=_emit_dir(str(_value(config, "ipfs_emit") or "")),
        emit_force=bool(_value(config, "ipfs_emit_force")),
        seed=_checked("seed", seed, str(_value(config, "ipfs_seed") or "0")),
        batch_sizes=_checked("batch-sizes", batch_sizes, _split(_value(config, "ipfs_batch_sizes"))),
        precisions=_checked("precisions", choices, _split(_value(config, "ipfs_precisions")) or ("fp32",), PRECISIONS),
        trust_remote_code=bool(_value(config, "ipfs_trust_remote_code")),
        use_cache=not _value(config, "ipfs_no_cache"),
        templates=_checked("templates", template_sources, _split(_value(config, "ipfs_templates")), config.rootpath),
    )


def _default_kinds(config: pytest.Config) -> tuple[str, ...]:
    """No kinds asked for: the benchmark kind alone under ``--benchmark-only`` (pytest-benchmark
    would skip every other kind anyway), else the checks without the benchmark kind."""
    return ("benchmark",) if getattr(config.option, "benchmark_only", False) else DEFAULT_KINDS


def template_sources(values: tuple[str, ...], root: Path) -> tuple[str, ...]:
    """Template folders and template databases (``.duckdb``, opened read-only to check they are
    one), relative to ``root``, as absolute paths; else OptionValueError."""
    dirs = []
    for value in values:
        path = (root / value).expanduser() if not Path(value).is_absolute() else Path(value)
        if str(path).endswith(".duckdb"):  # a template database (ipfs-accel templates create-db/import)
            _check_template_db(value, path)
        elif not path.is_dir():
            raise OptionValueError(f"{value!r} is not a directory or a .duckdb template database (looked at {path}).")
        dirs.append(str(path.resolve()))
    return tuple(dirs)


def _check_template_db(value: str, path: Path) -> None:
    if not path.is_file():
        raise OptionValueError(f"{value!r}: no template database there (looked at {path}; create one with: "
                               f"ipfs-accel templates create-db --db {value})")
    from pytest_ipfs_accel.templatedb.store import TemplateDBError, connect

    try:
        connect(path).close()
    except TemplateDBError as exc:
        raise OptionValueError(f"{value!r}: {exc}") from None
