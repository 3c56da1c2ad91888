"""An HTTP front for a real rTorrent's SCGI socket that insists on basic auth, like a web server's /RPC2."""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sandbox.rtorrent import scgi_request


@contextmanager
def http_gateway(socket_path: Path, user: str, password: str) -> Iterator[int]:
    """Serve POST /RPC2 on 127.0.0.1 (the port is yielded), passing each body to rTorrent over SCGI."""
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers["Authorization"] != expected:
                self._answer(401, b"")
                return
            self._answer(200, scgi_request(socket_path, body, content_type=self.headers["Content-Type"]))

        def _answer(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
