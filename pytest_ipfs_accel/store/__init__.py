"""Results store: one DuckDB file per project, written by one writer, read by the reports.

Nothing here imports duckdb until a database is opened.
"""

from .schema import SCHEMA_VERSION, BenchmarkRow, RunRow, StoreError, TestResultRow
from .writer import DatabaseLocked, Writer, import_spill

__all__ = ["SCHEMA_VERSION", "BenchmarkRow", "DatabaseLocked", "RunRow", "StoreError", "TestResultRow", "Writer",
           "import_spill"]
