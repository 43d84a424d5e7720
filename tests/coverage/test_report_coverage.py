"""report/coverage.py on a real DuckDB store written by small plugin runs."""

from __future__ import annotations

import importlib.util

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from pytest_ipfs_accel.report.coverage import rows, section, summarize  # noqa: E402


@pytest.mark.slow
def test_section_lists_every_model_with_reasons_and_package_needs(sweep, last_run) -> None:
    result, db = sweep("task:document-question-answering", "--ipfs-hw=cpu,onnxruntime",
                       "--ipfs-kinds=forward,parity", "-n", "0")
    assert result.ret in (0, 1), result.stdout.str()[-2000:]
    con, run_id = last_run(db)
    found = {r.model: r for r in rows(con, [run_id])}
    assert set(found) == {"layoutlm", "layoutlmv2", "layoutlmv3"}
    assert found["layoutlm"].status["forward"] == "pass" and found["layoutlm"].status["built"] == "pass"
    assert found["layoutlm"].status["ort"] in ("pass", "fail", "xfail")
    assert found["layoutlm"].status["ov"] == "-"  # not asked for
    if importlib.util.find_spec("detectron2") is None:
        assert found["layoutlmv2"].package == "detectron2"
        assert summarize(list(found.values())).packages == {"detectron2": 1}
    got = section(con, [run_id])
    assert got is not None
    title, html, markdown = got
    assert "forward (cpu)" in title and "OpenVINO" not in title
    assert html.count("<tr>") == 1 + 3 and "layoutlmv3" in html
    assert "| layoutlm | pass | pass |" in markdown
    for r in found.values():  # every failure is listed with its reason, not hidden
        for column, status in r.status.items():
            if status == "fail" and column != "built":
                assert r.reasons[column] and r.reasons[column][:40] in markdown.replace("\\|", "|")


@pytest.mark.slow
def test_plain_run_without_selector_has_no_section(sweep, last_run) -> None:
    result, db = sweep("bert", "--ipfs-hw=cpu", "--ipfs-kinds=forward", "-n", "0")
    assert result.ret == 0, result.stdout.str()[-2000:]
    con, run_id = last_run(db)
    assert [r.model for r in rows(con, [run_id])] == ["bert"]
    assert section(con, [run_id]) is None
