"""How big a request rTorrent accepts, measured per line (docs/compatibility.md, "Request size cap").

Both lines drop an SCGI request above a fixed cap by resetting the connection, with no fault and
whatever ``network.xmlrpc.size_limit`` says; below that cap, an XML-RPC request above
``network.xmlrpc.size_limit`` (512 KiB unless rtorrent.rc raises it) gets a fault. The client learns
the setting when it detects the server and checks every encoded body before sending it.
"""

from __future__ import annotations

#: rTorrent 0.9.8 (and, we assume, everything before 0.16) drops SCGI requests above 2 MiB; 0.16 above 16 MiB.
SMALL_REQUEST_CAP = 2 << 20
LARGE_REQUEST_CAP = 16 << 20
_LARGE_CAP_SINCE = (0, 16)
#: Kept free below the cap for the SCGI headers and rounding.
REQUEST_MARGIN = 64 << 10

#: A multicall whose request would be larger is sent as several smaller ones, so a caller with
#: thousands of calls never meets 0.9.8's cap (it would only see a broken connection).
MULTICALL_REQUEST_LIMIT = 1 << 20


#: ``network.xmlrpc.size_limit`` when rtorrent.rc does not set it, on both lines. An XML-RPC request
#: above it gets fault -503 "XML-RPC request too large" (JSON-RPC on 0.16 ignores the setting).
DEFAULT_XMLRPC_SIZE_LIMIT = 512 << 10


def request_cap(client_version: tuple[int, ...], xmlrpc_size_limit: int | None = None) -> int:
    """The largest request body the rTorrent of ``client_version`` accepts, minus our margin.

    ``xmlrpc_size_limit`` is the server's ``network.xmlrpc.size_limit`` when the request is XML-RPC.
    """
    cap = LARGE_REQUEST_CAP if client_version >= _LARGE_CAP_SINCE else SMALL_REQUEST_CAP
    if xmlrpc_size_limit is not None and xmlrpc_size_limit > 0:
        cap = min(cap, xmlrpc_size_limit)
    return max(cap - REQUEST_MARGIN, cap // 2)


#: Bodies up to this size fit every rTorrent left at its defaults; only larger ones need the server's
#: limits to be judged (one detection per connection, then a lookup).
ALWAYS_ACCEPTED = DEFAULT_XMLRPC_SIZE_LIMIT - REQUEST_MARGIN
