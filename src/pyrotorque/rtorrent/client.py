"""``RtorrentClient``: calls, multicalls and ``d.multicall2`` over any transport, in XML-RPC or JSON-RPC.

Protocol choice (never guessed from errors):

- ``protocol="xml"|"json"`` or ``?rpc=xml|json`` in the URL forces it; calls then need no detection.
- Otherwise the first call runs a detection: one XML-RPC ``system.multicall`` of
  ``system.client_version``, ``system.library_version``, ``system.listMethods``,
  ``network.rpc.use_jsonrpc`` and ``network.xmlrpc.size_limit`` (for the request cap). JSON-RPC is
  used exactly when ``network.rpc.use_jsonrpc`` is among the listed methods (rTorrent 0.16 and
  later) and answers true (it can be switched off in rtorrent.rc); otherwise XML-RPC. On 0.9.8 that
  entry is an unknown method and its fault is ignored because the method list already says it is
  absent. Detection always speaks XML-RPC because ``system.listMethods`` and ``system.multicall``
  exist only on rTorrent's XML-RPC side (0.16's JSON-RPC has neither).

The detected ``ServerInfo`` is kept until a transport or protocol error, so a restarted (or upgraded)
rTorrent is detected afresh. Every call opens its own connection; the client is safe to share
between threads.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pyrotorque.errors import (
    ConfigError,
    FaultError,
    ProtocolError,
    RequestTooLarge,
    RtorrentError,
    TransportError,
)
from pyrotorque.rtorrent.codec import Call, Codec
from pyrotorque.rtorrent.limits import ALWAYS_ACCEPTED, MULTICALL_REQUEST_LIMIT
from pyrotorque.rtorrent.server_info import (
    DETECTION_CALLS,
    JSONRPC_SWITCH,
    RENAMED_COMMANDS,
    XMLRPC_SIZE_LIMIT,
    Protocol,
    ServerInfo,
    detected_server,
    version_tuple,
)
from pyrotorque.rtorrent.stats import ClientStats
from pyrotorque.rtorrent.transport import Transport, transport_for
from pyrotorque.rtorrent.url import parse_url
from pyrotorque.rtorrent.xmlrpc import XMLRPC

LOG = logging.getLogger(__name__)

# Re-exported: other code names these from here (docs/compatibility.md names RENAMED_COMMANDS).
__all__ = [
    "JSONRPC_SWITCH",
    "RENAMED_COMMANDS",
    "XMLRPC_SIZE_LIMIT",
    "Protocol",
    "RtorrentClient",
    "ServerInfo",
    "version_tuple",
]

#: rTorrent's fault for an XML-RPC request above ``network.xmlrpc.size_limit`` (both lines, code -503).
_TOO_LARGE_FAULT = re.compile(r"request too large\.\s*max allowed is (\d+)", re.IGNORECASE)


def _codec_for(protocol: Protocol) -> Codec:
    if protocol == "json":
        from pyrotorque.rtorrent.jsonrpc import JSONRPC

        return JSONRPC
    return XMLRPC


class RtorrentClient:
    """A thread-safe rTorrent RPC client; no I/O happens until the first call."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        transport: Transport | None = None,
        protocol: str | None = None,
    ) -> None:
        self.endpoint = parse_url(url)
        self.url = self.endpoint.url
        self.timeout = timeout
        if protocol not in (None, "auto", "xml", "json"):
            raise ConfigError(f"protocol must be xml, json or auto, not {protocol!r}")
        forced = protocol if protocol in ("xml", "json") else self.endpoint.protocol
        self.forced_protocol: Protocol | None = "json" if forced == "json" else "xml" if forced else None
        self.transport = transport if transport is not None else transport_for(self.endpoint, timeout)
        self.stats = ClientStats()
        self._info: ServerInfo | None = None
        self._detect_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RtorrentClient({self.url!r})"

    # -- protocol and server detection -------------------------------------------------------

    def server_info(self) -> ServerInfo:
        """The connected rTorrent's versions, methods and protocol (detected once per connection)."""
        info = self._info
        if info is not None:
            return info
        with self._detect_lock:
            if self._info is None:
                self._info = self._detect()
            return self._info

    def abort_calls(self, reason: str) -> bool:
        """Cut the calls in flight and refuse later ones (``TransportError``); False if the transport cannot.

        For a stopping daemon: a call to a frozen rTorrent would otherwise hold its thread for the whole
        ``timeout``. Whether rTorrent still carries out a request it had received is unknown to us.
        """
        abort = getattr(self.transport, "abort", None)
        if abort is None:
            return False
        abort(reason)
        return True

    def forget_server(self) -> None:
        """Drop the detected server info; the next call detects again."""
        self._info = None

    def _detect(self) -> ServerInfo:
        answers = self._multicall_with(XMLRPC, DETECTION_CALLS)
        info = detected_server(answers, self.forced_protocol, self.url)
        LOG.debug(
            "rTorrent %s (libtorrent %s) at %s: %d methods, using %s-RPC%s",
            info.client_version_text,
            info.library_version,
            self.url,
            len(info.methods),
            info.protocol.upper(),
            " (forced)" if self.forced_protocol else "",
        )
        return info

    def _command(self, method: str) -> str:
        # With a forced protocol nothing was detected; then names go out as given.
        info = self._info
        return info.command(method) if info is not None else method

    def _codec(self) -> Codec:
        if self.forced_protocol is not None:
            return _codec_for(self.forced_protocol)
        return _codec_for(self.server_info().protocol)

    # -- calls ------------------------------------------------------------------------------

    def call(self, method: str, *params: Any) -> Any:
        """Call one command with exactly ``params`` (global commands take ``""`` as the target).

        A request larger than the connected rTorrent accepts raises ``RequestTooLarge`` unsent.
        """
        codec = self._codec()
        method = self._command(method)
        body = self._encode(lambda: codec.encode_call(method, params), method)
        self._check_size(body, method)
        data = self._exchange(body, codec.content_type)
        return self._decode(lambda: codec.decode_response(data, method), body, method)

    def multicall(self, calls: Iterable[tuple[str, Sequence[Any]]]) -> list[Any | FaultError]:
        """Run several calls in one request; a failed entry comes back as a ``FaultError`` value.

        Calls that would make a request above ``MULTICALL_REQUEST_LIMIT``, or above what the server
        accepts, go out in several requests, in order; the answers come back as one list.
        """
        batch: list[Call] = [(method, tuple(params)) for method, params in calls]
        if not batch:
            return []
        codec = self._codec()
        return self._multicall_with(codec, [(self._command(method), params) for method, params in batch])

    def d_multicall(self, view: str, commands: Sequence[str]) -> list[list[Any]]:
        """One ``d.multicall2`` over ``view``: a row of ``commands`` values per item."""
        fields = [command if "=" in command else f"{command}=" for command in commands]
        rows = self.call("d.multicall2", "", view, *fields)
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ProtocolError(f"d.multicall2 on view {view!r} did not answer a list of rows ({self.url})")
        return rows

    # -- plumbing ---------------------------------------------------------------------------

    def _multicall_with(self, codec: Codec, batch: Sequence[Call]) -> list[Any | FaultError]:
        body = self._encode(lambda: codec.encode_multicall(batch), "system.multicall")
        if len(batch) > 1 and len(body) > self._multicall_limit(len(body)):
            half = len(batch) // 2
            return self._multicall_with(codec, batch[:half]) + self._multicall_with(codec, batch[half:])
        method = batch[0][0] if len(batch) == 1 else "system.multicall"
        self._check_size(body, method)
        data = self._exchange(body, codec.content_type)
        try:
            results = self._decode(lambda: codec.decode_multicall(data, batch), body, method)
        except RequestTooLarge:
            # Refused before any call ran, so sending it again is safe: split to the limit just read.
            if len(batch) > 1 and self.server_info().request_cap < len(body):
                return self._multicall_with(codec, batch)
            raise
        if not isinstance(results, list) or len(results) != len(batch):
            self.forget_server()
            raise ProtocolError(f"multicall of {len(batch)} calls got a mismatched answer ({self.url})")
        return results

    def _encode(self, encode: Callable[[], bytes], method: str) -> bytes:
        try:
            return encode()
        except RtorrentError:
            raise
        except Exception as exc:  # e.g. a parameter type the codec cannot represent
            raise ProtocolError(f"cannot encode the call of {method}: {exc!r} ({self.url})") from exc

    def _multicall_limit(self, size: int) -> int:
        """Above this many bytes a multicall is split; the server is asked only about a large body."""
        info = self._info
        if info is None and size <= ALWAYS_ACCEPTED:  # fits any rTorrent at its defaults (detection too)
            return MULTICALL_REQUEST_LIMIT
        return min(MULTICALL_REQUEST_LIMIT, (info or self.server_info()).request_cap)

    def _check_size(self, body: bytes, method: str) -> None:
        """Refuse a body the server would drop; only a large one needs the server detected."""
        info = self._info
        if info is None and len(body) <= ALWAYS_ACCEPTED:
            return
        limit = (info or self.server_info()).request_cap
        if len(body) > limit:
            raise RequestTooLarge(method, len(body), limit, self.url)

    def _exchange(self, body: bytes, content_type: str) -> bytes:
        started = time.perf_counter()
        try:
            data = self.transport.request(body, content_type)
        except (TransportError, ProtocolError):
            # A garbage answer (bad SCGI headers) may mean a different rTorrent now answers, too.
            self.forget_server()
            self.stats.record_failure(len(body))
            raise
        except RtorrentError:
            self.stats.record_failure(len(body))
            raise
        except Exception as exc:  # a custom transport's own failure must not escape untranslated
            self.forget_server()
            self.stats.record_failure(len(body))
            raise TransportError(f"transport failed: {exc!r}", self.url) from exc
        self.stats.record(len(body), len(data), time.perf_counter() - started)
        return data

    def _decode(self, decode: Callable[[], Any], body: bytes, method: str) -> Any:
        try:
            return decode()
        except FaultError as exc:
            too_large = _TOO_LARGE_FAULT.search(exc.message)
            if too_large is None:
                raise
            # The limit was lowered since detection (or could not be read): read it again next time.
            self.forget_server()
            raise RequestTooLarge(method, len(body), int(too_large.group(1)), self.url) from exc
        except ProtocolError:
            # A garbage answer may mean a different rTorrent now answers on this socket.
            self.forget_server()
            raise
        except RtorrentError:
            raise
        except Exception as exc:  # the codecs should raise only ours; never let a stray one out
            self.forget_server()
            raise ProtocolError(f"cannot decode rTorrent's answer: {exc!r} ({self.url})") from exc
