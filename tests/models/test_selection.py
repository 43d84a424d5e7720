"""--ipfs-models selectors: all, task:<pipeline task>, modality:<name>, sample."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from pytest_ipfs_accel.generate.pipeline import PlanError, resolve_models  # noqa: E402
from pytest_ipfs_accel.models.selection import (  # noqa: E402
    CI_SAMPLE,
    SelectorError,
    base_model_types,
    expand,
    expand_names,
    is_selector,
    spread,
)
from pytest_ipfs_accel.settings import RunConfig  # noqa: E402


def test_all_is_every_base_automodel_architecture_sorted() -> None:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
    from transformers.models.auto.modeling_auto import MODEL_MAPPING_NAMES

    everything = expand("all")
    assert everything == sorted(set(CONFIG_MAPPING_NAMES) & set(MODEL_MAPPING_NAMES))
    assert {"bert", "llava", "whisper"} <= set(everything)


def test_task_uses_transformers_pipeline_mappings() -> None:
    generation = expand("task:text-generation")
    assert generation == sorted(generation)
    assert {"llama", "gpt2", "qwen2"} <= set(generation)
    assert "vit" not in generation
    assert set(generation) <= set(base_model_types())
    assert "detr" in expand("task:object-detection")


def test_task_aliases_match_their_task() -> None:
    assert expand("task:ner") == expand("task:token-classification")


def test_automodel_tasks_are_narrowed_by_modality() -> None:
    images = expand("task:image-feature-extraction")
    assert "vit" in images and "bert" not in images


@pytest.mark.parametrize(("selector", "valid"), [("task:nope", "text-generation"), ("modality:smell", "vision")])
def test_bad_selector_lists_valid_names(selector: str, valid: str) -> None:
    with pytest.raises(SelectorError, match=valid):
        expand(selector)


def test_modality_selector_and_alias() -> None:
    video = expand("modality:video")
    assert "videomae" in video and "bert" not in video
    assert expand("modality:text+vision") == expand("modality:text+image")
    assert "clip" in expand("modality:text+image")


def test_plain_names_combine_with_selectors_without_duplicates() -> None:
    names = expand_names(["bert", "task:depth-estimation", "bert", "dpt"])
    assert names[0] == "bert"
    assert names.count("dpt") == 1
    assert names[1:] == sorted(names[1:])
    assert not is_selector("bert") and is_selector("all") and is_selector("task:x")


def test_sample_is_fixed_and_known() -> None:
    assert expand("sample") == sorted(CI_SAMPLE)
    assert set(CI_SAMPLE) <= set(base_model_types())
    assert 25 <= len(CI_SAMPLE) <= 35


def test_spread_is_deterministic_and_crosses_modalities() -> None:
    from pytest_ipfs_accel.models.registry import resolve

    picked = spread(list(base_model_types()), 24)
    assert picked == spread(list(base_model_types()), 24)
    assert len(picked) == 24 == len(set(picked))
    assert len({resolve(t).modality for t in picked}) >= 5


def test_resolve_models_expands_selectors_and_rejects_bad_ones() -> None:
    specs = resolve_models(RunConfig(models=("bert", "task:depth-estimation"), hw=("cpu",)))
    assert [s.name for s in specs][0] == "bert" and len(specs) == 1 + len(expand("task:depth-estimation"))
    with pytest.raises(PlanError, match="--ipfs-models: unknown task 'nope'.*text-generation"):
        resolve_models(RunConfig(models=("task:nope",), hw=("cpu",)))
