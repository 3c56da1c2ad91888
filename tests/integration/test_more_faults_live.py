"""Faults around the daemon and the client, against real parts: daemons racing for one config dir,
rTorrent killed in the middle of a queue tick, and a socket the daemon's user may not use."""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from pathlib import Path

import pytest
from sandbox.rtorrent import RtorrentSandbox, SandboxFactory

from pyrotorque.clock import as_clock
from pyrotorque.config import Config
from pyrotorque.errors import RtorrentError, TransportError
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.queue import QueueManager, QueueOptions
from pyrotorque.rtorrent.client import RtorrentClient
from tests.integration.test_daemon_cli import PYROTORQUE, Daemonland, alive
from tests.integration.test_queue_live import Clock, load_queue, started
from tests.support.polling import wait_for

NOBODY = 65534


def test_daemons_started_at_the_same_moment_leave_exactly_one_running(
    tmp_path: Path, rtorrent: RtorrentSandbox
) -> None:
    land = Daemonland(tmp_path, rtorrent.url)
    land.guard.touch()
    starts = [
        subprocess.Popen(
            PYROTORQUE, env=land.environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(5)
    ]
    try:
        results = [(process.wait(30), *process.communicate()) for process in starts]
        codes = sorted(code for code, _, _ in results)
        assert codes == [0, 75, 75, 75, 75], results
        pid = land.pid()
        assert alive(pid)
        refusals = [err.strip() for code, _, err in results if code == 75]
        assert all(f"already running as process #{pid}" in line for line in refusals), refusals
        wait_for(lambda: "Stats for" in land.log_text(), "the one daemon's first tick")
        started_lines = [
            line for line in land.log_text().splitlines() if "pyrotorque started as process" in line
        ]
        assert len(started_lines) == 1 and f"#{pid} " in started_lines[0], started_lines
    finally:
        stopped = land.run("--stop")
    assert stopped.code == 0, stopped.err
    assert not alive(pid)


def queue_job(url: str, **options: object) -> QueueManager:
    context = JobContext(
        name="queue",
        client=RtorrentClient(url, timeout=3.0),
        config=Config(config_dir=Path("/nonexistent")),
        log=logging.getLogger("pyrotorque.job.queue"),
        clock=as_clock(Clock()),
    )
    job = QueueManager(context, QueueOptions(**options))  # type: ignore[arg-type]
    job.start()
    return job


def test_rtorrent_killed_during_a_queue_tick_gives_a_correct_count_next_time(
    rtorrent_factory: SandboxFactory,
) -> None:
    sandbox = rtorrent_factory()
    hashes = load_queue(sandbox, 6)
    job = queue_job(sandbox.url, downloading_max=2, downloading_min=0, start_at_once=2, intermission=0)
    job.run()
    assert len(started(sandbox, hashes)) == 2
    sandbox.wait_saved()

    sandbox.freeze()
    failures: list[BaseException] = []

    def tick() -> None:
        try:
            job.run()
        except RtorrentError as exc:
            failures.append(exc)

    ticking = threading.Thread(target=tick)
    ticking.start()
    # The tick's request is out and waits for the frozen rTorrent: only then is the kill "during" it.
    in_flight = job.context.client.transport._in_flight  # type: ignore[attr-defined]
    wait_for(lambda: len(in_flight) > 0, "the tick's request in flight")
    sandbox.kill()  # SIGKILL: no session save
    ticking.join(30)
    assert not ticking.is_alive()
    assert len(failures) == 1

    sandbox.start()
    for _ in range(3):  # every later tick counts what rTorrent says, not what the cut tick meant to do
        job.run()
    assert len(started(sandbox, hashes)) == 2


def test_a_socket_the_user_may_not_use_is_a_clear_error_naming_it(rtorrent: RtorrentSandbox) -> None:
    if os.geteuid() != 0:
        pytest.fail("this test switches to the nobody user and needs root")
    socket_dir = rtorrent.socket_path.parent
    assert socket_dir.stat().st_mode & 0o007 == 0, "the sandbox folder is private, as a user's should be"
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe and never returns
        try:
            os.close(read_end)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            try:
                RtorrentClient(rtorrent.url).call("system.pid", "")
                message = "no error"
            except TransportError as exc:
                message = f"TransportError: {exc}"
            except BaseException as exc:  # anything else is the failure this test looks for
                message = f"{type(exc).__name__}: {exc}"
            os.write(write_end, message.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(child, 0)
    assert message.startswith("TransportError: "), message
    assert "Permission denied" in message and str(rtorrent.socket_path) in message, message
