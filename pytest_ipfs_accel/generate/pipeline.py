"""RunConfig -> resolved models and platforms -> matrix -> sources. One function per step."""

from __future__ import annotations

from typing import Callable

from pytest_ipfs_accel.models.spec import ModelSpec
from pytest_ipfs_accel.settings import RunConfig
from pytest_ipfs_accel.generate.matrix import ModuleCells, build_matrix
from pytest_ipfs_accel.generate.render import Rendered, TemplateError, render


class PlanError(ValueError):
    """A problem with one option's value: ``option`` is its key (``models``, ``templates``) so that
    pytest says ``--ipfs-models: ...`` (a UsageError, made by the plugin) and the CLI names its own
    flag with the same ``detail``."""

    def __init__(self, option: str, detail: str) -> None:
        self.option, self.detail = option, detail
        super().__init__(f"--ipfs-{option}: {detail}")


def resolve_models(cfg: RunConfig) -> list[ModelSpec]:
    """Registry names, model types, local dirs or selectors (``all``, ``task:..``, ``modality:..``)
    -> ModelSpecs; bad names and selectors are usage errors."""
    from pytest_ipfs_accel.models.pretrained import missing_dir
    from pytest_ipfs_accel.models.registry import InvalidModelNameError, UnknownModelError, resolve
    from pytest_ipfs_accel.models.selection import SelectorError, expand_names

    try:
        names = expand_names(cfg.models)
    except SelectorError as exc:
        raise PlanError("models", str(exc)) from None
    specs: dict[str, ModelSpec] = {}
    for name in names:
        problem = missing_dir(name)
        if problem:
            raise PlanError("models", problem)
        try:
            spec = resolve(name, trust_remote_code=cfg.trust_remote_code)
        except (UnknownModelError, InvalidModelNameError) as exc:
            raise PlanError("models", str(exc)) from None
        if spec.name in specs and specs[spec.name] != spec:
            raise PlanError("models", f"{name!r} and another entry both map to test_{spec.name}.py; "
                                      "rename one of the model directories.")
        specs[spec.name] = spec
    return list(specs.values())


def resolve_platforms(cfg: RunConfig, decided: list[str] | None = None) -> list[str]:
    """The requested platforms; else ``decided`` (on an xdist worker: the controller's detection,
    so that every worker collects the same items); else every platform detected here."""
    if cfg.hw is not None:
        return list(cfg.hw)
    if decided is not None:
        return list(decided)
    from pytest_ipfs_accel.hardware import detected_names

    return detected_names()


def plan(cfg: RunConfig, decided: list[str] | None = None,
         modify: Callable[[list[ModuleCells]], None] | None = None) -> list[ModuleCells]:
    """The matrix for this run; ``modify`` may edit it in place (the plugin passes its
    ``pytest_ipfs_modify_matrix`` hook)."""
    matrix = build_matrix(resolve_models(cfg), resolve_platforms(cfg, decided), cfg)
    if modify is not None:
        modify(matrix)
    return [cells for cells in matrix if cells.kinds]


def sources(cfg: RunConfig, matrix: list[ModuleCells]) -> dict[str, Rendered]:
    """filename -> rendered module for every cell group; template problems are usage errors."""
    from pytest_ipfs_accel.store.templates import TemplateDBError

    out = {}
    for cells in matrix:
        context = {"seed": cfg.seed, "model_arg": cells.model.path or cells.model.name}
        try:
            out[cells.filename] = render(cells, context, cfg.templates)
        except TemplateError as exc:
            raise PlanError("templates", f"template error: {exc}") from None
        except TemplateDBError as exc:
            raise PlanError("templates", str(exc)) from None
    return out
