"""Which of the run's process-side plugins each process gets, as xdist keeps ``DSession`` and
``WorkerInteractor`` apart: :class:`~pytest_ipfs_accel.plugin.run_settings.RunSettings` and the
pytest-benchmark relay everywhere; :class:`~pytest_ipfs_accel.plugin.controller.ControllerPlugin` on
an xdist controller only; :class:`~pytest_ipfs_accel.plugin.worker.WorkerPlugin` on workers only.
What travels between them is declared in ``plugin.wire``.
"""

from __future__ import annotations

import pytest

from pytest_ipfs_accel.plugin.run_settings import is_worker

CONTROLLER_PLUGIN = "ipfs-accel-controller"
WORKER_PLUGIN = "ipfs-accel-worker"
SETTINGS_PLUGIN = "ipfs-accel-device-lock"


def register(config: pytest.Config, run_id: str | None = None) -> None:
    """Call from pytest_configure when models are active (controller, workers and plain runs);
    ``run_id`` is the recorder's (the device locks of this run are named after it)."""
    from pytest_ipfs_accel.plugin.benchmark_xdist import install as install_benchmark
    from pytest_ipfs_accel.plugin.run_settings import RunSettings

    if not config.pluginmanager.has_plugin(SETTINGS_PLUGIN):
        config.pluginmanager.register(RunSettings(config, run_id), SETTINGS_PLUGIN)
    install_benchmark(config)
    if is_worker(config):
        from pytest_ipfs_accel.plugin.worker import WorkerPlugin

        config.pluginmanager.register(WorkerPlugin(config), WORKER_PLUGIN)
    elif config.pluginmanager.has_plugin("xdist"):
        from pytest_ipfs_accel.plugin.controller import ControllerPlugin

        config.pluginmanager.register(ControllerPlugin(config), CONTROLLER_PLUGIN)
