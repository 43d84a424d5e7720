"""Results store: one DuckDB file per project, written by one writer, read by the reports.

Nothing here imports duckdb until a database is opened.
"""

from pytest_ipfs_accel.store.schema import SCHEMA_VERSION, BenchmarkRow, RunRow, StoreError, TestResultRow
from pytest_ipfs_accel.store.spill import import_spill
from pytest_ipfs_accel.store.writer import DatabaseLocked, ReadOnlyDatabase, Writer

__all__ = ["SCHEMA_VERSION", "BenchmarkRow", "DatabaseLocked", "ReadOnlyDatabase", "RunRow", "StoreError",
           "TestResultRow", "Writer", "import_spill"]
