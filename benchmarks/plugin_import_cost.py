"""`pytest --co` on a plain project with the plugin installed vs disabled (goal: <= 1.05x).

The plugin is installed through its pytest11 entry point; `-p no:ipfs_accel` is what a run
without it looks like. Both runs collect the same 500 plain tests.
Usage: python benchmarks/plugin_import_cost.py [--runs 15]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _timing import PYTEST, interleaved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i in range(50):
            (root / f"test_m{i}.py").write_text("".join(f"def test_{j}():\n    pass\n\n" for j in range(10)))
        co = ["--co", "-q", "-p", "no:cacheprovider"]
        t = interleaved({"with plugin": [*PYTEST, *co], "without": [*PYTEST, *co, "-p", "no:ipfs_accel"]},
                        root, args.runs)
    for name, secs in t.items():
        print(f"  {name:<12} {secs:6.3f} s")
    print(f"with / without = {t['with plugin'] / t['without']:.3f}x   (goal <= 1.05x; median of {args.runs})")


if __name__ == "__main__":
    main()
