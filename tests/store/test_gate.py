"""store.gate: the Mann-Whitney test, thresholds, baselines of the same machine, on real DuckDB stores."""

from __future__ import annotations

import random
import statistics
from types import SimpleNamespace

import pytest

from pytest_ipfs_accel.store import gate, queries

NODE = "ipfs/test_bert.py::test_benchmark[cpu-bs1]"


def noisy(center: float, n: int = 30, seed: int = 0, spread: float = 0.05) -> list[float]:
    rng = random.Random(seed)
    return [center * (1 + rng.uniform(-spread, spread)) for _ in range(n)]


def test_mann_whitney_one_sided_p_values():
    assert gate.mann_whitney_greater([4, 5, 6], [1, 2, 3]) == pytest.approx(0.0404, abs=1e-3)  # normal approx.
    assert gate.mann_whitney_greater([1, 2, 3], [4, 5, 6]) > 0.95
    assert gate.mann_whitney_greater(noisy(1.2, seed=1), noisy(1.0, seed=2)) < 1e-6
    assert 0.05 < gate.mann_whitney_greater(noisy(1.0, seed=3), noisy(1.0, seed=4)) < 0.95
    assert gate.mann_whitney_greater([1.0] * 5, [1.0] * 5) == 1.0 and gate.mann_whitney_greater([], [1.0]) == 1.0


def stats(rounds, **extra):
    return {"model": "bert", "platform": "cpu", "precision": "fp32", "batch_size": 1,
            "median_s": statistics.median(rounds), "rounds_s": rounds, **extra}


def test_a_regression_needs_both_the_threshold_and_significance():
    base = gate.Baseline(["b"], items={("bert", "cpu", "fp32", 1): {"node_id": NODE, "rounds": noisy(1.0),
                                                                      "median_s": 1.0}})
    slow = gate.compare({"n": stats(noisy(1.25, seed=5))}, base, 10.0)[0]
    assert slow.status == "regression" and slow.p_value < gate.ALPHA and slow.percent > 20
    assert gate.compare({"n": stats(noisy(1.25, seed=5))}, base, 30.0)[0].status == "ok"  # under the threshold
    # slower median but two rounds only: not significant -> noise, never a regression
    assert gate.compare({"n": stats([1.3, 1.3])}, base, 10.0)[0].status == "slower (noise)"
    # per-item thresholds: the marker value in the stats wins over the expectations callback and the option
    assert gate.compare({"n": stats(noisy(1.25, seed=5), max_slowdown=0.5)}, base, 10.0,
                        lambda s: 0.01)[0].status == "ok"
    assert gate.compare({"n": stats(noisy(1.05, seed=6))}, base, 10.0, lambda s: 0.01)[0].status == "regression"
    assert gate.compare({"n": stats(noisy(0.5, seed=7))}, base, 10.0)[0].status == "faster"
    assert gate.compare({"n": {**stats([1.0]), "batch_size": 8}}, base, 10.0)[0].status == "new"


def test_marker_value_is_checked():
    class Item:
        def __init__(self, *args):
            self.args = args

        def get_closest_marker(self, name):
            return SimpleNamespace(args=self.args, kwargs={}) if name == gate.MARKER else None

    assert gate.marker_slowdown(Item(0.3)) == 0.3
    with pytest.raises(ValueError, match=r"ipfs_max_slowdown\('x'\).*fraction >= 0"):
        gate.marker_slowdown(Item("x"))


def test_last_n_pools_the_same_machines_runs_and_falls_back_to_others(tmp_path, plant):
    db = tmp_path / "r.duckdb"
    m1 = plant(db, "r1", noisy(1.0, seed=1), minutes=1)
    plant(db, "r2", noisy(1.0, seed=2), machine="m2", minutes=2)
    plant(db, "r3", noisy(1.0, seed=3), minutes=3)
    m2 = plant(db, "r4", noisy(1.0, seed=4), machine="m2", minutes=4)
    with queries.connect(db) as con:
        assert gate.resolve(con, "last:5", current="r4", machine_id=m1) == ["r3", "r1"]
        assert gate.resolve(con, "last:2", current="r4", machine_id=m2) == ["r2"]
        assert gate.resolve(con, "last:3", current="r4", machine_id=m1, any_machine=True) == ["r3", "r2", "r1"]
        assert gate.resolve(con, "last", machine_id="nowhere") == ["r4"]  # no run of this machine: newest of any
        pooled = gate.load(con, ["r3", "r1"])
        assert len(pooled.items[("bert", "cpu", "fp32", 1)]["rounds"]) == 60 and pooled.machine_id == m1
        with pytest.raises(gate.GateError, match="no run 'nope'.*known runs.*r4"):
            gate.resolve(con, "nope")
        with pytest.raises(gate.GateError, match="last:N needs N >= 1"):
            gate.resolve(con, "last:0")
        changed = gate.machine_change(pooled, m2, queries.run(con, "r4")["fingerprint"])
    assert changed == ["cpu model: CPU of m1 -> CPU of m2"]


def test_rows_without_raw_rounds_fall_back_to_the_median(tmp_path, plant):
    db = tmp_path / "r.duckdb"
    plant(db, "old", [1.0, 1.0, 1.0], keep_rounds=False)
    with queries.connect(db) as con:
        base = gate.load(con, ["old"])
    found = gate.compare({"n": stats(noisy(1.2, seed=9))}, base, 10.0)[0]
    assert found.p_value is None and found.status == "regression"
