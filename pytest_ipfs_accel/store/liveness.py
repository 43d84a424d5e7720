"""Runs that died: a ``running`` run whose writer process is gone from this host is ``interrupted``.

A run row carries ``host`` and ``pid``. Only runs of this host are judged (a pid means nothing on
another machine), and a pid that is alive is never judged dead -- unless ``/proc`` shows that the
process there started after the run did (the pid was reused by another program).
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta, timezone

from pytest_ipfs_accel.store.schema import utcnow

_FIND = "SELECT id, pid, started_at FROM runs WHERE status = 'running' AND host = ? AND pid IS NOT NULL"
#: Slack between a run's ``started_at`` and its process's start time (clock ticks, rounding).
_SLACK = timedelta(seconds=5)


def host() -> str:
    return socket.gethostname()


def dead_runs(con) -> list[tuple[str, int]]:
    """(run id, pid) of this host's ``running`` runs whose process is gone."""
    found = con.execute(_FIND, [host()]).fetchall()
    return [(run_id, pid) for run_id, pid, started in found if not _alive(int(pid), started)]


def mark_dead_runs(con) -> list[str]:
    """Mark this host's dead ``running`` runs ``interrupted`` (``note`` says why); their ids."""
    marked = []
    for run_id, pid in dead_runs(con):
        con.execute("UPDATE runs SET status = 'interrupted', note = ? WHERE id = ? AND status = 'running'",
                    [f"killed: its process {pid} on {host()} ended without finishing the run "
                     f"(found at {utcnow():%Y-%m-%d %H:%M:%S} UTC)", run_id])
        marked.append(run_id)
    return marked


def _alive(pid: int, started: datetime | None) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: alive
    except OSError:
        return True  # cannot tell: never call a live run dead
    begun = _process_start(pid)
    return begun is None or started is None or begun <= started + _SLACK


def _process_start(pid: int) -> datetime | None:
    """When ``pid`` started (UTC, naive), from ``/proc``; None where that cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/stat", encoding="ascii") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime "))
        ticks = int(fields[19])  # field 22 of stat; fields[0] is field 3 (state)
        seconds = boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)
