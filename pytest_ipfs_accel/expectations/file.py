"""``ipfs-expectations.toml``: what each model x platform x kind is expected to do.

One ``[[expect]]`` table per rule; ``model``, ``platform`` and ``kind`` are fnmatch globs
(default ``"*"``). The **last** matching entry wins, so a file reads general-to-specific::

    [[expect]]
    model = "whisper"
    platform = "openvino*"
    expected = "xfail"                 # pass | xfail | skip
    reason = "aten::diff has no OV conversion rule"

    [[expect]]
    model = "t5"
    platform = "openvino*"
    kind = "parity"
    tolerance = { fp32 = { atol = 1e-3, rtol = 1e-3 }, fp16 = { atol = 5e-2 } }
    max_slowdown = 0.25                # per-test regression threshold (fraction)

Problems raise :class:`ExpectationsError` naming the file, the entry and the fix.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_ipfs_accel.settings import PRECISIONS

#: ``expected`` values.
OUTCOMES = ("pass", "xfail", "skip")
#: Default file looked for in the rootdir.
DEFAULT_NAME = "ipfs-expectations.toml"
_MATCH_KEYS = ("model", "platform", "kind")
_KEYS = (*_MATCH_KEYS, "expected", "reason", "tolerance", "max_slowdown")
_PRECISIONS = PRECISIONS
#: floors a tolerance may set for lossy precisions (cosine similarity, top-k agreement: 0..1)
_FLOORS = ("cosine", "top1", "top5")

Tolerance = dict[str, tuple["float | None", "float | None"]]


class ExpectationsError(ValueError):
    """A malformed expectations file: one line naming the file, the entry and the fix."""


@dataclass(frozen=True)
class Expectation:
    """What one (model, platform, kind) cell is expected to do.

    ``tolerance`` maps a precision to ``(atol, rtol)``; ``None`` keeps the platform's default for
    that half. ``floors`` maps a precision to its cosine / top1 / top5 floors (int8, int4 are judged
    by those). ``max_slowdown`` is a fraction (0.25 = 25 %).
    """

    expected: str = "pass"
    reason: str = ""
    tolerance: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    max_slowdown: float | None = None
    floors: dict[str, dict[str, float]] = field(default_factory=dict)

    def __hash__(self) -> int:  # frozen with a dict field: hash what is hashable
        return hash((self.expected, self.reason, tuple(sorted(self.tolerance.items())), self.max_slowdown,
                     tuple(sorted((p, tuple(sorted(f.items()))) for p, f in self.floors.items()))))


@dataclass(frozen=True)
class Rule:
    """One ``[[expect]]`` entry: globs plus the expectation they select."""

    model: str
    platform: str
    kind: str
    expectation: Expectation

    def matches(self, model: str, platform: str, kind: str) -> bool:
        return (fnmatch.fnmatchcase(model, self.model) and fnmatch.fnmatchcase(platform, self.platform)
                and fnmatch.fnmatchcase(kind, self.kind))


@dataclass(frozen=True)
class Expectations:
    """The parsed file; :meth:`lookup` returns the last matching entry's expectation."""

    rules: tuple[Rule, ...] = ()
    path: Path | None = None

    def lookup(self, model: str, platform: str, kind: str) -> Expectation | None:
        for rule in reversed(self.rules):
            if rule.matches(model, platform, kind):
                return rule.expectation
        return None


def load(path: Path | str) -> Expectations:
    """Parse ``path``; ExpectationsError on unreadable TOML, unknown keys or bad values."""
    import tomllib

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExpectationsError(f"{path}: cannot read the expectations file ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ExpectationsError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    return parse(data, path)


def parse(data: dict[str, Any], path: Path | None = None) -> Expectations:
    """Validate the decoded TOML document (``{"expect": [{...}, ...]}``)."""
    where = str(path) if path else "expectations"
    extra = sorted(set(data) - {"expect"})
    if extra:
        raise ExpectationsError(f"{where}: unknown top-level key(s) {', '.join(extra)}; "
                                "write each rule as an [[expect]] table")
    entries = data.get("expect", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ExpectationsError(f"{where}: 'expect' must be an array of tables; write each rule as [[expect]]")
    return Expectations(tuple(_rule(entry, f"{where}: [[expect]] #{i + 1}") for i, entry in enumerate(entries)),
                        path)


def _rule(entry: dict[str, Any], where: str) -> Rule:
    unknown = sorted(set(entry) - set(_KEYS))
    if unknown:
        raise ExpectationsError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                                f"allowed: {', '.join(_KEYS)}")
    globs = {k: _text(entry, k, where, "*") for k in _MATCH_KEYS}
    expected = _text(entry, "expected", where, "pass")
    if expected not in OUTCOMES:
        raise ExpectationsError(f"{where}: expected = {expected!r}; use one of {', '.join(OUTCOMES)}")
    reason = _text(entry, "reason", where, "")
    if expected != "pass" and not reason.strip():
        raise ExpectationsError(f"{where}: expected = {expected!r} needs a reason = \"...\" saying why")
    tolerance, floors = _tolerance(entry.get("tolerance"), where)
    return Rule(**globs, expectation=Expectation(expected, reason, tolerance, _slowdown(entry.get("max_slowdown"), where),
                                                 floors))


def _text(entry: dict[str, Any], key: str, where: str, default: str) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str) or (key in _MATCH_KEYS and not value):
        raise ExpectationsError(f"{where}: {key} = {value!r} must be a non-empty string"
                                if key in _MATCH_KEYS else f"{where}: {key} = {value!r} must be a string")
    return value


def _tolerance(raw: Any, where: str) -> tuple[dict[str, tuple[float | None, float | None]],
                                              dict[str, dict[str, float]]]:
    """``({precision: (atol, rtol)}, {precision: {floor: value}})`` from a ``tolerance`` table."""
    if raw is None:
        return {}, {}
    hint = "write tolerance = { fp32 = { atol = 1e-3, rtol = 1e-3 }, int8 = { cosine = 0.99, top1 = 0.9 } }"
    if not isinstance(raw, dict):
        raise ExpectationsError(f"{where}: tolerance must be a table; {hint}")
    out: dict[str, tuple[float | None, float | None]] = {}
    floors: dict[str, dict[str, float]] = {}
    for precision, bounds in raw.items():
        if precision not in _PRECISIONS:
            raise ExpectationsError(f"{where}: tolerance.{precision}: unknown precision; "
                                    f"use {', '.join(_PRECISIONS)}")
        if not isinstance(bounds, dict) or not bounds or set(bounds) - {"atol", "rtol", *_FLOORS}:
            raise ExpectationsError(f"{where}: tolerance.{precision} holds atol, rtol, {', '.join(_FLOORS)} "
                                    f"only; {hint}")
        atol, rtol = (_number(bounds.get(k), f"{where}: tolerance.{precision}.{k}") for k in ("atol", "rtol"))
        if atol is not None or rtol is not None:
            out[precision] = (atol, rtol)
        found = {k: _fraction(bounds[k], f"{where}: tolerance.{precision}.{k}") for k in _FLOORS if k in bounds}
        if found:
            floors[precision] = found
    return out, floors


def _fraction(raw: Any, where: str) -> float:
    value = _number(raw, where, "a fraction from 0 to 1")
    if value is None or value > 1:
        raise ExpectationsError(f"{where} = {raw!r} must be a fraction from 0 to 1")
    return value


def _slowdown(raw: Any, where: str) -> float | None:
    return _number(raw, f"{where}: max_slowdown", "a fraction, e.g. 0.25 for 25 %")


def _number(raw: Any, where: str, expected: str = "a number >= 0") -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw) or raw < 0:
        raise ExpectationsError(f"{where} = {raw!r} must be {expected}")
    return float(raw)


def locate(raw: str, where: str, base: Path, root: Path) -> Path | None:
    """The expectations file an option value names: ``raw`` relative to ``base``; ``none`` disables
    the file; "" means the optional ``ipfs-expectations.toml`` in ``root``. An explicitly named file
    that does not exist is an ExpectationsError naming ``where`` (e.g. ``--ipfs-expectations``)."""
    raw = raw.strip()
    if raw.lower() == "none":
        return None
    if not raw:
        default = Path(root) / DEFAULT_NAME
        return default if default.is_file() else None
    path = Path(raw).expanduser()
    path = path if path.is_absolute() else Path(base) / path
    if not path.is_file():
        raise ExpectationsError(f"{where}: {raw!r}: no file there (looked at {path}); create it or pass 'none'")
    return path
