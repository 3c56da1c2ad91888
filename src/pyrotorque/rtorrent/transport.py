"""Transports: carry one request body to rTorrent and bring back the answer body.

Every call opens its own connection (rTorrent closes it after each answer), so transports hold no
connection state and are safe to share between threads. One deadline covers the whole exchange:
connect, send and receive together must finish within ``timeout`` seconds, so a stalled rTorrent
that dribbles bytes cannot hold a job forever. Failures become ``TransportError`` (naming the URL)
or ``RtorrentTimeout``; nothing from ``socket``, ``ssl`` or ``http.client`` escapes.

``abort(reason)`` cuts the exchanges in flight (their sockets are shut down, which wakes a thread
blocked in ``recv``) and refuses new ones: a stopping daemon need not wait ``timeout`` seconds for a
frozen rTorrent. A cut call raises ``TransportError`` naming the reason.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Protocol

from pyrotorque.errors import ProtocolError, RtorrentTimeout, TransportError
from pyrotorque.rtorrent import scgi
from pyrotorque.rtorrent.url import Endpoint

LOG = logging.getLogger(__name__)

_FIRST_READ = 64 * 1024
_HTTP_CHUNK = 256 * 1024
# rTorrent 0.16 refuses bodies above 16 MiB; an answer announcing more than this is not from rTorrent.
_MAX_RESPONSE = 1 << 30


class Transport(Protocol):
    """Sends one request body and returns the answer body."""

    url: str

    def request(self, body: bytes, content_type: str) -> bytes:
        """Send ``body`` as ``content_type``; return the response body."""
        ...


class _InFlight:
    """The connections of the exchanges running now, so ``abort()`` can cut them from another thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: dict[int, Callable[[], socket.socket | None]] = {}
        self.aborted: str | None = None

    def add(self, key: int, sock: Callable[[], socket.socket | None], url: str) -> None:
        """Track the exchange ``key`` whose socket ``sock()`` returns; refused after ``abort()``."""
        with self._lock:
            if self.aborted is not None:
                raise self.refused(url)
            self._sockets[key] = sock

    def discard(self, key: int) -> None:
        """The exchange ``key`` is over."""
        with self._lock:
            self._sockets.pop(key, None)

    def abort(self, reason: str) -> None:
        """Shut down every socket in flight; refuse every later exchange."""
        with self._lock:
            self.aborted = reason
            sockets = [get() for get in self._sockets.values()]
        for sock in sockets:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def refused(self, url: str) -> TransportError:
        """The error of an exchange refused or cut by ``abort()``."""
        return TransportError(f"call cut short: {self.aborted}", url)


class _Deadline:
    """The time left for one exchange."""

    def __init__(self, timeout: float, url: str) -> None:
        self.timeout = timeout
        self.url = url
        self.expires = time.monotonic() + timeout

    def remaining(self) -> float:
        """Seconds left; raises ``RtorrentTimeout`` once there are none."""
        left = self.expires - time.monotonic()
        if left <= 0:
            raise self.expired()
        return left

    def expired(self) -> RtorrentTimeout:
        """The exception for a missed deadline."""
        return RtorrentTimeout(f"no complete answer from rTorrent within {self.timeout:g}s", self.url)


class _SocketTransport:
    """SCGI over a stream socket; subclasses say how to connect."""

    url: str

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self._in_flight = _InFlight()

    def _connect(self, deadline: _Deadline) -> socket.socket:
        raise NotImplementedError

    def abort(self, reason: str) -> None:
        """Cut the exchanges in flight and refuse new ones (a stopping daemon)."""
        self._in_flight.abort(reason)

    def request(self, body: bytes, content_type: str) -> bytes:
        """Send one SCGI request on a fresh connection and return the response body."""
        in_flight = self._in_flight
        if in_flight.aborted is not None:
            raise in_flight.refused(self.url)
        deadline = _Deadline(self.timeout, self.url)
        try:
            sock = self._connect(deadline)
        except TimeoutError as exc:
            raise deadline.expired() from exc
        except FileNotFoundError as exc:
            raise TransportError("rTorrent socket not found (is rTorrent running?)", self.url) from exc
        except ConnectionRefusedError as exc:
            raise TransportError("connection refused (is rTorrent running?)", self.url) from exc
        except OSError as exc:
            raise TransportError(f"cannot connect: {exc.strerror or exc}", self.url) from exc
        with sock:
            in_flight.add(id(sock), lambda: sock, self.url)
            try:
                _send_all(sock, [scgi.request_head(len(body), content_type), body], deadline)
                return _receive(sock, deadline, self.url)
            except (TransportError, OSError) as exc:
                if in_flight.aborted is not None:
                    raise in_flight.refused(self.url) from exc
                if isinstance(exc, TransportError):
                    raise
                if isinstance(exc, TimeoutError):
                    raise deadline.expired() from exc
                raise TransportError(f"connection lost: {exc.strerror or exc}", self.url) from exc
            finally:
                in_flight.discard(id(sock))


class UnixTransport(_SocketTransport):
    """SCGI over a unix domain socket."""

    def __init__(self, path: str, url: str, timeout: float) -> None:
        super().__init__(url, timeout)
        self.path = path

    def _connect(self, deadline: _Deadline) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(deadline.remaining())
            sock.connect(self.path)
        except BaseException:
            sock.close()
            raise
        return sock


class TcpTransport(_SocketTransport):
    """SCGI over TCP."""

    def __init__(self, host: str, port: int, url: str, timeout: float) -> None:
        super().__init__(url, timeout)
        self.host = host
        self.port = port

    def _connect(self, deadline: _Deadline) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=deadline.remaining())
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def _send_all(sock: socket.socket, parts: list[bytes], deadline: _Deadline) -> None:
    # sendmsg gathers header and body without concatenating them (the body may be large).
    views = [memoryview(part) for part in parts if part]
    while views:
        sock.settimeout(deadline.remaining())
        sent = sock.sendmsg(views)
        while sent and views:
            if sent >= len(views[0]):
                sent -= len(views[0])
                views.pop(0)
            else:
                views[0] = views[0][sent:]
                sent = 0


def _receive(sock: socket.socket, deadline: _Deadline, url: str) -> bytes:
    """Read one SCGI response into a single growing buffer and return its body."""
    buffer = bytearray(_FIRST_READ)
    filled = 0
    head: scgi.ResponseHead | None = None
    wanted: int | None = None  # total bytes expected once Content-Length is known
    while wanted is None or filled < wanted:
        if filled == len(buffer):
            # Without Content-Length: double, so the copies add up to O(n).
            buffer.extend(bytes(len(buffer)))
        sock.settimeout(deadline.remaining())
        with memoryview(buffer) as view, view[filled:] as free:
            count = sock.recv_into(free)
        if count == 0:
            break
        filled += count
        if head is None:
            head = scgi.parse_response_head(buffer, filled)
            if head is not None and head.content_length is not None:
                wanted = head.body_offset + head.content_length
                if head.content_length > _MAX_RESPONSE:
                    raise ProtocolError(f"rTorrent announced a {head.content_length} byte answer ({url})")
                if wanted > len(buffer):
                    buffer.extend(bytes(wanted - len(buffer)))
    if head is None:
        if filled == 0:
            raise TransportError("connection closed without an answer", url)
        raise TransportError("connection closed in the middle of the response headers", url)
    if wanted is not None and filled < wanted:
        raise TransportError(f"answer cut short: got {filled} of {wanted} bytes", url)
    if head.status != 200:
        detail = bytes(buffer[head.body_offset : min(filled, head.body_offset + 200)]).decode(
            "utf-8", "replace"
        )
        message = f"rTorrent answered status {head.status} {head.reason}".rstrip()
        raise TransportError(f"{message}: {detail.strip()}" if detail.strip() else message, url)
    with memoryview(buffer) as view, view[head.body_offset : filled] as body:
        return bytes(body)


class HttpTransport:
    """XML-RPC / JSON-RPC by HTTP(S) POST, e.g. through a web server's /RPC2 mount."""

    def __init__(self, endpoint: Endpoint, timeout: float) -> None:
        self.url = endpoint.url
        self.endpoint = endpoint
        self.timeout = timeout
        self._auth: str | None = None
        # Made on the first https request (it reads the CA store), then reused: no I/O here.
        self._tls_context: ssl.SSLContext | None = None
        self._in_flight = _InFlight()
        if endpoint.username is not None:
            token = f"{endpoint.username}:{endpoint.password or ''}".encode()
            self._auth = "Basic " + base64.b64encode(token).decode("ascii")

    def _connection(self, deadline: _Deadline) -> http.client.HTTPConnection:
        endpoint = self.endpoint
        if endpoint.kind == "https":
            return http.client.HTTPSConnection(
                endpoint.host, endpoint.port, timeout=deadline.remaining(), context=self._tls()
            )
        return http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=deadline.remaining())

    def _tls(self) -> ssl.SSLContext:
        context = self._tls_context
        if context is None:
            context = ssl.create_default_context()
            if not self.endpoint.verify_tls:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._tls_context = context
        return context

    def abort(self, reason: str) -> None:
        """Cut the exchanges in flight and refuse new ones (a stopping daemon)."""
        self._in_flight.abort(reason)

    def request(self, body: bytes, content_type: str) -> bytes:
        """POST one request on a fresh connection and return the response body."""
        in_flight = self._in_flight
        if in_flight.aborted is not None:
            raise in_flight.refused(self.url)
        deadline = _Deadline(self.timeout, self.url)
        headers = {"Content-Type": content_type, "Content-Length": str(len(body)), "Connection": "close"}
        if self._auth:
            headers["Authorization"] = self._auth
        connection = self._connection(deadline)
        in_flight.add(id(connection), lambda: connection.sock, self.url)
        try:
            return self._exchange(connection, body, headers, deadline)
        except TransportError as exc:
            if in_flight.aborted is None:
                raise
            raise in_flight.refused(self.url) from exc
        finally:
            in_flight.discard(id(connection))
            connection.close()

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        body: bytes,
        headers: dict[str, str],
        deadline: _Deadline,
    ) -> bytes:
        """The POST and its answer on ``connection``; every failure becomes a ``TransportError``."""
        try:
            connection.request("POST", self.endpoint.path, body=body, headers=headers)
            if connection.sock is not None:
                connection.sock.settimeout(deadline.remaining())
            response = connection.getresponse()
            if response.status != 200:
                raise TransportError(f"HTTP status {response.status} {response.reason}".rstrip(), self.url)
            return _read_http_body(connection, response, deadline, self.url)
        except TimeoutError as exc:
            raise deadline.expired() from exc
        except ssl.SSLError as exc:
            raise TransportError(f"TLS failure: {exc}", self.url) from exc
        except ConnectionRefusedError as exc:
            raise TransportError("connection refused", self.url) from exc
        except (http.client.HTTPException, OSError) as exc:
            raise TransportError(f"HTTP request failed: {exc}", self.url) from exc


def _read_http_body(
    connection: http.client.HTTPConnection,
    response: http.client.HTTPResponse,
    deadline: _Deadline,
    url: str,
) -> bytes:
    length = response.length  # None for chunked or close-delimited bodies
    buffer = bytearray()
    while length is None or len(buffer) < length:
        if connection.sock is not None:
            connection.sock.settimeout(deadline.remaining())
        # read1 does at most one receive, so the deadline is checked between receives.
        chunk = response.read1(_HTTP_CHUNK)
        if not chunk:
            break
        buffer += chunk
    if length is not None and len(buffer) < length:
        raise TransportError(f"answer cut short: got {len(buffer)} of {length} bytes", url)
    return bytes(buffer)


class MockTransport:
    """A transport that hands each request to ``handler(body, content_type)`` (for unit tests)."""

    def __init__(self, handler: Callable[[bytes, str], bytes], url: str = "mock://rtorrent") -> None:
        self.url = url
        self.handler = handler
        self.requests: list[tuple[bytes, str]] = []

    def request(self, body: bytes, content_type: str) -> bytes:
        """Record the request and return what the handler answers (or raises)."""
        self.requests.append((body, content_type))
        return self.handler(body, content_type)


def transport_for(endpoint: Endpoint, timeout: float) -> Transport:
    """The transport an endpoint needs (no I/O happens here)."""
    if endpoint.kind == "unix":
        return UnixTransport(endpoint.path, endpoint.url, timeout)
    if endpoint.kind == "tcp":
        return TcpTransport(endpoint.host, endpoint.port, endpoint.url, timeout)
    return HttpTransport(endpoint, timeout)
