"""A fixed reference workload timed beside each benchmark: is the machine slower, or the code?

On a shared or virtual machine a whole process sometimes runs slower (another tenant on the same
physical core, a lower clock, remote memory), with no load, steal or other-process CPU visible from
inside. The regression gate cannot tell that from slower code by the item's own rounds. So the
benchmark kind also times :func:`workload` -- the same pure-Python loop on every machine and in
every release, independent of the code under test -- right before and after the item's rounds, in
the same process under the same device lock, and stores the fastest round (``reference_s``). When
that fixed workload ran clearly slower than in the baseline runs, the gate says the machine was
slower (``inconclusive``) instead of calling the item a regression.

Measured on this project's 2-vCPU VM: in 40 fresh processes a pure-Python loop's fastest round
moved +29 … +60 % in the processes where the model's own fastest round moved +29 … +100 %. It is a
coarse signal: before and after an item it is bimodal across processes there (about 0.40 or
0.60 ms), so some quiet runs are called ``inconclusive``. It is never timed between the item's rounds:
that slowed the rounds themselves (``benchmarks/benchmark_overhead.py`` 1.23-1.33 against 1.04).
"""

from __future__ import annotations

import time

#: Rounds per call of :func:`fastest_s` (about 0.5 ms each on a 2020s x86 core): ~10-20 ms per call.
ROUNDS = 20


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


def around(before: float, after: float) -> float:
    """One figure for the reference timed before and after an item: the slower of the two fastest
    rounds, so that a machine slowed during either half is seen."""
    return max(before, after)
