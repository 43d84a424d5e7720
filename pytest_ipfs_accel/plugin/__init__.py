"""pytest hooks only: options, markers, and generated items at collection.

Everything here is cheap to import; the plugin stays inert unless models are
asked for (``--ipfs-models`` or the ``ipfs_models`` ini key).
"""

from __future__ import annotations

import pytest

from pytest_ipfs_accel.plugin import options
from pytest_ipfs_accel.markers import HELP as MARKER_HELP
from pytest_ipfs_accel.plugin.fixtures import ipfs_artifacts  # noqa: F401  (fixture registered with the plugin)

RUN_CONFIG = pytest.StashKey["options.RunConfig"]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_ipfs_accel.plugin import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    from pytest_ipfs_accel.plugin.run_settings import addoptions as add_dist_options
    from pytest_ipfs_accel.plugin.expectations import addoptions as add_expectation_options
    from pytest_ipfs_accel.plugin.report_options import addoptions as add_report_options
    from pytest_ipfs_accel.plugin.accelerator import addoptions as add_accelerator_options
    from pytest_ipfs_accel.plugin.bench_options import addoptions as add_bench_options
    from pytest_ipfs_accel.plugin.store_options import addoptions as add_store_options

    options.addoptions(parser)
    add_store_options(parser)
    add_bench_options(parser)
    add_report_options(parser)
    add_accelerator_options(parser)
    add_dist_options(parser)
    add_expectation_options(parser)


def register_platforms(config: pytest.Config) -> None:
    """Add what ``pytest_ipfs_platforms`` hooks return to the platform registry, once per config."""
    if config.stash.get(_PLATFORMS_ADDED, False):
        return
    config.stash[_PLATFORMS_ADDED] = True
    for returned in config.hook.pytest_ipfs_platforms(config=config):
        if not returned:
            continue
        from pytest_ipfs_accel.hardware import registry  # only when a hook adds something: start-up stays cheap

        try:
            specs = list(returned or ())
            registry.add(specs, "a pytest_ipfs_platforms hook")
        except TypeError as exc:
            raise pytest.UsageError(f"{exc}; return a list of pytest_ipfs_accel.hardware.PlatformSpec") from None
        config.add_cleanup(lambda specs=specs: registry.discard(specs))  # an in-process rerun starts clean


_PLATFORMS_ADDED = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    register_platforms(config)  # before --ipfs-hw is read: a conftest's platform is a known name
    for marker in MARKER_HELP:
        config.addinivalue_line("markers", marker)
    cfg = _run_config(config)
    from pytest_ipfs_accel.plugin.accelerator import required
    from pytest_ipfs_accel.plugin.bench_options import timing_settings

    timing_settings(config)  # stashed (runtime.timing.TIMING): emitted files' benchmark items read it too
    required(config)  # stashed: items read --ipfs-require-accelerator from there
    from pytest_ipfs_accel.plugin.expectations import register as register_expectations

    register_expectations(config, cfg.active)  # also for emitted files: their items carry the markers
    if cfg.active:
        from pytest_ipfs_accel.generate.pipeline import resolve_models
        from pytest_ipfs_accel.plugin.collect import refuse_real_files, usage_errors

        # unknown or malformed model names, and real files where the in-memory modules go, fail
        # here, before any session work
        with usage_errors():
            specs = resolve_models(cfg)
        refuse_real_files(config.rootpath, specs)
        recorder = _register_run_plugins(config)
        from pytest_ipfs_accel.plugin.distributed import register as register_dist

        # here, not trylast: it must run before pytest-benchmark's configure
        register_dist(config, getattr(recorder, "run_id", None))


def _run_config(config: pytest.Config) -> options.RunConfig:
    """The options resolved once into the stashed RunConfig (``pytest_cmdline_main`` comes first)."""
    if RUN_CONFIG not in config.stash:
        kinds = [spec for returned in config.hook.pytest_ipfs_kinds(config=config) for spec in returned or ()]
        config.stash[RUN_CONFIG] = options.from_pytest(config, kinds)
    return config.stash[RUN_CONFIG]


def _register_run_plugins(config: pytest.Config):
    """The store recorder, the regression gate and the reports: only for runs that generate tests.
    Each gets the plugins it reads when it is built; returns the recorder (None: ``--ipfs-db=none``)."""
    from pytest_ipfs_accel.plugin.report import ReportPlugin
    from pytest_ipfs_accel.plugin.gate import register as register_compare
    from pytest_ipfs_accel.plugin.run_settings import is_worker

    from pytest_ipfs_accel.plugin.recorder import ItemLabels

    config.pluginmanager.register(ItemLabels(), "ipfs-accel-item-labels")
    if is_worker(config):
        return None  # a worker's reports travel to the controller, which records, compares and reports
    recorder = _register_recorder(config)
    comparator = register_compare(config, recorder)  # validates the benchmark options; compares when asked
    config.pluginmanager.register(ReportPlugin(config, recorder, comparator), "ipfs-accel-report")
    return recorder


def _register_recorder(config: pytest.Config):
    """Store results in DuckDB unless ``--ipfs-db=none`` (duckdb is imported only when it opens)."""
    from pytest_ipfs_accel.plugin.store_options import db_path
    from pytest_ipfs_accel.plugin.recorder import Recorder

    path = db_path(config)
    if path is None:
        return None
    recorder = Recorder(config, path)
    config.pluginmanager.register(recorder, "ipfs-accel-recorder")
    return recorder


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``--ipfs-require-accelerator``: skip items on emulated / software platforms."""
    from pytest_ipfs_accel.plugin.accelerator import skip_if_emulated

    skip_if_emulated(item)


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Memory guard for long sweeps: drop a model's cached runners when its generated module is done."""
    if item.get_closest_marker("ipfs_model") is None:
        return
    if nextitem is None or nextitem.path != item.path:
        import sys

        from pytest_ipfs_accel.runtime.checks import clear_caches

        clear_caches()
        generation = sys.modules.get("pytest_ipfs_accel.runtime.generation")  # only if a generate kind ran
        if generation is not None:
            generation.clear_caches()


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """``--ipfs-emit=DIR``: write the generated modules and exit without running them."""
    register_platforms(config)
    cfg = _run_config(config)
    if cfg.emit is None:
        return None
    if not cfg.active:
        raise pytest.UsageError("--ipfs-emit needs models: add --ipfs-models=NAME[,NAME...]")
    from pytest_ipfs_accel.generate.emit import EmitError, emit
    from pytest_ipfs_accel.plugin.collect import planned_sources

    sources = planned_sources(cfg, config)
    try:
        written = emit(cfg.emit, {name: r.source for name, r in sources.items()}, force=cfg.emit_force,
                       flag="--ipfs-emit-force")
    except EmitError as exc:
        raise pytest.UsageError(f"--ipfs-emit: {exc}") from None
    for path in written:
        print(f"ipfs-accel: wrote {path}")
    print(f"ipfs-accel: {len(written)} test file(s) in {cfg.emit}; run them with: pytest {cfg.emit}", flush=True)
    return 0


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Append the generated items (before -k, -m, --deselect and --lf filter them)."""
    cfg = config.stash[RUN_CONFIG]
    if not cfg.active:
        return
    from pytest_ipfs_accel.plugin.collect import generated_items, planned_sources

    items.extend(generated_items(session, planned_sources(cfg, config)))


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    cfg = config.stash.get(RUN_CONFIG, None)
    if cfg is None or not cfg.active:
        return None
    hw = ",".join(cfg.hw) if cfg.hw else "every detected platform"
    return [f"ipfs-accel: models={','.join(cfg.models)} hw={hw} kinds={','.join(cfg.kinds)} seed={cfg.seed}"]
