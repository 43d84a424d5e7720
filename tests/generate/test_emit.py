"""--ipfs-emit writes only inside its directory, never through a link, never over a file a person wrote."""

import os

import pytest

from pytest_ipfs_accel.files import GENERATED_MARKER
from pytest_ipfs_accel.generate.emit import EmitError, emit

SOURCE = f'"""{GENERATED_MARKER} 0.test."""\nx = 1\n'


def test_writes_files(tmp_path):
    written = emit(tmp_path / "out", {"test_bert.py": SOURCE})
    assert written == [(tmp_path / "out" / "test_bert.py").resolve()]
    assert written[0].read_text() == SOURCE


@pytest.mark.parametrize("name", ["../test_evil.py", "sub/test_x.py", "/etc/test_x.py", "test_X.py", "conftest.py"])
def test_never_writes_outside_or_odd_names(tmp_path, name):
    with pytest.raises(EmitError):
        emit(tmp_path / "out", {name: SOURCE})
    assert not (tmp_path / "test_evil.py").exists()


def test_a_link_at_the_old_temp_name_is_not_written_through(tmp_path):
    """The temp name is random and created exclusively: ``test_bert.py.tmp -> ../victim.txt`` is ignored."""
    (tmp_path / "victim.txt").write_text("victim\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "test_bert.py.tmp").symlink_to("../victim.txt")
    emit(tmp_path / "out", {"test_bert.py": SOURCE})
    assert (tmp_path / "victim.txt").read_text() == "victim\n"
    assert (tmp_path / "out" / "test_bert.py").read_text() == SOURCE


def test_a_link_at_the_target_is_refused_and_forced_replaces_the_link_only(tmp_path):
    (tmp_path / "victim.txt").write_text(f"{GENERATED_MARKER} but someone else's\n")
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "test_bert.py"
    target.symlink_to("../victim.txt")
    with pytest.raises(EmitError, match="symbolic link.*--ipfs-emit-force"):
        emit(tmp_path / "out", {"test_bert.py": SOURCE}, flag="--ipfs-emit-force")
    emit(tmp_path / "out", {"test_bert.py": SOURCE}, force=True)
    assert not target.is_symlink() and target.read_text() == SOURCE
    assert (tmp_path / "victim.txt").read_text() == f"{GENERATED_MARKER} but someone else's\n"


def test_a_hand_written_file_is_kept_unless_forced(tmp_path):
    (tmp_path / "test_bert.py").write_text("def test_mine():\n    pass\n")
    with pytest.raises(EmitError, match=r"test_bert.py exists and is not a file pytest-ipfs-accel generated"):
        emit(tmp_path, {"test_bert.py": SOURCE})
    assert (tmp_path / "test_bert.py").read_text() == "def test_mine():\n    pass\n"
    emit(tmp_path, {"test_bert.py": SOURCE}, force=True)
    assert (tmp_path / "test_bert.py").read_text() == SOURCE


def test_a_generated_file_is_replaced(tmp_path):
    emit(tmp_path, {"test_bert.py": SOURCE})
    emit(tmp_path, {"test_bert.py": SOURCE.replace("x = 1", "x = 2")})
    assert "x = 2" in (tmp_path / "test_bert.py").read_text()


def test_refusal_leaves_nothing_behind(tmp_path):
    """Every target is checked before the first write; a folder in the way is named."""
    (tmp_path / "test_t5.py").mkdir()
    with pytest.raises(EmitError, match="test_t5.py is a directory"):
        emit(tmp_path, {"test_bert.py": SOURCE, "test_t5.py": SOURCE})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test_t5.py"]
    assert not list((tmp_path / "test_t5.py").iterdir())


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_one_error_and_nothing_left(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        with pytest.raises(EmitError, match="cannot write in"):
            emit(out, {"test_bert.py": SOURCE})
        assert not list(out.iterdir())
    finally:
        out.chmod(0o755)


def test_plugin_keeps_a_hand_written_file_exit_4_unless_forced(pytester):
    out = pytester.path / "out"
    out.mkdir()
    (out / "test_bert.py").write_text("def test_mine():\n    pass\n")
    args = ("--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-emit=out")
    result = pytester.runpytest(*args)
    err = result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR and len(err.strip().splitlines()) == 1, err
    assert "test_bert.py exists and is not a file pytest-ipfs-accel generated" in err and "--ipfs-emit-force" in err
    assert (out / "test_bert.py").read_text() == "def test_mine():\n    pass\n"
    assert pytester.runpytest(*args, "--ipfs-emit-force").ret == 0
    assert GENERATED_MARKER in (out / "test_bert.py").read_text()
    (out / "test_bert.py").write_text("def test_mine():\n    pass\n")
    pytester.makeini("[pytest]\nipfs_emit_force = true\n")
    assert pytester.runpytest(*args).ret == 0
    assert GENERATED_MARKER in (out / "test_bert.py").read_text()
    assert pytester.runpytest(*args).ret == 0  # our own file is replaced without asking


def test_plugin_folder_in_the_way_is_one_line_exit_4(pytester):
    (pytester.path / "out" / "test_bert.py").mkdir(parents=True)
    result = pytester.runpytest("--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-emit=out")
    err = result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR and "test_bert.py is a directory" in err, err
    assert [p.name for p in (pytester.path / "out").iterdir()] == ["test_bert.py"]  # no .tmp left behind


def test_a_user_template_without_the_marker_still_emits_a_replaceable_file(pytester):
    folder = pytester.path / "tpl" / "tests" / "models"
    folder.mkdir(parents=True)
    (folder / "bert.py.j2").write_text('{% extends "tests/model.py.j2" %}\n{% block docstring %}\n'
                                       '"""My own docstring."""\n{% endblock %}\n')
    args = ("--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-templates=tpl", "--ipfs-emit=out")
    assert pytester.runpytest(*args).ret == 0
    first = (pytester.path / "out" / "test_bert.py").read_text()
    assert first.startswith(f"# {GENERATED_MARKER}") and '"""My own docstring."""' in first
    assert pytester.runpytest(*args).ret == 0
