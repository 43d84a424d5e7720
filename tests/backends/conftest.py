"""Models for backend tests: real key models from ``models``, plus one unexportable module.

torch is imported inside the fixtures, so the torch-free tests here run without it.
"""

from __future__ import annotations

import hashlib
import pathlib
from typing import Any

import pytest

from pytest_ipfs_accel.backends.artifacts import ArtifactCache
from pytest_ipfs_accel.backends.base import BackendUnavailable, get_backend
from pytest_ipfs_accel.models.spec import ModelSpec


def _solve_triangular_module() -> Any:
    """A module using ``aten::linalg_solve_triangular``: no ONNX exporter nor OpenVINO converts it."""
    torch = pytest.importorskip("torch")

    class SolveTriangular(torch.nn.Module):
        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            n = input_ids.shape[-1]
            a = torch.eye(n) + torch.triu(input_ids.float().T @ attention_mask.float())
            return torch.linalg.solve_triangular(a, torch.ones(n, 1), upper=True)

    return SolveTriangular()


class ModuleModel:
    """The LoadedModel surface the backends use, for a plain torch module."""

    def __init__(self, model: Any, name: str) -> None:
        self.spec = ModelSpec(name=name, model_type=name, modality="text")
        self.model, self.config, self.seed = model.eval(), None, 0

    def inputs(self, batch_size: int = 1, seed: int | None = None) -> dict[str, Any]:
        import torch

        ids = torch.randint(1, 100, (batch_size, 8), generator=torch.Generator().manual_seed(seed or 0))
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}

    def forward(self, inputs: dict[str, Any]) -> list[Any]:
        import torch

        from pytest_ipfs_accel.models.loaded import flatten_outputs

        with torch.no_grad():
            return flatten_outputs(self.model(**inputs))

    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.spec.name}|{self.seed}".encode()).hexdigest()


def _load(name: str) -> Any:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from pytest_ipfs_accel.models.loaded import load
    from pytest_ipfs_accel.models.registry import resolve

    return load(resolve(name))


@pytest.fixture
def backend(runtime: str) -> Any:
    """The backend for the test's ``runtime`` parameter; skipped where it is not installed."""
    try:
        return get_backend(runtime)
    except BackendUnavailable as e:
        pytest.skip(str(e))


@pytest.fixture(scope="session")
def bert() -> Any:
    return _load("bert")


@pytest.fixture(scope="session")
def t5() -> Any:
    return _load("t5")


@pytest.fixture(scope="session")
def unexportable() -> ModuleModel:
    return ModuleModel(_solve_triangular_module(), "solve_triangular")


@pytest.fixture(scope="session")
def artifact_cache(tmp_path_factory: pytest.TempPathFactory) -> ArtifactCache:
    """One cache for the session, so each (model, runtime) is exported once."""
    return ArtifactCache(pathlib.Path(tmp_path_factory.mktemp("artifacts")))
