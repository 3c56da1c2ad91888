"""The HTTP(S) transport: XML-RPC / JSON-RPC by POST, one connection and one deadline per exchange."""

from __future__ import annotations

import base64
import http.client
import ssl

from pyrotorque.errors import TransportError
from pyrotorque.rtorrent.exchange import Deadline, InFlight
from pyrotorque.rtorrent.url import Endpoint

_HTTP_CHUNK = 256 * 1024


class HttpTransport:
    """XML-RPC / JSON-RPC by HTTP(S) POST, e.g. through a web server's /RPC2 mount."""

    def __init__(self, endpoint: Endpoint, timeout: float) -> None:
        self.url = endpoint.url
        self.endpoint = endpoint
        self.timeout = timeout
        self._auth: str | None = None
        # Made on the first https request (it reads the CA store), then reused: no I/O here.
        self._tls_context: ssl.SSLContext | None = None
        self._in_flight = InFlight()
        if endpoint.username is not None:
            token = f"{endpoint.username}:{endpoint.password or ''}".encode()
            self._auth = "Basic " + base64.b64encode(token).decode("ascii")

    def _connection(self, deadline: Deadline) -> http.client.HTTPConnection:
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
        deadline = in_flight.begin(self.timeout, self.url)
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
        deadline: Deadline,
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
    deadline: Deadline,
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
