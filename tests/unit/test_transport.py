"""Transports against small local servers: answers, errors, and stalls that must time out."""

from __future__ import annotations

import base64
import contextlib
import http.server
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pyrotorque.errors import ProtocolError, RtorrentTimeout, TransportError
from pyrotorque.rtorrent import scgi
from pyrotorque.rtorrent.transport import (
    HttpTransport,
    MockTransport,
    TcpTransport,
    UnixTransport,
    transport_for,
)
from pyrotorque.rtorrent.url import parse_url

Behaviour = Callable[[socket.socket, bytes, threading.Event], None]


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
        try:
            scgi.parse_request(data)
        except ProtocolError:  # not complete yet
            continue
        return data


class FakeServer:
    """A one-thread SCGI server on a unix or TCP socket; ``behaviour`` answers each connection."""

    def __init__(self, listener: socket.socket, behaviour: Behaviour) -> None:
        self.listener = listener
        self.behaviour = behaviour
        self.requests: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                request = _read_request(conn)
                self.requests.append(request)
                with contextlib.suppress(OSError):  # the client may have hung up already
                    self.behaviour(conn, request, self.stop)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.listener.close()


@pytest.fixture
def unix_server(tmp_path: Path) -> Iterator[Callable[[Behaviour], tuple[FakeServer, str]]]:
    servers: list[FakeServer] = []

    def start(behaviour: Behaviour) -> tuple[FakeServer, str]:
        path = str(tmp_path / f"rpc{len(servers)}.socket")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(8)
        server = FakeServer(listener, behaviour)
        servers.append(server)
        return server, path

    yield start
    for server in servers:
        server.close()


def answer_with(body: bytes, newline: bytes = b"\r\n") -> Behaviour:
    def behaviour(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
        conn.sendall(scgi.frame_response(body, newline=newline))

    return behaviour


def stall_forever(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
    stop.wait(10)


def test_unix_round_trip(unix_server: Callable[[Behaviour], tuple[FakeServer, str]]) -> None:
    server, path = unix_server(answer_with(b"<answer/>"))
    transport = UnixTransport(path, f"scgi://{path}", timeout=5)
    assert transport.request(b"<call/>", "text/xml") == b"<answer/>"
    headers, body = scgi.parse_request(server.requests[0])
    assert body == b"<call/>"
    assert headers["CONTENT_TYPE"] == "text/xml"


def test_lf_only_headers_and_no_content_length(
    unix_server: Callable[[Behaviour], tuple[FakeServer, str]],
) -> None:
    def behaviour(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
        conn.sendall(b"Status: 200 OK\nContent-Type: text/xml\n\n<a/>\n\nstill body")

    _, path = unix_server(behaviour)
    assert UnixTransport(path, path, timeout=5).request(b"x", "text/xml") == b"<a/>\n\nstill body"


def test_large_response_in_pieces(unix_server: Callable[[Behaviour], tuple[FakeServer, str]]) -> None:
    payload = bytes(range(256)) * 40_000  # ~10 MB

    def behaviour(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
        framed = scgi.frame_response(payload)
        for start in range(0, len(framed), 777_777):
            conn.sendall(framed[start : start + 777_777])

    _, path = unix_server(behaviour)
    assert UnixTransport(path, path, timeout=20).request(b"x", "text/xml") == payload


def test_large_response_without_content_length(
    unix_server: Callable[[Behaviour], tuple[FakeServer, str]],
) -> None:
    payload = b"0123456789" * 300_000

    def behaviour(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
        conn.sendall(b"Status: 200 OK\r\n\r\n" + payload)

    _, path = unix_server(behaviour)
    assert UnixTransport(path, path, timeout=20).request(b"x", "text/xml") == payload


def test_large_request_is_sent_whole(unix_server: Callable[[Behaviour], tuple[FakeServer, str]]) -> None:
    server, path = unix_server(answer_with(b"ok"))
    body = b"y" * 3_000_000
    assert UnixTransport(path, path, timeout=20).request(body, "text/xml") == b"ok"
    assert scgi.parse_request(server.requests[0])[1] == body


def test_missing_socket_names_url(tmp_path: Path) -> None:
    url = f"scgi://{tmp_path}/absent.socket"
    with pytest.raises(TransportError) as caught:
        UnixTransport(str(tmp_path / "absent.socket"), url, timeout=2).request(b"x", "text/xml")
    assert url in str(caught.value)
    assert not isinstance(caught.value, RtorrentTimeout)


def test_refused_tcp_names_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nobody listens there
    with pytest.raises(TransportError) as caught:
        TcpTransport("127.0.0.1", port, f"scgi://127.0.0.1:{port}", timeout=2).request(b"x", "text/xml")
    assert f"127.0.0.1:{port}" in str(caught.value)


def test_closed_without_answer(unix_server: Callable[[Behaviour], tuple[FakeServer, str]]) -> None:
    _, path = unix_server(lambda conn, request, stop: None)
    with pytest.raises(TransportError, match="without an answer"):
        UnixTransport(path, path, timeout=5).request(b"x", "text/xml")


def test_cut_short(unix_server: Callable[[Behaviour], tuple[FakeServer, str]]) -> None:
    def behaviour(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
        conn.sendall(b"Status: 200 OK\r\nContent-Length: 100\r\n\r\nonly this")

    _, path = unix_server(behaviour)
    with pytest.raises(TransportError, match="cut short"):
        UnixTransport(path, path, timeout=5).request(b"x", "text/xml")


def test_non_200_status_is_an_error(unix_server: Callable[[Behaviour], tuple[FakeServer, str]]) -> None:
    def behaviour(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
        conn.sendall(scgi.frame_response(b"too big", "text/plain", status="413 Payload Too Large"))

    _, path = unix_server(behaviour)
    with pytest.raises(TransportError, match="413 Payload Too Large: too big"):
        UnixTransport(path, path, timeout=5).request(b"x", "text/xml")


def test_stalled_server_times_out(unix_server: Callable[[Behaviour], tuple[FakeServer, str]]) -> None:
    _, path = unix_server(stall_forever)
    started = time.monotonic()
    with pytest.raises(RtorrentTimeout) as caught:
        UnixTransport(path, f"scgi://{path}", timeout=0.5).request(b"x", "text/xml")
    assert time.monotonic() - started < 2.5
    assert path in str(caught.value)


def test_half_answer_then_stall_times_out(unix_server: Callable[[Behaviour], tuple[FakeServer, str]]) -> None:
    def behaviour(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
        conn.sendall(b"Status: 200 OK\r\nContent-Length: 1000\r\n\r\n<methodResponse>")
        stop.wait(10)

    _, path = unix_server(behaviour)
    started = time.monotonic()
    with pytest.raises(RtorrentTimeout):
        UnixTransport(path, path, timeout=0.5).request(b"x", "text/xml")
    assert time.monotonic() - started < 2.5


def test_dribbling_server_cannot_extend_the_deadline(
    unix_server: Callable[[Behaviour], tuple[FakeServer, str]],
) -> None:
    def behaviour(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
        conn.sendall(b"Status: 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(40):  # one byte every 0.1 s: each recv succeeds, the whole takes 4 s
            conn.sendall(b"x")
            if stop.wait(0.1):
                return

    _, path = unix_server(behaviour)
    started = time.monotonic()
    with pytest.raises(RtorrentTimeout):
        UnixTransport(path, path, timeout=0.5).request(b"x", "text/xml")
    assert time.monotonic() - started < 2.5


def test_server_that_never_accepts_times_out(tmp_path: Path) -> None:
    # A listening socket with nobody calling accept(): connect succeeds, nothing ever answers.
    path = str(tmp_path / "frozen.socket")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(path)
        listener.listen(1)
        with pytest.raises(RtorrentTimeout):
            UnixTransport(path, path, timeout=0.3).request(b"x", "text/xml")


def test_abort_cuts_a_call_in_flight_and_refuses_later_ones(tmp_path: Path) -> None:
    # A frozen rTorrent: connect works, nobody reads; the call would wait for its whole 60 s timeout.
    path = str(tmp_path / "frozen.socket")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(path)
        listener.listen(1)
        transport = UnixTransport(path, path, timeout=60)
        errors: list[BaseException] = []

        def call() -> None:
            try:
                transport.request(b"x", "text/xml")
            except BaseException as exc:  # the test looks at whatever came out
                errors.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        deadline = time.monotonic() + 10
        while not transport._in_flight._sockets and time.monotonic() < deadline:
            time.sleep(0.01)
        transport.abort("the daemon is stopping")
        caller.join(10)
        assert not caller.is_alive()
        assert [type(exc) for exc in errors] == [TransportError]
        assert str(errors[0]) == f"call cut short: the daemon is stopping ({path})"
        with pytest.raises(TransportError, match="call cut short"):
            transport.request(b"x", "text/xml")


def test_tcp_round_trip() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    server = FakeServer(listener, answer_with(b"<tcp/>"))
    try:
        transport = transport_for(parse_url(f"scgi://127.0.0.1:{port}"), timeout=5)
        assert isinstance(transport, TcpTransport)
        assert transport.request(b"<call/>", "application/json") == b"<tcp/>"
        assert scgi.parse_request(server.requests[0])[0]["CONTENT_TYPE"] == "application/json"
    finally:
        server.close()


class _RpcHandler(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str | None, str | None, bytes]] = []  # noqa: RUF012

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.path, self.headers["Content-Type"], self.headers["Authorization"], body))
        if self.path == "/stall":
            time.sleep(3)
        status = 200 if self.path.startswith("/RPC2") else 404
        answer = b"<answer>" + body + b"</answer>"
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RpcHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_http_post_with_basic_auth(http_port: int) -> None:
    transport = transport_for(parse_url(f"http://alice:s3cret@127.0.0.1:{http_port}/RPC2"), timeout=5)
    assert isinstance(transport, HttpTransport)
    assert transport.request(b"<call/>", "text/xml") == b"<answer><call/></answer>"
    path, content_type, auth, body = _RpcHandler.seen[-1]
    assert (path, content_type, body) == ("/RPC2", "text/xml", b"<call/>")
    assert auth == "Basic " + base64.b64encode(b"alice:s3cret").decode()


def test_http_error_status(http_port: int) -> None:
    transport = transport_for(parse_url(f"http://127.0.0.1:{http_port}/elsewhere"), timeout=5)
    with pytest.raises(TransportError, match="HTTP status 404"):
        transport.request(b"x", "text/xml")


def test_http_stall_times_out(http_port: int) -> None:
    transport = transport_for(parse_url(f"http://127.0.0.1:{http_port}/stall"), timeout=0.5)
    with pytest.raises(RtorrentTimeout):
        transport.request(b"x", "text/xml")


@pytest.mark.parametrize(("query", "verified"), [("", True), ("?verify=no", False)])
def test_https_makes_its_tls_context_once(
    http_port: int, monkeypatch: pytest.MonkeyPatch, query: str, verified: bool
) -> None:
    made: list[ssl.SSLContext] = []

    def counting_context() -> ssl.SSLContext:
        made.append(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        return made[-1]

    monkeypatch.setattr(ssl, "create_default_context", counting_context)
    transport = transport_for(parse_url(f"https://127.0.0.1:{http_port}/RPC2{query}"), timeout=5)
    for _ in range(2):
        # The server speaks plain HTTP: the handshake fails, and only as a TransportError.
        with pytest.raises(TransportError):
            transport.request(b"x", "text/xml")
    assert len(made) == 1
    assert (made[0].verify_mode == ssl.CERT_REQUIRED) is verified
    assert made[0].check_hostname is verified


def test_mock_transport_records_requests() -> None:
    transport = MockTransport(lambda body, content_type: body.upper())
    assert transport.request(b"abc", "text/xml") == b"ABC"
    assert transport.requests == [(b"abc", "text/xml")]
