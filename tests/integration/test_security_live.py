"""Security defaults against real parts: TLS checks over a real HTTPS front, the exporter's bind."""

from __future__ import annotations

import logging
import os
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.http_front import HttpFront, make_certificate
from sandbox.rtorrent import RtorrentSandbox, free_port

from pyrotorque.config import load_config
from pyrotorque.config.jobs import job_configs
from pyrotorque.config.options import build_options
from pyrotorque.errors import TransportError
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.exporter import ExporterOptions, RtorrentExporter
from pyrotorque.rtorrent.client import RtorrentClient
from tests.integration.test_daemon_cli import PYROTORQUE, Daemonland
from tests.support.polling import wait_for


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def front(rtorrent: RtorrentSandbox, certificate: tuple[Path, Path]) -> Iterator[HttpFront]:
    with HttpFront(rtorrent.socket_path, certificate=certificate, credentials=("alice", "s:cret")) as started:
        yield started


def test_https_refuses_a_certificate_it_cannot_verify(front: HttpFront) -> None:
    client = RtorrentClient(f"https://alice:s%3Acret@localhost:{front.port}/RPC2", timeout=10)

    with pytest.raises(TransportError) as caught:
        client.call("system.client_version", "")

    message = str(caught.value)
    assert "certificate verify failed" in message
    assert "s:cret" not in message and "s%3Acret" not in message  # the URL in the error is masked
    assert front.requests == 0  # refused during the handshake: nothing was sent, no password either


def test_https_with_verify_no_reaches_rtorrent_and_sends_the_credentials(
    front: HttpFront, rtorrent: RtorrentSandbox
) -> None:
    client = RtorrentClient(f"https://alice:s%3Acret@localhost:{front.port}/RPC2?verify=no", timeout=10)

    assert client.call("system.client_version", "") == rtorrent.version
    assert front.authorizations[-1] is not None and front.authorizations[-1].startswith("Basic ")


def test_https_with_a_wrong_password_is_a_clear_error_without_the_password(front: HttpFront) -> None:
    client = RtorrentClient(f"https://alice:wrong-pw@localhost:{front.port}/RPC2?verify=no", timeout=10)

    with pytest.raises(TransportError) as caught:
        client.call("system.client_version", "")

    assert "401" in str(caught.value)
    assert "wrong-pw" not in str(caught.value)


def test_the_exporter_listens_on_loopback_only_by_default(tmp_path: Path) -> None:
    (tmp_path / "torque.ini").write_text(
        f"[TORQUE]\njob.exporter.active = yes\njob.exporter.port = {free_port()}\n", encoding="utf-8"
    )
    config = load_config(tmp_path)
    (exporter_config,) = [job for job in job_configs(config) if job.name == "exporter"]
    options = build_options(ExporterOptions, exporter_config)
    context = JobContext(
        name="exporter",
        client=RtorrentClient("scgi:///nonexistent/rpc.socket"),
        config=config,
        log=logging.getLogger("pyrotorque.job.exporter"),
    )
    job = RtorrentExporter(context, options)
    job.start()
    try:
        assert job._server is not None
        host, port = job._server.socket.getsockname()[:2]
        assert host == "127.0.0.1"
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # answers on loopback
    finally:
        job.stop()


def test_files_the_daemon_creates_are_not_writable_by_others_even_with_umask_0(
    tmp_path: Path, rtorrent: RtorrentSandbox
) -> None:
    land = Daemonland(tmp_path, rtorrent.url)
    watch = tmp_path / "watch"
    watch.mkdir()
    land.write(schedule="second=*", extra=f"job.treewatch.active = yes\njob.treewatch.path = {watch}\n")
    land.guard.touch()
    started = subprocess.run(
        PYROTORQUE,
        env=land.environment(),
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=lambda: os.umask(0),  # as a careless cron line or service manager may hand it on
        check=False,
    )
    assert started.returncode == 0, started.stderr
    try:
        state = land.dir / "run" / "treewatch-treewatch.state"
        wait_for(lambda: state.exists() and land.log.exists(), "the state file and the log")
        created = [land.pid_file, land.log, land.log.parent, state, state.with_name(state.name + ".bak")]
        modes = {str(path): stat.filemode(path.stat().st_mode) for path in created}
        assert all(path.stat().st_mode & 0o022 == 0 for path in created), modes
    finally:
        land.run("--stop")
