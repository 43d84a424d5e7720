"""The plugin as users run it: real pytest sub-processes on real runtimes."""

import re
import sys

import pytest

HW = "--ipfs-hw=cpu,onnxruntime,openvino"
OUTCOME = re.compile(r"^(\S+?)::(\S+) (PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR)", re.M)


@pytest.fixture
def run(pytester, tmp_path_factory):
    """pytester.runpytest_subprocess sharing one artifact cache per test session (exports are slow)."""
    cache = tmp_path_factory.getbasetemp() / "shared-pytest-cache"

    def _run(*args, shared_cache=True):
        extra = ["-o", f"cache_dir={cache}"] if shared_cache else []
        return pytester.runpytest_subprocess(*extra, *args)

    return _run


def outcomes(result) -> dict[str, str]:
    """``test_fn[param]`` -> outcome, from -v output, with the file part dropped."""
    return {test: outcome for _, test, outcome in OUTCOME.findall(result.stdout.str())}


@pytest.mark.slow
def test_bert_t5_on_cpu_onnxruntime_openvino_pass(run):
    result = run("--ipfs-models=bert,t5", HW, "-v")
    result.assert_outcomes(passed=22)


def test_absent_hardware_is_skipped_with_the_reason(run):
    result = run("--ipfs-models=bert,t5", "--ipfs-hw=cuda", "-rs")
    assert result.ret == 0
    result.assert_outcomes(skipped=8)
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] ipfs/test_bert.py:*: cuda not available: torch.cuda.is_available() "
                                 "is False*"])


def test_unknown_model_exits_4_with_suggestion(run):
    result = run("--ipfs-models=brt", HW)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: --ipfs-models: unknown model 'brt'*Did you mean: bert*"])


@pytest.mark.slow
def test_emit_round_trips_with_identical_outcomes(run, pytester):
    in_memory = run("--ipfs-models=bert", HW, "-v")
    assert not (pytester.path / "ipfs").exists()
    emitted = run("--ipfs-models=bert", HW, "--ipfs-emit=out")
    assert emitted.ret == 0 and (pytester.path / "out" / "test_bert.py").is_file()
    assert sorted(p.name for p in (pytester.path / "out").iterdir()) == ["test_bert.py"]
    from_disk = run("out", "-v", "-p", "no:ipfs_accel_never_loaded")
    assert outcomes(in_memory) == outcomes(from_disk) and len(outcomes(in_memory)) == 11


def test_emit_writes_the_in_memory_source(pytester):
    result = pytester.runpytest_subprocess("--ipfs-models=gpt2", "--ipfs-hw=cpu", "--ipfs-emit=gen")
    assert result.ret == 0
    source = (pytester.path / "gen" / "test_gpt2.py").read_text()
    assert "MODEL = checks.ModelRef(" in source and "name='gpt2'" in source
    result.stdout.fnmatch_lines(["ipfs-accel: 1 test file(s) in gen; run them with: pytest gen"])


@pytest.mark.slow
def test_traceback_shows_generated_lines_and_lf_reruns_it(run, pytester):
    tpl = pytester.path / "tpl" / "tests" / "models"
    tpl.mkdir(parents=True)
    (tpl / "gpt2.py.j2").write_text(
        '{% extends "tests/model.py.j2" %}\n{% block tests %}\n{{ super() }}\n\n\n'
        'def test_planted():\n    planted = 41\n    assert planted == 42, "planted failure"\n{% endblock %}\n')
    first = run("--ipfs-models=gpt2", "--ipfs-hw=cpu", "--ipfs-kinds=load", "--ipfs-templates=tpl",
                shared_cache=False)
    first.assert_outcomes(passed=1, failed=1)
    first.stdout.fnmatch_lines(["*assert planted == 42*", "E*AssertionError: planted failure",
                                "E*assert 41 == 42", "*ipfs/test_gpt2.py:*: AssertionError"])
    again = run("--ipfs-models=gpt2", "--ipfs-hw=cpu", "--ipfs-kinds=load", "--ipfs-templates=tpl", "--lf",
                shared_cache=False)
    again.assert_outcomes(failed=1, deselected=1)


def test_plugin_is_inert_and_imports_nothing_heavy(pytester):
    pytester.makeconftest(
        "import sys\n"
        "def pytest_sessionfinish(session):\n"
        "    heavy = sorted(m for m in ('torch', 'transformers', 'onnxruntime', 'openvino', 'duckdb', 'jinja2',"
        " 'numpy') if m in sys.modules)\n"
        "    print('\\nHEAVY=' + ','.join(heavy))\n")
    pytester.makepyfile(test_plain="def test_a():\n    pass\n")
    result = pytester.runpytest_subprocess("-s", "-p", "ipfs_accel")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["HEAVY="])


def test_collecting_generated_items_imports_no_runtime(pytester):
    pytester.makeconftest(
        "import sys\n"
        "def pytest_collection_finish(session):\n"
        "    heavy = sorted(m for m in ('torch', 'transformers', 'onnxruntime', 'openvino', 'duckdb')"
        " if m in sys.modules)\n"
        "    print('\\nHEAVY=' + ','.join(heavy))\n")
    result = pytester.runpytest_subprocess("--co", "-q", "--ipfs-models=bert,t5,llava", HW)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["HEAVY=", "33 tests collected*"])


@pytest.mark.slow
def test_every_key_model_forwards_on_cpu(run):
    from pytest_ipfs_accel.models.registry import KEY_MODELS

    result = run(f"--ipfs-models={','.join(KEY_MODELS)}", "--ipfs-hw=cpu", "--ipfs-kinds=forward", "-v")
    result.assert_outcomes(passed=len(KEY_MODELS))


@pytest.mark.slow
def test_local_model_directory_loads_real_weights(pytester):
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(123)
    model = BertModel(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37,
                                 vocab_size=500))
    model.save_pretrained(pytester.path / "my-bert")
    result = pytester.runpytest_subprocess("--ipfs-models=my-bert", "--ipfs-hw=cpu,onnxruntime", "-v")
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(["ipfs/test_my_bert.py::test_parity[[]onnxruntime[]] PASSED*"])


@pytest.mark.slow
def test_artifact_cache_is_used_and_can_be_bypassed(pytester):
    args = ("--ipfs-models=bert", "--ipfs-hw=onnxruntime", "--ipfs-kinds=load")
    pytester.runpytest_subprocess(*args, "--ipfs-no-cache").assert_outcomes(passed=1)
    cache = pytester.path / ".pytest_cache" / "d" / "ipfs-accel-artifacts"
    assert not any(cache.rglob("*.onnx")) if cache.exists() else True
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=1)
    stored = sorted(cache.rglob("*.onnx"))
    assert stored
    mtimes = [p.stat().st_mtime_ns for p in stored]
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=1)
    assert [p.stat().st_mtime_ns for p in sorted(cache.rglob("*.onnx"))] == mtimes  # reused, not rewritten
    pytester.runpytest_subprocess(*args, "--cache-clear").assert_outcomes(passed=1)
    assert sys.version_info  # (--cache-clear removed the old files; the run stored fresh ones)


def test_model_that_cannot_load_fails_with_one_line_reason(pytester):
    model = pytester.mkdir("noweights")
    (model / "config.json").write_text('{"model_type": "bert", "hidden_size": 32, "num_attention_heads": 2}')
    result = pytester.runpytest_subprocess("--ipfs-models=noweights", "--ipfs-hw=cpu", "--ipfs-kinds=load")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["model 'noweights' from */noweights: OSError: *no file named model.safetensors*"])
    assert "Traceback" not in result.stdout.str() and "During handling" not in result.stdout.str()
