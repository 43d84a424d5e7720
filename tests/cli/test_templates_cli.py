"""``ipfs-accel templates`` run as users run it: a subprocess, a real DuckDB file, real pytest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_ipfs_accel.generate.environment import shipped_templates

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # as the cli fixture uses
def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def templates(cli):
    """``ipfs-accel templates ARGS``."""
    return lambda *args, **kw: cli("templates", *args, **kw)


def test_help_has_examples(tmp_path, templates):
    r = templates("--help", cwd=tmp_path)
    assert r.returncode == 0 and "examples:" in r.stdout and "create-db" in r.stdout
    for action in ("create-db", "list", "show", "export", "import", "create", "validate"):
        r = templates(action, "--help", cwd=tmp_path)
        assert r.returncode == 0 and "example" in r.stdout, action


def test_create_db_list_show(tmp_path, templates):
    r = templates("create-db", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / ".ipfs_accel" / "templates.duckdb").is_file()
    r = templates("create-db", cwd=tmp_path)
    assert r.returncode == 0 and " 0 added, 0 updated," in r.stdout
    r = templates("list", cwd=tmp_path)
    assert r.returncode == 0
    line = next(l for l in r.stdout.splitlines() if l.startswith("tests/model.py.j2"))
    assert line.split()[1:3] == ["tests", "1"] and line.endswith("tests/base.py.j2")
    r = templates("show", "tests/base.py.j2", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == (shipped_templates() / "tests" / "base.py.j2").read_text()


def test_bad_arguments_exit_2_with_one_line(tmp_path, templates):
    r = templates("list", "--db", "nope.duckdb", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "create-db" in r.stderr
    templates("create-db", cwd=tmp_path)
    r = templates("show", "tests/bse.py.j2", cwd=tmp_path)
    assert r.returncode == 2 and "did you mean tests/base.py.j2" in r.stderr
    r = templates("import", "nowhere", cwd=tmp_path)
    assert r.returncode == 2 and "not a directory" in r.stderr
    r = templates("bogus", cwd=tmp_path)
    assert r.returncode == 2


def test_export_import_export_is_byte_identical(tmp_path, templates):
    assert templates("create-db", "--db", "a.duckdb", cwd=tmp_path).returncode == 0
    assert templates("export", "one", "--db", "a.duckdb", cwd=tmp_path).returncode == 0
    assert tree(tmp_path / "one") == {k: v for k, v in tree(shipped_templates()).items() if k.endswith(".j2")}
    r = templates("import", "one", "--db", "b.duckdb", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert templates("export", "two", "--db", "b.duckdb", cwd=tmp_path).returncode == 0
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_export_keeps_edits_not_imported_yet(tmp_path, templates):
    assert templates("create-db", "--db", "a.duckdb", cwd=tmp_path).returncode == 0
    assert templates("export", "mine", "--db", "a.duckdb", cwd=tmp_path).returncode == 0
    edited = tmp_path / "mine" / "tests" / "base.py.j2"
    edited.write_text(edited.read_text() + "{# my edit #}\n")
    before = tree(tmp_path / "mine")
    (tmp_path / "mine" / "tests" / "model.py.j2").unlink()
    r = templates("export", "mine", "--db", "a.duckdb", cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "base.py.j2 exists with other content" in r.stderr and "--force" in r.stderr
    assert not (tmp_path / "mine" / "tests" / "model.py.j2").exists()  # nothing written on refusal
    assert templates("export", "mine", "--db", "a.duckdb", "--force", cwd=tmp_path).returncode == 0
    assert tree(tmp_path / "mine") == {**before, "tests/base.py.j2": tree(shipped_templates())["tests/base.py.j2"]}


def test_create_scaffold_refuses_overwrite(tmp_path, templates):
    r = templates("create", "bert", "--dir", "mine", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    path = tmp_path / "mine" / "tests" / "models" / "bert.py.j2"
    assert '{% extends "tests/model.py.j2" %}' in path.read_text()
    path.write_text(path.read_text() + "{# mine #}\n")
    r = templates("create", "bert", "--dir", "mine", cwd=tmp_path)
    assert r.returncode == 2 and "--force" in r.stderr and path.read_text().endswith("{# mine #}\n")
    assert templates("create", "bert", "--dir", "mine", "--force", cwd=tmp_path).returncode == 0
    assert not path.read_text().endswith("{# mine #}\n")
    assert templates("create", "Bad-Name", cwd=tmp_path).returncode == 2
    r = templates("validate", path, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == "", r.stdout


def test_validate_shipped_and_db_clean(tmp_path, templates):
    r = templates("validate", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == "" and "0 problem(s)" in r.stderr
    templates("create-db", cwd=tmp_path)
    r = templates("validate", "--db", ".ipfs_accel/templates.duckdb", cwd=tmp_path)
    assert r.returncode == 0 and "0 problem(s)" in r.stderr


def test_validate_broken_reports_file_line(tmp_path, templates):
    path = tmp_path / "bad" / "tests" / "models" / "bert.py.j2"
    path.parent.mkdir(parents=True)
    path.write_text('{% extends "tests/model.py.j2" %}\n{% block tests %}\n{{ super() }}\n{{ oops }}\n{% endblock %}\n')
    r = templates("validate", "bad", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout.startswith(str(Path("bad/tests/models/bert.py.j2")) + ":4: unknown variable 'oops'")
    # The same template inside a database: reported as DB:name:line.
    templates("import", "bad", "--db", "bad.duckdb", cwd=tmp_path)
    r = templates("validate", "--db", "bad.duckdb", cwd=tmp_path)
    assert r.returncode == 1 and r.stdout.startswith("bad.duckdb:tests/models/bert.py.j2:4: unknown variable")


def test_plugin_renders_from_template_db(tmp_path, templates):
    (tmp_path / "mine" / "tests").mkdir(parents=True)
    (tmp_path / "mine" / "tests" / "model.py.j2").write_text(
        '{% extends "tests/base.py.j2" %}\n{% block tests %}\n{{ super() }}\n\n\n'
        'def test_from_the_db():\n    assert MODEL.name == {{ model.name|py }}\n{% endblock %}\n')
    assert templates("import", "mine", "--db", "t.duckdb", cwd=tmp_path).returncode == 0
    args = [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", "--ipfs-models=bert",
            "--ipfs-hw=cpu", "--ipfs-db=none"]
    r = subprocess.run([*args, "--ipfs-templates=t.duckdb"], cwd=tmp_path, env=ENV, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "test_bert.py::test_from_the_db" in r.stdout
    plain = subprocess.run(args, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0 and "test_from_the_db" not in plain.stdout
    r = subprocess.run([*args, "--ipfs-templates=missing.duckdb"], cwd=tmp_path, env=ENV, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode != 0 and "no template database there" in r.stderr
