"""How big a request rTorrent accepts, measured per line (docs/compatibility.md, "Request size cap").

Both lines drop a larger SCGI request by resetting the connection, with no fault and whatever
``network.xmlrpc.size_limit`` says, so the client checks every encoded body before sending it.
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


def request_cap(client_version: tuple[int, ...]) -> int:
    """The largest request body the rTorrent of ``client_version`` accepts, minus our margin."""
    cap = LARGE_REQUEST_CAP if client_version >= _LARGE_CAP_SINCE else SMALL_REQUEST_CAP
    return cap - REQUEST_MARGIN


#: Bodies up to this size fit every line; only larger ones need the server's version to be judged.
ALWAYS_ACCEPTED = SMALL_REQUEST_CAP - REQUEST_MARGIN
