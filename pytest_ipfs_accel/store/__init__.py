"""Results store: one DuckDB file per project, written by one writer, read by the reports.

Nothing here imports duckdb until a database is opened, and nothing at all until a name is used:
the names below load their module on first access (PEP 562), so the plugin's start-up stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SCHEMA_VERSION": "schema", "BenchmarkRow": "schema", "RunRow": "schema", "StoreError": "schema",
    "TestResultRow": "schema", "import_spill": "spill", "DatabaseLocked": "writer",
    "ReadOnlyDatabase": "writer", "Writer": "writer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
