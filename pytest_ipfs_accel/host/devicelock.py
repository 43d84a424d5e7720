"""One timing per device at a time, among the processes of one run (or of the machine, when asked).

:func:`device_lock` is an ``fcntl`` lock on ``<folder>/<device>.lock``, keyed by the physical
device (torch cpu, ONNX Runtime's CPU provider and OpenVINO's CPU are all ``cpu``). Timing takes
it exclusively; other work on the device takes it shared. The folder is

- scope ``run`` (default): ``<base>/run-<run id>/``: the controller and its xdist workers share
  it (the controller hands its run id to the workers), another pytest-ipfs-accel run on the
  machine has its own and never waits for this one;
- scope ``machine``: ``<base>/`` itself: every run on the machine takes turns (shared benchmark boxes).

``<base>`` is ``$IPFS_ACCEL_LOCK_DIR``, else ``<tempdir>/pytest-ipfs-accel-locks-<uid>``.

Fairness: every taker first passes a turnstile (``<device>.gate``, held exclusively only while
it acquires the lock), and an exclusive taker keeps the turnstile until it holds the lock, so
shared takers that come after it wait behind it instead of starving it.

Visibility: each holder leaves ``<device>.<pid>-<thread>.holder`` (pid, run id, mode) beside the
lock. A taker that waits longer than :data:`FIRST_NOTICE_S` says who holds the lock, then again
every :data:`NOTICE_EVERY_S`, through :func:`set_notifier` (stderr by default); the time waited
is ``held.waited_s``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

LOCK_DIR_ENV = "IPFS_ACCEL_LOCK_DIR"
SCOPES = ("run", "machine")
FIRST_NOTICE_S = 2.0
NOTICE_EVERY_S = 10.0
_CPU_DEVICES = {"cpu", "cpuexecutionprovider"}


@dataclass
class Settings:
    """Where the locks of this process live: ``scope`` and the run they belong to."""

    scope: str = "run"
    run_id: str = field(default_factory=lambda: f"pid{os.getpid()}")


@dataclass
class Held:
    """What :func:`device_lock` yields: the lock file, the mode, and the seconds waited for it."""

    path: Path | None
    shared: bool
    waited_s: float = 0.0


_SETTINGS = Settings()
_NOTIFY: list[Callable[[str], None]] = []
_LOCAL = threading.local()  # .held: {path: [shared]} held by this thread


def configure(scope: str = "run", run_id: str | None = None) -> None:
    """Set the scope (``run`` | ``machine``) and the run whose processes share the locks."""
    if scope not in SCOPES:
        raise ValueError(f"device lock scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    _SETTINGS.scope = scope
    if run_id:
        _SETTINGS.run_id = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)


def settings() -> Settings:
    return _SETTINGS


def set_notifier(notify: Callable[[str], None] | None) -> None:
    """Where wait notices go (None: back to stderr)."""
    _NOTIFY[:] = [notify] if notify is not None else []


def _notice(line: str) -> None:
    if _NOTIFY:
        _NOTIFY[0](line)
        return
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def device_key(device: str | None) -> str:
    """The physical device a runtime device name uses (every CPU spelling is ``cpu``)."""
    name = str(device or "cpu").strip().lower()
    if name in _CPU_DEVICES or name.startswith("cpu"):
        return "cpu"
    return re.sub(r"[^a-z0-9_.-]+", "_", name)


def base_dir() -> Path:
    user = getattr(os, "getuid", lambda: "")()
    return Path(os.environ.get(LOCK_DIR_ENV) or Path(tempfile.gettempdir()) / f"pytest-ipfs-accel-locks-{user}")


def lock_dir() -> Path:
    """The folder of this process's locks (see the module doc for the two scopes)."""
    base = base_dir()
    return base if _SETTINGS.scope == "machine" else base / f"run-{_SETTINGS.run_id}"


def lock_path(device: str | None) -> Path:
    folder = lock_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{device_key(device)}.lock"


def remove_run_dir() -> None:
    """The controller, after its workers are gone: drop this run's lock folder."""
    if _SETTINGS.scope == "run":
        shutil.rmtree(lock_dir(), ignore_errors=True)


# -- who holds it --------------------------------------------------------------------------------
def _holder_file(path: Path) -> Path:
    return path.with_name(f"{path.stem}.{os.getpid()}-{threading.get_ident()}.holder")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holders(path: Path) -> list[dict]:
    """The live holders (and the exclusive taker waiting at the turnstile) of the lock at ``path``."""
    found = []
    for info in sorted(path.parent.glob(f"{path.stem}.*.holder")):
        try:
            data = json.loads(info.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("pid"), int) and _alive(data["pid"]) \
                and data["pid"] != os.getpid():
            found.append(data)
    return found


def describe_holders(path: Path) -> str:
    who = [f"pid {h['pid']} (run {h.get('run', '?')}, {h.get('mode', '?')})" for h in holders(path)]
    return ", ".join(who) or "a process that left no holder file"


def _mark(path: Path, mode: str) -> None:
    data = {"pid": os.getpid(), "run": _SETTINGS.run_id, "mode": mode, "since": time.time()}
    with contextlib.suppress(OSError):
        _holder_file(path).write_text(json.dumps(data))


def _unmark(path: Path) -> None:
    with contextlib.suppress(OSError):
        _holder_file(path).unlink()


# -- taking it -----------------------------------------------------------------------------------
class _Wait:
    """Polls a non-blocking flock; prints who holds the lock once past the first notice."""

    def __init__(self, path: Path, device: str, mode: str) -> None:
        self.path, self.device, self.mode = path, device, mode
        self.start = time.monotonic()
        self.waited = False
        self.next_notice = self.start + FIRST_NOTICE_S

    def acquire(self, handle, how: int) -> None:
        import fcntl

        pause = 0.002
        while True:
            try:
                fcntl.flock(handle.fileno(), how | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                self.waited = True
            now = time.monotonic()
            if now >= self.next_notice:
                self.next_notice = now + NOTICE_EVERY_S
                _notice(f"pytest-ipfs-accel: waited {now - self.start:.0f} s for the {self.device} timing lock "
                        f"({self.mode}, {_SETTINGS.scope} scope, {self.path}); held by {describe_holders(self.path)}")
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def elapsed(self) -> float:
        return time.monotonic() - self.start if self.waited else 0.0


@contextlib.contextmanager
def device_lock(device: str | None, shared: bool = False) -> Iterator[Held]:
    """Hold the lock of ``device`` (blocking) and yield a :class:`Held` with ``waited_s``.

    Exclusive for timing; shared for other work on the device (building, exporting, checking a
    model), so such work runs in parallel but never while something times on the device. In one
    thread, a nested take of a held lock passes (``waited_s`` 0.0); asking for it exclusively
    while holding it shared raises RuntimeError (it would wait for itself). No-op without fcntl.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no cross-process lock
        yield Held(None, shared)
        return
    path = lock_path(device)
    held_here = getattr(_LOCAL, "held", None)
    if held_here is None:
        held_here = _LOCAL.held = {}
    if path in held_here:
        yield _nested(held_here[path], path, shared)
        return
    mode = "shared" if shared else "exclusive"
    wait = _Wait(path, device_key(device), mode)
    handle = open(path, "a+")
    try:
        with open(path.with_suffix(".gate"), "a+") as gate:
            wait.acquire(gate, fcntl.LOCK_EX)
            if not shared:
                _mark(path, "exclusive, waiting for shared holders to finish")
            wait.acquire(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        _mark(path, mode)  # closing the gate file above let the next taker through the turnstile
        held = Held(path, shared, wait.elapsed())
        if held.waited_s >= FIRST_NOTICE_S:
            _notice(f"pytest-ipfs-accel: got the {device_key(device)} timing lock after {held.waited_s:.1f} s")
        held_here[path] = [shared]
        try:
            yield held
        finally:
            del held_here[path]
            _unmark(path)
    finally:
        _unmark(path)
        handle.close()  # closing drops the flock


def _nested(state: list, path: Path, shared: bool) -> Held:
    if state[0] and not shared:
        raise RuntimeError(f"device lock {path}: exclusive asked while this thread holds it shared "
                           "(it would wait for itself)")
    return Held(path, shared)


_HELD: list[contextlib.ExitStack] = []


def hold_shared(device: str = "cpu") -> None:
    """Hold the device's shared lock until :func:`release_held` (a finishing worker works the CPU)."""
    stack = contextlib.ExitStack()
    stack.enter_context(device_lock(device, shared=True))
    _HELD.append(stack)


def release_held() -> None:
    while _HELD:
        _HELD.pop().close()
