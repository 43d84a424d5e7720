"""``ipfs-accel hw [--json]``: every platform family, probed: available or not, and why."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

EPILOG = """examples:
  ipfs-accel hw                      # table: platform, available, runtime, device, emulated, reason
  ipfs-accel hw --json | jq '.[] | select(.available) | .name'
  IPFS_ACCEL_HW_DISABLE=openvino ipfs-accel hw     # hide a platform, as the plugin would"""


def add_parser(sub) -> None:
    p = sub.add_parser("hw", help="the platforms detected here and, for absent ones, why",
                       description="Probe every platform family the plugin knows (what --ipfs-hw defaults to "
                                   "is the available ones).",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    p.add_argument("--json", action="store_true", help="a JSON list, one object per platform")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pytest_ipfs_accel.hardware import detect

    found = detect()
    if args.json:
        print(json.dumps([asdict(p) for p in found], indent=2))
        return 0
    rows = [("PLATFORM", "AVAILABLE", "RUNTIME", "DEVICE", "EMULATED", "REASON / VERSIONS")]
    for p in found:
        extra = "".join(f"; {k}={v}" for k, v in p.details.items())
        rows.append((p.name, "yes" if p.available else "no", p.runtime, p.device, p.emulated, p.reason + extra))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print(("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[5]).rstrip())
    return 0
