"""The repo's own test set-up: pytester for real sub-runs, and no network, ever."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# Imported before any in-process pytester run snapshots sys.modules: pytester drops the modules a
# run imported, and numpy (like duckdb) cannot be imported a second time in one process.
import numpy  # noqa: E402,F401

pytest_plugins = ["pytester"]
