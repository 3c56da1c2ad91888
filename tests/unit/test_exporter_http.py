"""The exporter's HTTP server with a counting renderer, its basic auth, its keys and --hash-password."""

from __future__ import annotations

import base64
import gzip
import io
import logging
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pyrotorque import cli
from pyrotorque.config import Config, build_options
from pyrotorque.config.ini import Setting
from pyrotorque.config.jobs import JobConfig
from pyrotorque.errors import ConfigError
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.exporter import ExporterOptions, RtorrentExporter
from pyrotorque.jobs.exporter.auth import BasicAuth, PasswordHash, check_hash, make_hash
from pyrotorque.jobs.exporter.http_server import MetricsServer, ServerLimits, serve_in_thread
from tests.support.fake_rtorrent import FakeRtorrent

PATIENCE = 30.0
LOG = logging.getLogger("pyrotorque.job.exporter")
#: Few iterations: the tests check the scheme, not its cost.
FAST = 1000


class CountingRenderer:
    """Stands in for a scrape: counts how often metrics were asked for."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, accept: str) -> tuple[bytes, str]:
        with self.lock:
            self.calls += 1
        return b"rtorrent_up 1\n" * 100, "text/plain; version=0.0.4; charset=utf-8"


Serve = Callable[..., tuple[MetricsServer, CountingRenderer]]


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[MetricsServer] = []

    def start(
        auth: BasicAuth | None = None, max_connections: int = 10, read_timeout: float = 5.0
    ) -> tuple[MetricsServer, CountingRenderer]:
        render = CountingRenderer()
        limits = ServerLimits(max_connections=max_connections, read_timeout=read_timeout)
        server = MetricsServer(("127.0.0.1", 0), render, LOG, limits=limits, auth=auth)
        serve_in_thread(server, "test-metrics")
        servers.append(server)
        return server, render

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def get(
    server: MetricsServer, path: str = "/metrics", headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=PATIENCE) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    pause = threading.Event()
    for _ in range(int(PATIENCE / 0.01)):
        if condition():
            return
        pause.wait(0.01)
    raise AssertionError(f"never happened: {what}")


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def connect(server: MetricsServer, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.server_port), timeout=PATIENCE)
    sock.sendall(data)
    return sock


# --- serving ---------------------------------------------------------------------------------


def test_metrics_paths_are_served_and_others_are_404_without_a_scrape(serve: Serve) -> None:
    server, render = serve()
    assert get(server)[0] == 200 and get(server, "/")[0] == 200
    assert render.calls == 2
    assert get(server, "/favicon.ico")[0] == 404
    assert render.calls == 2


def test_gzip_when_asked(serve: Serve) -> None:
    server, _ = serve()
    status, body = get(server, headers={"Accept-Encoding": "gzip"})
    assert status == 200 and gzip.decompress(body) == b"rtorrent_up 1\n" * 100


def test_half_sent_requests_hold_at_most_max_connections_threads_and_cost_no_scrape(
    serve: Serve,
) -> None:
    server, render = serve(max_connections=4, read_timeout=PATIENCE)
    base = threading.active_count()
    sockets = [connect(server, b"GET /metr") for _ in range(30)]
    try:
        wait_until(lambda: server.active == 4, "four requests are being read")
        assert threading.active_count() <= base + 4
    finally:
        for sock in sockets:
            sock.close()
    # Each cut-short request line meets the end of the stream: dropped, and the next one gets the slot.
    wait_until(lambda: server.active == 0 and threading.active_count() <= base, "all of them are dropped")
    assert render.calls == 0
    assert get(server)[0] == 200 and render.calls == 1


def test_headers_cut_short_by_the_client_cost_no_scrape(serve: Serve) -> None:
    server, render = serve()
    with connect(server, b"GET /metrics HTTP/1.1\r\nHost: x\r\n") as sock:
        sock.shutdown(socket.SHUT_WR)  # gone before the blank line that ends the headers
        assert sock.recv(100) == b""  # closed unanswered
    assert render.calls == 0


def test_a_slow_sender_is_cut_off_after_the_read_timeout(serve: Serve) -> None:
    server, render = serve(read_timeout=0.2)
    with connect(server, b"GET /metrics HTTP/1.1\r\n") as sock:
        assert sock.recv(100) == b""  # the server closed it; the socket's own timeout is PATIENCE
    assert render.calls == 0
    wait_until(lambda: server.active == 0, "the slot is free again")


# --- basic auth ------------------------------------------------------------------------------


def test_auth_right_wrong_and_missing(serve: Serve) -> None:
    server, render = serve(auth=BasicAuth("prom", make_hash("s3cret pw", iterations=FAST)))
    for headers in ({}, basic("prom", "wrong"), basic("other", "s3cret pw"), {"Authorization": "Bearer x"}):
        request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/metrics", headers=headers)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=PATIENCE)
        assert caught.value.code == 401
        assert caught.value.headers["WWW-Authenticate"] == 'Basic realm="pyrotorque", charset="UTF-8"'
    assert render.calls == 0
    assert get(server, headers=basic("prom", "s3cret pw"))[0] == 200
    assert get(server, headers=basic("prom", "s3cret pw"))[0] == 200  # the remembered header
    assert render.calls == 2


def test_hash_round_trip_and_its_form() -> None:
    text = make_hash("pässword", iterations=FAST)
    scheme, iterations, salt, derived = text.split("$")
    assert (scheme, iterations) == ("pbkdf2_sha256", str(FAST)) and salt and derived
    parsed = PasswordHash.parse(text)
    assert parsed.matches("pässword".encode()) and not parsed.matches(b"password")
    assert make_hash("x", iterations=FAST) != make_hash("x", iterations=FAST)  # a fresh salt each time


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("s3cret", "not a password hash"),
        ("bcrypt$12$abc$def", "not a password hash"),
        ("pbkdf2_sha256$many$AAAA$AAAA", "damaged"),
        ("pbkdf2_sha256$1000$AAAA$AAAA", "damaged"),  # a hash of the wrong length
        ("pbkdf2_sha256$0$AAAA$" + "A" * 43, "damaged"),
    ],
)
def test_bad_hashes_are_named(text: str, complaint: str) -> None:
    problem = check_hash(text)
    assert problem is not None and complaint in problem and "--hash-password" in problem


def test_a_user_and_password_with_colons_and_odd_headers() -> None:
    auth = BasicAuth("prom", make_hash("a:b", iterations=FAST))
    assert auth.allows(basic("prom", "a:b")["Authorization"])
    for header in (None, "", "Basic", "Basic !!!", "Basic " + base64.b64encode(b"prom").decode()):
        assert not auth.allows(header)


# --- the keys --------------------------------------------------------------------------------


def job_config(**params: str) -> JobConfig:
    return JobConfig(
        name="exporter",
        handler=Setting("pyrotorque.jobs.exporter:RtorrentExporter", "/cfg/torque.ini", 1),
        schedule=Setting("hour=*", "/cfg/torque.ini", 2),
        params={
            key: Setting(value, "/cfg/torque.ini", 10 + n) for n, (key, value) in enumerate(params.items())
        },
    )


def test_the_new_keys_and_their_defaults() -> None:
    options = build_options(ExporterOptions, job_config())
    assert (options.scrape_timeout, options.scrape_cache) == (5.0, 1.0)
    assert (options.max_connections, options.read_timeout) == (10, 5.0)
    assert (options.tls_cert, options.tls_key, options.auth_user, options.auth_password_hash) == ("",) * 4
    hashed = make_hash("pw", iterations=FAST)
    options = build_options(
        ExporterOptions, job_config(scrape_timeout="2.5", auth_user="prom", auth_password_hash=hashed)
    )
    assert (options.scrape_timeout, options.auth_user, options.auth_password_hash) == (2.5, "prom", hashed)


@pytest.mark.parametrize(
    ("params", "key", "complaint"),
    [
        ({"auth_user": "prom", "auth_password_hash": "plain"}, "job.exporter.auth_password_hash", "not a"),
        ({"auth_user": "a:b", "auth_password_hash": "x"}, "job.exporter.auth_user", "cannot contain"),
        ({"auth_user": "prom"}, "job.exporter.handler", "set both or neither"),
        ({"tls_key": "/k.pem"}, "job.exporter.handler", "tls_key needs tls_cert"),
        ({"scrape_timeout": "0"}, "job.exporter.scrape_timeout", "at least"),
        ({"max_connections": "0"}, "job.exporter.max_connections", "at least 1"),
    ],
)
def test_bad_keys_are_config_errors(params: dict[str, str], key: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint) as caught:
        build_options(ExporterOptions, job_config(**params))
    assert caught.value.key == key


def test_a_missing_certificate_stops_the_start_naming_tls_cert(tmp_path: Path) -> None:
    context = JobContext(name="exporter", client=FakeRtorrent().client(), config=Config(config_dir=tmp_path))
    job = RtorrentExporter(context, ExporterOptions(port=0, tls_cert="missing.pem"))
    with pytest.raises(ConfigError, match=r"cannot use tls_cert .*missing\.pem") as caught:
        job.start()
    assert caught.value.key == "job.exporter.tls_cert"
    assert job.port is None


# --- pyrotorque --hash-password --------------------------------------------------------------


def test_hash_password_reads_stdin_and_prints_a_usable_hash(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse\n"))
    assert cli.main(["--hash-password"]) == 0
    printed = capsys.readouterr().out.strip()
    assert check_hash(printed) is None
    assert PasswordHash.parse(printed).matches(b"correct horse")


def test_hash_password_refuses_an_empty_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert cli.main(["--hash-password"]) == 2
    assert "empty password" in capsys.readouterr().err
