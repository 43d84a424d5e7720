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

#: (option, ini key, help, default for the ini key)
_OPTIONS = (
    ("models", "comma list of models: registry names (bert, t5, ...), transformers model types, "
               "local directories holding a saved model, or selectors: all, task:<pipeline task>, "
               "modality:<text|vision|audio|video|text+image|text+audio|...>. Without it the plugin is inert.", ""),
    ("hw", "comma list of platforms (cpu, cuda, rocm, mps, onnxruntime|ort[:EP], openvino[:DEVICE], "
           "qualcomm, webgpu, webnn); default: every platform detected here", ""),
    ("kinds", f"comma list of test kinds to generate ({', '.join(KINDS)}); default: {','.join(DEFAULT_KINDS)} "
              "(benchmark alone when --benchmark-only is given)", ""),
    ("emit", "write the generated test files into DIR and exit instead of running them", ""),
    ("seed", "seed for tiny random weights and synthesized inputs (default 0)", "0"),
    ("batch-sizes", "comma list of batch sizes; the batch kind checks each size > 1 (default 1,2)", "1,2"),
    ("precisions", f"comma list of precisions ({', '.join(PRECISIONS)}); default fp32", "fp32"),
    ("templates", "comma list of template directories or template databases (.duckdb, from "
                  "'ipfs-accel templates create-db') searched before the shipped templates; a template "
                  "there overrides the shipped one of the same name", ""),
)
_FLAGS = (
    ("trust-remote-code", "allow models from local directories to run their own code (off by default)"),
    ("no-cache", "do not reuse or store exported ONNX / OpenVINO artifacts in pytest's cache dir"),
)


@dataclass(frozen=True)
class RunConfig:
    """Everything the plugin needs to know about a run, validated once."""

    models: tuple[str, ...]
    hw: tuple[str, ...] | None  # None: every detected platform
    kinds: tuple[str, ...] = DEFAULT_KINDS
    emit: Path | None = None
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


def _choices(option: str, values: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if value not in allowed:
            close = difflib.get_close_matches(value, allowed, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise pytest.UsageError(f"--ipfs-{option}: unknown value {value!r}.{hint} Choose from: {', '.join(allowed)}.")
    return tuple(dict.fromkeys(values))


def _int(option: str, raw: str, minimum: int) -> int:
    if not re.fullmatch(r"\d+", raw.strip()) or int(raw) < minimum:
        raise pytest.UsageError(f"--ipfs-{option}: {raw!r} is not an integer >= {minimum}.")
    return int(raw)


def _platforms(values: tuple[str, ...]) -> tuple[str, ...]:
    from .hardware import UnknownPlatformError, canonical

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
        kinds=_choices("kinds", _split(_value(config, "ipfs_kinds")) or _default_kinds(config), KINDS),
        emit=_emit_dir(str(_value(config, "ipfs_emit") or "")),
        seed=_int("seed", str(_value(config, "ipfs_seed") or "0"), 0),
        batch_sizes=tuple(sorted({_int("batch-sizes", b, 1) for b in _split(_value(config, "ipfs_batch_sizes"))}))
        or (1,),
        precisions=_choices("precisions", _split(_value(config, "ipfs_precisions")) or ("fp32",), PRECISIONS),
        trust_remote_code=bool(_value(config, "ipfs_trust_remote_code")),
        use_cache=not _value(config, "ipfs_no_cache"),
        templates=_template_dirs(_split(_value(config, "ipfs_templates")), config.rootpath),
    )


def _default_kinds(config: pytest.Config) -> tuple[str, ...]:
    """No kinds asked for: the benchmark kind alone under ``--benchmark-only`` (pytest-benchmark
    would skip every other kind anyway), else the checks without the benchmark kind."""
    return ("benchmark",) if getattr(config.option, "benchmark_only", False) else DEFAULT_KINDS


def _template_dirs(values: tuple[str, ...], root: Path) -> tuple[str, ...]:
    dirs = []
    for value in values:
        path = (root / value).expanduser() if not Path(value).is_absolute() else Path(value)
        if str(path).endswith(".duckdb"):  # a template database (ipfs-accel templates create-db/import)
            if not path.is_file():
                raise pytest.UsageError(f"--ipfs-templates: {value!r}: no template database there (looked at "
                                        f"{path}; create one with: ipfs-accel templates create-db --db {value})")
        elif not path.is_dir():
            raise pytest.UsageError(f"--ipfs-templates: {value!r} is not a directory or a .duckdb template "
                                    f"database (looked at {path}).")
        dirs.append(str(path.resolve()))
    return tuple(dirs)
