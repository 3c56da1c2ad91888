"""An HTTP(S) front for a sandboxed rTorrent, as a web server with an SCGI pass-through would be.

rTorrent itself speaks only SCGI; users reach it over HTTP(S) through nginx or similar at ``/RPC2``.
This front is a small real server that hands each POST body to rTorrent's socket and returns the
answer. With a certificate (made by ``openssl``, see ``make_certificate``) it speaks TLS, so the
client's certificate checks meet a real handshake with a real rTorrent behind it. Optional basic
auth checks what the client sends.
"""

from __future__ import annotations

import base64
import http.server
import ssl
import subprocess
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

from sandbox.rtorrent import scgi_request


def make_certificate(directory: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A self-signed certificate for ``host`` (and 127.0.0.1): returns (certificate, key) paths."""
    cert, key = directory / f"{host}.crt", directory / f"{host}.key"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
    command += ["-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host},IP:127.0.0.1"]
    command += ["-keyout", str(key), "-out", str(cert)]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
    )
    return cert, key


class HttpFront:
    """Serves ``POST <any path>`` on 127.0.0.1 and forwards the body to ``socket_path``.

    ``certificate`` (a certificate and key file) makes it HTTPS; without, it is plain HTTP.
    """

    def __init__(
        self,
        socket_path: Path,
        *,
        certificate: tuple[Path, Path] | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.socket_path = socket_path
        self.certificate = certificate
        self.credentials = credentials
        self.requests = 0
        self.authorizations: list[str | None] = []
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the HTTP front is not started")
        return int(self._server.server_address[1])

    def start(self) -> Self:
        front = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                front.requests += 1
                authorization = self.headers.get("Authorization")
                front.authorizations.append(authorization)
                if front.credentials is not None and authorization != _basic(*front.credentials):
                    self.send_error(401, "Unauthorized")
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                content_type = self.headers.get("Content-Type")
                answer = scgi_request(front.socket_path, body, content_type=content_type, timeout=30)
                self.send_response(200)
                self.send_header("Content-Type", content_type or "text/xml")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        if self.certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.certificate)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="http-front", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
