"""files.write_text: the one safe way a user-visible file is written."""

import os

import pytest

from pytest_ipfs_accel.files import GENERATED_MARKER, FileWriteError, NotOursError, is_generated, write_text


def test_writes_through_a_temp_file_and_keeps_the_usual_mode(tmp_path):
    path = write_text(tmp_path / "sub" / "report.md", f"<!-- {GENERATED_MARKER} -->\nhi\n")
    assert path.read_text().endswith("hi\n") and is_generated(path)
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    assert [p.name for p in path.parent.iterdir()] == ["report.md"]  # no temp file left


def test_marker_must_be_near_the_top_of_a_regular_file(tmp_path):
    late = tmp_path / "late.py"
    late.write_text("x = 1\n" * 400 + f"# {GENERATED_MARKER}\n")
    assert not is_generated(late)
    link = tmp_path / "link.py"
    link.symlink_to(tmp_path / "late.py")
    (tmp_path / "ours.py").write_text(f"# {GENERATED_MARKER}\n")
    link.unlink()
    link.symlink_to(tmp_path / "ours.py")
    assert is_generated(tmp_path / "ours.py") and not is_generated(link)


def test_a_file_we_did_not_write_needs_force_named_by_the_caller(tmp_path):
    mine = tmp_path / "report.html"
    mine.write_text("<p>my notes</p>")
    with pytest.raises(NotOursError, match=r"pass --overwrite to replace it"):
        write_text(mine, "new", flag="--overwrite")
    assert mine.read_text() == "<p>my notes</p>"
    write_text(mine, "new", force=True)
    assert mine.read_text() == "new"


def test_failure_removes_the_temp_file(tmp_path):
    (tmp_path / "gone").mkdir()
    with pytest.raises(FileWriteError, match="is a directory"):
        write_text(tmp_path / "gone", "x")
    with pytest.raises(FileWriteError, match="is not a directory"):
        (tmp_path / "file").write_text("x")
        write_text(tmp_path / "file" / "a.txt", "x", mkdir=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "gone"]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
