"""SCGI transports: unix domain socket and TCP, one connection and one deadline per exchange."""

from __future__ import annotations

import socket

from pyrotorque.errors import ProtocolError, TransportError
from pyrotorque.rtorrent import scgi
from pyrotorque.rtorrent.exchange import Deadline, InFlight

_FIRST_READ = 64 * 1024
# rTorrent 0.16 refuses bodies above 16 MiB; an answer announcing more than this is not from rTorrent.
_MAX_RESPONSE = 1 << 30


class _SocketTransport:
    """SCGI over a stream socket; subclasses say how to connect."""

    url: str

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self._in_flight = InFlight()

    def _connect(self, deadline: Deadline) -> socket.socket:
        raise NotImplementedError

    def abort(self, reason: str) -> None:
        """Cut the exchanges in flight and refuse new ones (a stopping daemon)."""
        self._in_flight.abort(reason)

    def request(self, body: bytes, content_type: str) -> bytes:
        """Send one SCGI request on a fresh connection and return the response body."""
        in_flight = self._in_flight
        deadline = in_flight.begin(self.timeout, self.url)
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

    def _connect(self, deadline: Deadline) -> socket.socket:
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

    def _connect(self, deadline: Deadline) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=deadline.remaining())
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def _send_all(sock: socket.socket, parts: list[bytes], deadline: Deadline) -> None:
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


def _receive(sock: socket.socket, deadline: Deadline, url: str) -> bytes:
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
