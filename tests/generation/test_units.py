"""Pure parts of the generate kinds: metrics, token parity, prompts, architectures, options, matrix, rows."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from pytest_ipfs_accel.generate.matrix import build_matrix
from pytest_ipfs_accel.generation import architectures, metrics, parity, table
from pytest_ipfs_accel.generation.result import Generation, make_prompt
from pytest_ipfs_accel.models.spec import ModelSpec
from pytest_ipfs_accel.models.tokenizer import special_ids, vocabulary
from pytest_ipfs_accel import settings
from pytest_ipfs_accel.settings import RunConfig


def run(ttft: float, steps: list[float], total: float) -> Generation:
    return Generation(tokens=[[1, 2, 3]], ttft_s=ttft, steps_s=steps, total_s=total)


def test_metrics_follow_optimum_benchmark_definitions_on_medians():
    runs = [run(0.010, [0.001, 0.003], 0.014), run(0.030, [0.002, 0.002], 0.034), run(0.020, [0.001, 0.001], 0.022)]
    got = metrics.summarize(runs, batch=4, prompt_tokens=8, new_tokens=3)
    assert got["ttft_s"] == pytest.approx(0.020)  # median prefill, never the mean
    assert got["decode_s"] == pytest.approx(0.004)  # median of (total - prefill) = [0.004, 0.004, 0.002]
    assert got["median_s"] == pytest.approx(0.022) and got["rounds_s"] == [0.014, 0.034, 0.022]
    assert got["prefill_tokens_per_s"] == pytest.approx(4 * 8 / 0.020)
    assert got["decode_tokens_per_s"] == pytest.approx(4 * (3 - 1) / 0.004)
    assert got["token_p50_s"] == pytest.approx(0.0015)  # every step of every repeat, interpolated
    assert got["token_p90_s"] == pytest.approx(0.0025) and got["token_p99_s"] == pytest.approx(0.00295)
    assert got["cv"] > 0 and got["rounds"] == 3 and (got["prompt_tokens"], got["new_tokens"]) == (8, 3)
    assert got["token_times_s"][1] == {"ttft": 0.030, "steps": [0.002, 0.002], "total": 0.034}
    json.dumps(got)  # travels to the xdist controller as a user property
    with pytest.raises(ValueError):
        metrics.summarize([], 1, 8, 16)


def test_token_parity_names_the_first_differing_step_row_and_tokens():
    assert parity.token_parity([[5, 6, 7], [1, 2, 3]], [[5, 6, 7], [1, 2, 3]]).ok
    found = parity.token_parity([[5, 6, 7], [1, 2, 3]], [[5, 6, 7], [1, 9, 3]])
    assert not found.ok and (found.step, found.row) == (1, 1)
    assert "new token 2 of 3 (row 1): token 9, reference 2" in found.detail
    short = parity.token_parity([[5, 6, 7]], [[5]])
    assert not short.ok and short.step == 1 and "stopped after 1 tokens" in short.detail
    assert "rows" in parity.token_parity([[1]], [[1], [1]]).detail


def test_prompt_rows_are_seeded_per_row_and_avoid_special_ids():
    two = make_prompt(50, 8, 16, 2, seed=3, avoid={7, 9})
    assert two.batch == 2 and two.length == 8 and two.new_tokens == 16
    assert two.input_ids[1] == make_prompt(50, 8, 16, 1, seed=4, avoid={7, 9}).input_ids[0]
    assert not {0, 1, 2, 7, 9} & {t for row in two.input_ids for t in row}


def test_generating_families_come_from_transformers_tables_without_torch():
    pytest.importorskip("transformers")
    assert architectures.family("llama") == "causal" and architectures.family("qwen2") == "causal"
    assert architectures.family("t5") == "seq2seq" and architectures.family("whisper") == "speech"
    assert architectures.family("llava") == "vision"
    assert architectures.family("vit") is None and not architectures.can_generate("vit")
    assert architectures.family("my_local_type", "text-generation") == "causal"


def test_prompt_and_new_token_converters_check_bounds():
    assert settings.prompt_tokens("") == 8 and settings.new_tokens("") == 16
    assert settings.prompt_tokens("32") == 32
    with pytest.raises(settings.OptionValueError, match="from 2 to"):
        settings.new_tokens("1")  # decode needs two new tokens
    with pytest.raises(settings.OptionValueError):
        settings.prompt_tokens("0")


def test_generate_kinds_only_go_to_models_that_can_generate():
    pytest.importorskip("transformers")
    cfg = RunConfig(models=("llama", "vit"), hw=None, kinds=("load", "generate", "generate_benchmark"),
                    batch_sizes=(1, 4), prompt_tokens=5, new_tokens=7)
    specs = [ModelSpec("llama", "llama", "text", "text-generation"), ModelSpec("vit", "vit", "vision")]
    llama, vit = build_matrix(specs, ["cpu", "onnxruntime"], cfg)
    assert list(llama.kinds) == ["load", "generate", "generate_benchmark"] and list(vit.kinds) == ["load"]
    targets = llama.kinds["generate"]
    assert [(t.platform, t.batch_size, t.id) for t in targets] == [
        ("cpu", 1, "cpu"), ("cpu", 4, "cpu-bs4"), ("onnxruntime", 1, "onnxruntime"), ("onnxruntime", 4, "onnxruntime-bs4")]
    assert {(t.precision, t.prompt_tokens, t.new_tokens) for t in targets} == {("fp32", 5, 7)}


def test_tiny_vocabulary_names_special_ids_and_always_has_an_unknown_token():
    config = SimpleNamespace(vocab_size=6, bos_token_id=1, eos_token_id=[2, 3], pad_token_id=0, unk_token_id=None)
    found = special_ids(config)
    assert found == {"<s>": 1, "</s>": 2, "<pad>": 0}
    vocab = vocabulary(6, found)
    assert vocab == {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "t4": 4, "t5": 5}
    assert special_ids(SimpleNamespace(vocab_size=4, eos_token_id=99)) == {}  # outside the vocabulary


def test_generation_table_lists_only_generation_rows_in_order():
    rows = [{"model": "qwen2", "platform": "cpu", "batch_size": 1, "ttft_s": 0.002, "decode_tokens_per_s": 500.0,
             "token_p90_s": 0.0021, "prefill_tokens_per_s": 4000.0, "cv": 0.1},
            {"model": "bert", "platform": "cpu", "batch_size": 1, "ttft_s": None},  # a forward benchmark
            {"model": "llama", "platform": "openvino", "batch_size": 4, "ttft_s": 0.001, "decode_tokens_per_s": 9.5,
             "token_p90_s": None, "prefill_tokens_per_s": None, "cv": None}]
    lines = table.render(rows)
    assert lines[0].split()[:4] == ["model", "platform", "batch", "TTFT"]
    assert [ln.split()[:3] for ln in lines[1:]] == [["llama", "openvino", "4"], ["qwen2", "cpu", "1"]]
    assert lines[2].split()[3:6] == ["2.000", "500", "2.100"] and lines[1].split()[5] == "-"
    assert table.render(rows[1:2]) == []
