"""The 14 key models build tiny, offline, deterministically, and run finite and batch-consistent."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from pytest_ipfs_accel.models import KEY_MODELS, LoadedModel, load, resolve  # noqa: E402
from pytest_ipfs_accel.models.loaded import build  # noqa: E402
from pytest_ipfs_accel.models.overrides import OVERRIDES  # noqa: E402

MAX_PARAMS = 2_000_000


def _loaded(name: str) -> LoadedModel:
    return load(resolve(name))


def _n_params(lm: LoadedModel) -> int:
    return sum(p.numel() for p in lm.model.parameters())


@pytest.mark.parametrize("name", KEY_MODELS)
def test_builds_tiny_fp32_eval_without_fallback(name: str) -> None:
    lm = _loaded(name)
    assert 0 < _n_params(lm) < MAX_PARAMS
    assert lm.level == "tiny"
    assert not lm.model.training
    assert {p.dtype for p in lm.model.parameters()} == {torch.float32}
    assert {p.device.type for p in lm.model.parameters()} == {"cpu"}
    # key models need no probing: their knobs are exactly the overrides table's
    assert lm.knobs == OVERRIDES.get(lm.spec.model_type, {}).get("inputs", {})


@pytest.mark.parametrize("name", KEY_MODELS)
def test_outputs_are_finite(name: str) -> None:
    lm = _loaded(name)
    outputs = lm.forward(lm.inputs())
    assert outputs and all(isinstance(t, torch.Tensor) for t in outputs)
    for t in outputs:
        assert torch.isfinite(t).all() if t.is_floating_point() else True


@pytest.mark.parametrize("name", KEY_MODELS)
def test_same_seed_same_weights_other_seed_differs(name: str) -> None:
    spec = resolve(name)
    first, again, other = load(spec, 0), build(spec, 0), build(spec, 1)
    a, b, c = (m.model.state_dict() for m in (first, again, other))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a if a[k].is_floating_point())
    assert first.fingerprint() == again.fingerprint() != other.fingerprint()
    assert len(first.fingerprint()) == 64


def test_load_is_cached_per_spec_and_seed() -> None:
    spec = resolve("bert")
    assert load(spec, 0) is load(spec, 0)
    assert load(spec, 0) is not load(spec, 2)


@pytest.mark.parametrize("name", KEY_MODELS)
def test_uncached_build_with_another_seed_forwards(name: str) -> None:
    # (how fast builds are is a benchmark's business, not a timed test's: these machines are shared)
    lm = build(resolve(name), seed=11)
    assert lm is not _loaded(name) and lm.forward(lm.inputs())


def _batch_comparable(batched: list, single: list, n: int) -> list[int]:
    """Indices of outputs that carry a batch dim in both the batched and single runs."""
    assert len(batched) == len(single), "the number of outputs must not depend on the batch size"
    return [
        i
        for i, (b, s) in enumerate(zip(batched, single))
        if b.dim() and s.dim() and b.shape[0] == n and s.shape[0] == 1 and b.shape[1:] == s.shape[1:]
    ]


@pytest.mark.parametrize("name", KEY_MODELS)
def test_batched_forward_equals_stacked_singles(name: str) -> None:
    lm, n, seed = _loaded(name), 3, 40
    batched = lm.forward(lm.inputs(batch_size=n, seed=seed))
    singles = [lm.forward(lm.inputs(1, seed=seed + i)) for i in range(n)]
    compared = _batch_comparable(batched, singles[0], n)
    assert compared, "no output with a batch dim"
    for i in compared:
        stacked = torch.cat([s[i] for s in singles])
        torch.testing.assert_close(batched[i], stacked, atol=1e-4, rtol=1e-4)


def test_detr_uses_native_resnet_backbone() -> None:
    config = _loaded("detr").config
    assert config.backbone_config.model_type == "resnet"
    assert not getattr(config, "use_timm_backbone", False)


@pytest.mark.parametrize("name", ["llava", "llava_next"])
def test_vlm_placeholders_match_vision_tower(name: str) -> None:
    lm = _loaded(name)
    feed = lm.inputs()
    n_tokens = int((feed["input_ids"] == lm.config.image_token_id).sum())
    assert n_tokens == OVERRIDES[name].get("inputs", {}).get("n_image_tokens", lm.config.image_seq_length)
    assert lm.forward(feed)[0].shape[1] == feed["input_ids"].shape[1]


def test_flatten_outputs_order_and_per_item_lists() -> None:
    from pytest_ipfs_accel.models.loaded import flatten_outputs

    a, b1, b2 = torch.zeros(2, 3), torch.ones(4, 8), torch.ones(5, 8)
    layers = (torch.zeros(1, 2, 3), torch.ones(1, 2, 3))
    flat = flatten_outputs({"a": a, "b": [b1, b2], "none": None, "layers": layers, "n": 3})
    assert [tuple(t.shape) for t in flat] == [(2, 3), (9, 8), (1, 2, 3), (1, 2, 3)]
    assert [tuple(t.shape) for t in flatten_outputs((a, a))] == [(2, 3), (2, 3)]  # top-level fields stay apart
