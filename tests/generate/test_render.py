"""Rendering: templates -> Python source that parses; errors name template file and line."""

import ast

import pytest

from pytest_ipfs_accel.generate.environment import pyrepr, safe_text
from pytest_ipfs_accel.generate.matrix import Target, build_matrix
from pytest_ipfs_accel.generate.render import TemplateError, render
from pytest_ipfs_accel.models.spec import ModelSpec
from pytest_ipfs_accel.settings import RunConfig

CFG = RunConfig(models=("bert",), hw=("cpu", "onnxruntime", "openvino"))
BERT = ModelSpec("bert", "bert", "text")


def _cells(cfg=CFG, spec=BERT, platforms=("cpu", "onnxruntime", "openvino")):
    return build_matrix([spec], list(platforms), cfg)[0]


def test_matrix_kinds_and_ids():
    cells = _cells()
    assert list(cells.kinds) == ["load", "forward", "parity", "batch"]
    assert [t.id for t in cells.kinds["parity"]] == ["onnxruntime", "openvino"]  # cpu fp32 is the reference
    assert [t.id for t in cells.kinds["batch"]] == ["cpu-bs2", "onnxruntime-bs2", "openvino-bs2"]
    assert Target("openvino", "bf16").id == "openvino-bf16"


def test_cpu_only_has_no_parity_function():
    source = render(_cells(platforms=("cpu",)), {"seed": 0, "model_arg": "bert"}).source
    names = {n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}
    assert names == {"test_load", "test_forward", "test_batch"}


def test_rendered_module_parses_and_carries_markers():
    source = render(_cells(), {"seed": 3, "model_arg": "bert"}).source
    ast.parse(source)
    assert "pytest.mark.ipfs_model(name='bert')" in source
    assert "('openvino', 'fp32', 'openvino')," in source
    assert "seed=3," in source


def test_outside_values_are_rendered_as_literals():
    odd = ModelSpec("mymodel", "bert", "text", source="path", path="/tmp/it's \"here\"\n")
    source = render(_cells(spec=odd), {"seed": 0, "model_arg": "x"}).source
    tree = ast.parse(source)
    assert odd.path in [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]


def test_pyrepr_refuses_objects_and_safe_text_strips_quotes():
    with pytest.raises(TypeError):
        pyrepr(object())
    assert safe_text('a"""b\nc') == "abc"


@pytest.mark.parametrize(("template", "expected"), [
    # an undefined variable (StrictUndefined): file and line of the use
    ('{% extends "tests/base.py.j2" %}\n{% block imports %}\nimport pytest\n{{ no_such_variable }}\n{% endblock %}\n',
     ["bert.py.j2:4", "no_such_variable"]),
    # a jinja syntax error: file and line of the unclosed block
    ('{% extends "tests/base.py.j2" %}\n\n{% block x %}\n', ["bert.py.j2:3"]),
    # valid jinja that renders invalid Python
    ('{% extends "tests/base.py.j2" %}\n{% block imports %}\nimport pytest (\n{% endblock %}\n',
     ["bert.py.j2", "not valid Python"]),
])
def test_template_errors_name_file_and_line(tmp_path, template, expected):
    (tmp_path / "tests" / "models").mkdir(parents=True)
    (tmp_path / "tests" / "models" / "bert.py.j2").write_text(template)
    with pytest.raises(TemplateError) as info:
        render(_cells(), {"seed": 0, "model_arg": "bert"}, extra=(str(tmp_path),))
    assert all(part in str(info.value) for part in expected), str(info.value)
