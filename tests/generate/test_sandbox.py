"""Templates render in jinja2's sandbox: a template reaching for Python internals runs nothing at
collection, at --ipfs-emit or in ``ipfs-accel templates validate``; it fails at file:line."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb  # noqa: F401  (imported before pytester snapshots sys.modules: a second import aborts)
import pytest

from pytest_ipfs_accel.store import templates as store

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
EVIL = ('{{% extends "tests/model.py.j2" %}}\n{{% block imports %}}\n{{{{ super() }}}}\n'
        '# {{{{ cycler.__init__.__globals__.os.popen("touch {marker}").read() }}}}\n{{% endblock %}}\n')


@pytest.fixture(params=["folder", "database"])
def evil(request, pytester):
    """(--ipfs-templates value, the file the template would create) for a folder and a template DB."""
    marker = pytester.path / "X"
    folder = pytester.path / "tpl"
    (folder / "tests" / "models").mkdir(parents=True)
    (folder / "tests" / "models" / "bert.py.j2").write_text(EVIL.format(marker=marker))
    if request.param == "folder":
        return "tpl", marker, "tpl/tests/models/bert.py.j2:4"
    store.load_folder(pytester.path / "tpl.duckdb", folder)
    return "tpl.duckdb", marker, "tpl.duckdb:tests/models/bert.py.j2:4"


def _refused(result, marker, where) -> None:
    err = result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, err
    assert where in err and "SecurityError" in err and "__init__" in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not marker.exists()


def test_collection_runs_nothing(pytester, evil):
    value, marker, where = evil
    result = pytester.runpytest("--co", "--ipfs-models=bert", "--ipfs-hw=cpu", f"--ipfs-templates={value}")
    _refused(result, marker, where)


def test_emit_runs_nothing(pytester, evil):
    value, marker, where = evil
    result = pytester.runpytest("--ipfs-models=bert", "--ipfs-hw=cpu", f"--ipfs-templates={value}",
                                "--ipfs-emit=out")
    _refused(result, marker, where)
    assert not (pytester.path / "out").exists() or not list((pytester.path / "out").iterdir())


def test_validate_lists_it_and_runs_nothing(pytester, evil):
    value, marker, _ = evil
    args = ["--db", value] if value.endswith(".duckdb") else [value]
    run = subprocess.run([sys.executable, "-m", "pytest_ipfs_accel", "templates", "validate", *args],
                         cwd=pytester.path, env=ENV, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "bert.py.j2:4: reaches into Python internals (.__globals__)" in run.stdout
    assert "bert.py.j2:4: reaches into Python internals (.__init__)" in run.stdout
    assert "2 problem(s)" in run.stderr
    assert not marker.exists()


@pytest.mark.parametrize("expr", ['x["__class__"]', 'x|attr("__class__")', 'x|attr(name)', "x.mro"])
def test_validator_finds_every_spelling_without_rendering(tmp_path, expr):
    from pytest_ipfs_accel.templatedb.validate import sources_from_path, validate

    path = tmp_path / "tests" / "models" / "bert.py.j2"
    path.parent.mkdir(parents=True)
    path.write_text('{% extends "tests/model.py.j2" %}\n{% block imports %}\n{{ super() }}\n'
                    f"# {{{{ {expr} }}}}\n{{% endblock %}}\n")
    problems = [str(p) for p in validate(sources_from_path(path))]
    assert problems and all(p.startswith(f"{path}:4: reaches into Python internals") for p in problems), problems


def test_user_template_sources_render_in_the_sandbox_and_shipped_ones_alone_do_not(tmp_path):
    """By behaviour, not isinstance: another test may re-import jinja2 (lazy-import checks)."""
    from pytest_ipfs_accel.generate.environment import environment

    env = environment((str(tmp_path),))
    assert type(env).__name__ == "ImmutableSandboxedEnvironment"
    with pytest.raises(Exception) as info:
        env.from_string("{{ cycler.__init__.__globals__ }}").render()
    assert type(info.value).__name__ == "SecurityError"
    assert type(environment(())).__name__ == "Environment"  # our own templates: no per-access checks
