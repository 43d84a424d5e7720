"""One headless Chromium per executable per process, driven by raw CDP over ``websocket-client``.

Playwright would do too, but weighs 165 MB for what is here ~100 lines: launch with
``--remote-debugging-port=0``, read ``DevToolsActivePort``, open one page per browser
context (fresh storage per model), ``Runtime.evaluate`` with ``awaitPromise``.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from typing import Any

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


class Browser:
    """A launched headless browser and its CDP connection (one at a time: calls are serialised)."""

    def __init__(self, executable: str, extra_flags: tuple[str, ...] = ()) -> None:
        import websocket  # websocket-client

        self.executable = executable
        self._profile = tempfile.mkdtemp(prefix="ipfs-accel-chromium-")
        args = [executable, *FLAGS, *extra_flags, f"--user-data-dir={self._profile}",
                "--remote-debugging-port=0", "about:blank"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self._log,
                                     env={**os.environ, "LD_LIBRARY_PATH": _lib_path(executable)})
        port_file = os.path.join(self._profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise BrowserError(f"{executable} did not start (exit {self.proc.returncode}): {self._tail()}")
            time.sleep(0.05)
        time.sleep(0.05)
        port, path = open(port_file).read().split()[:2]
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
             timeout: float = 60.0) -> dict:
        """One CDP command; returns its result, raises BrowserError on a protocol error."""
        import websocket

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
                    raise BrowserError(f"{method}: no answer within {timeout:.0f} s") from None
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
                      "addEventListener('load', () => r(1)))", timeout=60)
        return page

    def close(self) -> None:
        try:
            if getattr(self, "_ws", None) is not None:
                self._ws.close()
        except Exception:  # noqa: BLE001 - closing at exit: nothing to do about it
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self._profile, ignore_errors=True)


class Page:
    """One tab (in its own browser context)."""

    def __init__(self, browser: Browser, context: str, target: str, session: str) -> None:
        self.browser, self.context, self.target, self.session = browser, context, target, session

    def evaluate(self, expression: str, timeout: float = 120.0) -> Any:
        """The JSON value of ``expression`` (a Promise is awaited); BrowserError on a JS exception."""
        result = self.browser.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                        "returnByValue": True, "timeout": int(timeout * 1000)},
                                   self.session, timeout=timeout + 5)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "exception")
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
_LAUNCH_LOCK = threading.Lock()


def browser(executable: str) -> Browser:
    """The process's browser for ``executable``, launched on first use and closed at exit."""
    with _LAUNCH_LOCK:
        found = _BROWSERS.get(executable)
        if found is None or found.proc.poll() is not None:
            found = _BROWSERS[executable] = Browser(executable)
        return found


@atexit.register
def close_all() -> None:
    for b in list(_BROWSERS.values()):
        b.close()
    _BROWSERS.clear()
