"""The repo's own test set-up: pytester for real sub-runs, and no network, ever."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

pytest_plugins = ["pytester"]
