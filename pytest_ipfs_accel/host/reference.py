"""A fixed reference workload beside each benchmark: is the machine slower, or the code? And waiting
until the machine runs at its usual speed before the rounds are timed.

On this project's 2-vCPU VM the whole machine runs slower in *episodes*: for 0.1-6 s at a time,
about a quarter of the time, everything (the model's rounds, a pure-Python loop) takes +20-50 %,
with no load, steal or other-process CPU visible from inside (a 60 s trace of 20-round blocks of
tiny bert with the reference between them: of 1895 blocks slowed > 15 %, the reference was slowed
in 1848). A benchmark whose ~0.2 s of rounds falls in an episode looks like a regression.

So the benchmark kind:

* **settles** (:meth:`Settler.settle`) before its rounds: it times :func:`workload` (~10 ms) until it
  runs within :data:`MARGIN` of the machine's usual speed (the ``floor``: the store's figure for
  this machine, ``store.queries.reference_floor``, lowered to the fastest this process has seen;
  without a floor nothing is waited for), for at
  most the settle budget (``--ipfs-benchmark-settle``, default 10 s). Measured: 25 fresh processes
  timing tiny bert after settling had their fastest round at 0.56-0.61 ms (waits 0-2.2 s); 25
  without, 0.56-1.00 ms;
* with ``benchmark.pedantic`` waits so before each of 4 batches of rounds (``runtime.bench``), so the
  fastest round comes from a batch timed at the usual speed; times the reference again after the
  rounds; records the seconds waited (``settle_s``) and, for the batch timed on the fastest
  machine, the slower of the references right before and right after it (``reference_s``). The
  gate says ``inconclusive: machine busy`` when ``reference_s`` is more than :data:`MARGIN` above
  the baseline runs' median.

It is never timed between an item's rounds: that slowed the rounds themselves
(``benchmarks/benchmark_overhead.py`` 1.23-1.33 against 1.04). A wait that runs out lowers this
process's expectation to what it saw (:class:`Settler`): a machine slower than the store remembers
costs one budget per process, not one per item.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

#: Rounds per call of :func:`fastest_s` (about 0.4 ms each on a 2020s x86 core): ~10-20 ms per call.
ROUNDS = 20
#: A process stops waiting for the machine once it has waited this many per-item budgets in all.
TOTAL_BUDGETS = 6
#: A reference this much slower than the floor is a slowed machine (the settle target and the gate's).
MARGIN = 0.10


def workload(n: int = 2000) -> int:
    """Integer arithmetic, a list and a dict: interpreter, cache and allocator, nothing else."""
    table: dict[int, int] = {}
    values = []
    total = 0
    for i in range(n):
        total += (i * i) ^ (total >> 3)
        values.append(total & 0xFFFF)
        table[i & 255] = table.get(i & 255, 0) + (total & 7)
    return total + sum(values[::16]) + len(table)


def fastest_s(rounds: int = ROUNDS) -> float:
    """The fastest of ``rounds`` timed calls of :func:`workload`, in seconds (after one untimed call)."""
    workload()
    best = float("inf")
    clock = time.perf_counter
    for _ in range(max(1, rounds)):
        start = clock()
        workload()
        best = min(best, clock() - start)
    return best


@dataclass(frozen=True)
class Settled:
    """What :meth:`Settler.settle` saw: the reference's fastest round when it stopped and when it
    started (before any wait), and the seconds waited."""

    reference_s: float
    waited_s: float
    first_s: float


@dataclass
class Settler:
    """This process's knowledge of the machine's usual reference time (one per process: :data:`SETTLER`).

    ``best``: the fastest reference this process has timed; ``adopted``: what a wait that ran out
    saw (the machine is slower now than the floor says): later items wait for that, until the
    usual speed is back; ``spent``: seconds waited in all (no more waiting past
    :data:`TOTAL_BUDGETS` budgets)."""

    best: float | None = None
    adopted: float | None = None
    spent: float = 0.0

    def usual(self, floor_s: float | None) -> float | None:
        """The machine's usual reference time: the store's floor, or the fastest seen here when that is
        faster; None without a floor (a first run, ``--ipfs-db=none``: nothing to wait for)."""
        return None if not floor_s else min(floor_s, self.best or floor_s)

    def settle(self, floor_s: float | None, budget_s: float) -> Settled:
        """Time the reference (:func:`fastest_s`) until it runs within :data:`MARGIN` of :meth:`usual`
        (or of what an earlier wait adopted), for at most ``budget_s`` seconds (no waiting once this
        process waited :data:`TOTAL_BUDGETS` budgets in all)."""
        started = time.perf_counter()
        if self.spent >= TOTAL_BUDGETS * budget_s:
            budget_s = 0.0
        timed: list[float] = []  # this wait's references, in order
        while True:
            reference_s = fastest_s()
            timed.append(reference_s)
            self.best = min(self.best or reference_s, reference_s)
            usual = self.usual(floor_s) or reference_s
            waited = time.perf_counter() - started
            if reference_s <= usual * (1.0 + MARGIN):
                self.adopted = None  # back to the usual speed
                break
            if self.adopted is not None and reference_s <= self.adopted * (1.0 + MARGIN):
                break
            if waited >= budget_s:
                if budget_s > 0:
                    self.adopted = min(timed)
                break
        self.spent += waited
        return Settled(reference_s, waited, timed[0])


#: The process's settler (the benchmark kinds call ``SETTLER.settle``).
SETTLER = Settler()

