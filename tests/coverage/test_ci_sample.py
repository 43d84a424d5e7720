"""The fixed CI sample (~30 architectures across modalities) forwards on cpu through the plugin."""

from __future__ import annotations

import importlib.util

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from pytest_ipfs_accel.models.selection import CI_SAMPLE  # noqa: E402
from pytest_ipfs_accel.report.coverage import rows, summarize  # noqa: E402

#: Sample members that need an optional package, and which one.
NEEDS = {"dinat": "natten"}


@pytest.mark.slow
def test_every_sample_architecture_forwards_or_is_a_counted_package_skip(sweep, last_run) -> None:
    limit = ["--timeout=300"] if importlib.util.find_spec("pytest_timeout") else []
    result, db = sweep("sample", "--ipfs-hw=cpu", "--ipfs-kinds=forward", "-n", "0", *limit)
    con, run_id = last_run(db)
    found = rows(con, [run_id])
    assert sorted(r.model for r in found) == sorted(CI_SAMPLE)
    missing = {m: p for m, p in NEEDS.items() if importlib.util.find_spec(p) is None}
    bad = [(r.model, r.status["forward"], r.reasons.get("forward")) for r in found
           if r.status["forward"] != "pass" and not (r.model in missing and r.status["forward"] == "skip")]
    assert not bad, bad
    summary = summarize(found)
    assert dict(summary.packages) == {p: 1 for p in missing.values()}
    assert summary.passed["forward"] == summary.testable == len(CI_SAMPLE) - len(missing)
    assert result.ret == 0, result.stdout.str()[-2000:]
