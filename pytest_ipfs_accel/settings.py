"""What a run is asked to do: the RunConfig and the converters that validate each setting.

No pytest here: the plugin's options (``plugin.options``) and the ``ipfs-accel`` CLI convert their
raw text with these same functions, so both accept the same values and give the same error text
(:class:`OptionValueError` does not name the option: each front end prefixes its own spelling).
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Test kinds generated per model x platform, in generation order.
KINDS = ("load", "forward", "parity", "batch", "benchmark", "generate", "generate_benchmark")
#: Kinds that only models able to generate get (``generation.architectures``).
GENERATE_KINDS = ("generate", "generate_benchmark")
#: Generated when no kinds are asked for; ``--benchmark-only`` alone asks for ``benchmark``.
DEFAULT_KINDS = ("load", "forward", "parity", "batch")
#: int8 = weights + activations (static QDQ / nncf.quantize), int8-dynamic = dynamic activations,
#: int8-weights / int4 = weight-only (backends.precision); a platform runs those its PlatformSpec lists.
PRECISIONS = ("fp32", "fp16", "bf16", "int8", "int8-dynamic", "int8-weights", "int4")
#: Largest batch size accepted: inputs are synthesized row by row, and the row seeds stay in range.
MAX_BATCH_SIZE = 4096
#: Seeds are 0..2**32-1: what numpy accepts too, and seed + row stays within torch's 64-bit range.
MAX_SEED = 2**32 - 1
#: Prompt length and new tokens of the generate kinds: defaults and bounds.
DEFAULT_PROMPT_TOKENS, DEFAULT_NEW_TOKENS = 8, 16
MAX_PROMPT_TOKENS, MAX_NEW_TOKENS = 4096, 4096

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
    prompt_tokens: int = DEFAULT_PROMPT_TOKENS
    new_tokens: int = DEFAULT_NEW_TOKENS

    @property
    def active(self) -> bool:
        """The plugin generates tests only when models were asked for."""
        return bool(self.models)


@dataclass(frozen=True)
class Given:
    """One ``--ipfs-*`` option as the user gave it: the command line, else its ini key."""

    raw: Any  #: the command-line value, else the ini value (None / "" / False: not given)
    where: str  #: how error texts name it: ``--ipfs-db`` or ``ini ipfs_db``
    base: Path  #: relative paths resolve here: the invocation folder, or the ini file's folder

    @property
    def text(self) -> str:
        """The value as stripped text ("" when not given)."""
        return "" if self.raw is None else str(self.raw).strip()


def given(config: Any, dest: str) -> Given:
    """The one reader of "command line, else ini" for option ``dest`` (``ipfs_x``: ``--ipfs-x`` and
    ini ``ipfs_x``). ``config`` is a ``pytest.Config``, duck-typed so that the layers without pytest
    (``seed_compat``) read options the same way; an unregistered option reads as not given."""
    try:
        cli = config.getoption(dest)
    except ValueError:
        cli = None
    if cli is not None:
        return Given(cli, "--" + dest.replace("_", "-"), Path(config.invocation_params.dir))
    try:
        ini = config.getini(dest)
    except ValueError:
        ini = None
    return Given(ini, f"ini {dest}", Path(config.inipath.parent if config.inipath else config.rootpath))


def split(raw) -> tuple[str, ...]:
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


def _decimal(raw: Any) -> int | None:
    """``raw`` as a plain decimal integer (digits only, at most 30), else None."""
    text = str(raw).strip()
    return int(text) if re.fullmatch(r"\d{1,30}", text) else None


def integer(raw: str, minimum: int, maximum: int) -> int:
    """A decimal integer in ``minimum..maximum``; else OptionValueError saying the range."""
    value = _decimal(raw)
    if value is None or not minimum <= value <= maximum:
        raise OptionValueError(f"{raw!r} is not an integer from {minimum} to {maximum}.")
    return value


def seed(raw: str) -> int:
    """A seed in ``0..MAX_SEED``."""
    return integer(raw or "0", 0, MAX_SEED)


def prompt_tokens(raw: str) -> int:
    """Prompt length of the generate kinds, ``1..MAX_PROMPT_TOKENS`` (default 8)."""
    return integer(raw or str(DEFAULT_PROMPT_TOKENS), 1, MAX_PROMPT_TOKENS)


def new_tokens(raw: str) -> int:
    """New tokens of the generate kinds, ``2..MAX_NEW_TOKENS`` (default 16; decode needs two)."""
    return integer(raw or str(DEFAULT_NEW_TOKENS), 2, MAX_NEW_TOKENS)


def batch_sizes(values: tuple[str, ...]) -> tuple[int, ...]:
    """Sorted distinct batch sizes in ``1..MAX_BATCH_SIZE`` (``(1,)`` when none are given)."""
    return tuple(sorted({integer(b, 1, MAX_BATCH_SIZE) for b in values})) or (1,)


def platforms(values: tuple[str, ...]) -> tuple[str, ...]:
    """Canonical platform names without duplicates; else OptionValueError (unknown platform, with hints)."""
    from pytest_ipfs_accel.hardware import UnknownPlatformError, canonical

    names = []
    for value in values:
        try:
            names.append(canonical(value))
        except UnknownPlatformError as exc:
            raise OptionValueError(str(exc)) from None
    return tuple(dict.fromkeys(names))


def emit_dir(raw: str) -> Path | None:
    """The ``--ipfs-emit`` folder (None when not asked); else OptionValueError."""
    if not raw:
        return None
    if "\x00" in raw or "\n" in raw:
        raise OptionValueError(f"{raw!r} is not a usable directory name.")
    path = Path(raw).expanduser()
    if path.exists() and not path.is_dir():
        raise OptionValueError(f"{path} exists and is not a directory; pass a directory.")
    return path


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
    from pytest_ipfs_accel.store.templates import TemplateDBError, connect

    try:
        connect(path).close()
    except TemplateDBError as exc:
        raise OptionValueError(f"{value!r}: {exc}") from None


def non_negative(text: str) -> float:
    """A finite number >= 0 (seconds, percentages); else OptionValueError."""
    value = _number(text)
    if not math.isfinite(value) or value < 0:
        raise OptionValueError(f"{text!r} is not a number >= 0.")
    return value


def seconds(raw: str) -> float:
    """A number of seconds >= 0 (lock waits); else OptionValueError."""
    try:
        return non_negative(raw)
    except OptionValueError:
        raise OptionValueError(f"{raw!r} is not a number of seconds >= 0.") from None


def _number(text) -> float:
    try:
        return float(str(text).strip())
    except (TypeError, ValueError):
        return math.nan


#: Longest browser step accepted (``--ipfs-browser-timeout``): a day.
MAX_BROWSER_TIMEOUT = 86400.0


def browser_timeout(raw: str) -> float:
    """Seconds one browser step may take: a number in ``(0, MAX_BROWSER_TIMEOUT]``; else OptionValueError."""
    value = _number(raw)
    if not (math.isfinite(value) and 0 < value <= MAX_BROWSER_TIMEOUT):
        raise OptionValueError(f"{raw!r} is not a number of seconds between 0 and {MAX_BROWSER_TIMEOUT:g} "
                               "(e.g. 60).")
    return value


def count(raw: str, minimum: int) -> int:
    """A decimal integer >= ``minimum`` (benchmark rounds, warmup, threads); else OptionValueError."""
    value = _decimal(raw)
    if value is None or value < minimum:
        raise OptionValueError(f"{raw!r} is not an integer >= {minimum}.")
    return value


def threads(raw: str) -> int | None:
    """``N`` (>= 1) threads, or None for ``auto`` / nothing (the physical cores this process may use)."""
    text = str(raw or "").strip()
    if not text or text.lower() == "auto":
        return None
    try:
        return count(text, 1)
    except OptionValueError:
        raise OptionValueError(f"{raw!r} is not an integer >= 1 or 'auto'.") from None


def percent(raw: str) -> float:
    """``10%`` / ``10`` / ``2.5`` -> a percentage >= 0; else OptionValueError."""
    text = str(raw).strip()
    try:
        return non_negative(text[:-1].strip() if text.endswith("%") else text)
    except OptionValueError:
        raise OptionValueError(f"{raw!r} is not a percentage >= 0 (e.g. 10 or 10%).") from None


@dataclass(frozen=True)
class KindSpec:
    """A test kind a plugin adds (``pytest_ipfs_kinds`` hook): its name and the template folder that
    holds ``tests/kinds/<name>.py.j2`` (rendered like the shipped kinds, one function per module,
    parametrized by platform x precision)."""

    name: str
    templates: str


def plugin_kinds(specs: list, root: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(kind names, template folders)`` of the kinds plugins add; else OptionValueError naming the problem."""
    names, folders = [], []
    for spec in specs:
        if not isinstance(spec, KindSpec):
            raise OptionValueError(f"pytest_ipfs_kinds returned {spec!r}; return a list of "
                                   "pytest_ipfs_accel.settings.KindSpec(name, templates)")
        if not spec.name.isidentifier() or spec.name in KINDS:
            raise OptionValueError(f"kind {spec.name!r} from pytest_ipfs_kinds: use a new identifier "
                                   f"(the built-in kinds are {', '.join(KINDS)})")
        folder = Path(spec.templates) if Path(spec.templates).is_absolute() else root / spec.templates
        if not (folder / "tests" / "kinds" / f"{spec.name}.py.j2").is_file():
            raise OptionValueError(f"kind {spec.name!r} from pytest_ipfs_kinds: no template "
                                   f"{folder / 'tests' / 'kinds' / (spec.name + '.py.j2')}")
        names.append(spec.name)
        folders.append(str(folder.resolve()))
    return tuple(names), tuple(dict.fromkeys(folders))
