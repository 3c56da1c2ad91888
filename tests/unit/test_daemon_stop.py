"""Stopping the jobs: a signal waits for a running tick, the guard file's removal does not."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import cast

from apscheduler.triggers.cron import CronTrigger

from pyrotorque.config import Config
from pyrotorque.daemon import Daemon, Plan, PlannedJob, Settings, Waker
from pyrotorque.jobs.base import Job, JobContext, NoOptions
from pyrotorque.pidfile import PidFile
from pyrotorque.rtorrent.client import RtorrentClient


class BlockingJob(Job):
    """A tick that runs until the test releases it."""

    def __init__(self, context: JobContext) -> None:
        super().__init__(context, NoOptions())
        self.entered = threading.Event()
        self.release = threading.Event()
        self.journal: list[str] = []

    def run(self) -> None:
        self.entered.set()
        self.release.wait(30)
        self.journal.append("tick end")

    def stop(self) -> None:
        self.journal.append("stop")


def daemon_with(job: BlockingJob, tmp_path: Path) -> Daemon:
    planned = PlannedJob(
        name="blocking",
        handler="tests:BlockingJob",
        schedule="year=2099",
        trigger=CronTrigger(year=2099),
        job=job,
        factory=lambda: job,
    )
    plan = Plan(
        config=cast(Config, None),
        url="scgi:///nonexistent/rpc.socket",
        client=job.context.client,
        jobs=[planned],
        waker=Waker(),
    )
    settings = Settings(config_dir=tmp_path, foreground=True, environ={})
    return Daemon(settings, plan, PidFile(tmp_path / "pid"))


def started_tick(tmp_path: Path) -> tuple[Daemon, BlockingJob]:
    client = RtorrentClient("scgi:///nonexistent/rpc.socket")
    job = BlockingJob(JobContext(name="blocking", client=client, config=cast(Config, None)))
    daemon = daemon_with(job, tmp_path)
    daemon._start_jobs(daemon.plan)
    daemon.plan.waker("blocking")  # run the tick now
    assert job.entered.wait(10)
    return daemon, job


def test_stop_without_grace_waits_for_the_running_tick(tmp_path: Path) -> None:
    daemon, job = started_tick(tmp_path)
    releaser = threading.Timer(0.3, job.release.set)
    releaser.start()
    daemon._stop_jobs()
    assert job.journal == ["tick end", "stop"]
    assert daemon.abandoned == []


def test_stop_with_grace_abandons_a_tick_that_runs_on(tmp_path: Path) -> None:
    daemon, job = started_tick(tmp_path)
    try:
        daemon._stop_jobs(grace=0.1)
        assert job.journal == ["stop"]
        assert daemon.abandoned == ["blocking"]
    finally:
        job.release.set()


def test_stop_with_grace_does_not_abandon_a_tick_that_ends_in_time(tmp_path: Path) -> None:
    daemon, job = started_tick(tmp_path)
    releaser = threading.Timer(0.05, job.release.set)
    releaser.start()
    daemon._stop_jobs(grace=10)
    assert job.journal == ["tick end", "stop"]
    assert daemon.abandoned == []


def test_second_stop_signal_stops_without_waiting_for_the_tick(tmp_path: Path) -> None:
    import signal

    daemon, job = started_tick(tmp_path)
    daemon._on_signal(signal.SIGINT, None)  # the first Ctrl-C: wait for the tick
    second = threading.Timer(0.3, daemon._on_signal, (signal.SIGINT, None))
    second.start()
    try:
        daemon._stop_jobs()
        assert job.journal == ["stop"]
        assert daemon.abandoned == ["blocking"]
    finally:
        job.release.set()
        second.join()


def test_a_stop_that_hangs_past_the_bound_removes_the_pid_file_and_ends_the_process(tmp_path: Path) -> None:
    client = RtorrentClient("scgi:///nonexistent/rpc.socket")
    job = BlockingJob(JobContext(name="blocking", client=client, config=cast(Config, None)))
    exits: list[int] = []
    ended = threading.Event()

    def hard_exit(code: int) -> None:
        exits.append(code)
        ended.set()

    pid_file = PidFile(tmp_path / "pid")
    pid_file.acquire()
    daemon = daemon_with(job, tmp_path)
    daemon = Daemon(daemon.settings, daemon.plan, pid_file, hard_exit=hard_exit)
    daemon.stop_bound = 0.2
    daemon._arm_stop_bound()
    assert ended.wait(10)
    assert exits == [0]
    assert not (tmp_path / "pid").exists()
