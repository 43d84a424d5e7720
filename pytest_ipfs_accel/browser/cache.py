"""Where onnxruntime-web and the WebNN-capable Chromium build live, and how to find a browser.

Layout of the cache folder (``$IPFS_ACCEL_WEB_CACHE``, else ``$XDG_CACHE_HOME/pytest-ipfs-accel/web``,
else ``~/.cache/pytest-ipfs-accel/web``), as ``ipfs-accel setup web`` writes it::

    node_modules/onnxruntime-web/dist/        ort.all.min.js, ort-wasm-simd-threaded.jsep.{mjs,wasm}
    node_modules/@sparticuz/chromium/bin/     the compressed browser as npm delivered it
    chromium-<version>/chromium               that browser extracted, SwiftShader libraries beside it
"""

from __future__ import annotations

import os
import pathlib
import shutil

#: Pinned npm packages (measured: /work/shared/notes/browser-backends.md).
ORT_WEB_VERSION = "1.30.0"
#: 147.0.0 is the newest @sparticuz/chromium whose engines field accepts Node 20.
SPARTICUZ_VERSION = "147.0.0"

SETUP_COMMAND = "ipfs-accel setup web"
CACHE_ENV = "IPFS_ACCEL_WEB_CACHE"
#: Point at any Chromium-family binary to use it for wasm/webgpu instead of the system one.
CHROMIUM_ENV = "IPFS_ACCEL_CHROMIUM"

_SYSTEM_CHROMIUM = ("/usr/lib/chromium/chromium", "/usr/lib/chromium-browser/chromium-browser")


def cache_dir() -> pathlib.Path:
    if os.environ.get(CACHE_ENV):
        return pathlib.Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "pytest-ipfs-accel" / "web"


def ort_dist() -> pathlib.Path | None:
    """onnxruntime-web's ``dist/`` folder, if the pinned package is installed in the cache."""
    dist = cache_dir() / "node_modules" / "onnxruntime-web" / "dist"
    return dist if (dist / "ort.all.min.js").is_file() else None


def ort_version() -> str:
    import json

    try:
        meta = json.loads((cache_dir() / "node_modules" / "onnxruntime-web" / "package.json").read_text())
        return str(meta.get("version", "?"))
    except (OSError, ValueError):
        return "?"


def sparticuz_dir() -> pathlib.Path:
    return cache_dir() / f"chromium-{SPARTICUZ_VERSION}"


def sparticuz_chromium() -> pathlib.Path | None:
    """The extracted @sparticuz/chromium binary (the build with WebNN), if set up."""
    exe = sparticuz_dir() / "chromium"
    return exe if exe.is_file() and os.access(exe, os.X_OK) else None


def system_chromium() -> str | None:
    """The system Chromium binary itself (not the Debian wrapper script, which adds flags)."""
    if os.environ.get(CHROMIUM_ENV):
        return os.environ[CHROMIUM_ENV]
    for path in _SYSTEM_CHROMIUM:
        if os.access(path, os.X_OK):
            return path
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_for(platform: str) -> tuple[str | None, str]:
    """``(executable, why this one)`` for a browser platform (``wasm``, ``webgpu``, ``webnn``).

    WebNN needs the sparticuz build (Debian's Chromium has no WebNN backend); wasm and
    WebGPU use the system Chromium, else the sparticuz build.
    """
    sparticuz, system = sparticuz_chromium(), system_chromium()
    if platform == "webnn" and sparticuz:
        return str(sparticuz), f"@sparticuz/chromium {SPARTICUZ_VERSION}"
    if system:
        return system, "system chromium"
    if sparticuz:
        return str(sparticuz), f"@sparticuz/chromium {SPARTICUZ_VERSION}"
    return None, "no chromium"


def missing() -> str:
    """Why the browser runtime cannot run at all ('' when it can), with the command to run."""
    problems = []
    if ort_dist() is None:
        problems.append(f"onnxruntime-web {ORT_WEB_VERSION} is not in {cache_dir()}")
    if system_chromium() is None and sparticuz_chromium() is None:
        problems.append("no Chromium found (apt-get install chromium, or the @sparticuz/chromium build)")
    if not problems:
        return ""
    return "; ".join(problems) + f" (run `{SETUP_COMMAND}`)"
