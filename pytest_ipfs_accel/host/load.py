"""How busy the machine was around a timing: load average and CPU time of other processes.

:func:`sample` reads, at one instant, the 1-minute load average, the CPU seconds the whole machine
has spent busy since boot (``/proc/stat``: user, nice, system, irq, softirq and *steal*, the time a
hypervisor gave our virtual CPUs to someone else) and the CPU seconds of this process tree (this
process, its reaped children and its live descendants, from ``os.times`` and ``/proc/<pid>/stat``).
:func:`other_cpu_s` of two samples is the CPU time used or stolen by everything else in between.
Off Linux the ``/proc`` figures are None; the load average comes from ``os.getloadavg`` where it
exists. Resolution: one clock tick (usually 10 ms) per CPU.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
#: /proc/stat "cpu" columns counted as busy (idle and iowait are not; guest time is inside user).
_BUSY = (0, 1, 2, 5, 6, 7)  # user nice system irq softirq steal


@dataclass(frozen=True)
class Sample:
    """One reading; ``machine_busy_s`` / ``load1`` are None where the OS does not say."""

    wall_s: float
    load1: float | None
    machine_busy_s: float | None
    own_s: float


@functools.lru_cache(maxsize=1)
def _tick() -> float:
    try:
        return 1.0 / os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):
        return 0.01


def load1() -> float | None:
    """The 1-minute load average, or None."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def machine_busy_s(proc: Path = _PROC) -> float | None:
    """CPU seconds all CPUs spent busy since boot (steal included), or None without /proc/stat."""
    try:
        first = (proc / "stat").read_text(encoding="ascii").split("\n", 1)[0].split()
    except OSError:
        return None
    if not first or first[0] != "cpu":
        return None
    values = [int(v) for v in first[1:]]
    return sum(values[i] for i in _BUSY if i < len(values)) * _tick()


def _stat_fields(path: Path) -> list[str] | None:
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError:  # the process ended meanwhile
        return None
    return text[text.rfind(")") + 2:].split()  # after "pid (comm) ": state ppid ...


def descendants_cpu_s(root: int, proc: Path = _PROC) -> float:
    """CPU seconds (user + system) of the live descendants of ``root`` (not ``root`` itself)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    try:
        entries = [e for e in os.listdir(proc) if e.isdigit()]
    except OSError:
        return 0.0
    for entry in entries:
        fields = _stat_fields(proc / entry / "stat")
        if fields is None or len(fields) < 13:
            continue
        pid = int(entry)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) * _tick()  # utime stime
    total, frontier = 0.0, {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier}
        total += sum(times[pid] for pid in frontier)
    return total


def own_cpu_s() -> float:
    """CPU seconds of this process tree: this process, its reaped children, its live descendants."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system + descendants_cpu_s(os.getpid())


def sample() -> Sample:
    """One reading of the machine's and this process tree's CPU time and the load average."""
    return Sample(time.monotonic(), load1(), machine_busy_s(), own_cpu_s())


def other_cpu_s(before: Sample, after: Sample) -> float | None:
    """CPU seconds used (or stolen) by other processes between two samples; None off Linux."""
    if before.machine_busy_s is None or after.machine_busy_s is None:
        return None
    return max(0.0, (after.machine_busy_s - before.machine_busy_s) - (after.own_s - before.own_s))
