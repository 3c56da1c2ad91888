"""What to run: the command line's ``Settings``, and the ``Plan`` built from the configuration.

``build_plan`` loads the configuration, reads its ``GlobalSettings`` once, resolves the rTorrent URL,
parses every schedule and builds every active job (handler import, typed options, conditions), without
I/O towards rTorrent and without starting anything; any error is raised here, before the daemon detaches.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from pyrotorque.config import Config, GlobalSettings, JobConfig, job_configs, load_config

# Re-exported: the command line's Settings live in a module the control commands can import cheaply.
from pyrotorque.daemon.settings import GUARD_FILE_NAME as GUARD_FILE_NAME
from pyrotorque.daemon.settings import LOG_DIR_NAME as LOG_DIR_NAME
from pyrotorque.daemon.settings import PID_FILE_NAME as PID_FILE_NAME
from pyrotorque.daemon.settings import Settings as Settings
from pyrotorque.errors import ConfigError
from pyrotorque.figures import PROCESS_FIGURES
from pyrotorque.jobs.base import Job, JobContext
from pyrotorque.jobs.loader import build_job
from pyrotorque.jobs.runner import TickRunner
from pyrotorque.rtorrent.client import RtorrentClient
from pyrotorque.rtorrent.discovery import resolve_url
from pyrotorque.rtorrent.url import masked_url
from pyrotorque.scheduler import parse_schedule


class Waker:
    """``JobContext.wake`` and ``wake_kind``: asks the scheduler to run other jobs' ticks now."""

    def __init__(self) -> None:
        self.scheduler: BackgroundScheduler | None = None
        #: The running jobs' tick wrappers, so a wake during a tick becomes a run right after it.
        self.runners: dict[str, TickRunner] = {}
        #: Job name -> ``Job.kind`` of every planned job.
        self.kinds: dict[str, str] = {}

    def wake_kind(self, kind: str) -> None:
        """Wake every running job of ``kind`` (all share the one rTorrent connection)."""
        for name, job_kind in self.kinds.items():
            if job_kind == kind and name in self.runners:
                self(name)

    def __call__(self, job_name: str) -> None:
        """Move ``job_name``'s next run to now; a no-op outside a running daemon."""
        scheduler = self.scheduler
        if scheduler is None:
            return
        runner = self.runners.get(job_name)
        if runner is not None and runner.defer_wake():
            return
        with contextlib.suppress(Exception):  # the job may be gone after a reload
            scheduler.modify_job(job_name, next_run_time=datetime.now(scheduler.timezone))


@dataclass
class PlannedJob:
    """One active job, built and validated, with its trigger."""

    name: str
    handler: str
    schedule: str
    trigger: Any
    job: Job
    #: Builds a fresh, unstarted instance of the same job (used to go back after a failed reload).
    factory: Callable[[], Job]


@dataclass
class Plan:
    """A validated configuration: the client and every job to run, built but not started."""

    config: Config
    url: str
    client: RtorrentClient
    jobs: list[PlannedJob]
    waker: Waker
    #: ``[GLOBAL]`` and the daemon-wide ``[TORQUE]`` keys, read once; the jobs' contexts hold the same.
    settings: GlobalSettings = field(default_factory=GlobalSettings)

    @property
    def shown_url(self) -> str:
        """The rTorrent URL for log lines and output: a password in it is masked."""
        return masked_url(self.url)

    def scheduler_options(self) -> dict[str, Any]:
        """Fresh keyword arguments for this plan's scheduler (APScheduler consumes the ones it gets)."""
        return self.settings.scheduler.options()


@dataclass(frozen=True)
class Connection:
    """The loaded configuration, its settings, and a client (no I/O yet) for the rTorrent it names."""

    config: Config
    settings: GlobalSettings
    url: str
    client: RtorrentClient


def load_and_connect(settings: Settings) -> Connection:
    """Load the configuration, read its settings once and make the client for the rTorrent it names."""
    config = load_config(settings.config_dir, settings.extra_files, settings.defines, settings.environ)
    global_settings = GlobalSettings.from_config(config)
    url = resolve_url(settings.url, settings.environ, global_settings.scgi_url, global_settings.rtorrent_rc)
    client = RtorrentClient(url, timeout=global_settings.rpc_timeout)
    return Connection(config=config, settings=global_settings, url=url, client=client)


def build_plan(settings: Settings, *, only_job: str | None = None) -> Plan:
    """Load and validate everything; ``only_job`` builds that one job even if it is inactive."""
    connection = load_and_connect(settings)
    waker = Waker()
    selected = _selected_jobs(job_configs(connection.config, dry_run=settings.dry_run), only_job)
    planned = [_planned_job(job_config, connection, waker) for job_config in selected]
    return Plan(
        config=connection.config,
        url=connection.url,
        client=connection.client,
        jobs=planned,
        waker=waker,
        settings=connection.settings,
    )


def _selected_jobs(configured: list[JobConfig], only_job: str | None) -> list[JobConfig]:
    """The active jobs, or just ``only_job`` (active or not); ConfigError if there is no such job."""
    if only_job is None:
        return [job for job in configured if job.active]
    selected = [job for job in configured if job.name == only_job]
    if not selected:
        names = ", ".join(sorted(job.name for job in configured)) or "none"
        raise ConfigError(f"no job named {only_job!r} is configured (jobs: {names})")
    return selected


def _planned_job(job_config: JobConfig, connection: Connection, waker: Waker) -> PlannedJob:
    """Parse the job's schedule and build the job with its own logger and context."""
    trigger = parse_schedule(
        job_config.schedule, job_config.key("schedule"), timezone=connection.settings.scheduler.timezone
    )
    job_log = logging.getLogger(f"pyrotorque.job.{job_config.name}")
    if job_config.log_level is not None:
        job_log.setLevel(job_config.log_level)
    context = JobContext(
        name=job_config.name,
        client=connection.client,
        config=connection.config,
        dry_run=job_config.dry_run,
        log=job_log,
        wake=waker,
        wake_kind=waker.wake_kind,
        settings=connection.settings,
        figures=PROCESS_FIGURES,
    )
    factory = functools.partial(build_job, job_config, context)
    job = factory()
    waker.kinds[job_config.name] = job.kind
    return PlannedJob(
        name=job_config.name,
        handler=str(job_config.handler.value),
        schedule=str(job_config.schedule.value),
        trigger=trigger,
        job=job,
        factory=factory,
    )
