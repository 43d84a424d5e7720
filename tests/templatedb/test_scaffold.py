"""Skill files: written through files.write_text, rendered in the sandbox; problems are one line."""

from __future__ import annotations

import pytest

from pytest_ipfs_accel.files import GENERATED_MARKER
from pytest_ipfs_accel.models.registry import resolve
from pytest_ipfs_accel.templatedb.scaffold import ScaffoldError, write_skill


def test_skill_files_keep_a_hand_written_file_unless_forced(tmp_path):
    first = write_skill(resolve("bert"), ("cpu",), tmp_path)
    assert GENERATED_MARKER in first.module.read_text()
    write_skill(resolve("bert"), ("cpu", "onnxruntime"), tmp_path)  # ours: replaced
    first.test.write_text("def test_mine():\n    pass\n")
    with pytest.raises(ScaffoldError, match="test_skill_bert.py exists and is not a file pytest-ipfs-accel"):
        write_skill(resolve("bert"), ("cpu",), tmp_path)
    assert first.test.read_text() == "def test_mine():\n    pass\n"
    assert "onnxruntime" in first.module.read_text()  # nothing written on refusal
    write_skill(resolve("bert"), ("cpu",), tmp_path, force=True)
    assert GENERATED_MARKER in first.test.read_text()


def test_skill_template_reaching_for_internals_is_one_line(tmp_path):
    folder = tmp_path / "tpl" / "skills"
    folder.mkdir(parents=True)
    (folder / "skill.py.j2").write_text('x = 1\n{{ model.__class__.__init__.__globals__ }}\n')
    with pytest.raises(ScaffoldError, match=r"skill.py.j2:2: SecurityError"):
        write_skill(resolve("bert"), ("cpu",), tmp_path / "out", templates=(str(tmp_path / "tpl"),))
    assert not (tmp_path / "out").exists()
