"""What to run: the command line's ``Settings``, and the ``Plan`` built from the configuration.

``build_plan`` loads the configuration, reads its ``GlobalSettings`` once, resolves the rTorrent URL,
parses every schedule and builds every active job (handler import, typed options, conditions), without
I/O towards rTorrent and without starting anything; any error is raised here, before the daemon detaches.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from pyrotorque.config import Config, GlobalSettings, JobConfig, job_configs, load_config
from pyrotorque.config.connections import DEFAULT_CONNECTION, ConnectionSpec, connection_specs

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
        #: Job name -> the name of its connection.
        self.connections: dict[str, str] = {}

    def wake_kind(self, kind: str, connection: str = DEFAULT_CONNECTION) -> None:
        """Wake every running job of ``kind`` on ``connection`` (a tree watch wakes its own queues)."""
        for name, job_kind in self.kinds.items():
            on_connection = self.connections.get(name, DEFAULT_CONNECTION) == connection
            if job_kind == kind and on_connection and name in self.runners:
                self(name)

    def wake_kind_on(self, connection: str) -> Callable[[str], None]:
        """``JobContext.wake_kind`` for the jobs of one connection."""
        return functools.partial(self._wake_kind_on, connection)

    def _wake_kind_on(self, connection: str, kind: str) -> None:
        self.wake_kind(kind, connection)

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
    #: The name of the rTorrent connection the job uses (``job.NAME.connection``).
    connection: str = DEFAULT_CONNECTION


@dataclass
class Plan:
    """A validated configuration: the clients and every job to run, built but not started."""

    config: Config
    url: str
    client: RtorrentClient
    jobs: list[PlannedJob]
    waker: Waker
    #: ``[GLOBAL]`` and the daemon-wide ``[TORQUE]`` keys, read once; the jobs' contexts hold the same.
    settings: GlobalSettings = field(default_factory=GlobalSettings)
    #: Every connection by name, ``default`` (``url`` and ``client``) first.
    connections: dict[str, Instance] = field(default_factory=dict)

    @property
    def shown_url(self) -> str:
        """The rTorrent URL for log lines and output: a password in it is masked."""
        return masked_url(self.url)

    @property
    def clients(self) -> dict[str, RtorrentClient]:
        """Every connection's client by name (the default one alone when none is configured)."""
        return {name: instance.client for name, instance in self.connections.items()} or {
            DEFAULT_CONNECTION: self.client
        }

    def scheduler_options(self) -> dict[str, Any]:
        """Fresh keyword arguments for this plan's scheduler (APScheduler consumes the ones it gets)."""
        return self.settings.scheduler.options()


@dataclass(frozen=True)
class Instance:
    """One named rTorrent: its resolved URL and its client (no I/O yet)."""

    name: str
    url: str
    client: RtorrentClient

    @property
    def shown_url(self) -> str:
        """The URL with a password in it masked."""
        return masked_url(self.url)


@dataclass(frozen=True)
class Connection:
    """The loaded configuration, its settings, and a client (no I/O yet) for each rTorrent it names."""

    config: Config
    settings: GlobalSettings
    url: str
    client: RtorrentClient
    #: Every connection by name, ``default`` first.
    instances: dict[str, Instance] = field(default_factory=dict)


def load_and_connect(settings: Settings) -> Connection:
    """Load the configuration, read its settings once and make a client for each rTorrent it names."""
    config = load_config(settings.config_dir, settings.extra_files, settings.defines, settings.environ)
    global_settings = GlobalSettings.from_config(config)
    specs = connection_specs(config, global_settings.rpc_timeout)
    instances = {name: _instance(spec, settings, global_settings) for name, spec in specs.items()}
    default = instances[DEFAULT_CONNECTION]
    return Connection(
        config=config, settings=global_settings, url=default.url, client=default.client, instances=instances
    )


def _instance(spec: ConnectionSpec, settings: Settings, global_settings: GlobalSettings) -> Instance:
    """The default connection is found as a single-instance daemon finds it; the others are as written."""
    if spec.name == DEFAULT_CONNECTION:
        scgi_url = spec.url if spec.url is not None else global_settings.scgi_url
        url = resolve_url(settings.url, settings.environ, scgi_url, global_settings.rtorrent_rc)
    else:
        assert spec.url is not None  # only the default may be found by discovery
        url = spec.url
    return Instance(spec.name, url, RtorrentClient(url, timeout=spec.rpc_timeout))


def build_plan(settings: Settings, *, only_job: str | None = None) -> Plan:
    """Load and validate everything; ``only_job`` builds that one job even if it is inactive."""
    connection = load_and_connect(settings)
    waker = Waker()
    selected = _selected_jobs(job_configs(connection.config, dry_run=settings.dry_run), only_job)
    # --connection moves the one job of --run-once / --load-pending to another rTorrent.
    override = settings.connection if only_job is not None else None
    planned = [_planned_job(job_config, connection, waker, override) for job_config in selected]
    return Plan(
        config=connection.config,
        url=connection.url,
        client=connection.client,
        jobs=planned,
        waker=waker,
        settings=connection.settings,
        connections=connection.instances,
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


def _job_instance(job_config: JobConfig, connection: Connection, override: str | None) -> Instance:
    """The connection ``job.NAME.connection`` names (``default`` when not set), or ``override``."""
    if override is not None:
        return named_instance(connection.instances, override)
    setting = job_config.connection
    name = setting.value.strip() if setting is not None and setting.value.strip() else DEFAULT_CONNECTION
    instance = connection.instances.get(name)
    if instance is None:
        assert setting is not None
        known = ", ".join(connection.instances)
        raise setting.error(
            f"unknown connection {name!r} (connections: {known})", job_config.key("connection")
        )
    return instance


def named_instance(instances: Mapping[str, Instance], name: str) -> Instance:
    """The connection ``--connection NAME`` asks for; ConfigError listing the known ones."""
    instance = instances.get(name)
    if instance is None:
        known = ", ".join(instances)
        raise ConfigError(f"--connection: unknown connection {name!r} (connections: {known})")
    return instance


def _planned_job(
    job_config: JobConfig, connection: Connection, waker: Waker, override: str | None = None
) -> PlannedJob:
    """Parse the job's schedule and build the job with its own logger and context."""
    trigger = parse_schedule(
        job_config.schedule, job_config.key("schedule"), timezone=connection.settings.scheduler.timezone
    )
    instance = _job_instance(job_config, connection, override)
    job_log = logging.getLogger(f"pyrotorque.job.{job_config.name}")
    if job_config.log_level is not None:
        job_log.setLevel(job_config.log_level)
    context = JobContext(
        name=job_config.name,
        client=instance.client,
        config=connection.config,
        dry_run=job_config.dry_run,
        log=job_log,
        wake=waker,
        wake_kind=waker.wake_kind_on(instance.name),
        settings=connection.settings,
        figures=PROCESS_FIGURES,
        connection=instance.name,
        clients={name: other.client for name, other in connection.instances.items()},
    )
    factory = functools.partial(build_job, job_config, context)
    job = factory()
    waker.kinds[job_config.name] = job.kind
    waker.connections[job_config.name] = instance.name
    return PlannedJob(
        name=job_config.name,
        handler=str(job_config.handler.value),
        schedule=str(job_config.schedule.value),
        trigger=trigger,
        job=job,
        factory=factory,
        connection=instance.name,
    )
