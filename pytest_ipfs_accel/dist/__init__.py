"""pytest-xdist support: identical collection on every worker, a model- and hardware-aware
scheduler, pytest-benchmark timing on workers behind a per-device lock.

Wiring (plugin.py, ``pytest_configure`` when models are active): ``dist.plugin.register(config)``.
"""
