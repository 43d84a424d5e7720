"""Reports over many machines: several databases / Parquet folders in, machines side by side out.

``report.data.load_sources(paths, run)`` reads one database directly; several inputs (or a folder
of ``ipfs-accel db export --parquet`` files) are merged into a temporary database first
(:func:`pytest_ipfs_accel.store.merge.merge`), so the report sees every machine's runs.

``machines(con)`` groups benchmark medians by machine (``runs.machine_id``; runs stored before
schema v3 group by host): per model x platform x precision x batch size, the median over the
machine's runs of each run's median. Labels are the CPU model, the real accelerators and the
first six digits of the machine id.
"""

from __future__ import annotations

import json
from typing import Any

#: Runs per machine that feed its medians (the newest ones).
RUNS_PER_MACHINE = 20


def machines(con, limit: int = RUNS_PER_MACHINE) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """([{id, label, runs, newest}], [{model, platform, precision, batch_size, medians: {id: s}}])."""
    from pytest_ipfs_accel.host.fingerprint import label

    runs = con.execute(
        "SELECT coalesce(machine_id, 'host:' || coalesce(host, '?')) AS mid, id, fingerprint, host FROM ("
        " SELECT r.*, row_number() OVER (PARTITION BY coalesce(machine_id, host) ORDER BY started_at DESC, id DESC)"
        " AS k FROM runs r WHERE EXISTS (SELECT 1 FROM benchmark_results b WHERE b.run_id = r.id)) "
        "WHERE k <= ? ORDER BY mid, k", [int(limit)]).fetchall()
    found: dict[str, dict[str, Any]] = {}
    for mid, run_id, fp, host in runs:
        shown = label(json.loads(fp), mid) if fp else f"{host or '?'} (no fingerprint)"
        entry = found.setdefault(mid, {"id": mid, "runs": [], "newest": run_id, "label": shown})
        entry["runs"].append(run_id)
    if not found:
        return [], []
    pairs = [(run_id, mid) for mid, m in found.items() for run_id in m["runs"]]
    values = ", ".join("(?, ?)" for _ in pairs)
    cur = con.execute(
        f"SELECT b.model, b.platform, coalesce(b.precision, 'fp32'), coalesce(b.batch_size, 1), m.mid, "
        f"median(b.median_s), count(*) FROM benchmark_results b JOIN (VALUES {values}) AS m(run_id, mid) "
        f"ON m.run_id = b.run_id WHERE b.median_s IS NOT NULL GROUP BY ALL ORDER BY ALL",
        [v for pair in pairs for v in pair])
    rows: dict[tuple, dict[str, Any]] = {}
    for model, platform, precision, batch, mid, med, n in cur.fetchall():
        row = rows.setdefault((model, platform, precision, batch), {
            "model": model, "platform": platform, "precision": precision, "batch_size": batch, "medians": {},
            "runs": {}})
        row["medians"][mid], row["runs"][mid] = med, n
    return sorted(found.values(), key=lambda m: m["label"]), list(rows.values())
