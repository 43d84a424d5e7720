"""One headless Chromium per executable per process, driven by raw CDP over ``websocket-client``.

Playwright would do too, but weighs 165 MB for what is here ~100 lines: launch with
``--remote-debugging-port=0``, read ``DevToolsActivePort``, open one page per browser
context (fresh storage per model), ``Runtime.evaluate`` with ``awaitPromise``.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from typing import Any

from pytest_ipfs_accel.browser.settings import BROWSER_TIMEOUT_ENV, step_timeout

TIMEOUT_HINT = f"the browser step timeout: --ipfs-browser-timeout or ${BROWSER_TIMEOUT_ENV}"

#: WebGPU needs only --enable-unsafe-webgpu (SwiftShader adapter without a GPU); WebNN needs the feature.
FLAGS = (
    "--headless",
    "--enable-unsafe-webgpu",
    "--enable-features=WebMachineLearningNeuralNetwork",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--mute-audio",
)


class BrowserError(RuntimeError):
    """The browser could not be launched or talked to, or a page raised."""


class BrowserTimeout(BrowserError, TimeoutError):
    """A browser step got no answer within its time (the step timeout): a hang, class ``timeout``."""


#: A launch never waits longer than this for the DevTools port (a healthy one takes ~0.3 s).
LAUNCH_TIMEOUT_S = 30.0


class Browser:
    """A launched headless browser and its CDP connection (one at a time: calls are serialised).

    Chromium runs in its own session (process group): :meth:`close` kills the whole group (the
    zygote, GPU and renderer processes too) and removes its ``ipfs-accel-chromium-*`` profile.
    """

    def __init__(self, executable: str, extra_flags: tuple[str, ...] = (), launch_timeout: float | None = None) -> None:
        self.executable = executable
        self._ws = None
        self._profile = tempfile.mkdtemp(prefix="ipfs-accel-chromium-")
        args = [executable, *FLAGS, *extra_flags, f"--user-data-dir={self._profile}",
                "--remote-debugging-port=0", "about:blank"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        self._log = tempfile.TemporaryFile()
        started = time.monotonic()
        try:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self._log, stdin=subprocess.DEVNULL,
                                         env={**os.environ, "LD_LIBRARY_PATH": _lib_path(executable)},
                                         start_new_session=True)
        except OSError as exc:
            shutil.rmtree(self._profile, ignore_errors=True)
            raise BrowserError(f"{executable} could not be started: {exc}") from None
        limit = min(LAUNCH_TIMEOUT_S, step_timeout()) if launch_timeout is None else launch_timeout
        try:
            port, path = self._wait_for_port(limit, started)
            self._connect(port, path)
        except BaseException:
            self.close()
            raise

    def _wait_for_port(self, limit: float, started: float) -> tuple[str, str]:
        """The DevTools port and path Chromium writes into its profile once it listens."""
        port_file = os.path.join(self._profile, "DevToolsActivePort")
        while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
            waited = time.monotonic() - started
            if self.proc.poll() is not None:
                raise BrowserError(f"{self.executable} exited ({self.proc.returncode}) after {waited:.1f} s "
                                   f"without opening its DevTools port: {self._tail()}")
            if waited > limit:
                raise BrowserTimeout(f"{self.executable} did not open its DevTools port within {limit:g} s "
                                     f"(stopped it and its child processes): {self._tail()}")
            time.sleep(0.05)
        time.sleep(0.05)
        port, path = open(port_file).read().split()[:2]
        return port, path

    def _connect(self, port: str, path: str) -> None:
        import websocket  # websocket-client

        self._ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=30, suppress_origin=True,
                                               enable_multithread=True)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.version = self.send("Browser.getVersion").get("product", "?")

    def _tail(self) -> str:
        try:
            self._log.seek(0)
            lines = self._log.read().decode(errors="replace").strip().splitlines()
            return " | ".join(lines[-3:])
        except (OSError, ValueError):
            return ""

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float | None = None) -> dict:
        """One CDP command; returns its result, raises BrowserError on a protocol error and
        BrowserTimeout after ``timeout`` seconds (default: the browser step timeout)."""
        import websocket

        timeout = step_timeout() if timeout is None else timeout
        with self._lock:
            msg_id = next(self._ids)
            msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
            if session:
                msg["sessionId"] = session
            self._ws.send(json.dumps(msg))
            deadline = time.monotonic() + timeout
            while True:
                self._ws.settimeout(max(0.1, deadline - time.monotonic()))
                try:
                    reply = json.loads(self._ws.recv())
                except websocket.WebSocketTimeoutException:
                    raise BrowserTimeout(f"{method}: no answer within {timeout:g} s ({TIMEOUT_HINT})") from None
                if reply.get("id") == msg_id:
                    break
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def new_page(self, url: str) -> Page:
        """A page in a fresh browser context (its own storage), loaded from ``url``."""
        ctx = self.send("Target.createBrowserContext")["browserContextId"]
        target = self.send("Target.createTarget", {"url": "about:blank", "browserContextId": ctx})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, ctx, target, session)
        self.send("Page.navigate", {"url": url}, session)
        page.evaluate("new Promise(r => document.readyState === 'complete' ? r(1) : "
                      "addEventListener('load', () => r(1)))")
        return page

    def close(self) -> None:
        """Close the connection, kill the browser's whole process group, remove its profile."""
        with contextlib.suppress(Exception):  # closing: nothing to do about a failure
            if self._ws is not None:
                self._ws.close()
        proc = getattr(self, "proc", None)
        if proc is not None:
            _kill_group(proc)
        for _ in range(3):  # a dying renderer may still write into the profile
            shutil.rmtree(self._profile, ignore_errors=True)
            if not os.path.exists(self._profile):
                break
            time.sleep(0.1)
        with contextlib.suppress(OSError, ValueError):
            self._log.close()


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM the process group led by ``proc``, SIGKILL what is left after 3 s; reap ``proc``."""
    def signal_group(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)

    if not hasattr(os, "killpg"):  # Windows
        proc.kill()
        proc.wait(5)
        return
    signal_group(signal.SIGTERM)
    try:
        proc.wait(3)
    except subprocess.TimeoutExpired:
        pass
    signal_group(signal.SIGKILL)  # children that ignored SIGTERM or outlived the leader
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)
    deadline = time.monotonic() + 2.0  # a child forked while the signals went out, or not yet scheduled
    while _group_members(proc.pid) and time.monotonic() < deadline:
        signal_group(signal.SIGKILL)
        time.sleep(0.02)


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``, from /proc; [] where there is no /proc."""
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid and fields[0] != "Z":  # state, ppid, pgrp
                    found.append(int(entry.name))
    return found


class Page:
    """One tab (in its own browser context)."""

    def __init__(self, browser: Browser, context: str, target: str, session: str) -> None:
        self.browser, self.context, self.target, self.session = browser, context, target, session

    def evaluate(self, expression: str, timeout: float | None = None) -> Any:
        """The JSON value of ``expression`` (a Promise is awaited); BrowserError on a JS exception,
        BrowserTimeout when no value comes within ``timeout`` s (default: the browser step timeout)."""
        timeout = step_timeout() if timeout is None else timeout
        started = time.monotonic()
        result = self.browser.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                        "returnByValue": True, "timeout": int(timeout * 1000)},
                                   self.session, timeout=timeout)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "exception")
            if time.monotonic() - started >= timeout:  # the page's own timeout terminated the script
                raise BrowserTimeout(f"no answer within {timeout:g} s ({TIMEOUT_HINT}): {text.splitlines()[0]}")
            raise BrowserError(text.splitlines()[0])
        return result.get("result", {}).get("value")

    def close(self) -> None:
        try:
            self.browser.send("Target.closeTarget", {"targetId": self.target})
            self.browser.send("Target.disposeBrowserContext", {"browserContextId": self.context})
        except Exception:  # noqa: BLE001 - the browser may be gone already
            pass


def _lib_path(executable: str) -> str:
    """The sparticuz build loads SwiftShader (libvk_swiftshader.so) from beside itself."""
    here = os.path.dirname(os.path.abspath(executable))
    old = os.environ.get("LD_LIBRARY_PATH", "")
    return f"{here}:{old}" if old else here


_BROWSERS: dict[str, Browser] = {}
_FAILED: dict[str, BrowserError] = {}  # executable -> why it did not start (not retried per platform)
_LAUNCH_LOCK = threading.Lock()


def browser(executable: str) -> Browser:
    """The process's browser for ``executable``, launched on first use and closed at exit.

    A launch that failed is not retried in this process: every later caller gets the same error
    at once (a stuck browser costs one launch timeout, not one per platform).
    """
    with _LAUNCH_LOCK:
        if executable in _FAILED:
            raise _FAILED[executable]
        found = _BROWSERS.get(executable)
        if found is None or found.proc.poll() is not None:
            try:
                found = _BROWSERS[executable] = Browser(executable)
            except BrowserError as exc:
                _FAILED[executable] = exc
                raise
        return found


@atexit.register
def close_all() -> None:
    for b in list(_BROWSERS.values()):
        b.close()
    _BROWSERS.clear()
    _FAILED.clear()
