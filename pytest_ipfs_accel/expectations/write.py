"""Expectations -> TOML text that :func:`file.load` reads back unchanged (comments are not kept)."""

from __future__ import annotations

from pytest_ipfs_accel.expectations.file import Expectations, Rule


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    special = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
    out = []
    for ch in text:
        if ch in special:
            out.append(special[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _rule(rule: Rule) -> list[str]:
    exp = rule.expectation
    lines = ["[[expect]]"]
    lines += [f"{key} = {toml_string(getattr(rule, key))}" for key in ("model", "platform", "kind")]
    lines.append(f"expected = {toml_string(exp.expected)}")
    if exp.reason:
        lines.append(f"reason = {toml_string(exp.reason)}")
    if exp.tolerance or exp.floors:
        tables = []
        for precision in sorted(set(exp.tolerance) | set(exp.floors)):
            atol, rtol = exp.tolerance.get(precision, (None, None))
            pairs = [("atol", atol), ("rtol", rtol), *sorted(exp.floors.get(precision, {}).items())]
            bounds = ", ".join(f"{k} = {v!r}" for k, v in pairs if v is not None)
            tables.append(f"{precision} = {{ {bounds} }}")
        lines.append(f"tolerance = {{ {', '.join(tables)} }}")
    if exp.max_slowdown is not None:
        lines.append(f"max_slowdown = {exp.max_slowdown!r}")
    return lines


def dumps(expectations: Expectations, header: str = "") -> str:
    """The file text: ``header`` as comment lines, then one ``[[expect]]`` table per rule."""
    parts = [f"# {line}".rstrip() for line in header.splitlines()]
    for rule in expectations.rules:
        if parts:
            parts.append("")
        parts += _rule(rule)
    return "\n".join(parts) + "\n"
