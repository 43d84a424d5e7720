"""--ipfs-emit writes only inside its directory."""

import pytest

from pytest_ipfs_accel.generate.emit import EmitError, emit


def test_writes_files(tmp_path):
    written = emit(tmp_path / "out", {"test_bert.py": "x = 1\n"})
    assert written == [(tmp_path / "out" / "test_bert.py").resolve()]
    assert written[0].read_text() == "x = 1\n"


@pytest.mark.parametrize("name", ["../test_evil.py", "sub/test_x.py", "/etc/test_x.py", "test_X.py", "conftest.py"])
def test_never_writes_outside_or_odd_names(tmp_path, name):
    with pytest.raises(EmitError):
        emit(tmp_path / "out", {name: "x = 1\n"})
    assert not (tmp_path / "test_evil.py").exists()
