"""The plugin as users drive it, collection only: options, ini keys, node IDs, markers, errors."""

import duckdb  # noqa: F401  (imported before pytester snapshots sys.modules: a second import aborts)
import pytest

HW = "--ipfs-hw=cpu,onnxruntime,openvino"


def _ids(result) -> list[str]:
    return [line for line in result.outlines if "::" in line]


def test_inert_without_models(pytester):
    pytester.makepyfile(test_plain="def test_a():\n    pass\n")
    result = pytester.runpytest("--co", "-q")
    assert _ids(result) == ["test_plain.py::test_a"]


def test_node_ids_are_readable_and_deterministic(pytester):
    first = _ids(pytester.runpytest("--co", "-q", "--ipfs-models=bert,t5", HW))
    second = _ids(pytester.runpytest("--co", "-q", "--ipfs-models=bert,t5", HW))
    assert first == second and len(first) == 22
    assert first[:3] == ["ipfs/test_bert.py::test_load[cpu]", "ipfs/test_bert.py::test_load[onnxruntime]",
                         "ipfs/test_bert.py::test_load[openvino]"]
    assert "ipfs/test_t5.py::test_parity[openvino]" in first
    assert "ipfs/test_bert.py::test_parity[cpu]" not in first  # torch-cpu fp32 is the reference
    assert not (pytester.path / "ipfs").exists()  # nothing written


def test_ini_keys_work_like_options(pytester):
    pytester.makeini("[pytest]\nipfs_models = bert\nipfs_hw = cpu, ort\nipfs_kinds = forward\n")
    assert _ids(pytester.runpytest("--co", "-q")) == [
        "ipfs/test_bert.py::test_forward[cpu]", "ipfs/test_bert.py::test_forward[onnxruntime]"]


def test_pyproject_ini_options(pytester):
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\nipfs_models = "gpt2"\nipfs_hw = "openvino"\n'
                               'ipfs_kinds = "parity"\nipfs_precisions = "fp32,bf16"\n')
    assert _ids(pytester.runpytest("--co", "-q")) == [
        "ipfs/test_gpt2.py::test_parity[openvino]", "ipfs/test_gpt2.py::test_parity[openvino-bf16]"]


@pytest.mark.parametrize(("expr", "expected"), [
    ("ipfs_hw(name='openvino')", {"test_load[openvino]", "test_forward[openvino]", "test_parity[openvino]",
                                  "test_batch[openvino-bs2]"}),
    ("ipfs_kind(name='parity')", {"test_parity[onnxruntime]", "test_parity[openvino]"}),
])
def test_markers_select(pytester, expr, expected):
    ids = _ids(pytester.runpytest("--co", "-q", "--ipfs-models=bert", HW, "-m", expr))
    assert {i.split("::")[1] for i in ids} == expected


def test_keyword_and_deselect(pytester):
    ids = _ids(pytester.runpytest("--co", "-q", "--ipfs-models=bert", HW, "-k", "batch and not cpu",
                                  "--deselect", "ipfs/test_bert.py::test_batch[openvino-bs2]"))
    assert ids == ["ipfs/test_bert.py::test_batch[onnxruntime-bs2]"]


def test_batch_sizes_and_seed(pytester):
    ids = _ids(pytester.runpytest("--co", "-q", "--ipfs-models=vit", "--ipfs-hw=cpu", "--ipfs-kinds=batch",
                                  "--ipfs-batch-sizes=1,4,8", "--ipfs-seed=7"))
    assert ids == ["ipfs/test_vit.py::test_batch[cpu-bs4]", "ipfs/test_vit.py::test_batch[cpu-bs8]"]


def test_default_hw_is_every_detected_platform(pytester, monkeypatch):
    monkeypatch.setenv("IPFS_ACCEL_HW_DISABLE", "openvino")
    # a subprocess: detection imports torch and numpy, which cannot be re-imported in one process
    ids = _ids(pytester.runpytest_subprocess("--co", "-q", "--ipfs-models=bert", "--ipfs-kinds=load"))
    assert "ipfs/test_bert.py::test_load[cpu]" in ids and "ipfs/test_bert.py::test_load[onnxruntime]" in ids
    assert not any("openvino" in i or "cuda" in i for i in ids)


@pytest.mark.parametrize(("args", "message"), [
    (["--ipfs-models=bret"], "Did you mean: bert"),
    (["--ipfs-models=bert'); import os; os.system('x"], "--ipfs-models"),
    (["--ipfs-models=bert", "--ipfs-hw=opnvino"], "did you mean openvino"),
    (["--ipfs-models=bert", "--ipfs-kinds=parrity"], "Did you mean 'parity'"),
    (["--ipfs-models=bert", "--ipfs-batch-sizes=0"], "--ipfs-batch-sizes: '0' is not an integer from 1 to 4096."),
    (["--ipfs-models=bert", "--ipfs-batch-sizes=1,1000000000000"], "not an integer from 1 to 4096"),
    (["--ipfs-models=bert", "--ipfs-seed=-1"], "--ipfs-seed: '-1' is not an integer from 0 to 4294967295."),
    (["--ipfs-models=bert", f"--ipfs-seed={2**64}"], "not an integer from 0 to 4294967295"),
    (["--ipfs-models=./nope/"], "--ipfs-models: the model directory './nope/' does not exist"),
    (["--ipfs-models=/no/such/model_dir"], "the model directory '/no/such/model_dir' does not exist"),
    (["--ipfs-models=bert", "--ipfs-precisions=fp8"], "Choose from: fp32, fp16, bf16"),
    (["--ipfs-models=bert", "--ipfs-templates=nowhere"], "is not a directory"),
])
def test_bad_input_is_a_usage_error(pytester, args, message):
    result = pytester.runpytest("--co", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert len(result.stderr.str().strip().splitlines()) == 1, result.stderr.str()


def test_broken_user_template_is_reported_with_file_and_line(pytester):
    pytester.mkdir("tpl")
    pytester.path.joinpath("tpl", "tests", "models").mkdir(parents=True)
    pytester.path.joinpath("tpl", "tests", "models", "bert.py.j2").write_text(
        '{% extends "tests/base.py.j2" %}\n{% block imports %}\n{{ undefined_thing }}\n{% endblock %}\n')
    result = pytester.runpytest("--co", "--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-templates=tpl")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "bert.py.j2:3" in result.stderr.str() and "undefined_thing" in result.stderr.str()


def test_modify_matrix_hook(pytester):
    pytester.makeconftest(
        "def pytest_ipfs_modify_matrix(config, matrix):\n"
        "    for cells in matrix:\n"
        "        cells.kinds = {k: [t for t in v if t.platform != 'onnxruntime'] for k, v in cells.kinds.items()}\n"
        "        cells.kinds.pop('batch')\n")
    ids = _ids(pytester.runpytest("--co", "-q", "--ipfs-models=bert", HW))
    assert len(ids) == 5 and not any("onnxruntime" in i or "batch" in i for i in ids)


def test_rootdir_conftest_hooks_apply_to_generated_items(pytester):
    """A conftest.py hook sees generated items as it sees tests in files under the rootdir."""
    pytester.makeconftest(
        "import pytest\n"
        "def pytest_itemcollected(item):\n"
        "    item.add_marker(pytest.mark.seen_by_conftest)\n"
        "def pytest_runtest_setup(item):\n"
        "    pytest.skip('skipped by the rootdir conftest')\n")
    result = pytester.runpytest("-rs", "-m", "seen_by_conftest", "--ipfs-models=bert", "--ipfs-hw=cpu",
                                "--ipfs-kinds=load", "--ipfs-db=none", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*skipped by the rootdir conftest*"])


@pytest.mark.parametrize("content", [b"garbage bytes, not a database\n" * 10, None])
def test_a_template_database_that_is_not_one_is_a_usage_error(pytester, content):
    """Garbage bytes, or a DuckDB file without the templates tables: one line, exit 4 (was INTERNALERROR)."""
    junk = pytester.path / "junk.duckdb"
    if content is None:
        duckdb.connect(str(junk)).execute("CREATE TABLE t (x INTEGER)").close()
    else:
        junk.write_bytes(content)
    result = pytester.runpytest("--co", "--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-templates=junk.duckdb")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert err.startswith("ERROR: --ipfs-templates: 'junk.duckdb'") and len(err.strip().splitlines()) == 1, err
    assert "INTERNALERROR" not in err + result.stdout.str()


def test_a_real_file_at_a_generated_node_id_stops_the_run(pytester):
    """ipfs/test_bert.py on disk would collect the same node IDs twice: one line naming the file, exit 4."""
    pytester.path.joinpath("ipfs").mkdir()
    pytester.path.joinpath("ipfs", "test_bert.py").write_text("def test_load():\n    pass\n")
    result = pytester.runpytest("--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-kinds=load", "--ipfs-db=none")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "ipfs/test_bert.py exists on disk" in err and "remove or rename that file" in err
    assert "leave 'bert' out of --ipfs-models" in err and len(err.strip().splitlines()) == 1, err
    # another model is not affected
    ok = pytester.runpytest("--co", "-q", "--ipfs-models=t5", "--ipfs-hw=cpu", "--ipfs-kinds=load", "ipfs")
    assert _ids(ok) == ["ipfs/test_bert.py::test_load", "ipfs/test_t5.py::test_load[cpu]"]


def test_pytest_help_lists_every_ipfs_option(pytester):
    """``pytest --help`` renders (argparse %-formats help texts: a bare '%' crashed it) and shows our group."""
    result = pytester.runpytest_subprocess("--help")
    assert result.ret == 0, result.stderr.str()
    out = result.stdout.str()
    assert "pytest-ipfs-accel: models x hardware" in out
    for option in ("--ipfs-models", "--ipfs-hw", "--ipfs-fail-on-regression", "--ipfs-device-lock",
                   "--ipfs-browser-timeout", "--ipfs-benchmark-threads", "--ipfs-benchmark-settle", "--ipfs-emit-force"):
        assert option in out, option


KIND_CONFTEST = '''
from pytest_ipfs_accel.settings import KindSpec


def pytest_ipfs_kinds(config):
    return [KindSpec("latency_budget", "kinds")]
'''
KIND_TEMPLATE = '''{% from "tests/_macros.j2" import parametrize %}
@pytest.mark.ipfs_kind(name="latency_budget")
{{ parametrize(targets, ("platform", "precision")) }}
def test_latency_budget(platform, precision, ipfs_artifacts):
    """A kind from a plugin: the model runs on the platform and gives as many outputs as the reference."""
    reference = checks.reference(MODEL)
    runner = checks.prepare(MODEL, platform, precision, ipfs_artifacts)
    assert len(runner(reference.inputs)) == len(reference.outputs)
'''


def test_a_plugin_kind_is_accepted_by_ipfs_kinds_and_generated_from_its_template(pytester):
    """Issue 14.6: ``pytest_ipfs_kinds`` adds a kind with its template; no edit to this package."""
    pytester.makeconftest(KIND_CONFTEST)
    (pytester.path / "kinds" / "tests" / "kinds").mkdir(parents=True)
    (pytester.path / "kinds" / "tests" / "kinds" / "latency_budget.py.j2").write_text(KIND_TEMPLATE)
    result = pytester.runpytest_subprocess("--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-kinds=load,latency_budget",
                                           "--ipfs-db=none", "-v")
    result.stdout.fnmatch_lines(["*ipfs/test_bert.py::test_latency_budget[[]cpu[]] PASSED*"])
    assert result.ret == 0
    unknown = pytester.runpytest_subprocess("--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-kinds=latency_budgt",
                                            "--ipfs-db=none")
    assert unknown.ret == 4 and "Did you mean 'latency_budget'?" in unknown.stderr.str()
