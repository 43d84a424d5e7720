"""benchmarks/generation_coverage.py: its order, its pytest command, and its table from a real DuckDB store."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pytest_ipfs_accel.generation.architectures import families
from pytest_ipfs_accel.store.schema import RunRow, TestResultRow
from pytest_ipfs_accel.store.writer import Writer

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "generation_coverage.py"
T0 = datetime(2026, 1, 1, 12, 0, 0)


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("generation_coverage_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_every_pass_of_the_order_is_a_stratified_every_kth_sample(script):
    types = script.generative_types("generative")
    assert types == families() and len(types) > 300
    order = script.sweep_order(types, 8)
    assert sorted(order) == sorted(types) and len(set(order)) == len(order)
    ranked = sorted(types, key=lambda t: (types[t], t))
    first = order[: len(ranked[0::8])]
    assert first == ranked[0::8]
    for family in set(types.values()):  # each family is in the first pass in proportion
        share = sum(types[t] == family for t in first) / len(first)
        assert abs(share - sum(f == family for f in types.values()) / len(types)) < 0.05


def test_selections_and_their_errors(script):
    speech = script.generative_types("family:speech")
    assert "whisper" in speech and set(speech.values()) == {"speech"}
    assert script.generative_types("llama,t5") == {"llama": "causal", "t5": "seq2seq"}
    with pytest.raises(SystemExit, match="unknown family 'poetry'; valid: speech, vision, seq2seq, causal"):
        script.generative_types("family:poetry")
    with pytest.raises(SystemExit, match="vit: not a generative model type"):
        script.generative_types("llama,vit")


def test_a_python_without_transformers_is_named(script, monkeypatch):
    from pytest_ipfs_accel.generation import architectures

    monkeypatch.setattr(architectures, "families", dict)  # what families() gives where transformers is absent
    with pytest.raises(SystemExit, match="transformers is not installed for .*python"):
        script.generative_types("generative")


def test_each_chunk_is_one_generate_run_with_a_limit_per_item(script):
    args = script.parse(["--timeout", "77", "--batch-sizes", "1", "-n", "1"])
    cmd = script.chunk_cmd(args, ["llama", "t5"], Path("/tmp/g.duckdb"), "/tmp/w")
    assert "--ipfs-models=llama,t5" in cmd and "--ipfs-kinds=generate" in cmd and "--ipfs-batch-sizes=1" in cmd
    assert "--ipfs-db=/tmp/g.duckdb" in cmd and cmd[cmd.index("-n") + 1] == "1"
    if importlib.util.find_spec("pytest_timeout"):
        assert "--timeout=77" in cmd and "--timeout-method=thread" in cmd
    with pytest.raises(SystemExit):
        script.parse(["--chunk", "0"])


def _store(path: Path, runs: list[list[tuple[str, str, int, str, str]]]) -> None:
    """One run per list of (model, platform, batch, outcome, message), a minute apart."""
    writer = Writer.open(path)
    try:
        for i, results in enumerate(runs):
            run_id = f"run-{i}"
            writer.start_run(RunRow(id=run_id, started_at=T0 + timedelta(minutes=i)))
            writer.add_results([TestResultRow(run_id=run_id, node_id=f"ipfs/test_{m}.py::test_generate[{p}-bs{b}]",
                                              outcome=o, model=m, platform=p, kind="generate", batch_size=b,
                                              message=msg or None) for m, p, b, o, msg in results])
            writer.finish_run(run_id, "finished", 0)
    finally:
        writer.close()


BUILDER = "onnxruntime: cannot export {m}: export: onnxruntime-genai builder: The {a} model is not currently supported"


def test_the_table_counts_each_items_newest_result_and_groups_reasons(script, tmp_path):
    db = tmp_path / "g.duckdb"
    gpt2, bloom = BUILDER.format(m="gpt2", a="GPT2LMHeadModel"), BUILDER.format(m="bloom", a="BloomForCausalLM")
    first = [("llama", "cpu", 1, "passed", ""), ("llama", "onnxruntime", 1, "passed", ""),
             ("llama", "openvino", 1, "failed", "Failed: Timeout (>90.0s) from pytest-timeout."),
             ("gpt2", "cpu", 1, "passed", ""), ("gpt2", "onnxruntime", 1, "xfailed", gpt2),
             ("gpt2", "openvino", 2, "passed", ""), ("gpt2", "openvino", 1, "failed", "greedy tokens differ"),
             ("bloom", "cpu", 1, "passed", ""), ("bloom", "onnxruntime", 1, "xfailed", bloom),
             ("bloom", "openvino", 1, "passed", ""),
             ("pop2piano", "cpu", 1, "failed", "model 'pop2piano' (model_type 'pop2piano'): [tiny] build: Error"),
             ("pop2piano", "onnxruntime", 1, "xfailed", "onnxruntime: cannot export pop2piano: checkpoint: no"),
             ("pop2piano", "openvino", 1, "xfailed", "openvino: cannot export pop2piano: checkpoint: no"),
             ("t5", "cpu", 1, "xfailed", "cpu: cannot export t5: checkpoint: AutoModelForSeq2SeqLM: broken"),
             *[("t5", p, 1, "xfailed", f"{p}: cannot export t5: checkpoint: AutoModelForSeq2SeqLM: broken")
               for p in ("onnxruntime", "openvino")],
             ("fuyu", "cpu", 1, "skipped", "model 'fuyu': needs package PIL (pip install PIL)"),
             ("blip_2", "cpu", 1, "passed", "")]  # results name blip-2 as its tests do
    again = [("llama", "openvino", 1, "passed", "")]  # the retry after a timeout: the newest result counts
    _store(db, [first, again])
    types = {"llama": "causal", "gpt2": "causal", "bloom": "causal", "pop2piano": "speech", "t5": "seq2seq",
             "fuyu": "vision", "whisper": "speech", "blip-2": "vision"}
    rows = {r.model: r for r in script.read_rows(_connect(db), types)}
    assert rows["llama"].status == {"built": "pass", "cpu": "pass", "onnxruntime": "pass", "openvino": "pass"}
    assert rows["gpt2"].status["openvino"] == "fail"  # worst over batch sizes
    assert rows["pop2piano"].status["built"] == rows["t5"].status["built"] == "fail"
    assert rows["fuyu"].package == "PIL" and rows["blip-2"].family == "vision"
    text = "\n".join(script.report(db, types))
    assert "types run: 7 of 8; needing a missing package: fuyu (PIL)" in text
    assert "| causal | 3 | 3/3 (100 %) | 3/3 (100 %) | 1/3 (33 %) | 2/3 (67 %) |" in text
    assert "| all | 7 | 4/6 (67 %) | 4/6 (67 %) | 1/5 (20 %) | 2/5 (40 %) |" in text
    assert "| vision | 2 | 1/1 (100 %) | 1/1 (100 %) | not run | not run |" in text  # fuyu needs a package
    ort = text.split("top reasons, onnxruntime:")[1].split("top reasons")[0]
    assert ort.strip().splitlines() == [  # two classes, one cause; unbuilt types counted under built only
        "2  cannot export: export: onnxruntime-genai builder: The <Arch> model is not currently supported"]
    assert script.done_types(db, ["cpu", "onnxruntime", "openvino"]) == {"llama", "gpt2", "bloom", "pop2piano", "t5"}
    assert script.done_types(db, ["cpu", "onnxruntime", "openvino"], unfinished=True) == set()
    left = script.todo_types(script.parse(["--db", str(db)]), types, db)
    assert sorted(left) == ["blip-2", "fuyu", "whisper"]  # resumes; blip-2 ran on cpu only, --hw asks for 3
    assert len(script.todo_types(script.parse(["--redo", "--limit", "6", "--hw", "cpu"]), types, db)) == 6
    assert "blip-2" not in script.todo_types(script.parse(["--hw", "cpu"]), types, db)


def _connect(db: Path):
    import duckdb

    return duckdb.connect(str(db), read_only=True)


def test_report_without_a_store_is_one_line(script, tmp_path):
    with pytest.raises(SystemExit, match="generation_coverage.py: .*no results database there"):
        script.report(tmp_path / "none.duckdb", {"llama": "causal"})


HOLD = "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(30)"


@pytest.mark.slow
def test_report_only_shows_the_saved_table_while_a_chunk_holds_the_store(script, tmp_path):
    db = tmp_path / "g.duckdb"
    _store(db, [[("llama", "cpu", 1, "passed", "")]])
    Path(f"{db}.md").write_text("| all | 1 | saved |\n", encoding="utf-8")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        lines = script.report(db, {"llama": "causal"})
    finally:
        holder.kill()
        holder.wait()
    assert lines[0].startswith("(the store is busy") and lines[-1] == "| all | 1 | saved |"


def test_a_crashed_or_timed_out_item_marks_its_type_for_one_more_try(script, tmp_path):
    db = tmp_path / "g.duckdb"
    crash = "worker 'gw0' crashed while running 'ipfs/test_qwen2.py::test_generate[openvino]'"
    _store(db, [[("qwen2", "cpu", 1, "passed", ""), ("qwen2", "openvino", 1, "failed", crash),
                 ("opt", "cpu", 1, "failed", "Failed: Timeout (>90.0s) from pytest-timeout."),
                 ("opt", "openvino", 1, "failed", "Failed: Timeout (>90.0s) from pytest-timeout.")]])
    assert script.done_types(db, ["cpu", "openvino"], unfinished=True) == {"qwen2", "opt"}
    rows = {r.model: r for r in script.read_rows(_connect(db), {"qwen2": "causal", "opt": "causal"})}
    assert rows["qwen2"].status["built"] == "pass" and rows["opt"].status["built"] == "fail"  # a hang is no build
    assert script.top_reasons(list(rows.values()), "openvino") == [
        ("worker 'gwN' crashed while running <item>", 1)]


INTERNAL = """INTERNALERROR>   File "/x/registry.py", line 180, in _default_config_dict
INTERNALERROR>     raise StrictDataclassClassValidationError(validator=validator.__name__, cause=e) from e
INTERNALERROR> huggingface_hub.errors.StrictDataclassClassValidationError: Class validation error:
INTERNALERROR>     ValueError: hidden_size_per_layer_input must be 0, got 256
"""


def test_a_broken_runs_line_and_its_row(script, tmp_path):
    assert script.error_line(INTERNAL) == "ValueError: hidden_size_per_layer_input must be 0, got 256"
    usage = "ERROR: --ipfs-models: unknown model 'nope'"
    assert script.error_line(f"collected 0 items\n{usage}\n") == usage
    db = tmp_path / "g.duckdb"
    Path(f"{db}.errors.jsonl").write_text(
        '{"model": "gemma4_assistant", "rc": 3, "reason": "ValueError: x", "hw": ["cpu", "openvino"]}\n'
        '{"model": "llama", "rc": 3, "reason": "old", "hw": ["cpu"]}\n', encoding="utf-8")
    (row,) = script.error_rows(db, {"gemma4_assistant": "causal"}, have={"llama"})  # llama has results since
    assert row.status == {"built": "fail", "cpu": "fail", "onnxruntime": "-", "openvino": "fail"}
    assert row.reasons["built"] == "pytest exited 3: ValueError: x"


@pytest.mark.slow
def test_a_type_that_breaks_its_run_is_run_alone_and_the_others_still_run(script, tmp_path, monkeypatch):
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    db = tmp_path / "g.duckdb"
    args = script.parse(["--hw", "cpu", "--batch-sizes", "1", "-n", "0", "--db", str(db)])
    assert script.run_chunk(args, ["gpt2", "no_such_model"], db, str(tmp_path)) == 4  # a usage error
    lines = "\n".join(script.report(db, {"gpt2": "causal", "no_such_model": "causal"}))
    assert "| causal | 2 | 1/2 (50 %) | 1/2 (50 %) | not run | not run |" in lines  # --hw cpu only
    assert "pytest exited N: ERROR: --ipfs-models: unknown model 'no_such_model'" in lines


def test_reasons_group_over_class_names_and_numbers(script):
    keys = {script.reason_key(f"onnxruntime: cannot export {m}: export: onnxruntime-genai builder: The {a} model is "
                              "not currently supported") for m, a in
            [("xlstm", "xLSTMForCausalLM"), ("gpt2", "GPT2LMHeadModel"), ("bert-generation", "BertGenerationDecoder")]}
    assert keys == {"cannot export: export: onnxruntime-genai builder: The <Arch> model is not currently supported"}
    assert script.reason_key("a (7) must match b (4)") == script.reason_key("a (16) must match b (33)")
