"""Reports over several databases: machines side by side, failure classes, extra sections."""

from __future__ import annotations

from pytest_ipfs_accel.cli.main import main
from pytest_ipfs_accel.report import data, render
from pytest_ipfs_accel.report.data import load_sources
from pytest_ipfs_accel.store import merge
from pytest_ipfs_accel.store.schema import TestResultRow
from pytest_ipfs_accel.store.writer import Writer

from .conftest import fill


def two_machines(tmp_path):
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    fill(a, machine="Intel Xeon 8480")
    fill(b, machine="AMD EPYC 9654", speed=2.0)
    return a, b


def test_two_databases_show_both_machines_side_by_side(tmp_path):
    a, b = two_machines(tmp_path)
    found = load_sources([a, b])
    labels = [m["label"] for m in found.machines]
    assert len(labels) == 2 and labels[0].startswith("AMD EPYC 9654 [") and labels[1].startswith("Intel Xeon 8480 [")
    ids = [m["id"] for m in found.machines]
    row = next(r for r in found.by_machine if (r["model"], r["batch_size"]) == ("bert", 4))
    assert row["medians"][ids[0]] == 2 * row["medians"][ids[1]] and row["runs"] == {ids[0]: 2, ids[1]: 2}
    html, md = render(found, "html"), render(found, "md")
    assert 'id="by-machine"' in html and "Intel Xeon 8480 [" in html and "AMD EPYC 9654 [" in html
    assert "### Machines side by side" in md and "| bert | cpu | fp32 | 4 | 12 | 6 |" in md
    assert str(a) in found.db_path and str(b) in found.db_path


def test_one_machine_has_no_side_by_side_section(tmp_path):
    a, _ = two_machines(tmp_path)
    found = data.load(a)
    assert len(found.machines) == 1 and 'id="by-machine"' not in render(found, "html")


def test_cli_report_accepts_databases_and_parquet_folders(tmp_path, capsys):
    a, b = two_machines(tmp_path)
    merge.export_parquet(b, tmp_path / "fleet" / "b")
    assert main(["report", "--db", str(a), str(tmp_path / "fleet"), "--output", str(tmp_path / "r.md")]) == 0
    assert "### Machines side by side" in (tmp_path / "r.md").read_text(encoding="utf-8")
    assert main(["report", "--db", str(a), str(tmp_path / "nope"), "--output", str(tmp_path / "r.md")]) == 2
    assert "no such database or folder" in capsys.readouterr().err


def test_failure_class_and_extra_sections_are_rendered(tmp_path):
    db = tmp_path / "r.duckdb"
    run_id = fill(db, runs=1)[0]
    writer = Writer.open(db)
    writer.add_result(TestResultRow(run_id, "ipfs/t.py::test_parity[bert-openvino]", "failed", model="bert",
                                    platform="openvino", kind="parity", message="max abs diff 0.5",
                                    failure_class="numeric", max_abs_diff=0.5))
    writer.classify(run_id, "ipfs/test_0.py::test_load[bert-cpu]", "perf", "perf: 25% slower")
    writer.close()
    found = data.load(db)
    assert found.matrix[("bert", "openvino")].short() == "1F (1 numeric)"
    assert found.regressions == [{"test": "ipfs/test_0.py::test_load[bert-cpu]", "verdict": "perf: 25% slower"}]
    found.sections.append(data.Section("Coverage", "<p id='cov'>covered</p>", "covered *here*"))
    html, md = render(found, "html"), render(found, "md")
    assert "<p id='cov'>covered</p>" in html and "[numeric]" in html and "Stored by the regression gate" in html
    assert "### Coverage\n\ncovered *here*" in md and "failed [numeric]" in md
