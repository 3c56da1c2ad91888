"""The exporter's limits against a real rTorrent: the scrape deadline with rTorrent frozen, one
collection for twenty scrapes, half-sent requests, and TLS with basic auth."""

from __future__ import annotations

import base64
import http.client
import logging
import socket
import ssl
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sandbox.rtorrent import RtorrentSandbox

from pyrotorque.jobs.exporter import RtorrentExporter
from pyrotorque.jobs.exporter.auth import make_hash
from tests.integration.test_exporter_live import start

LOGGER = "pyrotorque.job.exporter"
#: The HTTP client's timeout: a generous bound for "it answered", well below the RPC timeout (30 s).
CLIENT_TIMEOUT = 20.0
ALL_GROUPS = ("system", "tracker", "item")


def fetch(url: str, *, headers: dict[str, str] | None = None, context: ssl.SSLContext | None = None) -> str:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=CLIENT_TIMEOUT, context=context) as response:
        assert response.status == 200
        return str(response.read().decode())


def scrape(job: RtorrentExporter) -> dict[str, Any]:
    text = fetch(f"http://127.0.0.1:{job.port}/metrics")
    return {family.name: family for family in text_string_to_metric_families(text)}


def up(families: dict[str, Any]) -> float:
    (sample,) = families["rtorrent_up"].samples
    return float(sample.value)


def main_size(families: dict[str, Any]) -> float:
    return float({s.labels["view"]: s.value for s in families["rtorrent_view_size"].samples}["main"])


def wait_until(condition: Callable[[], bool], what: str, patience: float = 60.0) -> None:
    pause = threading.Event()
    for _ in range(int(patience / 0.02)):
        if condition():
            return
        pause.wait(0.02)
    raise AssertionError(f"never happened: {what}")


def test_a_frozen_rtorrent_gets_up_0_in_time_and_real_values_after_thaw(
    rt: RtorrentSandbox, exporters: list[RtorrentExporter], caplog: pytest.LogCaptureFixture
) -> None:
    rt.load_items(2, prefix="fz", seed=21)
    job = start(exporters, rt.url, jobs=ALL_GROUPS, scrape_timeout=2.0)
    assert job.collector is not None
    flight = job.collector.flight
    assert up(scrape(job)) == 1
    rt.freeze()
    try:
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            frozen = scrape(job)  # answered (within CLIENT_TIMEOUT), not a hang for the RPC timeout
        rtorrent = {name for name in frozen if not name.startswith("pyrotorque_")}
        assert rtorrent == {"rtorrent_up", "rtorrent_scrape_duration_seconds"}
        assert "pyrotorque_rtorrent_requests" in frozen  # the daemon's own metrics need no rTorrent
        assert up(frozen) == 0
        assert any("scrape timeout of 2 s" in record.getMessage() for record in caplog.records)
        collections = flight.collections
        assert up(scrape(job)) == 0
        assert flight.collections == collections  # no second collection beside the stuck one
    finally:
        rt.thaw()
    wait_until(lambda: not flight.busy, "the collection sent while frozen gets its answer")
    thawed = scrape(job)
    assert up(thawed) == 1 and main_size(thawed) == 2


def test_twenty_concurrent_scrapes_cost_one_collection(
    rt: RtorrentSandbox, exporters: list[RtorrentExporter]
) -> None:
    """rTorrent is frozen while the scrapes arrive, so all twenty overlap for certain; no result cache."""
    rt.load_items(3, prefix="cc", seed=22)
    job = start(exporters, rt.url, jobs=ALL_GROUPS, scrape_timeout=CLIENT_TIMEOUT - 5, max_connections=25)
    assert job.collector is not None
    flight, stats = job.collector.flight, job.context.client.stats
    scrape(job)  # detection and the first view list
    before = stats.requests
    scrape(job)
    one_collection = stats.requests - before
    assert one_collection == len(ALL_GROUPS)  # one request per group

    answers: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda: answers.append(scrape(job))) for _ in range(20)]
    before = stats.requests
    rt.freeze()
    try:
        for thread in threads:
            thread.start()
        wait_until(lambda: flight.waiting == 20, "twenty scrapes wait for one collection")
    finally:
        rt.thaw()
    for thread in threads:
        thread.join(CLIENT_TIMEOUT)
    assert len(answers) == 20
    assert all(up(families) == 1 and main_size(families) == 3 for families in answers)
    assert stats.requests - before == one_collection


def test_half_sent_requests_hold_bounded_threads_and_cost_no_collection(
    rt: RtorrentSandbox, exporters: list[RtorrentExporter]
) -> None:
    job = start(exporters, rt.url, max_connections=10, read_timeout=CLIENT_TIMEOUT)
    server = job.server
    assert server is not None
    assert up(scrape(job)) == 1
    stats = job.context.client.stats
    before, threads_before = stats.requests, threading.active_count()
    sockets = []
    try:
        for _ in range(100):
            sock = socket.create_connection(("127.0.0.1", server.server_port), timeout=CLIENT_TIMEOUT)
            sock.sendall(b"GET /metr")
            sockets.append(sock)
        wait_until(lambda: server.active == 10, "ten requests are being read")
        assert threading.active_count() <= threads_before + 10
        assert stats.requests == before
    finally:
        for sock in sockets:
            sock.close()
    wait_until(
        lambda: server.active == 0 and threading.active_count() <= threads_before,
        "every cut-short request is dropped and its thread ended",
    )
    assert stats.requests == before  # none of them ran a collection
    assert up(scrape(job)) == 1


def self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_tls_and_basic_auth(
    rt: RtorrentSandbox,
    exporters: list[RtorrentExporter],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    cert, key = self_signed(tmp_path)
    hashed = make_hash("scrape me", iterations=50_000)
    job = start(
        exporters, rt.url, tls_cert=str(cert), tls_key=str(key), auth_user="prom", auth_password_hash=hashed
    )
    server = job.server
    assert server is not None
    url = f"https://127.0.0.1:{job.port}/metrics"
    trusting = ssl.create_default_context(cafile=str(cert))

    def credentials(user: str, password: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    text = fetch(url, headers=credentials("prom", "scrape me"), context=trusting)
    assert "rtorrent_up 1.0" in text
    for headers in ({}, credentials("prom", "wrong"), credentials("root", "scrape me")):
        with pytest.raises(urllib.error.HTTPError) as caught:
            fetch(url, headers=headers, context=trusting)
        assert caught.value.code == 401 and caught.value.headers["WWW-Authenticate"].startswith("Basic ")
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch(url, headers=credentials("prom", "scrape me"))  # a client that does not trust it refuses

    threads_before = threading.active_count()
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        for _ in range(5):
            with pytest.raises((OSError, http.client.HTTPException)):
                fetch(f"http://127.0.0.1:{job.port}/metrics")  # plain HTTP to the TLS port
        wait_until(
            lambda: server.active == 0 and threading.active_count() <= threads_before,
            "the plain HTTP connections are closed and their threads ended",
        )
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert any("Request from" in record.getMessage() for record in caplog.records)  # at DEBUG
    assert "Traceback" not in capfd.readouterr().err
    assert "rtorrent_up 1.0" in fetch(url, headers=credentials("prom", "scrape me"), context=trusting)
