"""``ipfs-accel setup web``: fetch onnxruntime-web and the WebNN-capable Chromium into the cache.

    ipfs-accel setup web [--cache DIR] [--no-webnn-browser]

Runs the ordinary package client (npm) with pinned versions, then extracts the
@sparticuz/chromium binary and its SwiftShader libraries (brotli, decoded by Node's zlib)
into ``<cache>/chromium-<version>/``. Idempotent: what is there already is kept.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tarfile

from pytest_ipfs_accel.cli.common import CliError

_EXTRACT_JS = r"""
const z = require('zlib'), fs = require('fs'), [bin, out] = process.argv.slice(1);
fs.writeFileSync(out + '/chromium.part', z.brotliDecompressSync(fs.readFileSync(bin + '/chromium.br')), {mode: 0o755});
fs.writeFileSync(out + '/swiftshader.tar', z.brotliDecompressSync(fs.readFileSync(bin + '/swiftshader.tar.br')));
"""


def add_parser(sub) -> None:
    p = sub.add_parser("setup", help="install what optional platforms need (web: onnxruntime-web + Chromium)",
                       description="Install the pinned npm packages the browser platforms (wasm, webgpu, webnn) "
                                   "need into the cache folder.")
    p.add_argument("what", choices=("web",), help="web: onnxruntime-web and @sparticuz/chromium (WebNN)")
    p.add_argument("--cache", default=None, help="cache folder (default $IPFS_ACCEL_WEB_CACHE or "
                                                 "~/.cache/pytest-ipfs-accel/web)")
    p.add_argument("--no-webnn-browser", action="store_true",
                   help="skip @sparticuz/chromium (webnn then needs a Chromium with WebNN of your own)")
    p.set_defaults(func=run)


def _say(msg: str) -> None:
    print(f"ipfs-accel setup: {msg}", flush=True)


def run(args: argparse.Namespace) -> int:
    if args.cache:
        os.environ["IPFS_ACCEL_WEB_CACHE"] = os.path.abspath(args.cache)
    from pytest_ipfs_accel.browser import cache

    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        raise CliError("npm and node are needed (apt-get install -y nodejs npm)")
    root = cache.cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    packages = [] if cache.ort_dist() and cache.ort_version() == cache.ORT_WEB_VERSION else \
        [f"onnxruntime-web@{cache.ORT_WEB_VERSION}"]
    sparticuz_bin = root / "node_modules" / "@sparticuz" / "chromium" / "bin"
    if not args.no_webnn_browser and cache.sparticuz_chromium() is None and not (sparticuz_bin / "chromium.br").is_file():
        packages.append(f"@sparticuz/chromium@{cache.SPARTICUZ_VERSION}")
    if packages:
        cmd = [npm, "install", "--prefix", str(root), "--no-audit", "--no-fund", "--no-save", *packages]
        _say(" ".join(cmd))
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise CliError(f"npm install failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    else:
        _say(f"onnxruntime-web {cache.ORT_WEB_VERSION} already in {root}")
    if not args.no_webnn_browser:
        if cache.sparticuz_chromium() is None:
            out = cache.sparticuz_dir()
            out.mkdir(parents=True, exist_ok=True)
            _say(f"extracting @sparticuz/chromium {cache.SPARTICUZ_VERSION} into {out}")
            done = subprocess.run([node, "-e", _EXTRACT_JS, str(sparticuz_bin), str(out)], capture_output=True, text=True)
            if done.returncode != 0:
                raise CliError(f"extracting {sparticuz_bin} failed: {done.stderr.strip()[-500:]}")
            with tarfile.open(out / "swiftshader.tar") as tar:  # libvk_swiftshader.so etc. beside the binary
                tar.extractall(out, filter="data")
            (out / "swiftshader.tar").unlink()
            os.replace(out / "chromium.part", out / "chromium")
        else:
            _say(f"@sparticuz/chromium {cache.SPARTICUZ_VERSION} already extracted: {cache.sparticuz_chromium()}")
    chromium = cache.system_chromium()
    _say(f"onnxruntime-web: {cache.ort_dist()}")
    _say(f"webnn browser: {cache.sparticuz_chromium() or 'not installed'}")
    _say(f"wasm/webgpu browser: {chromium or 'none found (apt-get install -y chromium)'}")
    return 0
