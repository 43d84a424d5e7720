"""The coverage helpers the generation coverage script shares with the coverage report: public, one copy."""

from __future__ import annotations

import ast
from pathlib import Path

from pytest_ipfs_accel.report.coverage import PACKAGE_MARK, Row, merge_outcome, needed_package, reason_key

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "generation_coverage.py"


def test_the_worst_outcome_of_a_cell_wins_and_keeps_its_first_line():
    row = Row("m")
    merge_outcome(row, "ort", "passed", "")
    merge_outcome(row, "ort", "xfailed", "cannot export\nsecond line")
    merge_outcome(row, "ort", "skipped", "later, milder")
    assert row.status["ort"] == "xfail" and row.reasons["ort"] == "cannot export"
    merge_outcome(row, "ort", "error", "")
    assert row.status["ort"] == "fail" and row.reasons["ort"] == "error"  # no message: the outcome


def test_a_missing_package_is_kept_from_the_first_message_naming_one():
    row = Row("m")
    merge_outcome(row, "forward", "skipped", f"{PACKAGE_MARK}timm (pip install timm)")
    merge_outcome(row, "ov", "failed", f"{PACKAGE_MARK}pillow")
    assert row.package == "timm" and needed_package("no package here") is None


def test_a_reason_key_drops_the_model_name_so_equal_causes_group():
    assert reason_key("model 'a' (model_type 'a'): boom; [wide] other") == reason_key("model 'b': boom")


def test_the_coverage_script_imports_no_private_name():
    tree = ast.parse(SCRIPT.read_text())
    private = [f"{node.module}.{alias.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               for alias in node.names if alias.name.startswith("_") and (node.module or "").startswith("pytest_ipfs")]
    assert private == []
