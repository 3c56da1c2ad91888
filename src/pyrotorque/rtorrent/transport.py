"""Transports: carry one request body to rTorrent and bring back the answer body.

Every call opens its own connection (rTorrent closes it after each answer), so transports hold no
connection state and are safe to share between threads. One deadline covers the whole exchange:
connect, send and receive together must finish within ``timeout`` seconds, so a stalled rTorrent
that dribbles bytes cannot hold a job forever. Failures become ``TransportError`` (naming the URL)
or ``RtorrentTimeout``; nothing from ``socket``, ``ssl`` or ``http.client`` escapes.

``abort(reason)`` cuts the exchanges in flight (their sockets are shut down, which wakes a thread
blocked in ``recv``) and refuses new ones: a stopping daemon need not wait ``timeout`` seconds for a
frozen rTorrent. A cut call raises ``TransportError`` naming the reason.

The SCGI transports live in ``scgi_transport``, the HTTP one in ``http_transport``, what they share
(the deadline, the exchanges in flight) in ``exchange``; this module names them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from pyrotorque.rtorrent.http_transport import HttpTransport
from pyrotorque.rtorrent.scgi_transport import TcpTransport, UnixTransport
from pyrotorque.rtorrent.url import Endpoint

__all__ = ["HttpTransport", "MockTransport", "TcpTransport", "Transport", "UnixTransport", "transport_for"]


class Transport(Protocol):
    """Sends one request body and returns the answer body."""

    url: str

    def request(self, body: bytes, content_type: str) -> bytes:
        """Send ``body`` as ``content_type``; return the response body."""
        ...


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
