"""Template validation: shipped templates are clean; each kind of mistake is reported at file:line."""

from __future__ import annotations

from pytest_ipfs_accel.generate.environment import shipped_templates
from pytest_ipfs_accel.templatedb import scaffold
from pytest_ipfs_accel.templatedb.validate import sources_from_path, validate


def _problems(tmp_path, name, text):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return [str(p) for p in validate(sources_from_path(path))], str(path)


def test_shipped_templates_are_clean():
    sources = sources_from_path(shipped_templates())
    assert {"tests/base.py.j2", "skills/skill.py.j2"} <= {s.name for s in sources}
    assert validate(sources) == []


def test_syntax_error(tmp_path):
    problems, path = _problems(tmp_path, "tests/models/bert.py.j2",
                               '{% extends "tests/model.py.j2" %}\n{% block tests %}\n{% if x %}\n{% endblock %}\n')
    assert len(problems) == 1 and problems[0].startswith(f"{path}:4: jinja syntax error")


def test_unknown_variable_and_block(tmp_path):
    problems, path = _problems(tmp_path, "tests/models/bert.py.j2",
                               '{% extends "tests/model.py.j2" %}\n{% block testz %}\n{{ nosuch }}\n{% endblock %}\n')
    assert f"{path}:3: unknown variable 'nosuch'" in problems[0]
    assert problems[1].startswith(f"{path}:2: block 'testz' is not defined")


def test_rendered_output_must_parse(tmp_path):
    problems, path = _problems(tmp_path, "tests/models/bert.py.j2",
                               '{% extends "tests/model.py.j2" %}\n{% block tests %}\n{{ super() }}\n\n'
                               'def broken(:\n    pass\n{% endblock %}\n')
    assert len(problems) == 1 and problems[0].startswith(f"{path}:5: rendered test module")


def test_standalone_module_template_needs_the_blocks(tmp_path):
    problems, path = _problems(tmp_path, "tests/model.py.j2", '{% block docstring %}"""x"""{% endblock %}\n')
    assert problems == [f"{path}:1: a tests module template that does not extend tests/base.py.j2 must define "
                        "the blocks docstring, imports, model, tests; missing: imports, model, tests"]


def test_scaffold_is_valid(tmp_path):
    path = scaffold.model_template("bert", tmp_path)
    assert path == tmp_path / "tests" / "models" / "bert.py.j2"
    assert validate(sources_from_path(path)) == []
