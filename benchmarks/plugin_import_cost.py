"""`pytest --co` on a plain project with the plugin installed vs disabled (goal: <= 1.05x).

The plugin is installed through its pytest11 entry point; `-p no:ipfs_accel` is what a run
without it looks like. Both runs collect the same 500 plain tests.
Usage: python benchmarks/plugin_import_cost.py [--runs 15]
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _timing import PYTEST, interleaved, runs_from_argv


def main() -> None:
    runs = runs_from_argv(__doc__, default=15)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i in range(50):
            (root / f"test_m{i}.py").write_text("".join(f"def test_{j}():\n    pass\n\n" for j in range(10)))
        co = ["--co", "-q", "-p", "no:cacheprovider"]
        t = interleaved({"with plugin": [*PYTEST, *co], "without": [*PYTEST, *co, "-p", "no:ipfs_accel"]},
                        root, runs)
    for name, secs in t.items():
        print(f"  {name:<12} {secs:6.3f} s")
    print(f"with / without = {t['with plugin'] / t['without']:.3f}x   (goal <= 1.05x; median of {runs})")


if __name__ == "__main__":
    main()
