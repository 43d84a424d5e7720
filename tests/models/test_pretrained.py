"""Local directories: a saved tiny bert round-trips through resolve() + load()."""

from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from pytest_ipfs_accel.models import ModelBuildError, load, resolve  # noqa: E402
from pytest_ipfs_accel.models.loaded import build  # noqa: E402
from pytest_ipfs_accel.models.pretrained import is_model_dir, read_config_json, weights_stamp  # noqa: E402


@pytest.fixture
def saved_bert(tmp_path):
    """A tiny random bert saved with ``save_pretrained``; returns (directory, the tiny LoadedModel)."""
    tiny = build(resolve("bert"), seed=5)
    path = tmp_path / "Saved Bert"
    tiny.model.save_pretrained(path)
    tiny.config.save_pretrained(path)
    return path, tiny


def test_saved_directory_loads_identical_weights(saved_bert) -> None:
    path, tiny = saved_bert
    spec = resolve(str(path))
    assert (spec.source, spec.name, spec.model_type, spec.modality) == ("path", "saved_bert", "bert", "text")
    lm = load(spec)
    assert lm.level is None and not lm.model.training
    want, got = tiny.model.state_dict(), lm.model.state_dict()
    assert want.keys() == got.keys()
    for key, value in want.items():
        assert torch.equal(value, got[key]), key


def test_saved_directory_gives_the_same_outputs(saved_bert) -> None:
    path, tiny = saved_bert
    lm = load(resolve(str(path)), seed=tiny.seed)
    feed = lm.inputs(batch_size=2)
    for a, b in zip(lm.forward(feed), tiny.forward(feed), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_fingerprint_follows_the_weight_files(saved_bert) -> None:
    path, tiny = saved_bert
    spec = resolve(str(path))
    before = build(spec).fingerprint()
    assert before != tiny.fingerprint()  # same config, but a path source
    assert build(spec).fingerprint() == before
    build(resolve("bert"), seed=6).model.save_pretrained(path)
    assert build(spec).fingerprint() != before


def test_directory_helpers(saved_bert, tmp_path) -> None:
    path, _ = saved_bert
    assert is_model_dir(path) and not is_model_dir(tmp_path)
    assert read_config_json(path)["model_type"] == "bert"
    assert [name for name, _, _ in weights_stamp(path)] == ["model.safetensors"]
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        read_config_json(tmp_path / "bad")


def test_directory_without_weights_is_a_build_error(tmp_path) -> None:
    path = tmp_path / "empty_bert"
    path.mkdir()
    (path / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 32}))
    with pytest.raises(ModelBuildError) as info:
        load(resolve(str(path)))
    assert "'empty_bert'" in str(info.value) and str(path) in str(info.value)


def test_missing_dir_names_the_directory_not_an_invalid_name(tmp_path, monkeypatch):
    from pytest_ipfs_accel.models.pretrained import missing_dir

    monkeypatch.chdir(tmp_path)
    assert missing_dir("./nope/") == f"the model directory './nope/' does not exist (looked at {tmp_path / 'nope'})"
    assert "does not exist" in missing_dir("nope/x")
    assert missing_dir("nope/x", hub_ids=True) is None  # may be a Hugging Face id for the CLI
    (tmp_path / "afile").write_text("")
    assert "is a file" in missing_dir("./afile")
    (tmp_path / "there").mkdir()
    assert missing_dir("./there") is None and missing_dir("bert") is None
