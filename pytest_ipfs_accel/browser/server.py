"""A local HTTP server (127.0.0.1, a free port) for the harness page, onnxruntime-web and model files."""

from __future__ import annotations

import http.server
import pathlib
import secrets
import threading
import urllib.parse

from pytest_ipfs_accel.browser import cache

_HARNESS = pathlib.Path(__file__).with_name("harness.html")
_TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm",
          ".html": "text/html; charset=utf-8", ".onnx": "application/octet-stream"}


class Server:
    """Serves ``/harness.html``, ``/ort/<file>`` (onnxruntime-web dist) and ``/files/<token>/<name>``."""

    def __init__(self, ort_dist: pathlib.Path) -> None:
        self.ort_dist = ort_dist.resolve()
        self.files: dict[str, pathlib.Path] = {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path = urllib.parse.urlparse(self.path).path
                target = server.resolve(path)
                if target is None or not target.is_file():
                    self.send_error(404)
                    return
                data = target.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", _TYPES.get(target.suffix, "application/octet-stream"))
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:  # quiet
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, name="ipfs-accel-web", daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def resolve(self, path: str) -> pathlib.Path | None:
        if path == "/harness.html":
            return _HARNESS
        if path.startswith("/ort/"):
            target = (self.ort_dist / path[len("/ort/"):]).resolve()
            return target if target.parent == self.ort_dist else None
        if path.startswith("/files/"):
            return self.files.get(path[len("/files/"):])
        return None

    def publish(self, file: pathlib.Path) -> str:
        """A URL path under which ``file`` is served (token-prefixed, the file name kept)."""
        key = f"{secrets.token_hex(8)}/{file.name}"
        self.files[key] = pathlib.Path(file)
        return f"/files/{key}"


_SERVER: Server | None = None
_LOCK = threading.Lock()


def server() -> Server:
    """The process's server (started on first use); RuntimeError without onnxruntime-web."""
    global _SERVER
    with _LOCK:
        if _SERVER is None:
            dist = cache.ort_dist()
            if dist is None:
                raise RuntimeError(cache.missing())
            _SERVER = Server(dist)
        return _SERVER
