"""The template database: real DuckDB files, no mocks."""

from __future__ import annotations

import duckdb
import pytest

from pytest_ipfs_accel.generate.environment import environment, shipped_templates
from pytest_ipfs_accel.store import templates as store


def test_load_is_idempotent_and_versions_changes(tmp_path):
    db = tmp_path / "t.duckdb"
    first = store.load_folder(db, shipped_templates())
    assert "tests/base.py.j2" in first["added"] and not first["updated"]
    again = store.load_folder(db, shipped_templates())
    assert not again["added"] and not again["updated"] and len(again["unchanged"]) == len(first["added"])

    folder = tmp_path / "mine" / "tests"
    folder.mkdir(parents=True)
    (folder / "model.py.j2").write_text('{% extends "tests/base.py.j2" %}\n{# changed #}\n')
    changed = store.load_folder(db, tmp_path / "mine")
    assert changed["updated"] == ["tests/model.py.j2"]
    row = {r.name: r for r in store.rows(db)}["tests/model.py.j2"]
    assert row.version == 2 and row.kind == "tests" and row.parent == "tests/base.py.j2"
    assert row.sha256 == store.sha256(store.source_of(db, "tests/model.py.j2"))
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT version FROM schema_version").fetchall() == [(store.SCHEMA_VERSION,)]
    con.close()


def test_names_outside_the_kinds_are_refused(tmp_path):
    (tmp_path / "stray.j2").write_text("x")
    with pytest.raises(store.TemplateDBError, match="kind one of tests, skills, reports"):
        store.load_folder(tmp_path / "t.duckdb", tmp_path)
    assert not (tmp_path / "t.duckdb").exists()


def test_missing_db_is_one_clear_error(tmp_path):
    with pytest.raises(store.TemplateDBError, match="create-db"):
        store.rows(tmp_path / "none.duckdb")


def test_environment_prefers_db_templates(tmp_path):
    (tmp_path / "src" / "tests").mkdir(parents=True)
    (tmp_path / "src" / "tests" / "_macros.j2").write_text("{# from the db #}\n")
    db = tmp_path / "t.duckdb"
    store.load_folder(db, tmp_path / "src")
    env = environment((str(db),))
    assert env.get_template("tests/_macros.j2").render() == ""
    assert env.get_template("tests/_macros.j2").filename == f"{db}:tests/_macros.j2"
    assert "block tests" in env.loader.get_source(env, "tests/base.py.j2")[0]  # falls back to shipped
