"""The machine a run ran on: a fingerprint stored with every run, and a short id to match runs by.

``fingerprint(hardware, packages)`` returns plain JSON-able facts::

    {"cpu": {"model", "arch", "flags": [...], "logical_cores", "physical_cores", "usable_cores"},
     "memory_gb": 62.8, "gpus": [{"vendor", "model", "driver"}],
     "accelerators": [{"name", "runtime", "device", "emulated", "versions": {...}}],
     "os": "...", "packages": {...}}

``flags`` keeps only the ISA extensions that change ML kernels (:data:`FLAGS`: AVX2, AVX-512
and its BF16/VNNI parts, AMX); ``accelerators`` are the available non-CPU platforms of the run's
hardware probes, with the versions the probe reported. ``machine_id`` hashes the *stable
hardware* part only (:func:`stable`: CPU model, arch, flags, core counts (usable ones too: a
cpuset or cgroup quota slice is another machine for timing), memory in whole GB, GPU
models), never package or driver versions, the host name or which platforms this run probed, so
the same box keeps its id across upgrades and ``--ipfs-hw`` selections. :func:`differences`
names what differs between two fingerprints ("cpu model: A -> B").

Only files and the standard library are read (``/proc/cpuinfo``, ``/proc/meminfo``,
``/proc/driver/nvidia``); nothing is imported and no process is started.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform as _platform
from pathlib import Path
from typing import Any

#: CPU flags that matter for ML kernels (as /proc/cpuinfo spells them).
FLAGS = ("avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_bf16", "avx512_vnni", "avx512_fp16",
         "avx_vnni", "amx_tile", "amx_bf16", "amx_int8", "sve", "asimd")
_PROC = Path("/proc")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def cpu(proc: Path = _PROC) -> dict[str, Any]:
    """CPU model, architecture, the :data:`FLAGS` present, logical and physical core counts."""
    model, flags, cores = None, set(), set()
    physical_id = core_id = None
    for line in _read(proc / "cpuinfo").splitlines():
        key, _, value = (part.strip() for part in line.partition(":"))
        if key in ("model name", "Hardware", "cpu model") and model is None:
            model = value
        elif key in ("flags", "Features"):
            flags.update(value.split())
        elif key == "physical id":
            physical_id = value
        elif key == "core id":
            core_id = value
        elif not key and physical_id is not None and core_id is not None:  # blank line ends a processor
            cores.add((physical_id, core_id))
            physical_id = core_id = None
    if physical_id is not None and core_id is not None:
        cores.add((physical_id, core_id))
    logical = os.cpu_count()
    return {"model": model or _platform.processor() or None, "arch": _platform.machine() or None,
            "flags": [f for f in FLAGS if f in flags], "logical_cores": logical,
            "physical_cores": len(cores) or logical, "usable_cores": usable_cores(logical)}


def usable_cores(logical: int | None, cgroup: Path = Path("/sys/fs/cgroup/cpu.max")) -> int | None:
    """The cores this process may use: its CPU affinity (cpuset, ``taskset``), capped by a cgroup v2
    quota (``docker --cpus``). A CI slice of 2 cores of a 64-core box times like neither."""
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = logical
    quota, _, period = _read(cgroup).strip().partition(" ")
    if quota.isdigit() and period.isdigit() and int(period) > 0:
        usable = min(usable or 10**6, max(1, -(-int(quota) // int(period))))
    return usable


def memory_gb(proc: Path = _PROC) -> float | None:
    """Total memory in GB (one decimal), from /proc/meminfo or sysconf; None when unknown."""
    for line in _read(proc / "meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 ** 2, 1)
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3, 1)
    except (ValueError, OSError, AttributeError):
        return None


def nvidia_gpus(proc: Path = _PROC) -> list[dict[str, Any]]:
    """NVIDIA GPUs the kernel driver lists, with the driver version (no nvidia-smi call)."""
    root = proc / "driver" / "nvidia"
    version = _read(root / "version").splitlines()
    driver = next((w for w in (version[0].split() if version else []) if w[:1].isdigit() and "." in w), None)
    gpus = []
    for info in sorted((root / "gpus").glob("*/information")) if (root / "gpus").is_dir() else ():
        fields = dict(line.split(":", 1) for line in _read(info).splitlines() if ":" in line)
        gpus.append({"vendor": "nvidia", "model": fields.get("Model", "").strip() or None, "driver": driver})
    return gpus


def accelerators(hardware: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Available non-CPU platforms of a run's hardware probes, with the versions they reported."""
    found = []
    for h in hardware or ():
        device = str(h.get("device") or "")
        if not h.get("available") or device.lower() in ("cpu", "cpuexecutionprovider", "wasm"):
            continue
        details = h.get("details") or {}
        versions = {k: v for k, v in details.items() if any(w in k for w in ("version", "browser", "onnxruntime",
                                                                              "sdk", "driver", "adapter"))}
        found.append({"name": h.get("name"), "runtime": h.get("runtime"), "device": device,
                      "emulated": h.get("emulated") or "no", "versions": versions or {"reason": h.get("reason")}})
    return found


def fingerprint(hardware: list[dict[str, Any]] | None = None,
                packages: dict[str, str | None] | None = None) -> dict[str, Any]:
    """This machine's fingerprint (see the module docstring)."""
    return {"cpu": cpu(), "memory_gb": memory_gb(), "gpus": nvidia_gpus(), "accelerators": accelerators(hardware),
            "os": _platform.platform(), "packages": dict(packages or {})}


def stable(fp: dict[str, Any]) -> dict[str, Any]:
    """The hardware facts ``machine_id`` hashes: nothing that an upgrade or a run's options change."""
    c = fp.get("cpu") or {}
    mem = fp.get("memory_gb")
    return {"cpu model": c.get("model"), "arch": c.get("arch"), "cpu flags": sorted(c.get("flags") or []),
            "logical cores": c.get("logical_cores"), "physical cores": c.get("physical_cores"),
            "usable cores": c.get("usable_cores"),
            "memory GB": round(mem) if isinstance(mem, (int, float)) else None,
            "gpus": sorted(str(g.get("model")) for g in fp.get("gpus") or [])}


def machine_id(fp: dict[str, Any]) -> str:
    """12 hex digits of the SHA-256 of :func:`stable`."""
    text = json.dumps(stable(fp), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def differences(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    """``"cpu model: A -> B"`` for each stable fact that differs; ``["no fingerprint ..."]`` when one is missing."""
    if not old or not new:
        return ["no fingerprint stored for " + ("the baseline" if not old else "this run")]
    a, b = stable(old), stable(new)
    lines = []
    for key in a:
        if a[key] != b.get(key):
            before, after = a[key], b.get(key)
            if isinstance(before, list) and isinstance(after, list):
                gone, added = sorted(set(before) - set(after)), sorted(set(after) - set(before))
                lines.append(f"{key}: " + ", ".join([f"-{x}" for x in gone] + [f"+{x}" for x in added]))
            else:
                lines.append(f"{key}: {before} -> {after}")
    return lines


def label(fp: dict[str, Any] | None, mid: str | None) -> str:
    """A short human label: ``AMD EPYC 7763 + cuda (NVIDIA H100) [1a2b3c]``."""
    fp = fp or {}
    c = fp.get("cpu") or {}
    parts = [str(c.get("model") or "unknown CPU")]
    if c.get("usable_cores") and c.get("usable_cores") != c.get("logical_cores"):
        parts.append(f" ({c['usable_cores']} of {c.get('logical_cores')} cores)")
    gpus = [str(g.get("model")) for g in fp.get("gpus") or [] if g.get("model")]
    accel = [str(a.get("name")) for a in fp.get("accelerators") or [] if (a.get("emulated") or "no") == "no"]
    if accel or gpus:
        parts.append(" + " + ", ".join(accel or ["gpu"]) + (f" ({', '.join(gpus)})" if gpus else ""))
    return "".join(parts) + (f" [{mid[:6]}]" if mid else "")
