"""Architecture coverage sweep: run the generated tests through pytest, then print fractions.

    python benchmarks/coverage.py                       # CI sample, cpu forward + ORT/OV parity
    python benchmarks/coverage.py --models all --hw cpu --kinds forward -n 2   # the full cpu-forward sweep
    python benchmarks/coverage.py --models all --sample 60                     # 60 spread over modalities
    python benchmarks/coverage.py --models all --every 6                       # every 6th: estimates the whole

Each item runs under pytest-timeout (``--timeout``) and xdist restarts crashed workers
(``--max-worker-restart``), so one hang or segfault cannot take the sweep down. Results go
to a DuckDB store (``--db``); the fractions are read back from it: built, forward on cpu,
ONNX export + onnxruntime parity, OpenVINO conversion + parity, with architectures that
need an optional package counted apart, and the most common failure reasons.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="sample", help="all | sample | task:NAME | modality:NAME | names (comma list)")
    p.add_argument("--sample", type=int, default=0, metavar="N", help="only N of the selection, spread over modalities")
    p.add_argument("--every", type=int, default=0, metavar="K",
                   help="only every K-th architecture of the sorted selection (an unbiased estimate of the whole)")
    p.add_argument("--hw", default="cpu,onnxruntime,openvino", help="platforms (default: %(default)s)")
    p.add_argument("--kinds", default="forward,parity", help="test kinds (default: %(default)s)")
    p.add_argument("-n", "--workers", default="2", help="xdist workers (default: %(default)s; 0 = no xdist)")
    p.add_argument("--timeout", type=int, default=240, help="seconds per item (default: %(default)s)")
    p.add_argument("--db", default=None, help="DuckDB store (default: a temporary file)")
    return p.parse_args(argv)


def models_arg(args: argparse.Namespace) -> str:
    """The ``--ipfs-models`` value: the selection, every K-th of it, or N of it spread over modalities."""
    if args.sample <= 0 and args.every <= 0:
        return args.models
    from transformers.utils import logging

    from pytest_ipfs_accel.models.selection import SelectorError, expand_names, spread

    logging.set_verbosity_error()  # default configs of old architectures warn about their token ids

    try:
        names = expand_names([m for m in args.models.split(",") if m])
    except SelectorError as exc:
        raise SystemExit(f"coverage.py: {exc}") from None
    names = names[:: args.every] if args.every > 0 else names
    return ",".join(spread(names, args.sample) if args.sample > 0 else names)


def pytest_cmd(args: argparse.Namespace, models: str, db: str, workdir: str) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", workdir,
           f"--ipfs-models={models}", f"--ipfs-hw={args.hw}", f"--ipfs-kinds={args.kinds}", f"--ipfs-db={db}",
           "-o", "console_output_style=classic"]
    if importlib.util.find_spec("pytest_timeout") is not None:
        cmd.append(f"--timeout={args.timeout}")
    else:
        print("coverage.py: pytest-timeout is not installed: items run without a time limit "
              "(pip install pytest-timeout)", file=sys.stderr)
    if args.workers not in ("0", ""):
        cmd += ["-n", args.workers, "--max-worker-restart=10000"]
    return cmd


def report(db: str) -> list[str]:
    """Summary lines of the newest run in the store."""
    from pytest_ipfs_accel.report.coverage import rows, summarize, summary_lines
    from pytest_ipfs_accel.store import queries

    with queries.connect(db) as con:
        last = queries.runs(con, limit=1)
        if not last:
            return ["no run recorded"]
        return summary_lines(summarize(rows(con, [last[0]["id"]])))


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    models = models_arg(args)
    with tempfile.TemporaryDirectory(prefix="ipfs-coverage-") as workdir:
        db = args.db or os.path.join(workdir, "coverage.duckdb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
        env.update(OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        start = time.perf_counter()
        proc = subprocess.run(pytest_cmd(args, models, db, workdir), cwd=workdir, env=env,
                              capture_output=True, text=True)
        took = time.perf_counter() - start
        tail = proc.stdout.strip().splitlines()[-1:] if proc.stdout.strip() else [proc.stderr.strip()[-500:]]
        if proc.returncode not in (0, 1):  # 1 = some tests failed, which a sweep expects
            print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
            print(f"coverage.py: pytest exited {proc.returncode}", file=sys.stderr)
            return 2
        print(f"pytest: {tail[0] if tail else ''}")
        print(f"sweep wall time: {took:.0f} s with -n {args.workers} "
              f"(load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        for line in report(db):
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
