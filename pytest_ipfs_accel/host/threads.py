"""Threads: a share of the cores per xdist worker; a fixed count while timing.

No pytest here: the backends ask :func:`thread_budget` when they build a session, the plugin's
worker side calls :func:`share_cores`, and the benchmark kind times inside :func:`timing_threads`
(``--ipfs-benchmark-threads``, default :func:`default_threads`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from typing import Iterator


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


THREADS_ENV = "IPFS_ACCEL_THREADS"


def share_cores(workercount: int) -> None:
    """On a worker, before torch is imported: each runtime gets its share of the cores, so N
    workers do not run N x cores threads (oversubscribed OpenMP barriers and ONNX Runtime /
    OpenVINO spin-waits slow everything down). torch reads ``OMP_NUM_THREADS``; the ONNX Runtime
    and OpenVINO backends ask :func:`thread_budget`."""
    if workercount > 1:
        share = str(max(1, cores() // workercount))
        os.environ.setdefault(THREADS_ENV, share)
        if "torch" not in sys.modules:
            os.environ.setdefault("OMP_NUM_THREADS", share)


def thread_budget() -> int | None:
    """Threads a session built now may use: this worker's share of the cores, or None (the
    runtime's default: every core) outside xdist; inside :func:`timing_threads` its count."""
    value = os.environ.get(THREADS_ENV, "")
    return int(value) if value.isdigit() and int(value) > 0 else None


@contextlib.contextmanager
def timing_threads(count: int, torch_too: bool = True) -> Iterator[None]:
    """Inside: sessions built (ONNX Runtime, OpenVINO: ``host.threads.thread_budget``) and, with
    ``torch_too``, torch use ``count`` threads; the previous settings come back afterwards."""
    saved = os.environ.get(THREADS_ENV)
    os.environ[THREADS_ENV] = str(count)
    torch = sys.modules.get("torch") if torch_too else None
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None and before != count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(THREADS_ENV, None)
        else:
            os.environ[THREADS_ENV] = saved
        if torch is not None and before is not None and torch.get_num_threads() != before:
            torch.set_num_threads(before)


@functools.lru_cache(maxsize=1)
def default_threads() -> int:
    """The physical cores this process may use (affinity, cgroup quota), at least 1: what
    ``--ipfs-benchmark-threads=auto`` times with."""
    from pytest_ipfs_accel.host.fingerprint import cpu

    facts = cpu()
    known = [n for n in (facts.get("physical_cores"), facts.get("usable_cores")) if isinstance(n, int) and n > 0]
    return max(1, min(known)) if known else 1
