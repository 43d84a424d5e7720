"""The architecture-coverage matrix of a sweep (``--ipfs-models=all|task:..|modality:..``).

One row per model: built, forward on cpu, ONNX Runtime parity, OpenVINO parity, each
``pass``/``fail``/``skip``/``xfail``/``-`` (not run), with the first failure reason.
Models whose build needs an optional package (the "needs package X" skip/failure) are
counted apart. :func:`section` gives the report's (title, html, markdown) fragments.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

COLUMNS = ("built", "forward", "ort", "ov")
HEADERS = {"built": "built", "forward": "forward (cpu)", "ort": "ONNX Runtime parity", "ov": "OpenVINO parity"}
PACKAGE_MARK = "needs package "
#: A failure message whose build got as far as a forward pass (see models.loaded.build).
FORWARD_STAGE = "forward: "
#: A run counts as a sweep when it selected models by selector or tested at least this many.
MIN_SWEEP_MODELS = 20
TOP_REASONS = 12


@dataclass
class Row:
    """One model: a status per column and the first reason per column that did not pass."""

    model: str
    status: dict[str, str] = field(default_factory=lambda: dict.fromkeys(COLUMNS, "-"))
    reasons: dict[str, str] = field(default_factory=dict)
    package: str | None = None
    built_at_some_level: bool = False


def _column(kind: str, platform: str) -> str | None:
    if kind == "forward" and platform == "cpu":
        return "forward"
    if kind == "parity" and platform.startswith(("onnxruntime", "ort")):
        return "ort"
    if kind == "parity" and platform.startswith("openvino"):
        return "ov"
    return None


def needed_package(message: str) -> str | None:
    """The package a result's message says is missing (``PACKAGE_MARK``), else None."""
    if PACKAGE_MARK not in message:
        return None
    return message.split(PACKAGE_MARK, 1)[1].split()[0].strip("(),.;")


#: A cell's status from a pytest outcome, and which status wins when several results fill one cell.
STATUS = {"passed": "pass", "failed": "fail", "error": "fail", "xpassed": "fail", "skipped": "skip", "xfailed": "xfail"}
RANK = {"fail": 3, "xfail": 2, "skip": 1, "pass": 0, "-": -1}


def merge_outcome(row: Any, column: str, outcome: str, message: str) -> None:
    """Fold one result into ``row`` (``.status``, ``.reasons``, ``.package``): the worst status of the
    column wins and keeps its message's first line as the reason."""
    row.package = row.package or needed_package(message)
    status = STATUS.get(outcome, "fail")
    if RANK[status] > RANK[row.status[column]]:
        row.status[column] = status
        if status != "pass":
            row.reasons[column] = message.strip().splitlines()[0][:300] if message.strip() else outcome


def rows(con: Any, run_ids: list[str]) -> list[Row]:
    """Coverage rows of the runs' forward-cpu and parity results, sorted by model."""
    if not run_ids:
        return []
    marks = ", ".join("?" for _ in run_ids)
    found = con.execute(
        f"SELECT model, kind, platform, outcome, coalesce(message, '') FROM test_results "
        f"WHERE run_id IN ({marks}) AND model IS NOT NULL AND kind IN ('forward', 'parity') "
        "ORDER BY model, node_id",
        list(run_ids),
    ).fetchall()
    by_model: dict[str, Row] = {}
    for model, kind, platform, outcome, message in found:
        col = _column(kind, platform or "")
        if col is None:
            continue
        row = by_model.setdefault(model, Row(model))
        row.built_at_some_level |= col == "forward" and FORWARD_STAGE in message
        merge_outcome(row, col, outcome, message)
    for row in by_model.values():
        fwd = row.status["forward"]
        built = fwd == "pass" or (fwd == "fail" and row.built_at_some_level)
        row.status["built"] = "pass" if built else ("-" if fwd == "-" else ("skip" if row.package else "fail"))
    return [by_model[m] for m in sorted(by_model)]


@dataclass
class Summary:
    """Counts over coverage rows; fractions are of the models that need no missing package."""

    models: int
    packages: Counter
    passed: dict[str, int]
    ran: dict[str, int]
    reasons: list[tuple[str, int]]

    @property
    def testable(self) -> int:
        return self.models - sum(self.packages.values())

    def fraction(self, column: str) -> float:
        return self.passed[column] / self.testable if self.testable else 0.0


_EXPORT_PREFIX = re.compile(r"^[\w:.-]+: cannot export \S+: ")
_MODEL_PREFIX = re.compile(r"^(?:Failed: )?model '[^']*'(?: \(model_type '[^']*'\))?:? ")


def reason_key(reason: str) -> str:
    """A failure reason without the model name (and only its first level), so equal causes group."""
    text = _EXPORT_PREFIX.sub("cannot export: ", _MODEL_PREFIX.sub("", reason))
    return re.sub(r"/tmp/\S+", "<tmp>", text.split("; [", 1)[0])[:120]


def summarize(found: list[Row]) -> Summary:
    """Pass counts per column, package needs, and the most common failure reasons."""
    packages = Counter(r.package for r in found if r.package)
    passed = {c: sum(1 for r in found if r.status[c] == "pass" and not r.package) for c in COLUMNS}
    reasons = Counter(  # export xfails count too; a runtime column only where the forward itself passed
        f"{HEADERS[c]}: {reason_key(r.reasons[c])}"
        for r in found if not r.package for c in COLUMNS[1:]
        if r.status[c] in ("fail", "xfail") and c in r.reasons and (c == "forward" or r.status["forward"] == "pass")
    )
    ran = {c: sum(1 for r in found if r.status[c] != "-") for c in COLUMNS}
    return Summary(len(found), packages, passed, ran, reasons.most_common(TOP_REASONS))


def summary_lines(s: Summary, reasons: bool = True) -> list[str]:
    """Plain-text fractions: one line per column, package skips, then (optionally) the top failure reasons."""
    lines = [f"models: {s.models}; needing a missing package: {sum(s.packages.values())} "
             f"({', '.join(f'{p} x{n}' for p, n in s.packages.most_common()) or 'none'})"]
    for c in COLUMNS:
        if not s.ran[c]:
            lines.append(f"{HEADERS[c]:<22} not run")
            continue
        lines.append(f"{HEADERS[c]:<22} {s.passed[c]:>4}/{s.testable:<4} {100 * s.fraction(c):5.1f} %")
    if not reasons:
        return lines
    lines.append("top failure reasons:")
    lines += [f"  {n:>4}  {reason}" for reason, n in s.reasons]
    return lines


def _is_sweep(con: Any, run_ids: list[str], found: list[Row]) -> bool:
    if len(found) >= MIN_SWEEP_MODELS:
        return True
    marks = ", ".join("?" for _ in run_ids)
    for (options,) in con.execute(f"SELECT options FROM runs WHERE id IN ({marks})", list(run_ids)).fetchall():
        models = (json.loads(options) if isinstance(options, str) else options or {}).get("models") or []
        if any(m == "all" or str(m).startswith(("task:", "modality:")) for m in models):
            return True
    return False


def _html(s: Summary, found: list[Row]) -> str:
    esc = html.escape
    out = ["<ul class='coverage-summary'>"] + [f"<li>{esc(line)}</li>" for line in summary_lines(s, reasons=False)]
    out.append("</ul><table class='coverage'><thead><tr><th>model</th>")
    out += [f"<th>{esc(HEADERS[c])}</th>" for c in COLUMNS] + ["<th>reason</th></tr></thead><tbody>"]
    for r in found:
        reason = r.reasons.get("forward") or r.reasons.get("ort") or r.reasons.get("ov") or ""
        cells = "".join(f"<td class='{r.status[c]}'>{r.status[c]}</td>" for c in COLUMNS)
        out.append(f"<tr><td>{esc(r.model)}</td>{cells}<td>{esc(reason)}</td></tr>")
    out.append("</tbody></table><h4>Top failure reasons</h4><ol>")
    out += [f"<li>{n} &times; {esc(reason)}</li>" for reason, n in s.reasons]
    return "".join(out) + "</ol>"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(s: Summary, found: list[Row]) -> str:
    out = ["```", *summary_lines(s), "```", "",
           "| model | " + " | ".join(HEADERS[c] for c in COLUMNS) + " | reason |",
           "|---|" + "---|" * (len(COLUMNS) + 1)]
    for r in found:
        reason = r.reasons.get("forward") or r.reasons.get("ort") or r.reasons.get("ov") or ""
        out.append(f"| {r.model} | " + " | ".join(r.status[c] for c in COLUMNS) + f" | {_md_cell(reason)} |")
    return "\n".join(out) + "\n"


def section(con: Any, run_ids: list[str]) -> tuple[str, str, str] | None:
    """(title, html fragment, markdown fragment) of the coverage matrix, or None without a sweep."""
    found = rows(con, run_ids)
    if not found or not _is_sweep(con, run_ids, found):
        return None
    s = summarize(found)
    shown = [f"{HEADERS[c]} {s.passed[c]}/{s.testable}" for c in COLUMNS[1:] if s.ran[c]]
    title = "Architecture coverage: " + ", ".join(shown)
    return title, _html(s, found), _markdown(s, found)
