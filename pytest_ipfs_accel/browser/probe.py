"""Capability probes for ``wasm``, ``webgpu`` and ``webnn``: launch the browser, ask the page.

The answer is cached per process (hardware.detect caches it too). What the hardware
underneath is goes into ``Platform.emulated``:

- ``webgpu`` on a fallback adapter (SwiftShader: Vulkan in software on the CPU) -> ``"software (SwiftShader)"``;
- ``webnn``: no JS attribute tells CPU from GPU; we ask for ``deviceType: "cpu"``, which Chromium runs
  with TFLite/XNNPACK -> ``"cpu (TFLite/XNNPACK)"``;
- ``wasm`` is onnxruntime-web's CPU backend: it stands in for no accelerator, so, like the ``cpu``
  platform, ``"no"`` (the reason says "WebAssembly on the CPU").
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import time

from pytest_ipfs_accel.hardware.platform import Platform, runtime_and_device
from pytest_ipfs_accel.browser import cache

PLATFORMS = ("wasm", "webgpu", "webnn")


def _platform(name: str, available: bool, reason: str, emulated: str = "no", **details: str) -> Platform:
    runtime, device = runtime_and_device(name)
    return Platform(name, runtime, device, available, reason, emulated, details={k: str(v) for k, v in details.items()})


@functools.lru_cache(maxsize=None)
def probe_platform(name: str) -> Platform:
    """Probe one browser platform for real (cached per process); absent -> reason with the set-up command.

    ``details["probe_s"]`` is how long the probe took; an absent platform's reason says it too.
    """
    started = time.monotonic()
    found = _probe(name)
    took = time.monotonic() - started
    found.details["probe_s"] = f"{took:.2f}"
    if found.available:
        return found
    return dataclasses.replace(found, reason=f"{found.reason} (probe took {took:.1f} s)")


def _probe(name: str) -> Platform:
    from pytest_ipfs_accel.browser.driver import BrowserError, browser
    from pytest_ipfs_accel.browser.server import server

    if importlib.util.find_spec("websocket") is None:
        return _platform(name, False, "python package 'websocket-client' is not installed "
                                      "(pip install 'pytest-ipfs-accel[web]')")
    problem = cache.missing()
    if problem:
        return _platform(name, False, problem)
    executable, which = cache.browser_for(name)
    try:
        page = browser(executable).new_page(f"{server().base}/harness.html")
        try:
            found = page.evaluate(f"probe({name!r})")
        finally:
            page.close()
        version = browser(executable).version
    except BrowserError as exc:
        return _platform(name, False, f"{which} {executable}: {exc}")
    ort = f"onnxruntime-web {found.get('ortVersion') or cache.ort_version()}"
    base = {"browser": f"{version} ({which}: {executable})", "onnxruntime_web": found.get("ortVersion", "?")}
    if not found.get("ok"):
        reason = f"{version} ({which}): {found.get('error')}"
        if name == "webnn" and cache.sparticuz_chromium() is None:
            reason += (f"; the WebNN-capable build @sparticuz/chromium {cache.SPARTICUZ_VERSION} is not set up "
                       f"(run `{cache.SETUP_COMMAND}`)")
        return _platform(name, False, reason, **base)
    if name == "webgpu":
        a = found.get("adapter", {})
        software = a.get("isFallbackAdapter") or a.get("architecture", "").lower() == "swiftshader"
        label = f"{a.get('vendor') or '?'} {a.get('architecture') or '?'}".strip()
        emulated = "software (SwiftShader)" if software else "no"
        what = "SwiftShader fallback adapter (software, on the CPU)" if software else f"adapter {label}"
        return _platform(name, True, f"{ort} webgpu on {version}: {what}", emulated, **base,
                         adapter_vendor=a.get("vendor", ""), adapter_architecture=a.get("architecture", ""),
                         adapter_device=a.get("device", ""), adapter_description=a.get("description", ""),
                         is_fallback_adapter=str(bool(a.get("isFallbackAdapter"))).lower())
    if name == "webnn":
        return _platform(name, True, f"{ort} webnn (deviceType cpu: TFLite/XNNPACK) on {version}",
                         "cpu (TFLite/XNNPACK)", **base, device_type="cpu",
                         context_accelerated=found.get("accelerated", "undefined"))
    return _platform(name, True, f"{ort} wasm on {version}: WebAssembly on the CPU "
                                 f"(SIMD {'yes' if found.get('simd') else 'no'}, 1 thread)", "no", **base,
                     simd=str(bool(found.get("simd"))).lower(), hardware_concurrency=found.get("hardwareConcurrency", "?"))
