"""Parsing ``ipfs-expectations.toml``: globs, last match wins, and one-line errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ipfs_accel.expectations.file import Expectation, ExpectationsError, load
from pytest_ipfs_accel.expectations.write import dumps

GOOD = '''
[[expect]]
model = "whisper"
platform = "openvino*"
expected = "xfail"
reason = "aten::diff has no OV conversion rule"

[[expect]]
model = "t5"
platform = "openvino"
kind = "parity"
tolerance = { fp32 = { atol = 1e-3, rtol = 1e-3 }, fp16 = { atol = 5e-2 } }
max_slowdown = 0.25

[[expect]]
model = "whisper"
platform = "openvino:GPU"
kind = "load"
expected = "skip"
reason = "no GPU driver on the fleet"
'''


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ipfs-expectations.toml"
    path.write_text(text)
    return path


def test_globs_and_the_last_matching_entry_wins(tmp_path: Path) -> None:
    exp = load(write(tmp_path, GOOD))
    assert exp.lookup("whisper", "openvino", "parity") == Expectation("xfail", "aten::diff has no OV conversion rule")
    assert exp.lookup("whisper", "openvino:GPU", "load").expected == "skip"  # later rule overrides the glob
    assert exp.lookup("whisper", "openvino:GPU", "parity").expected == "xfail"
    t5 = exp.lookup("t5", "openvino", "parity")
    assert t5 == Expectation("pass", "", {"fp32": (1e-3, 1e-3), "fp16": (5e-2, None)}, 0.25)
    assert exp.lookup("t5", "openvino", "forward") is None and exp.lookup("bert", "cpu", "load") is None


def test_written_text_loads_back_equal(tmp_path: Path) -> None:
    first = load(write(tmp_path, GOOD))
    again = load(write(tmp_path, dumps(first, "header line\nsecond")))
    assert again.rules == first.rules


def test_reasons_with_quotes_and_newlines_survive_writing(tmp_path: Path) -> None:
    first = load(write(tmp_path, '[[expect]]\nmodel = "x"\nexpected = "xfail"\nreason = "a \\"q\\"\\n\\\\ b\\u0001"\n'))
    assert load(write(tmp_path, dumps(first))).rules == first.rules
    assert first.rules[0].expectation.reason == 'a "q"\n\\ b\x01'


@pytest.mark.parametrize(("text", "message"), [
    ('[[expect]]\nmodel = "x"\nexpectd = "xfail"\n', r"#1: unknown key\(s\) 'expectd'; allowed: model, platform"),
    ('[[expect]]\nmodel = "x"\nexpected = "fail"\n', r"#1: expected = 'fail'; use one of pass, xfail, skip"),
    ('[[expect]]\nmodel = "x"\n[[expect]]\nmodel = "y"\nexpected = "xfail"\n',
     r"#2: expected = 'xfail' needs a reason"),
    ('[[expect]]\nmodel = 3\n', r"#1: model = 3 must be a non-empty string"),
    ('[[expect]]\ntolerance = { int3 = { atol = 1 } }\n', r"#1: tolerance.int3: unknown precision; use fp32"),
    ('[[expect]]\ntolerance = { fp32 = { atl = 1 } }\n', r"#1: tolerance.fp32 holds atol, rtol, cosine, top1, top5 only"),
    ('[[expect]]\ntolerance = { int8 = { cosine = 1.5 } }\n', r"#1: tolerance.int8.cosine = 1.5 must be a fraction"),
    ('[[expect]]\ntolerance = { fp32 = { atol = -1 } }\n', r"#1: tolerance.fp32.atol = -1 must be a number >= 0"),
    ('[[expect]]\nmax_slowdown = "25%"\n', r"#1: max_slowdown = '25%' must be a fraction, e.g. 0.25"),
    ('[expect]\nmodel = "x"\n', r"'expect' must be an array of tables; write each rule as \[\[expect\]\]"),
    ('[[expectation]]\nmodel = "x"\n', r"unknown top-level key\(s\) expectation"),
    ('[[expect]\nmodel = "x"\n', r"not valid TOML .*; fix the syntax"),
])
def test_bad_files_name_the_file_entry_and_fix(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ExpectationsError, match=message) as err:
        load(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ExpectationsError, match="cannot read the expectations file"):
        load(tmp_path / "nope.toml")


def test_floors_for_lossy_precisions_are_read_and_written_back(tmp_path):
    """Issue 16.2: int8 / int4 parity floors (cosine, top-k) come from the file and survive an update."""
    from pytest_ipfs_accel.expectations.file import load
    from pytest_ipfs_accel.expectations.write import dumps

    path = tmp_path / "ipfs-expectations.toml"
    path.write_text('[[expect]]\nmodel = "vit"\ntolerance = { int8 = { cosine = 0.9, top1 = 0.8 }, '
                    'fp32 = { atol = 0.001 } }\n')
    exp = load(path).lookup("vit", "onnxruntime", "parity")
    assert exp.floors == {"int8": {"cosine": 0.9, "top1": 0.8}} and exp.tolerance == {"fp32": (0.001, None)}
    again = tmp_path / "again.toml"
    again.write_text(dumps(load(path)))
    assert load(again).lookup("vit", "onnxruntime", "parity") == exp
