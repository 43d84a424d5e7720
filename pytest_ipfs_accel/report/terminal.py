"""The end-of-run table: models x platforms, outcome counts per cell (``3P 1S``), coloured by status."""

from __future__ import annotations

from pytest_ipfs_accel.report.data import LETTERS, ReportData

_MARKUP = {"pass": {"green": True}, "fail": {"red": True, "bold": True}, "skip": {"yellow": True},
           "xfail": {"yellow": True}}


def table(data: ReportData) -> list[list[tuple[str, dict]]]:
    """Rows of (text, markup) cells, padded to column width; [] when the run has no model tests."""
    if not data.matrix:
        return []
    header = ["model \\ platform", *data.platforms]
    rows = [[(t, {"bold": True}) for t in header]]
    for model in data.models:
        row = [(model, {"bold": True})]
        for platform in data.platforms:
            cell = data.matrix.get((model, platform))
            row.append((cell.short(), _MARKUP[cell.status]) if cell else ("-", {}))
        rows.append(row)
    widths = [max(len(r[i][0]) for r in rows) for i in range(len(header))]
    return [[(text.ljust(w), markup) for (text, markup), w in zip(row, widths)] for row in rows]


def legend() -> str:
    return ", ".join(f"{letter} {outcome}" for outcome, letter in LETTERS.items())


def write(terminalreporter, data: ReportData) -> None:
    rows = table(data)
    if not rows:
        return
    terminalreporter.section("ipfs-accel: models x platforms", sep="-")
    for row in rows:
        for i, (text, markup) in enumerate(row):
            terminalreporter.write(("  " if i else "") + text, **markup)
        terminalreporter.write_line("")
    terminalreporter.write_line(f"({legend()}; run {data.run['id']})")
    if data.precision_tables:
        from pytest_ipfs_accel.report.precision import text_table

        terminalreporter.section("ipfs-accel: precisions (speed-up vs fp32 and torch cpu fp32, accuracy, size)", sep="-")
        for line in text_table([r for rows in data.precision_tables.values() for r in rows]):
            terminalreporter.write_line(line)
