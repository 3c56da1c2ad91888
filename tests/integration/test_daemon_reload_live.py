"""A reload never ends the daemon, and errors say where: the real daemon as a subprocess, with SIGHUP.

Each case was a dead daemon or a traceback once: going back after a failed start died because the old
plan's scheduler options were used up; values Python chokes on (a watch path over 255 characters, an
integer of more than 4,300 digits) escaped as foreign exceptions; a torque.ini that is a directory
passed ``--check`` and made a reload drop every job but connstats; a password in the URL was logged.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.http_front import HttpFront
from sandbox.rtorrent import RtorrentSandbox, free_port

from tests.integration.test_daemon_cli import Daemonland, alive
from tests.integration.test_daemon_lifecycle import land_with_user_jobs
from tests.support.polling import wait_for

TOO_MANY_DIGITS = "7" * (sys.get_int_max_str_digits() + 1)
TOO_LONG_PATH = "/tmp/" + "w" * 300


@pytest.fixture
def land(tmp_path: Path, rtorrent: RtorrentSandbox) -> Iterator[Daemonland]:
    yield from land_with_user_jobs(tmp_path, rtorrent)


def start(land: Daemonland) -> int:
    land.guard.touch()
    started = land.run()
    assert started.code == 0, started.err
    pid = land.pid()
    wait_for(lambda: "pyrotorque started as process" in land.log_text(), "the start line")
    return pid


def reload(land: Daemonland, pid: int, marker: str) -> str:
    """Send SIGHUP, wait for ``marker`` after it in the log; the log text since the signal."""
    before = len(land.log_text())
    os.kill(pid, signal.SIGHUP)
    wait_for(lambda: marker in land.log_text()[before:], marker)
    return land.log_text()[before:]


def metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        return str(answer.read().decode())


def test_a_reload_whose_job_cannot_start_goes_back_and_the_daemon_lives_on(land: Daemonland) -> None:
    old_port = free_port()
    exporter = "job.exporter.active = yes\njob.exporter.port = {}\n"
    land.write(schedule="second=*", extra=exporter.format(old_port))
    pid = start(land)
    wait_for(lambda: f":{old_port}/metrics" in land.log_text(), "the metrics server")
    assert "rtorrent_up 1.0" in metrics(old_port)

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        land.write(schedule="second=*", extra=exporter.format(taken.getsockname()[1]))
        text = reload(land, pid, "going back to the running configuration")
        wait_for(
            lambda: "Job connstats scheduled" in land.log_text().split("going back", 1)[1], "the old jobs"
        )
    assert "job.exporter.port: cannot listen on" in text
    assert "Cannot create executor" not in land.log_text()
    after = land.log_text().split("going back", 1)[1]
    assert f"Serving metrics (system) on http://127.0.0.1:{old_port}/metrics" in after
    assert "rtorrent_up 1.0" in metrics(old_port)
    wait_for(lambda: "Stats for" in land.log_text().split("going back", 1)[1], "a tick after going back")
    assert alive(pid) and land.run("--status").code == 0


@pytest.mark.parametrize(
    ("extra", "key", "reason"),
    [
        (
            f"job.treewatch.active = yes\njob.treewatch.path = {TOO_LONG_PATH}\n",
            "job.treewatch.path",
            "too long",
        ),
        (
            f"job.queue.active = yes\njob.queue.downloading_max = {TOO_MANY_DIGITS}\n",
            "job.queue.downloading_max",
            "digits",
        ),
        (f"apscheduler.max_instances = {TOO_MANY_DIGITS}\n", "apscheduler.max_instances", "digits"),
    ],
)
def test_values_python_chokes_on_are_config_errors_in_check_and_reload(
    land: Daemonland, extra: str, key: str, reason: str
) -> None:
    pid = start(land)
    land.write(schedule="second=*", extra=extra)
    torque_ini = land.dir / "torque.ini"
    line = next(
        number for number, text in enumerate(torque_ini.read_text().splitlines(), 1) if text.startswith(key)
    )

    checked = land.run("--check")
    assert checked.code == 78, checked.err
    assert checked.err.startswith(f"pyrotorque: configuration error: {key}: ")
    assert reason in checked.err and f"({torque_ini} line {line})" in checked.err
    assert "Traceback" not in checked.err

    text = reload(land, pid, "Reload failed, keeping the running configuration")
    assert f"{key}: " in text and f"{torque_ini} line {line}" in text
    assert "Traceback" not in text
    land.write(schedule="second=*/2")
    assert "Job connstats scheduled: second=*/2" in reload(land, pid, "Configuration reloaded")
    assert alive(pid)


def test_a_reload_that_hits_a_bug_keeps_the_running_configuration(land: Daemonland) -> None:
    touchy = "job.touchy.handler = audit_jobs:Touchy\njob.touchy.schedule = hour=*\njob.touchy.mood = {}\n"
    land.write(schedule="second=*", extra=touchy.format("calm"))
    pid = start(land)
    land.write(schedule="second=*/2", extra=touchy.format("explode"))
    text = reload(land, pid, "RuntimeError: bug in the option check")
    assert "Reload failed, keeping the running configuration" in text and "Traceback" in text
    assert "Configuration reloaded" not in text
    wait_for(lambda: "Stats for" in land.log_text().split("bug in the option check", 1)[1], "a tick after it")
    assert alive(pid) and land.run("--status").code == 0


def test_a_torque_ini_that_is_a_directory_is_an_error_everywhere(land: Daemonland) -> None:
    land.write(schedule="second=*", extra="job.exporter.active = yes\njob.exporter.port = 0\n")
    pid = start(land)
    torque_ini = land.dir / "torque.ini"
    moved = land.dir / "torque.ini.good"
    torque_ini.rename(moved)
    torque_ini.mkdir()

    text = reload(land, pid, "Reload failed, keeping the running configuration")
    assert f"configuration file is a directory ({torque_ini})" in text
    assert "Metrics server" not in text  # nothing was stopped
    assert alive(pid)
    for command in (["--check"], ["--run-once", "connstats"]):
        failed = land.run(*command)
        assert failed.code == 78, command
        assert (
            failed.err.strip()
            == f"pyrotorque: configuration error: configuration file is a directory ({torque_ini})"
        )

    land.run("--stop")
    refused = land.run()
    assert refused.code == 78 and str(torque_ini) in refused.err
    assert not land.pid_file.exists()


def test_a_password_in_the_url_is_masked_in_output_and_log(
    land: Daemonland, rtorrent: RtorrentSandbox
) -> None:
    with HttpFront(rtorrent.socket_path, credentials=("alice", "s3cret")) as front:
        port = front.port
        land.url = f"http://alice:s3cret@127.0.0.1:{port}/RPC2"
        land.write(schedule="second=*")
        checked = land.run("--check")
        assert checked.code == 0, checked.err
        assert f"at http://alice:***@127.0.0.1:{port}/RPC2, " in checked.out
        pid = start(land)
        wait_for(lambda: "Stats for" in land.log_text(), "a tick through the gateway")
        reloaded = reload(land, pid, "Configuration reloaded")
        assert (
            f"Configuration reloaded: 1 job(s), rTorrent at http://alice:***@127.0.0.1:{port}/RPC2"
            in reloaded
        )
        land.run("--stop")
    log = land.log_text()
    assert (
        f"pyrotorque started as process #{pid} with 1 job(s), rTorrent at http://alice:***@127.0.0.1:{port}/RPC2"
        in log
    )
    assert "s3cret" not in log and "s3cret" not in checked.out + checked.err
