"""Name resolution: registry names, transformers model types, directories, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pytest_ipfs_accel.models import registry
from pytest_ipfs_accel.models.registry import (
    KEY_MODELS,
    InvalidModelNameError,
    UnknownModelError,
    infer_modality,
    known_names,
    resolve,
)
from pytest_ipfs_accel.models.spec import MODALITIES

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _run_isolated(code: str) -> str:
    """Run ``code`` in a fresh interpreter (so sys.modules is clean) and return its stdout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_key_models_are_the_contracted_fourteen() -> None:
    assert KEY_MODELS == (
        "bert", "t5", "gpt2", "llama", "qwen2", "vit", "clip", "clap",
        "whisper", "wav2vec2", "llava", "llava_next", "xclip", "detr",
    )  # fmt: skip
    assert set(registry.KEY_TABLE) == set(KEY_MODELS)


@pytest.mark.parametrize("name", KEY_MODELS)
def test_key_model_specs(name: str) -> None:
    spec = resolve(name)
    assert spec.name == name
    assert spec.source == "tiny" and spec.path is None
    assert spec.modality in MODALITIES
    assert spec.model_type in registry.transformers_model_types()


def test_key_modalities_cover_every_input_kind() -> None:
    got = {n: resolve(n).modality for n in ("bert", "vit", "wav2vec2", "clip", "clap", "xclip", "t5", "whisper")}
    assert got == {
        "bert": "text", "vit": "vision", "wav2vec2": "audio", "clip": "text+image",
        "clap": "text+audio", "xclip": "video", "t5": "encoder-decoder", "whisper": "encoder-decoder",
    }  # fmt: skip


def test_registry_and_unknown_names_do_not_import_torch() -> None:
    out = _run_isolated(
        "import sys\n"
        "from pytest_ipfs_accel.models.registry import resolve, UnknownModelError\n"
        "[resolve(n) for n in ('bert', 'llava-next', 'XCLIP')]\n"
        "try:\n    resolve('bret')\nexcept UnknownModelError as e:\n    print(e.suggestions[0])\n"
        "print('torch' in sys.modules, 'transformers.models.bert' in sys.modules)\n"
    )
    assert out.splitlines() == ["bert", "False False"]


@pytest.mark.parametrize(
    ("given", "name", "model_type"),
    [("llava-next", "llava_next", "llava_next"), ("LLAMA", "llama", "llama"), ("xlm-roberta", "xlm_roberta", "xlm-roberta")],
)
def test_names_are_normalised(given: str, name: str, model_type: str) -> None:
    spec = resolve(given)
    assert (spec.name, spec.model_type) == (name, model_type)


@pytest.mark.parametrize(
    ("model_type", "modality"),
    [("roberta", "text"), ("swin", "vision"), ("beit", "vision"), ("hubert", "audio"), ("bart", "encoder-decoder"),
     ("siglip", "text+image"), ("qwen2_audio", "text+audio"), ("llava_next_video", "video"),
     ("pocket_tts_audio_tokenizer_encoder", "audio")],
)  # fmt: skip
def test_generic_model_types_get_inferred_modality(model_type: str, modality: str) -> None:
    spec = resolve(model_type)
    assert spec.source == "tiny" and spec.model_type == model_type
    assert spec.modality == modality


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(UnknownModelError) as info:
        resolve("bret")
    assert info.value.name == "bret"
    assert "bert" in info.value.suggestions
    assert "Did you mean" in str(info.value) and "known_names()" in str(info.value)


def test_unknown_name_without_matches() -> None:
    with pytest.raises(UnknownModelError) as info:
        resolve("zzzzqqqq")
    assert info.value.suggestions == []


@pytest.mark.parametrize(
    "bad",
    ['bert"', "bert'", "a b", "x\ny", "bert\n", "", "-bert", "__import__('os')", "{{ x }}", "a;b", "é"],
)
def test_invalid_names_are_rejected_before_transformers(bad: str) -> None:
    with pytest.raises(InvalidModelNameError) as info:
        resolve(bad)
    assert info.value.name == bad
    assert "invalid model name" in str(info.value)


@pytest.mark.parametrize("path", ["../no/such/dir", "./nope/", "/no/such/model"])
def test_a_missing_model_directory_is_named_as_such(path: str) -> None:
    """Issue 13.13: a path that is not there is a missing directory, not an invalid name."""
    with pytest.raises(UnknownModelError) as info:
        resolve(path)
    assert "does not exist" in str(info.value) and "invalid model name" not in str(info.value)


def test_non_string_name_is_invalid() -> None:
    with pytest.raises(InvalidModelNameError):
        resolve(42)  # type: ignore[arg-type]


def test_known_names_sorted_and_complete() -> None:
    names = known_names()
    assert names == sorted(names)
    assert set(KEY_MODELS) <= set(names)
    assert {"roberta", "xlm-roberta", "gpt_neox", "mistral"} <= set(names)
    assert len(names) > 500


def _model_dir(root, dirname: str, config: dict) -> str:
    path = root / dirname
    path.mkdir()
    (path / "config.json").write_text(json.dumps(config))
    return str(path)


def test_directory_resolves_with_plain_json(tmp_path) -> None:
    path = _model_dir(tmp_path, "My Model-v2.0", {"model_type": "vit", "image_size": 32})
    spec = resolve(path, trust_remote_code=True)
    assert spec.source == "path" and spec.path == path
    assert spec.name == "my_model_v2_0"
    assert (spec.model_type, spec.modality) == ("vit", "vision")
    assert spec.trust_remote_code is True


def test_relative_directory(tmp_path, monkeypatch) -> None:
    _model_dir(tmp_path, "local_bert", {"model_type": "bert", "vocab_size": 99})
    monkeypatch.chdir(tmp_path)
    spec = resolve("local_bert")
    assert spec.source == "path" and spec.path == str(tmp_path / "local_bert")
    assert spec.task == "feature-extraction" and spec.modality == "text"


def test_directory_without_config_json(tmp_path) -> None:
    with pytest.raises(UnknownModelError, match="no config.json"):
        resolve(str(tmp_path))


@pytest.mark.parametrize("config", [{"model_type": "bert\"; import os"}, {"vocab_size": 3}])
def test_directory_with_bad_model_type(tmp_path, config: dict) -> None:
    path = _model_dir(tmp_path, "m", config)
    with pytest.raises(UnknownModelError, match="model_type"):
        resolve(path)


@pytest.mark.parametrize(
    ("config", "modality"),
    [
        ({"is_encoder_decoder": True, "num_mel_bins": 80}, "encoder-decoder"),
        ({"audio_config": {}, "text_config": {}}, "text+audio"),
        ({"vision_config": {"num_frames": 8}, "text_config": {}}, "video"),
        ({"vision_config": {}, "vocab_size": 10}, "text+image"),
        ({"conv_dim": [512]}, "audio"),
        ({"feature_size": 1}, "audio"),
        ({"sampling_rate": 24000, "hidden_size": 8}, "audio"),
        ({"image_size": 224, "vocab_size": 8192}, "vision"),
        ({"num_channels": 3}, "vision"),
        ({"vocab_size": 100, "hidden_size": 8}, "text"),
    ],
)
def test_infer_modality_heuristic(config: dict, modality: str) -> None:
    assert infer_modality(config) == modality
