"""host.reference: the fixed workload, and waiting for the machine's usual speed before timing (17.1)."""

from __future__ import annotations

import time

import pytest

from pytest_ipfs_accel.host import reference


def test_the_reference_workload_takes_milliseconds():
    best = reference.fastest_s(rounds=3)
    assert 0 < best < 0.5


def test_a_machine_at_its_usual_speed_is_not_waited_for():
    """A floor far above what this machine takes: the first reference is within it, nothing waited."""
    settler = reference.Settler()
    settled = settler.settle(floor_s=1.0, budget_s=30.0)
    assert settled.waited_s < 1.0 and 0 < settled.reference_s == settler.best < 0.5
    assert settler.adopted is None


def test_no_budget_means_one_reference_and_no_wait():
    """budget 0 (--ipfs-benchmark-settle=0): the reference is timed once, for the record, however slow."""
    settler = reference.Settler()
    settled = settler.settle(floor_s=1e-9, budget_s=0.0)
    assert settled.reference_s > 0 and settled.waited_s < 1.0 and settler.adopted is None


@pytest.fixture
def timed(monkeypatch):
    """``timed(*seconds)``: what the next timings of the reference take (scripted, to test the waiting rule;
    each takes 2 ms)."""
    queue: list[float] = []

    def fastest_s(rounds: int = reference.ROUNDS) -> float:
        time.sleep(0.002)
        return queue.pop(0)

    monkeypatch.setattr(reference, "fastest_s", fastest_s)
    return lambda *seconds: queue.extend(seconds)


def test_it_waits_until_the_machine_is_back_then_adopts_a_slower_machine_once(timed):
    """References 50 % above the floor are waited through until one is within the margin; a wait that
    runs out adopts what it saw, so the next item waits for that, until the usual speed is back."""
    settler = reference.Settler()
    timed(0.6, 0.61, 0.6, 0.43)
    assert settler.settle(floor_s=0.4, budget_s=30.0).reference_s == 0.43  # within 10 % of 0.4
    assert settler.best == 0.43 and settler.adopted is None
    timed(0.7)
    settler.spent = 0.0  # the 1 ms budget below is not spent already (TOTAL_BUDGETS)
    assert settler.settle(floor_s=0.4, budget_s=0.001).reference_s == 0.7  # runs out at the first
    assert settler.adopted == 0.7
    timed(0.75)
    settler.settle(floor_s=0.4, budget_s=30.0)  # within 10 % of what was adopted: no wait for 0.4
    assert settler.adopted == 0.7
    timed(0.42)
    settler.settle(floor_s=0.4, budget_s=30.0)
    assert settler.adopted is None  # the usual speed is back
    timed(0.9)
    assert settler.settle(floor_s=None, budget_s=30.0).reference_s == 0.9  # no floor: nothing to wait for
    timed(0.38)
    settler.settle(floor_s=0.4, budget_s=30.0)  # faster than the floor: the usual speed from now on
    assert settler.best == 0.38 and settler.usual(0.4) == 0.38 and settler.usual(0.2) == 0.2
    assert settler.usual(None) is None


def test_a_process_stops_waiting_after_its_total_budget(timed):
    settler = reference.Settler(spent=reference.TOTAL_BUDGETS * 2.0)
    timed(0.9)
    settled = settler.settle(floor_s=0.4, budget_s=2.0)
    assert settled.reference_s == 0.9 and settled.waited_s < 1.0 and settler.adopted is None


def test_pedantic_rounds_come_in_batches_each_after_a_wait():
    """runtime.bench: ``benchmark.pedantic``'s setup waits again before each of BATCHES batches of timed
    rounds (never before warm-up rounds); other processes' CPU is summed over the batches."""
    from pytest_ipfs_accel.runtime.bench import BATCHES, Surroundings
    from pytest_ipfs_accel.runtime.timing import TimingSettings

    with Surroundings(TimingSettings(rounds=10, warmup=2, settle_s=0.0)) as around:
        for _ in range(2 + 10):  # pytest-benchmark calls setup before every round, warm-up ones too
            around.between_rounds()
    assert BATCHES == 4 and len(around.settles) == 4  # before timed rounds 1, 4, 7 and 10
    assert around.other_cpu_s is not None and around.other_cpu_s >= 0
    assert 0 < around.machine_speed() < 0.5


def test_the_machine_speed_is_that_of_the_batch_timed_on_the_fastest_machine():
    """Per batch the slower of the references right before it (after its wait) and right after it (the
    next wait's first, or the one after the rounds); the item's figure is the least of those."""
    from pytest_ipfs_accel.runtime.bench import Surroundings
    from pytest_ipfs_accel.runtime.timing import TimingSettings

    around = Surroundings(TimingSettings())
    around.settles = [reference.Settled(0.40, 0.0, 0.40), reference.Settled(0.41, 2.0, 0.60),
                      reference.Settled(0.40, 0.0, 0.40)]
    around.reference_after = 0.70  # the machine slowed during the last batch
    assert around.machine_speed() == 0.41  # batch 1 ended slow (0.60), batch 3 too (0.70): batch 2
    around.settles[2] = reference.Settled(0.40, 1.0, 0.65)  # batch 2 ended slow too
    around.reference_after = 0.42
    assert around.machine_speed() == 0.42
