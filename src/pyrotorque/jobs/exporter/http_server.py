"""The metrics endpoint's HTTP server: a bounded number of requests, read deadlines, TLS and basic auth.

prometheus_client's own server starts a thread per connection without limit and serves whatever
arrives, even a request line cut short by a client that went away. This one:

- handles at most ``max_connections`` requests at once; the next connection waits for a free slot
  (up to ``read_timeout``, then it is closed unanswered), so threads cannot pile up;
- gives every request ``read_timeout`` seconds in total to arrive (TLS handshake per read, request
  line and headers together), so a slow sender holds its slot no longer than that;
- renders metrics (which may ask rTorrent) only for a complete request: a request line or headers
  ended by the client closing the connection cost nothing;
- does the TLS handshake in the request's thread, never in the thread that accepts connections, so
  a client that connects and sends nothing, or plain HTTP to a TLS port, blocks nobody else; such
  failures are logged at DEBUG, never with a traceback.

Socket deadlines are real time by nature, hence ``time.monotonic`` rather than the job's clock.
"""

from __future__ import annotations

import gzip
import io
import logging
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseServer, TCPServer
from typing import Any
from urllib.parse import urlsplit

from pyrotorque.jobs.exporter.auth import BasicAuth

#: ``render(accept_header) -> (body, content type)``: the exposition text of one scrape.
Renderer = Callable[[str], tuple[bytes, str]]

#: The paths that serve metrics; anything else is 404 and costs no collection.
METRICS_PATHS = ("/metrics", "/")


@dataclass(frozen=True)
class ServerLimits:
    """How many requests run at once, and how long one may take to arrive (and each write)."""

    max_connections: int = 10
    read_timeout: float = 5.0


class _DeadlineReader(io.RawIOBase):
    """Socket reads that share one deadline, and that note when the client closed its side."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self.sock = sock
        self.deadline = deadline
        self.eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request did not arrive within the read timeout")
        self.sock.settimeout(remaining)
        count = self.sock.recv_into(buffer)
        self.eof = self.eof or count == 0
        return count


class MetricsHandler(BaseHTTPRequestHandler):
    """Serves ``GET /metrics``; HTTP/1.0, one request per connection, so no idle connection holds a slot."""

    server: MetricsServer
    _reader: _DeadlineReader

    def setup(self) -> None:
        limits = self.server.limits
        deadline = time.monotonic() + limits.read_timeout
        self.request.settimeout(limits.read_timeout)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()
        self._reader = _DeadlineReader(self.request, deadline)
        self.rfile = io.BufferedReader(self._reader)

    def parse_request(self) -> bool:
        # A read that met the end of the stream means the request was cut short: the client is gone.
        if self._reader.eof or not super().parse_request() or self._reader.eof:
            self.close_connection = True
            return False
        return True

    def do_GET(self) -> None:
        """Metrics for an authorised request to a metrics path, else 401 or 404."""
        self.request.settimeout(self.server.limits.read_timeout)  # for the writes
        if urlsplit(self.path).path not in METRICS_PATHS:
            self._reply(404, b"Not found: metrics are on /metrics\n", "text/plain; charset=utf-8")
            return
        auth = self.server.auth
        if auth is not None and not auth.allows(self.headers.get("Authorization")):
            challenge = {"WWW-Authenticate": auth.challenge}
            self._reply(401, b"Unauthorized\n", "text/plain; charset=utf-8", challenge)
            return
        try:
            body, content_type = self.server.render(self.headers.get("Accept", ""))
        except Exception as exc:  # the collection logged its traceback once; each scrape just says 500
            self.server.log.debug("Scrape failed: %s", exc)
            self._reply(500, b"Collecting metrics failed, see the daemon's log\n", "text/plain")
            return
        extra: dict[str, str] = {}
        if _accepts_gzip(self.headers.get("Accept-Encoding", "")):
            body, extra["Content-Encoding"] = gzip.compress(body, compresslevel=6), "gzip"
        self._reply(200, body, content_type, extra)

    def _reply(self, code: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Access and error lines at DEBUG in the job's log, never on stderr."""
        self.server.log.debug("%s: " + format, self.address_string(), *args)


def _accepts_gzip(header: str) -> bool:
    return any(part.split(";")[0].strip().lower() == "gzip" for part in header.split(","))


class MetricsServer(ThreadingHTTPServer):
    """A threading HTTP server with a cap on concurrent requests, optional TLS and basic auth."""

    daemon_threads = True
    request_queue_size = 128  # connections waiting for a slot wait in the kernel, not in threads

    def __init__(
        self,
        address: tuple[str, int],
        render: Renderer,
        log: logging.Logger,
        *,
        limits: ServerLimits,
        tls: ssl.SSLContext | None = None,
        auth: BasicAuth | None = None,
    ) -> None:
        self.render, self.log, self.limits, self.tls, self.auth = render, log, limits, tls, auth
        self._slots = threading.BoundedSemaphore(limits.max_connections)
        self._count_lock = threading.Lock()
        self.active = 0  # requests being handled now
        host, port = address
        self.address_family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        super().__init__(address, MetricsHandler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the address (it can take seconds)."""
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(timeout=self.limits.read_timeout):
            self.log.debug("%d requests at once: closing the connection from %s", self.active, client_address)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._count_lock:
            self.active += 1
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._count_lock:
                self.active -= 1
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Network trouble (timeouts, resets, TLS failures) at DEBUG; anything else with its traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            self.log.debug("Request from %s ended: %s", client_address, exc)
        else:
            self.log.error("Serving a request from %s failed", client_address, exc_info=True)


def serve_in_thread(server: BaseServer, name: str) -> threading.Thread:
    """Run ``server.serve_forever`` in a daemon thread; ``server.shutdown()`` ends it."""
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return thread
