"""store.gate: the Mann-Whitney test, thresholds, baselines of the same machine, on real DuckDB stores."""

from __future__ import annotations

import random
import statistics
from types import SimpleNamespace

import pytest

from pytest_ipfs_accel import markers
from pytest_ipfs_accel.regression import gate, noise as gate_noise

from pytest_ipfs_accel.store import queries

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
    rounds = noisy(1.0)
    fast = gate_noise.fast_rounds(rounds)  # what gate.load keeps for the Mann-Whitney test
    base = gate.Baseline(["b"], items={("bert", "cpu", "fp32", 1): {"node_id": NODE, "rounds": fast,
                                                                      "median_s": 1.0, "fastest_s": min(rounds)}})
    slow = gate.compare({"n": stats(noisy(1.25, seed=5))}, base, 10.0)[0]
    assert slow.status == "regression" and slow.p_value < gate.ALPHA and slow.percent > 20
    assert gate.compare({"n": stats(noisy(1.25, seed=5))}, base, 30.0)[0].status == "ok"  # under the threshold
    # the fastest round +20 %, yet the rounds cannot be told apart from the baseline's: noise, not a regression
    wide = [0.5 + i / 29 for i in range(30)]  # 0.5 .. 1.5: a baseline with wide rounds
    loose = gate.Baseline(["b"], items={("bert", "cpu", "fp32", 1): {"node_id": NODE, "rounds": wide,
                                                                       "median_s": 1.0, "fastest_s": 0.5}})
    mixed = gate.compare({"n": stats([0.6 + i / 29 * 0.8 for i in range(30)])}, loose, 10.0)[0]
    assert mixed.percent > 10 and (mixed.status, mixed.note) == ("slower (noise)", f"Mann-Whitney p={mixed.p_value:.2g}")
    assert mixed.p_value > 0.1
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
            return SimpleNamespace(args=self.args, kwargs={}) if name == markers.MAX_SLOWDOWN else None

    assert markers.marker_slowdown(Item(0.3)) == 0.3
    with pytest.raises(ValueError, match=r"ipfs_max_slowdown\('x'\).*fraction >= 0"):
        markers.marker_slowdown(Item("x"))


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
        # the Mann-Whitney sample: the fastest quarter (7 of 30) of the run that set the floor
        assert len(pooled.items[("bert", "cpu", "fp32", 1)]["rounds"]) == 7 and pooled.machine_id == m1
        with pytest.raises(gate.GateError, match="no run 'nope'.*known runs.*r4"):
            gate.resolve(con, "nope")
        with pytest.raises(gate.GateError, match="last:N needs N >= 1"):
            gate.resolve(con, "last:0")
        changed = gate.machine_change(pooled, m2, queries.run(con, "r4")["fingerprint"])
    assert changed == ["cpu model: CPU of m1 -> CPU of m2"]


def test_rows_without_raw_rounds_fall_back_to_the_median(tmp_path, plant):
    db = tmp_path / "r.duckdb"
    plant(db, "old", [1.0] * 12, keep_rounds=False)
    with queries.connect(db) as con:
        base = gate.load(con, ["old"])
    found = gate.compare({"n": stats(noisy(1.2, seed=9))}, base, 10.0)[0]
    assert found.p_value is None and found.status == "regression"


def set_column(db, column: str, value: float) -> None:
    """Give every stored benchmark row a schema-v4 noise column (the plant fixture leaves them NULL)."""
    import duckdb

    con = duckdb.connect(str(db))
    try:
        con.execute(f"UPDATE benchmark_results SET {column} = ?", [value])
    finally:
        con.close()


def test_too_few_rounds_or_too_little_time_is_inconclusive_before_any_verdict(tmp_path, plant):
    """17.1: a verdict needs >= MIN_ROUNDS rounds and >= MIN_TIME_S s timed, on both sides."""
    db = tmp_path / "r.duckdb"
    plant(db, "b", noisy(0.01, n=30))
    with queries.connect(db) as con:
        base = gate.load(con, ["b"])
    six = gate.compare({"n": stats(noisy(0.02, n=6))}, base, 10.0)[0]  # twice as slow, but 6 rounds
    assert six.status == gate.INCONCLUSIVE_ROUNDS and "6 rounds" in six.note and six.inconclusive
    short = gate.compare({"n": stats(noisy(0.001, n=40))}, base, 10.0)[0]  # 40 rounds of 1 ms: 0.04 s timed
    assert short.status == gate.INCONCLUSIVE_ROUNDS and "40 rounds, 0.04 s timed" in short.note
    assert gate.compare({"n": stats(noisy(0.02, n=30))}, base, 10.0)[0].status == "regression"
    plant(db, "few", noisy(0.01, n=5), minutes=1)
    with queries.connect(db) as con:
        thin = gate.load(con, ["few"])
    assert gate.compare({"n": stats(noisy(0.02, n=30))}, thin, 10.0)[0].status == gate.INCONCLUSIVE_ROUNDS


def test_the_spread_of_the_baseline_runs_is_robust_to_one_slowed_run():
    """17.1: 3 median absolute deviations of the runs' fastest rounds: one run on a slowed machine (1.35)
    does not widen it and so cannot hide a real slowdown; runs that all differ do widen it."""
    assert gate_noise.spread([1.0, 1.02, 1.35, 0.98, 1.0]) == pytest.approx(0.06, abs=1e-9)
    assert gate_noise.spread([1.0, 1.2, 0.85, 1.15, 0.95]) == pytest.approx(0.45, abs=1e-9)
    assert gate_noise.spread([1.0]) == 0.0


def test_a_slowdown_inside_the_baseline_runs_spread_is_noise_not_a_regression(tmp_path, plant):
    """17.1: unchanged code whose fastest round moved between runs as much as the baseline runs' own did
    is not a regression (the rounds-only Mann-Whitney test called such runs one at p ~ 1e-11)."""
    db = tmp_path / "r.duckdb"
    for minute, center in enumerate((1.0, 1.2, 0.85, 1.15, 0.95)):  # runs of unchanged code that all differ
        plant(db, f"r{minute}", noisy(center, seed=minute), minutes=minute)
    with queries.connect(db) as con:
        base = gate.load(con, gate.resolve(con, "last:5", machine_id=None))
    entry = base.items[("bert", "cpu", "fp32", 1)]
    assert entry["fastest_s"] == pytest.approx(0.85 * 0.95, rel=0.02)  # the floor: the fastest run's fastest round
    assert entry["spread"] == pytest.approx(0.45, abs=0.05)
    same = gate.compare({"n": stats(noisy(1.1, seed=11))}, base, 10.0)[0]
    assert same.percent > 20 and same.status == "slower (noise)" and "spread" in same.note
    assert gate.mann_whitney_greater(noisy(1.1, seed=11), entry["rounds"]) < gate.ALPHA  # what used to fail it
    worse = gate.compare({"n": stats(noisy(1.6, seed=12))}, base, 10.0)[0]
    assert worse.status == "regression" and worse.p_value < gate.ALPHA


def test_the_fastest_round_is_judged_and_a_noisier_median_only_noted(tmp_path, plant):
    """17.1: noise only adds time. A run whose median is +50 % from a few slow rounds but whose fastest
    rounds are unchanged is ok (with a note); a run whose every round is +20 % is a regression."""
    db = tmp_path / "r.duckdb"
    for minute in range(3):
        plant(db, f"r{minute}", noisy(1.0, seed=minute), minutes=minute)
    with queries.connect(db) as con:
        base = gate.load(con, gate.resolve(con, "last:3", machine_id=None))
    disturbed = noisy(1.0, n=12, seed=21) + noisy(1.6, n=18, seed=22)
    ok = gate.compare({"n": stats(disturbed)}, base, 10.0)[0]
    assert ok.status == "ok" and ok.median_change > 0.4 and "fastest round is unchanged" in ok.note
    slowed = gate.compare({"n": stats([x * 1.2 for x in noisy(1.0, seed=23)])}, base, 10.0)[0]
    assert slowed.status == "regression" and slowed.percent == pytest.approx(20, abs=6)


def test_a_slower_reference_workload_makes_the_verdict_inconclusive(tmp_path, plant):
    """17.1: the whole process ran slower (the fixed reference workload too): the machine, not the code."""
    db = tmp_path / "r.duckdb"
    plant(db, "b", noisy(1.0, seed=1))
    set_column(db, "reference_s", 0.0005)
    with queries.connect(db) as con:
        base = gate.load(con, ["b"])
    assert base.items[("bert", "cpu", "fp32", 1)]["reference_s"] == 0.0005
    slowed = [x * 1.3 for x in noisy(1.0, seed=2)]
    assert gate.compare({"n": stats(slowed, reference_s=0.00052)}, base, 10.0)[0].status == "regression"
    machine = gate.compare({"n": stats(slowed, reference_s=0.0007)}, base, 10.0)[0]
    assert machine.status == gate.INCONCLUSIVE_BUSY and "reference workload 40% slower" in machine.note
    assert gate.compare({"n": stats(slowed)}, base, 10.0)[0].status == "regression"  # no figure: not judged


def test_the_baseline_reference_is_the_fastest_of_its_runs_and_the_floor_reads_this_machine(tmp_path, plant):
    """17.1: the gate compares with the baseline runs' fastest reference; the store's floor for a
    machine (what benchmark items settle towards) is the 10th percentile of its own rows."""
    import duckdb

    db = tmp_path / "r.duckdb"
    mine = [plant(db, f"r{i}", noisy(1.0, seed=i), minutes=i) for i in range(10)][0]
    other = plant(db, "elsewhere", noisy(1.0, seed=99), machine="m2", minutes=20)
    con = duckdb.connect(str(db))
    try:
        for i in range(10):
            con.execute("UPDATE benchmark_results SET reference_s = ? WHERE run_id = ?", [0.0004 + 0.0001 * i, f"r{i}"])
        con.execute("UPDATE benchmark_results SET reference_s = 0.0001 WHERE run_id = 'elsewhere'")
    finally:
        con.close()
    with queries.connect(db) as con:
        assert gate.load(con, ["r3", "r5"]).items[("bert", "cpu", "fp32", 1)]["reference_s"] == pytest.approx(0.0007)
        assert queries.reference_floor(con, mine) == pytest.approx(0.00049)  # not m2's 0.1 ms
        assert queries.reference_floor(con, other) == pytest.approx(0.0001)
        assert queries.reference_floor(con, "never-seen") is None and queries.reference_floor(con, None) is None


@pytest.mark.parametrize("disturbance, why", [
    ({"load_before": 1.0, "load_after": 3.2}, "load average 3.2 on 2 cores"),
    ({"other_cpu_s": 1.44, "threads": 1}, "other processes used 1.6 cores while timing with 1 of 2 threads"),
    ({"cv": 0.45}, "cv 45% against the baseline's 5%"),
])
def test_a_disturbed_measurement_is_inconclusive_machine_busy(tmp_path, plant, disturbance, why):
    """17.1 / 16.4: slower beyond threshold and spread, but measured on a busy machine -> not a regression."""
    db = tmp_path / "r.duckdb"
    plant(db, "b", noisy(0.02, n=30))
    set_column(db, "cv", 0.05)
    with queries.connect(db) as con:
        base = gate.load(con, ["b"])
    quiet = {"load_before": 0.3, "load_after": 0.6, "other_cpu_s": 0.01, "threads": 2, "cv": 0.06}
    current = stats(noisy(0.03, n=30), mean_s=0.03, **quiet)  # +50 %; 30 rounds x 30 ms = 0.9 s timed
    assert gate.compare({"n": current}, base, 10.0, cores=2)[0].status == "regression"
    busy = gate.compare({"n": {**current, **disturbance}}, base, 10.0, cores=2)[0]
    assert (busy.status, busy.note) == (gate.INCONCLUSIVE_BUSY, why)
    assert gate_noise.busy_reason({**quiet, **disturbance, "mean_s": 0.03, "rounds": 30}, 2, 0.05) == why


def test_one_thread_on_two_cores_leaves_a_core_for_a_neighbour(tmp_path):
    """Another process on the core the timing does not use is not a disturbance; on the timed core it is."""
    row = {"mean_s": 0.01, "rounds": 100, "threads": 1, "load_before": 2.0, "load_after": 2.2}
    assert gate_noise.busy_reason({**row, "other_cpu_s": 1.0}, 2) is None  # one core's worth over 1 s
    assert gate_noise.busy_reason({**row, "other_cpu_s": 1.0, "threads": 2}, 2) is not None
    assert gate_noise.busy_reason({}, None) is None  # rows before schema v4: never judged busy


def test_slower_code_is_a_regression_even_when_its_median_is_below_the_baselines(tmp_path, plant):
    """17.1: medians of unchanged code move -40 … +77 % between runs; a 20 % slower run whose median
    happens to be below the baseline runs' medians is still a regression (its fastest rounds moved)."""
    db = tmp_path / "r.duckdb"
    for minute in range(3):
        plant(db, f"r{minute}", noisy(1.0, seed=minute) + noisy(1.8, n=40, seed=minute), minutes=minute)
    with queries.connect(db) as con:
        base = gate.load(con, gate.resolve(con, "last:3", machine_id=None))
    slowed = noisy(1.2, seed=31, n=40)  # fastest +20 %, median well below the baseline runs' ~1.6
    found = gate.compare({"n": stats(slowed)}, base, 10.0)[0]
    assert found.median_change < -0.2 and found.percent > 15 and found.status == "regression"

