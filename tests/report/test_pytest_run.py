"""A real pytest sub-run: the terminal table at the end, --ipfs-report, $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

import pytest

from pytest_ipfs_accel.report import data, terminal


def test_terminal_table_cells(store):
    rows = terminal.table(data.load(store[0]))
    texts = [" | ".join(t.strip() for t, _ in row) for row in rows]
    assert texts == ["model \\ platform | cpu | cuda", "bert | 2P | 1S 1X", "t5 | 1P 1F | 1S 1X"]
    assert rows[2][1][1] == {"red": True, "bold": True} and rows[1][1][1] == {"green": True}
    assert len({len(t) for t, _ in (row[0] for row in rows)}) == 1  # padded to one width


@pytest.mark.slow
def test_sub_run_writes_report_table_and_step_summary(pytester, tmp_path_factory, monkeypatch):
    summary = pytester.path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    cache = tmp_path_factory.getbasetemp() / "shared-pytest-cache"
    result = pytester.runpytest_subprocess(
        "-o", f"cache_dir={cache}", "--ipfs-models=bert", "--ipfs-hw=cpu,cuda", "--ipfs-kinds=load,forward",
        "--ipfs-report=r.html", "--ipfs-db=results.duckdb")
    out = result.stdout.str()
    assert "ipfs-accel: models x platforms" in out, out
    result.stdout.re_match_lines([r"model \\ platform\s+cpu\s+cuda", r"bert\s+2P\s+2S", r"\(P passed, .*; run \S+\)",
                                  r"ipfs-accel: report written to r\.html"])
    found = data.load(pytester.path / "results.duckdb")
    assert found.run["status"] == "finished" and found.matrix[("bert", "cpu")].counts == {"passed": 2}
    html = (pytester.path / "r.html").read_text(encoding="utf-8")
    assert found.run["id"] in html and "finished" in html and 'id="compat"' in html
    assert "| **bert** | ✅ 2P | ⏭️ 2S |" in summary.read_text(encoding="utf-8")


def test_bad_report_suffix_is_a_usage_error(pytester):
    result = pytester.runpytest_subprocess("--ipfs-models=bert", "--ipfs-hw=cpu", "--ipfs-kinds=load",
                                           "--ipfs-report=r.pdf", "--ipfs-db=none")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ipfs-report: r.pdf: cannot tell the report format*"])


SECTION_CONFTEST = '''
from pytest_ipfs_accel.report.data import Section


def pytest_ipfs_report_sections(config, data):
    n = len(data.matrix)
    return [Section("Team notes", f"<p id='team'>{n} cells, run {data.run['id']}</p>", f"{n} cells (team notes)")]
'''


def test_a_plugin_adds_a_report_section_without_editing_the_templates(pytester, tmp_path_factory):
    """Issue 14.6: ``pytest_ipfs_report_sections`` puts a section into the HTML and the Markdown report."""
    pytester.makeconftest(SECTION_CONFTEST)
    cache = tmp_path_factory.getbasetemp() / "shared-pytest-cache"
    for name in ("r.html", "r.md"):
        result = pytester.runpytest_subprocess("-o", f"cache_dir={cache}", "--ipfs-models=bert", "--ipfs-hw=cpu",
                                               "--ipfs-kinds=load", f"--ipfs-report={name}", "--ipfs-db=r.duckdb")
        assert result.ret == 0, result.stdout.str()
    html = (pytester.path / "r.html").read_text(encoding="utf-8")
    assert "Team notes" in html and "<p id='team'>1 cells, run " in html
    assert "Team notes" in (pytester.path / "r.md").read_text(encoding="utf-8")
    assert "1 cells (team notes)" in (pytester.path / "r.md").read_text(encoding="utf-8")
