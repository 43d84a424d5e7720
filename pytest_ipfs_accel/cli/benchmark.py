"""``ipfs-accel benchmark``: run the generated benchmark items through pytest, store them, write the report.

The run is ``python -m pytest --benchmark-only --ipfs-models=... --ipfs-report=... --ipfs-db=...`` in a
child process (torch, ONNX Runtime and OpenVINO get a fresh interpreter; pytest's own progress lines
stream through) with an empty temporary rootdir, so no project conftest or ini changes what runs.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from pytest_ipfs_accel import settings
from pytest_ipfs_accel.cli.common import DEFAULT_DB, CliError, converted

EPILOG = f"""examples:
  ipfs-accel benchmark --models bert,t5,vit --output benchmark_report.html
  ipfs-accel benchmark --models bert --hw cpu,onnxruntime,openvino --batch-sizes 1,4 --rounds 20
  ipfs-accel benchmark --models bert --output report.md --db results.duckdb --pytest-args "-x"
  ipfs-accel benchmark --models llama,qwen2 --generate --batch-sizes 1,4 --new-tokens 32

Runs: python -m pytest --benchmark-only --ipfs-models=MODELS [--ipfs-hw=HW] --ipfs-batch-sizes=SIZES
      [--ipfs-benchmark-rounds=N --ipfs-benchmark-warmup=W] --ipfs-db=DB --ipfs-report=OUTPUT
With --generate: the generate_benchmark kind instead (greedy generation: TTFT, decode tokens/s,
per-token latency), without --benchmark-only, and the generation table is printed at the end.
Results are appended to the store (default {DEFAULT_DB}); `ipfs-accel report` renders them again.
Exit status: pytest's (0 all passed, 1 failures, ...); 2 for bad arguments."""


def add_parser(sub) -> None:
    p = sub.add_parser("benchmark", help="benchmark models on platforms through pytest and write a report",
                       description="Run the benchmark kind of the generated tests (pytest-benchmark timing), "
                                   "store the results and write an HTML or Markdown report.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    p.add_argument("--models", "-m", required=True, metavar="LIST",
                   help="comma list of models: registry names, model types, HF model ids or model directories")
    p.add_argument("--output", "-o", default="benchmark_report.html", metavar="FILE",
                   help="report file, .html or .md (default benchmark_report.html)")
    p.add_argument("--hw", "--platform", "-p", dest="hw", metavar="LIST",
                   help="comma list of platforms (default: every platform detected here)")
    p.add_argument("--batch-sizes", default="1", metavar="LIST", help="comma list of batch sizes (default 1)")
    p.add_argument("--precisions", default="fp32", metavar="LIST", help="comma list of fp32, fp16, bf16")
    p.add_argument("--rounds", metavar="N", help="timed rounds per item (default: pytest-benchmark's calibration)")
    p.add_argument("--warmup", metavar="N", help="untimed calls before the rounds (default 1 with --rounds)")
    p.add_argument("--generate", action="store_true",
                   help="time greedy generation (the generate_benchmark kind) and print model x platform x batch "
                        "-> TTFT ms, decode tokens/s, per-token p90")
    p.add_argument("--prompt-tokens", metavar="N", help="prompt length with --generate (default 8)")
    p.add_argument("--new-tokens", metavar="N", help="new tokens with --generate (default 16)")
    p.add_argument("--db", type=Path, default=None, help=f"results database (default {DEFAULT_DB}); 'none' stores nothing")
    p.add_argument("--quiet", "-q", action="store_true", help="pytest's short progress (dots) instead of one line per item")
    p.add_argument("--pytest-args", default="", metavar="ARGS", help="more pytest arguments, one shell-quoted string")
    p.set_defaults(func=run)


def _batch_sizes(raw: str | None) -> tuple[int, ...]:
    values = settings.split(raw)
    if not values:
        raise CliError(f"--batch-sizes: {raw!r} names no batch size")
    return converted("--batch-sizes", settings.batch_sizes, values)


def _precisions(raw: str | None) -> tuple[str, ...]:
    return converted("--precisions", settings.choices, settings.split(raw) or ("fp32",), settings.PRECISIONS)


def command(args: argparse.Namespace, rootdir: Path) -> list[str]:
    """The pytest command line this benchmark run executes (validated; CliError otherwise)."""
    from pytest_ipfs_accel.report import format_for
    from pytest_ipfs_accel.cli.generate import architectures, platforms

    models = architectures(args.models)
    output = Path(args.output).expanduser().resolve()
    try:
        format_for(output)
    except ValueError as exc:
        raise CliError(f"--output {exc}") from None
    generate = bool(getattr(args, "generate", False))
    cmd = [sys.executable, "-m", "pytest", *(() if generate else ("--benchmark-only",)), f"--rootdir={rootdir}",
           f"-c={rootdir / 'pytest.ini'}", f"--ipfs-models={','.join(models)}",
           "--ipfs-kinds=generate_benchmark" if generate else "--ipfs-kinds=benchmark",
           f"--ipfs-batch-sizes={','.join(map(str, _batch_sizes(args.batch_sizes)))}",
           f"--ipfs-precisions={','.join(_precisions(args.precisions))}", f"--ipfs-report={output}", "-rs"]
    if args.hw:
        cmd.append(f"--ipfs-hw={','.join(platforms(args.hw))}")
    if args.rounds is not None:
        cmd.append(f"--ipfs-benchmark-rounds={converted('--rounds', settings.count, args.rounds, 1)}")
    if args.warmup is not None:
        cmd.append(f"--ipfs-benchmark-warmup={converted('--warmup', settings.count, args.warmup, 0)}")
    for option, convert in (("prompt_tokens", settings.prompt_tokens), ("new_tokens", settings.new_tokens)):
        value = getattr(args, option, None)
        if value is not None:
            flag = option.replace("_", "-")
            cmd.append(f"--ipfs-{flag}={converted('--' + flag, convert, value)}")
    db = str(args.db) if args.db is not None else DEFAULT_DB
    cmd.append("--ipfs-db=none" if db.lower() == "none" else f"--ipfs-db={Path(db).expanduser().resolve()}")
    cmd.append("-q" if args.quiet else "-v")
    try:
        cmd += shlex.split(args.pytest_args)
    except ValueError as exc:
        raise CliError(f"--pytest-args: {exc}") from None
    return cmd


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="ipfs-accel-bench-") as tmp:
        root = Path(tmp)
        cmd = command(args, root)
        (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        print("ipfs-accel: running " + " ".join(shlex.quote(c) for c in cmd[1:]), flush=True)
        try:
            status = subprocess.run(cmd, cwd=root, env=_clean_env()).returncode
        except KeyboardInterrupt:
            return 130
    if status == 4:  # pytest's usage error: ours is 2
        print("ipfs-accel: error: pytest rejected the arguments (see above)", file=sys.stderr)
        return 2
    if getattr(args, "generate", False):
        print_generation_table(_db_path(cmd))
    return status  # the report plugin already said where the report went


def _db_path(cmd: list[str]) -> Path | None:
    db = next((c.split("=", 1)[1] for c in cmd if c.startswith("--ipfs-db=")), "none")
    return None if db == "none" else Path(db)


def print_generation_table(db: Path | None) -> None:
    """The newest run's generation rows in ``db`` as the model x platform x batch table."""
    from pytest_ipfs_accel.generation.table import render
    from pytest_ipfs_accel.store import queries
    from pytest_ipfs_accel.store.schema import StoreError

    if db is None:
        print("ipfs-accel: no generation table: --db none stores nothing to read it from")
        return
    try:
        with queries.connect(db) as con:
            newest = queries.runs(con, 1)
            records = queries.benchmarks(con, newest[0]["id"]) if newest else []
    except StoreError as exc:
        print(f"ipfs-accel: no generation table: {exc}")
        return
    lines = render(records)
    print("\n".join(["", "generation (greedy; medians over repeats):", *lines]) if lines
          else "ipfs-accel: no generation results in this run (see the skips and xfails above)")


def _clean_env() -> dict[str, str]:
    """This environment minus xdist's worker variables: when ipfs-accel itself runs inside an
    xdist worker, pytest-benchmark would take the child for a worker and refuse --benchmark-only."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}
