"""models x platforms x kinds -> the cells each generated module holds."""

from __future__ import annotations

from dataclasses import dataclass, field

from pytest_ipfs_accel.models.spec import ModelSpec
from pytest_ipfs_accel.settings import GENERATE_KINDS, RunConfig

REFERENCE = ("cpu", "fp32")  # torch on the CPU in fp32: what parity compares against


@dataclass(frozen=True)
class Target:
    """One parametrization of a test function: where, in what precision, at what batch size."""

    platform: str
    precision: str = "fp32"
    batch_size: int = 1
    prompt_tokens: int = 8  # the generate kinds only
    new_tokens: int = 16

    @property
    def id(self) -> str:
        """The readable param id in node IDs: ``openvino``, ``openvino-bf16``, ``onnxruntime-bs4``."""
        parts = [self.platform]
        if self.precision != "fp32":
            parts.append(self.precision)
        if self.batch_size != 1:
            parts.append(f"bs{self.batch_size}")
        return "-".join(parts)


@dataclass
class ModuleCells:
    """Everything generated for one model: one test module, one function per kind."""

    model: ModelSpec
    kinds: dict[str, list[Target]] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return f"test_{self.model.name}.py"

    @property
    def platforms(self) -> list[str]:
        return list(dict.fromkeys(t.platform for targets in self.kinds.values() for t in targets))


def kind_targets(kind: str, platforms: list[str], cfg: RunConfig) -> list[Target]:
    """The targets one kind gets: parity skips the reference itself, batch runs each size > 1 at fp32,
    benchmark runs every precision at every batch size."""
    if kind == "batch":
        return [Target(p, "fp32", b) for p in platforms for b in cfg.batch_sizes if b > 1]
    if kind in GENERATE_KINDS:  # fp32 at every batch size: parity is defined against torch cpu fp32
        return [Target(p, "fp32", b, cfg.prompt_tokens, cfg.new_tokens) for p in platforms for b in cfg.batch_sizes]
    if kind == "benchmark":  # every batch size, 1 included (its template spells ids with -bsN always)
        return [Target(p, precision, b) for p in platforms for precision in cfg.precisions for b in cfg.batch_sizes]
    targets = [Target(p, precision) for p in platforms for precision in cfg.precisions]
    if kind == "parity":
        targets = [t for t in targets if (t.platform, t.precision) != REFERENCE]
    return targets


def build_matrix(models: list[ModelSpec], platforms: list[str], cfg: RunConfig) -> list[ModuleCells]:
    """One ModuleCells per model, kinds in cfg order, empty kinds dropped; deterministic. The generate
    kinds go only to models whose architecture can generate (``generation.architectures``)."""
    from pytest_ipfs_accel.generation.architectures import can_generate

    matrix = []
    for spec in models:
        cells = ModuleCells(spec)
        for kind in cfg.kinds:
            if kind in GENERATE_KINDS and not can_generate(spec.model_type, spec.task):
                continue
            targets = kind_targets(kind, platforms, cfg)
            if targets:
                cells.kinds[kind] = targets
        matrix.append(cells)
    return matrix
