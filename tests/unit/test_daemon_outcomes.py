"""How a start ends: the daemon reports a StartResult, and only the CLI turns it into a code and text."""

from __future__ import annotations

import os
from pathlib import Path
from typing import cast

import pytest
from apscheduler.triggers.cron import CronTrigger

from pyrotorque import cli
from pyrotorque.config import Config
from pyrotorque.daemon import Daemon, Plan, PlannedJob, ReadyPipe, Settings, StartOutcome, StartResult, Waker
from pyrotorque.daemon.detach import launch_result
from pyrotorque.exitcodes import EXIT_OK, EXIT_SOFTWARE
from pyrotorque.jobs.base import Job, JobContext, NoOptions
from pyrotorque.pidfile import PidFile
from pyrotorque.rtorrent.client import RtorrentClient


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        ("ready 4242", StartResult(StartOutcome.DAEMON_READY, pid=4242)),
        ("failed port 9 in use", StartResult(StartOutcome.DAEMON_FAILED, message="port 9 in use")),
        ("failed", StartResult(StartOutcome.DAEMON_FAILED, message="")),
        ("", StartResult(StartOutcome.DAEMON_LOST)),
        ("something else", StartResult(StartOutcome.DAEMON_FAILED, message="something else")),
    ],
)
def test_the_launcher_reads_the_daemons_report(report: str, expected: StartResult) -> None:
    assert launch_result(report) == expected


def _through_a_pipe(send: str, message: str = "") -> StartResult:
    read_fd, write_fd = os.pipe()
    pipe = ReadyPipe(write_fd)
    if send == "ready":
        pipe.ready()
    else:
        pipe.failed(message)
    pipe.failed("a second report is ignored")
    with os.fdopen(read_fd, "rb") as reader:
        return launch_result(reader.read().decode().strip())


def test_a_report_travels_through_the_pipe() -> None:
    assert _through_a_pipe("ready") == StartResult(StartOutcome.DAEMON_READY, pid=os.getpid())
    failed = _through_a_pipe("failed", "cannot listen\non port 9")
    assert failed == StartResult(StartOutcome.DAEMON_FAILED, message="cannot listen on port 9")


class FailingJob(Job):
    def start(self) -> None:
        raise OSError("port 9 in use")

    def run(self) -> None:
        raise AssertionError("never scheduled")


def test_serve_reports_jobs_that_fail_to_start(tmp_path: Path) -> None:
    client = RtorrentClient("scgi:///nonexistent/rpc.socket")
    job = FailingJob(JobContext(name="failing", client=client, config=cast(Config, None)), NoOptions())
    planned = PlannedJob("failing", "tests:FailingJob", "hour=*", CronTrigger(hour="*"), job, lambda: job)
    plan = Plan(
        config=cast(Config, None),
        url="scgi:///nonexistent/rpc.socket",
        client=client,
        jobs=[planned],
        waker=Waker(),
    )
    pid_file = PidFile(tmp_path / "run" / "pyrotorque.pid")
    pid_file.acquire()
    daemon = Daemon(Settings(config_dir=tmp_path, foreground=True, environ={}), plan, pid_file)
    assert daemon.serve(ready=None) == StartResult(
        StartOutcome.JOBS_FAILED, message="job failing cannot start: port 9 in use"
    )
    assert not pid_file.path.exists()


@pytest.mark.parametrize(
    ("result", "code", "stderr"),
    [
        (StartResult(StartOutcome.STOPPED), EXIT_OK, ""),
        (StartResult(StartOutcome.DAEMON_READY, pid=7), EXIT_OK, ""),
        (StartResult(StartOutcome.JOBS_FAILED, message="logged already"), EXIT_SOFTWARE, ""),
        (
            StartResult(StartOutcome.DAEMON_FAILED, message="port 9 in use"),
            EXIT_SOFTWARE,
            "pyrotorque: starting the jobs failed: port 9 in use\n",
        ),
        (
            StartResult(StartOutcome.DAEMON_LOST),
            EXIT_SOFTWARE,
            "pyrotorque: the daemon died while starting, see its log\n",
        ),
    ],
)
def test_the_cli_maps_each_outcome_to_its_exit_code_and_text(
    result: StartResult, code: int, stderr: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli._started(result) == code
    assert capsys.readouterr() == ("", stderr)
