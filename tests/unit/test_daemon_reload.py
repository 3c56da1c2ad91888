"""SIGHUP reload: a new configuration whose jobs fail to start must not end the daemon."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from apscheduler.triggers.cron import CronTrigger

from pyrotorque.config import Config
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
    options: dict[str, Any] = {"job_defaults": {"max_instances": 1}}
    return Plan(
        config=cast(Config, None),
        url="scgi:///nonexistent/rpc.socket",
        client=client,
        jobs=[planned],
        waker=Waker(),
        scheduler_options=options,
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
