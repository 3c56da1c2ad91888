"""SIGHUP reload: a configuration that cannot be built or whose jobs cannot start never ends the daemon."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import cast

import pytest
from apscheduler.triggers.cron import CronTrigger

from pyrotorque.config import Config, GlobalSettings
from pyrotorque.daemon import Daemon, Plan, PlannedJob, Settings, Waker
from pyrotorque.jobs.base import Job, JobContext, NoOptions
from pyrotorque.pidfile import PidFile
from pyrotorque.rtorrent.client import RtorrentClient


class RecordingJob(Job):
    """Records its life cycle in a shared journal; refuses to start when told to."""

    def __init__(self, context: JobContext, journal: list[str], label: str, fail_start: bool) -> None:
        super().__init__(context, NoOptions())
        self.journal, self.label, self.fail_start = journal, label, fail_start

    def start(self) -> None:
        if self.fail_start:
            raise OSError(f"{self.label} cannot start")
        self.journal.append(f"start {self.label}")

    def run(self) -> None:
        self.journal.append(f"run {self.label}")

    def stop(self) -> None:
        self.journal.append(f"stop {self.label}")


def make_plan(journal: list[str], label: str, *, fail_start: bool = False) -> Plan:
    client = RtorrentClient("scgi:///nonexistent/rpc.socket")
    context = JobContext(name=label, client=client, config=cast(Config, None))

    def factory() -> Job:
        return RecordingJob(context, journal, label, fail_start)

    planned = PlannedJob(
        name=label,
        handler="tests:RecordingJob",
        schedule="hour=*",
        trigger=CronTrigger(hour="*"),
        job=factory(),
        factory=factory,
    )
    # The real settings' scheduler options: APScheduler takes the executor's type out of them, which
    # is what once made going back fail (the old plan's options were used up by its first scheduler).
    return Plan(
        config=cast(Config, None),
        url="scgi:///nonexistent/rpc.socket",
        client=client,
        jobs=[planned],
        waker=Waker(),
        settings=GlobalSettings(),
    )


def test_failed_start_after_reload_goes_back_to_the_old_jobs(tmp_path: Path) -> None:
    journal: list[str] = []
    old_plan = make_plan(journal, "old")
    settings = Settings(config_dir=tmp_path, foreground=True, environ={})
    daemon = Daemon(
        settings,
        old_plan,
        PidFile(tmp_path / "pid"),
        planner=lambda _settings: make_plan(journal, "new", fail_start=True),
    )
    daemon._start_jobs(old_plan)
    try:
        daemon._reload()
        assert journal == ["start old", "stop old", "start old"]
        assert [planned.name for planned in daemon.plan.jobs] == ["old"]
        assert daemon.plan.jobs[0].job is not old_plan.jobs[0].job  # a fresh instance was started
    finally:
        daemon._stop_jobs()
    assert journal[-1] == "stop old"


def test_successful_reload_replaces_the_jobs(tmp_path: Path) -> None:
    journal: list[str] = []
    old_plan = make_plan(journal, "old")
    settings = Settings(config_dir=tmp_path, foreground=True, environ={})
    daemon = Daemon(
        settings, old_plan, PidFile(tmp_path / "pid"), planner=lambda _s: make_plan(journal, "new")
    )
    daemon._start_jobs(old_plan)
    try:
        daemon._reload()
        assert journal == ["start old", "stop old", "start new"]
    finally:
        daemon._stop_jobs()


def test_the_plans_scheduler_options_are_fresh_each_time() -> None:
    plan = make_plan([], "old")
    first = plan.scheduler_options()
    first["executors"]["default"].pop("type")  # what APScheduler does with them
    assert plan.scheduler_options()["executors"]["default"]["type"] == "threadpool"


@pytest.mark.parametrize("error", [RuntimeError("a bug"), OSError(36, "File name too long")])
def test_a_reload_whose_plan_raises_anything_keeps_the_running_jobs(
    tmp_path: Path, error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    journal: list[str] = []
    old_plan = make_plan(journal, "old")

    def planner(_settings: Settings) -> Plan:
        raise error

    daemon = Daemon(
        Settings(config_dir=tmp_path, foreground=True, environ={}),
        old_plan,
        PidFile(tmp_path / "pid"),
        planner=planner,
    )
    daemon._start_jobs(old_plan)
    try:
        daemon._reload()
        assert journal == ["start old"]  # nothing stopped, nothing restarted
        assert daemon.plan is old_plan
        assert daemon._scheduler is not None and daemon._scheduler.running
    finally:
        daemon._stop_jobs()
    failed = [record for record in caplog.records if record.getMessage().startswith("Reload failed")]
    assert len(failed) == 1 and failed[0].exc_info is not None and failed[0].exc_info[1] is error


def test_going_back_leaves_out_an_old_job_that_cannot_start_again(tmp_path: Path) -> None:
    journal: list[str] = []
    old_plan = make_plan(journal, "old")
    other = make_plan(journal, "other").jobs[0]
    attempts: list[int] = []

    def flaky_factory() -> RecordingJob:
        attempts.append(1)
        job = RecordingJob(other.job.context, journal, "other", fail_start=len(attempts) > 1)
        return job

    old_plan.jobs.append(dataclasses.replace(other, job=flaky_factory(), factory=flaky_factory))
    daemon = Daemon(
        Settings(config_dir=tmp_path, foreground=True, environ={}),
        old_plan,
        PidFile(tmp_path / "pid"),
        planner=lambda _settings: make_plan(journal, "new", fail_start=True),
    )
    daemon._start_jobs(old_plan)
    try:
        daemon._reload()
        assert journal == ["start old", "start other", "stop other", "stop old", "start old"]
        assert [planned.name for planned in daemon._started] == ["old"]
        assert daemon._scheduler is not None and daemon._scheduler.running
    finally:
        daemon._stop_jobs()
