"""Coverage of the ``generate`` kind over every generative architecture in transformers (issue 15).

    python benchmarks/generation_coverage.py --db gen.duckdb                  # all of them, resumable
    python benchmarks/generation_coverage.py --db gen.duckdb --budget-min 100 # stop starting chunks after 100 min
    python benchmarks/generation_coverage.py --db gen.duckdb --report-only    # the table from what ran so far

The generative types (``generation.architectures``: causal, vision, seq2seq, speech) run in a stratified
order: sorted by (family, type), every K-th (``--stride``) from offset 0, then offset 1, ..., so the types
done after any whole pass are an every-K-th sample of every family. They run in chunks of ``--chunk``
types, one pytest run each (``benchmarks/coverage.py``'s command: pytest-timeout per item, xdist
restarting a crashed worker), recording into ``--db``; types already there are skipped, so a stopped
sweep resumes, and types with a timed-out item run once more at the end (a pause of the sweep, e.g.
SIGSTOP for a quiet measurement, runs out pytest-timeout's wall clock). Each item's newest result
counts. Between chunks the store is free and the table is also written to ``<db>.md``,
which ``--report-only`` shows while a chunk holds the store.

Columns: built (the base tiny model and its generating head build: the torch cpu item got past the
``checkpoint`` step), greedy parity on torch cpu, on onnxruntime (onnxruntime-genai builder +
``og.Generator``) and on openvino (stateful IR + openvino-genai ``LLMPipeline``); a type passes a column
when every batch size passes. Types needing a missing optional package are counted apart.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

COLUMNS = ("built", "cpu", "onnxruntime", "openvino")
HEADERS = {"built": "built", "cpu": "torch cpu", "onnxruntime": "onnxruntime", "openvino": "openvino"}
TOP = 3
_ARCH = re.compile(r"\b[A-Za-z][A-Za-z0-9_]*(?:For[A-Z]\w*|LMHeadModel|GenerationDecoder)\b")
_NUMBER = re.compile(r"\b\d+\b|(?<=\bgw)\d+")  # and xdist worker ids
_BUILD_STEP = re.compile(r"cannot export \S+: checkpoint: ")
_ITEM = re.compile(r"'[^'\s]+::[^'\s]+'")
_CLASS = re.compile(r"<class '[^']*'>")
_FAMILY = re.compile(r"\b(?:causal|seq2seq|speech|vision) models: ")
#: Markers of an item that never finished: pytest-timeout's failure, xdist's crashed worker.
UNFINISHED = ("Timeout", "crashed while running")
#: Each (model, platform, batch size)'s newest generate result.
NEWEST = ("SELECT t.model, t.platform, t.outcome, coalesce(t.message, '') AS message FROM test_results t "
          "JOIN runs r ON r.id = t.run_id WHERE t.kind = 'generate' AND t.model IS NOT NULL "
          "QUALIFY row_number() OVER (PARTITION BY t.model, t.platform, t.batch_size "
          "ORDER BY r.started_at DESC, t.node_id) = 1")


def _sweep_helpers() -> Any:
    """benchmarks/coverage.py, loaded by path (the name ``coverage`` belongs to coverage.py the package)."""
    spec = importlib.util.spec_from_file_location("ipfs_coverage_sweep", Path(__file__).with_name("coverage.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="generative", help="generative | family:NAME | names (comma list)")
    p.add_argument("--db", default="generation-coverage.duckdb", help="DuckDB store (default: %(default)s)")
    p.add_argument("--hw", default="cpu,onnxruntime,openvino", help="platforms (default: %(default)s)")
    p.add_argument("--batch-sizes", default="1,2", help="batch sizes (default: %(default)s)")
    p.add_argument("--stride", type=int, default=8, help="stratified order: every K-th per pass (default: %(default)s)")
    p.add_argument("--chunk", type=int, default=10, help="types per pytest run (default: %(default)s)")
    p.add_argument("--redo", action="store_true",
                   help="run types the store already has too (their newest result counts)")
    p.add_argument("--limit", type=int, default=0, help="stop after this many types (0: all)")
    p.add_argument("--budget-min", type=float, default=0, help="start no chunk after this many minutes (0: no limit)")
    p.add_argument("-n", "--workers", default="1", help="xdist workers (default: %(default)s; 0 = no xdist)")
    p.add_argument("--timeout", type=int, default=90, help="seconds per item (default: %(default)s)")
    p.add_argument("--report-only", action="store_true", help="print the table from --db and exit")
    args = p.parse_args(argv)
    args.kinds = "generate"
    if args.stride < 1 or args.chunk < 1:
        p.error("--stride and --chunk must be at least 1")
    return args


def generative_types(models: str) -> dict[str, str]:
    """model type -> family, for ``generative``, ``family:NAME`` or a comma list of names."""
    from pytest_ipfs_accel.generation.architectures import FAMILIES, families

    table = families()
    if not table:
        raise SystemExit(f"generation_coverage.py: transformers is not installed for {sys.executable} "
                         "(activate the environment that has pytest-ipfs-accel)")
    if models == "generative":
        return dict(table)
    if models.startswith("family:"):
        wanted = models.split(":", 1)[1]
        if wanted not in FAMILIES:
            raise SystemExit(f"generation_coverage.py: unknown family {wanted!r}; valid: {', '.join(FAMILIES)}")
        return {t: f for t, f in table.items() if f == wanted}
    names = [m.strip() for m in models.split(",") if m.strip()]
    unknown = [n for n in names if n not in table]
    if unknown:
        raise SystemExit(f"generation_coverage.py: {', '.join(unknown)}: not a generative model type "
                         "(see pytest_ipfs_accel.generation.architectures)")
    return {n: table[n] for n in names}


def sweep_order(types: dict[str, str], stride: int) -> list[str]:
    """Sorted by (family, type), then every ``stride``-th from offset 0, 1, ...: each pass is a fair sample."""
    ranked = sorted(types, key=lambda t: (types[t], t))
    return [t for offset in range(stride) for t in ranked[offset::stride]]


@dataclass
class Row:
    """One model type: a status per column (worst over batch sizes and runs) and the first reason."""

    model: str
    family: str
    status: dict[str, str] = field(default_factory=lambda: dict.fromkeys(COLUMNS, "-"))
    reasons: dict[str, str] = field(default_factory=dict)
    package: str | None = None


def reason_key(message: str) -> str:
    """A reason without model, class names and numbers, so equal causes group."""
    from pytest_ipfs_accel.report import coverage

    text = _FAMILY.sub("<family> models: ", _CLASS.sub("<class>", _ITEM.sub("<item>", message)))
    return _NUMBER.sub("N", coverage.reason_key(_ARCH.sub("<Arch>", text)))  # before its cut at a fixed length


def _is_build_failure(message: str) -> bool:
    return bool(_BUILD_STEP.search(message)) or message.lstrip().startswith(("model '", "Failed: model '"))


def read_rows(con: Any, types: dict[str, str]) -> list[Row]:
    """Rows of the store's ``generate`` results (each item's newest), over all its runs."""
    from pytest_ipfs_accel.models.registry import normalize
    from pytest_ipfs_accel.report.coverage import merge_outcome

    found = con.execute(f"SELECT * FROM ({NEWEST}) ORDER BY model").fetchall()
    named = {normalize(t): t for t in types}  # results carry the test name: blip-2 -> blip_2
    by_model: dict[str, Row] = {}
    for model, platform, outcome, message in found:
        if platform not in COLUMNS:
            continue
        model = named.get(model, model)
        row = by_model.setdefault(model, Row(model, types.get(model, "other")))
        merge_outcome(row, platform, outcome, message)
    for row in by_model.values():
        cpu, why = row.status["cpu"], row.reasons.get("cpu", "")
        broke = cpu in ("fail", "xfail") and (_is_build_failure(why) or any(m in why for m in UNFINISHED))
        row.status["built"] = "-" if cpu == "-" else ("skip" if cpu == "skip" else ("fail" if broke else "pass"))
        if broke:
            row.reasons["built"] = why
    return [by_model[m] for m in sorted(by_model)]


def _cell(rows: list[Row], column: str) -> str:
    ran = [r for r in rows if r.status[column] != "-" and not r.package]
    if not ran:
        return "not run"
    passed = sum(r.status[column] == "pass" for r in ran)
    return f"{passed}/{len(ran)} ({100 * passed / len(ran):.0f} %)"


def top_reasons(rows: list[Row], column: str, top: int = TOP) -> list[tuple[str, int]]:
    """The most common reasons a column did not pass, counted once per type; a runtime column only
    where the type built (an unbuilt type's reason is the build's, counted under built)."""
    counted = Counter(reason_key(r.reasons[column]) for r in rows if not r.package and column in r.reasons
                      and r.status[column] in ("fail", "xfail", "skip")
                      and (column == "built" or r.status["built"] == "pass"))
    return counted.most_common(top)


def table_lines(rows: list[Row], total: int) -> list[str]:
    """The Markdown table per family and overall, the package skips and the top reasons per column."""
    families = sorted({r.family for r in rows})
    lines = [f"types run: {len(rows)} of {total}; needing a missing package: "
             f"{', '.join(f'{r.model} ({r.package})' for r in rows if r.package) or 'none'}", "",
             "| family | types | " + " | ".join(HEADERS[c] for c in COLUMNS) + " |",
             "|---|---|" + "---|" * len(COLUMNS)]
    for name, group in [(f, [r for r in rows if r.family == f]) for f in families] + [("all", rows)]:
        lines.append(f"| {name} | {len(group)} | " + " | ".join(_cell(group, c) for c in COLUMNS) + " |")
    for c in COLUMNS:
        lines += ["", f"top reasons, {HEADERS[c]}:"]
        lines += [f"  {n:>4}  {reason}" for reason, n in top_reasons(rows, c)] or ["  none"]
    return lines


def sweep_seconds(con: Any) -> float:
    """Summed wall time of the store's runs (each chunk is one run)."""
    (seconds,) = con.execute("SELECT coalesce(sum(epoch(finished_at) - epoch(started_at)), 0) FROM runs "
                             "WHERE finished_at IS NOT NULL").fetchone()
    return float(seconds)


def report(db: Path, types: dict[str, str]) -> list[str]:
    """The table from the store; while a chunk holds it, the table saved after the last chunk."""
    from pytest_ipfs_accel.store import queries
    from pytest_ipfs_accel.store.schema import StoreError

    try:
        with queries.connect(db) as con:
            rows = read_rows(con, types)
            rows += error_rows(db, types, {r.model for r in rows})
            return table_lines(rows, len(types)) + [
                "", f"pytest wall time over the chunks so far: {sweep_seconds(con) / 60:.1f} min"]
    except StoreError as exc:
        saved = Path(f"{db}.md")
        if not saved.is_file():
            raise SystemExit(f"generation_coverage.py: {exc}") from None
        return [f"(the store is busy: {exc}; the table saved after the last chunk follows)",
                *saved.read_text(encoding="utf-8").splitlines()]


def done_types(db: Path, hw: list[str], unfinished: bool = False) -> set[str]:
    """Names (as tests name them) with a generate result on every platform asked (a chunk cut short
    leaves the rest to redo); with ``unfinished``: those whose newest results include a timeout or a crash."""
    if not db.is_file():
        return set()
    from pytest_ipfs_accel.store import queries

    marks = ", ".join("?" for _ in hw)
    having = " AND bool_or(" + " OR ".join("contains(message, ?)" for _ in UNFINISHED) + ")" if unfinished else ""
    with queries.connect(db, timeout=60) as con:
        found = con.execute(f"SELECT model FROM ({NEWEST}) WHERE platform IN ({marks}) GROUP BY model "
                            f"HAVING count(DISTINCT platform) = ?{having}",
                            [*hw, len(hw), *(UNFINISHED if unfinished else ())]).fetchall()
    return {m for (m,) in found}


def chunk_cmd(args: argparse.Namespace, models: list[str], db: Path, workdir: str) -> list[str]:
    """coverage.py's pytest command for ``models``, generate kind only, at the sweep's batch sizes."""
    cmd = _sweep_helpers().pytest_cmd(args, ",".join(models), str(db), workdir)
    cmd += [f"--ipfs-batch-sizes={args.batch_sizes}", "-p", "no:randomly"]
    if importlib.util.find_spec("pytest_timeout") is not None and args.workers not in ("0", ""):
        cmd.append("--timeout-method=thread")  # a hang inside a C call too; xdist restarts the worker
    return cmd


def run_chunk(args: argparse.Namespace, models: list[str], db: Path, workdir: str) -> int:
    """One pytest run over ``models``; its exit status. A run that ends in an error (not 0 or 1: one
    type breaking collection takes its whole run down) is run again one type at a time, and a single
    type's error is kept in ``<db>.errors.jsonl`` for the table."""
    cmd = chunk_cmd(args, models, db, workdir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    env.update(OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    done = subprocess.run(cmd, cwd=workdir, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if done.returncode in (0, 1):  # 1: some items failed, which a sweep expects
        return done.returncode
    if len(models) > 1:
        print(f"pytest exited {done.returncode} on {','.join(models)}: one type at a time", flush=True)
        return max(run_chunk(args, [m], db, workdir) for m in models)
    reason = error_line(done.stdout + "\n" + done.stderr)
    print(f"pytest exited {done.returncode} on {models[0]}: {reason}", flush=True)
    with open(f"{db}.errors.jsonl", "a", encoding="utf-8") as out:
        out.write(json.dumps({"model": models[0], "rc": done.returncode, "reason": reason,
                              "hw": platforms(args)}) + "\n")
    return done.returncode


def error_line(output: str) -> str:
    """The line of a broken pytest run that says why: the last error line that is not a traceback frame."""
    lines = [ln.removeprefix("INTERNALERROR>").strip() for ln in output.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(("File ", "^", "raise ", "return "))]
    found = [ln for ln in lines if re.match(r"^(?:E\s+)?[\w.]*(?:Error|Exception)\b|^ERROR:", ln)]
    return (found or lines or ["no output"])[-1][:300]


def error_rows(db: Path, types: dict[str, str], have: set[str]) -> list[Row]:
    """Rows of the types whose pytest run ended in an error (``<db>.errors.jsonl``) and left no result."""
    path = Path(f"{db}.errors.jsonl")
    if not path.is_file():
        return []
    found: dict[str, Row] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["model"] in have:
            continue
        failed = [c for c in COLUMNS if c == "built" or c in entry.get("hw", COLUMNS)]
        row = Row(entry["model"], types.get(entry["model"], "other"))
        row.status.update(dict.fromkeys(failed, "fail"))
        row.reasons = dict.fromkeys(failed, f"pytest exited {entry['rc']}: {entry['reason']}")
        found[row.model] = row
    return list(found.values())


def platforms(args: argparse.Namespace) -> list[str]:
    return [h.strip() for h in args.hw.split(",") if h.strip()]


def todo_types(args: argparse.Namespace, types: dict[str, str], db: Path) -> list[str]:
    """The sweep's order less the types the store has on every platform (all with ``--redo``), cut at ``--limit``."""
    from pytest_ipfs_accel.models.registry import normalize

    done = set() if args.redo else done_types(db, platforms(args))
    todo = [t for t in sweep_order(types, args.stride) if normalize(t) not in done]
    return todo[: args.limit] if args.limit > 0 else todo


def sweep(args: argparse.Namespace, types: dict[str, str], db: Path) -> None:
    """Run the not-yet-done types chunk by chunk, then the timed-out ones once more; print progress."""
    from pytest_ipfs_accel.models.registry import normalize

    hw, todo = platforms(args), todo_types(args, types, db)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ipfs-gen-coverage-") as workdir:
        finished = run_chunks(args, todo, types, db, workdir, start)
        again = [t for t in todo if normalize(t) in done_types(db, hw, unfinished=True)] if finished else []
        if again:
            print(f"once more, types with a timed-out or crashed item: {','.join(again)}", flush=True)
            run_chunks(args, again, types, db, workdir, start)
    print(f"sweep wall time: {(time.monotonic() - start) / 60:.1f} min with -n {args.workers} "
          f"(load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)", flush=True)


def run_chunks(args: argparse.Namespace, todo: list[str], types: dict[str, str], db: Path, workdir: str,
               start: float) -> bool:
    """``todo`` in chunks until the budget is spent (False then); the table saved after each chunk."""
    for i in range(0, len(todo), args.chunk):
        if args.budget_min and time.monotonic() - start > 60 * args.budget_min:
            print(f"budget of {args.budget_min:g} min spent: {len(todo) - i} types left", flush=True)
            return False
        models, began = todo[i: i + args.chunk], time.monotonic()
        rc = run_chunk(args, models, db, workdir)
        print(f"chunk {i // args.chunk + 1}/{-(-len(todo) // args.chunk)}: {','.join(models)} "
              f"rc={rc} {time.monotonic() - began:.0f} s, load {os.getloadavg()[0]:.1f}", flush=True)
        Path(f"{db}.md").write_text("\n".join(report(db, types)) + "\n", encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    types, db = generative_types(args.models), Path(args.db).resolve()
    if not args.report_only:
        sweep(args, types, db)
    print("\n".join(report(db, types)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
