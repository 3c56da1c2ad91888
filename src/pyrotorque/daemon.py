"""The daemon's life: validate everything, detach, lock the pid file, run the jobs, reload, stop.

Order of a start (``start``):

1. ``build_plan``: load the configuration, resolve the rTorrent URL, parse every schedule and build every
   active job (handler import, typed options, conditions). Any error ends the start here, in the terminal.
2. Refuse to start when a daemon already holds the pid file, or when the guard file is missing.
3. Lock the pid file (``fcntl.flock``), then detach with a double fork unless ``--fg``. The launcher waits
   on a pipe until the daemon has started its jobs, so its exit code says whether the start worked.
4. ``Daemon.serve``: the scheduler runs the ticks in worker threads; the main thread only waits for
   signals (handlers set flags and wake it through a pipe) and checks the guard file twice a second.
   A stop signal waits for a running tick; the guard file's removal waits ``GUARD_STOP_GRACE`` at most.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import select
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from pyrotorque import logsetup
from pyrotorque.config import BadValue, Config, job_configs, load_config, resolve_config_dir
from pyrotorque.config.convert import parse_float
from pyrotorque.errors import ConfigError, DaemonError
from pyrotorque.exitcodes import EXIT_SOFTWARE
from pyrotorque.jobs.base import Job, JobContext
from pyrotorque.jobs.loader import build_job
from pyrotorque.jobs.runner import TickRunner
from pyrotorque.pidfile import AlreadyRunning, PidFile, PidStatus, probe
from pyrotorque.rtorrent.client import RtorrentClient
from pyrotorque.rtorrent.discovery import resolve_url
from pyrotorque.scheduler import parse_schedule, scheduler_options

log = logging.getLogger(__name__)

PID_FILE_NAME = "run/pyrotorque.pid"
GUARD_FILE_NAME = "run/pyrotorque"
LOG_DIR_NAME = "log"
#: How often the main loop checks the guard file, in seconds.
GUARD_CHECK_INTERVAL = 0.5
#: After the guard file vanished, how long a running tick may still finish before it is abandoned.
GUARD_STOP_GRACE = 0.4
#: How long ``--stop`` waits for the daemon to go away.
STOP_TIMEOUT = 10.0
#: How long the launcher waits for the detached daemon to report that its jobs started.
READY_TIMEOUT = 30.0
#: ``[GLOBAL]`` key: seconds one call to rTorrent may take (the package config.ini sets the default).
RPC_TIMEOUT_KEY = "rpc_timeout"
DEFAULT_RPC_TIMEOUT = 30.0


class GuardFileMissing(DaemonError):
    """The guard file that allows a background start does not exist."""


@dataclass(frozen=True)
class Settings:
    """What the command line decided about configuration and process control."""

    config_dir: Path | None = None
    extra_files: tuple[str, ...] = ()
    defines: tuple[str, ...] = ()
    dry_run: bool = False
    url: str | None = None
    foreground: bool = False
    cron: bool = False
    pid_file: Path | None = None
    guard_file: Path | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def resolved_config_dir(self) -> Path:
        """The configuration directory, defaults applied."""
        return resolve_config_dir(self.config_dir, self.environ)

    @property
    def pid_path(self) -> Path:
        """The pid file: ``--pid-file`` or ``<config dir>/run/pyrotorque.pid``."""
        return (self.pid_file or self.resolved_config_dir / PID_FILE_NAME).absolute()

    @property
    def guard_path(self) -> Path | None:
        """The guard file: ``--guard-file``, or ``<config dir>/run/pyrotorque`` unless in the foreground."""
        if self.guard_file is not None:
            return self.guard_file.absolute()
        return None if self.foreground else self.resolved_config_dir / GUARD_FILE_NAME

    @property
    def log_path(self) -> Path:
        """The daemon's log file."""
        return self.resolved_config_dir / LOG_DIR_NAME / logsetup.LOG_FILE_NAME


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
    scheduler_options: dict[str, Any]

    def rebuilt(self) -> Plan:
        """The same plan with fresh job instances, for starting it again after it was stopped."""
        jobs = [dataclasses.replace(planned, job=planned.factory()) for planned in self.jobs]
        return dataclasses.replace(self, jobs=jobs)


def rpc_timeout(config: Config) -> float:
    """``[GLOBAL] rpc_timeout``: a positive number of seconds; ConfigError names key, file and line."""
    setting = config.setting("global", RPC_TIMEOUT_KEY)
    if setting is None or not setting.value.strip():
        return DEFAULT_RPC_TIMEOUT
    try:
        seconds = parse_float(setting.value)
    except BadValue as exc:
        raise setting.error(str(exc), RPC_TIMEOUT_KEY) from None
    if seconds <= 0:
        raise setting.error(f"expected a positive number of seconds, got {setting.value!r}", RPC_TIMEOUT_KEY)
    return seconds


def load_and_connect(settings: Settings) -> tuple[Config, str, RtorrentClient]:
    """Load the configuration and make (without I/O) the client for the rTorrent it names."""
    config = load_config(settings.config_dir, settings.extra_files, settings.defines, settings.environ)
    url = resolve_url(
        settings.url,
        settings.environ,
        config.global_value("scgi_url"),
        config.global_value("rtorrent_rc"),
    )
    return config, url, RtorrentClient(url, timeout=rpc_timeout(config))


def build_plan(settings: Settings, *, only_job: str | None = None) -> Plan:
    """Load and validate everything; ``only_job`` builds that one job even if it is inactive."""
    config, url, client = load_and_connect(settings)
    options = scheduler_options(config)
    waker = Waker()
    configured = job_configs(config, dry_run=settings.dry_run)
    if only_job is not None:
        selected = [job for job in configured if job.name == only_job]
        if not selected:
            names = ", ".join(sorted(job.name for job in configured)) or "none"
            raise ConfigError(f"no job named {only_job!r} is configured (jobs: {names})")
    else:
        selected = [job for job in configured if job.active]
    planned = []
    for job_config in selected:
        trigger = parse_schedule(
            job_config.schedule, job_config.key("schedule"), timezone=options.get("timezone")
        )
        job_log = logging.getLogger(f"pyrotorque.job.{job_config.name}")
        if job_config.log_level is not None:
            job_log.setLevel(job_config.log_level)
        context = JobContext(
            name=job_config.name,
            client=client,
            config=config,
            dry_run=job_config.dry_run,
            log=job_log,
            wake=waker,
            wake_kind=waker.wake_kind,
        )
        factory = functools.partial(build_job, job_config, context)
        job = factory()
        waker.kinds[job_config.name] = job.kind
        planned.append(
            PlannedJob(
                name=job_config.name,
                handler=str(job_config.handler.value),
                schedule=str(job_config.schedule.value),
                trigger=trigger,
                job=job,
                factory=factory,
            )
        )
    return Plan(config=config, url=url, client=client, jobs=planned, waker=waker, scheduler_options=options)


# --- process control ---------------------------------------------------------------------------------


def status(settings: Settings) -> PidStatus:
    """Whether a daemon holds the pid file, and its pid."""
    return probe(settings.pid_path)


@dataclass(frozen=True)
class StopResult:
    """What ``stop`` found and did."""

    was_running: bool
    pid: int
    stopped: bool


def stop(
    settings: Settings,
    *,
    timeout: float = STOP_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> StopResult:
    """Send SIGTERM to a running daemon and wait until it released its pid file."""
    found = probe(settings.pid_path)
    if not found.running:
        return StopResult(was_running=False, pid=found.pid, stopped=True)
    if found.pid > 0:
        with contextlib.suppress(ProcessLookupError):
            os.kill(found.pid, signal.SIGTERM)
    deadline = clock() + timeout
    while probe(settings.pid_path).running or not _gone(found.pid):
        if clock() >= deadline:
            return StopResult(was_running=True, pid=found.pid, stopped=False)
        sleep(0.1)
    return StopResult(was_running=True, pid=found.pid, stopped=True)


def _gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie counts: its parent may be an init that never reaps)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def check_may_start(settings: Settings) -> None:
    """Refuse a start: AlreadyRunning or GuardFileMissing."""
    found = probe(settings.pid_path)
    if found.running:
        raise AlreadyRunning(f"pyrotorque is already running as process #{found.pid}, not starting")
    guard = settings.guard_path
    if guard is not None and not guard.exists():
        raise GuardFileMissing(f"guard file {guard} not found, not starting (touch it to allow starts)")
    if found.exists:
        log.info("Removing stale pid file %s of process #%d", settings.pid_path, found.pid)


def start(settings: Settings, plan: Plan) -> int:
    """Start the daemon from a validated plan; returns the exit code (in the launcher and the daemon)."""
    check_may_start(settings)
    pid_file = PidFile(settings.pid_path)
    pid_file.acquire()
    daemon = Daemon(settings, plan, pid_file)
    if settings.foreground:
        return daemon.serve(ready=None)
    ready = _detach(pid_file)
    if isinstance(ready, int):
        return ready  # the launcher: the daemon's report decided the code
    return daemon.serve(ready=ready)


# --- detaching ---------------------------------------------------------------------------------------


def _detach(pid_file: PidFile) -> int | ReadyPipe:
    """Double fork; returns the exit code in the launcher and a ReadyPipe in the daemon."""
    sys.stdout.flush()
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    first = os.fork()
    if first > 0:
        os.close(write_fd)
        pid_file.close()  # the daemon keeps the lock through its inherited descriptor
        report = _read_report(read_fd)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(first, 0)
        if report.startswith("ready"):
            return 0
        sys.stderr.write(f"pyrotorque: {report or 'the daemon died while starting, see its log'}\n")
        return EXIT_SOFTWARE
    # The first child: a new session without a controlling terminal, then let go of it.
    os.close(read_fd)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    os.chdir("/")
    _redirect_stdio()
    pid_file.write_pid()
    return ReadyPipe(write_fd)


def _read_report(read_fd: int) -> str:
    """What the daemon wrote to the readiness pipe before closing it (or until the timeout)."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + READY_TIMEOUT
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([pipe], [], [], left)
            if not readable:
                break
            chunk = pipe.read(4096)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace").strip()


def _redirect_stdio() -> None:
    """stdin from /dev/null; stdout and stderr into the log file (or /dev/null) for stray output."""
    logsetup.drop_console()
    null_fd = os.open(os.devnull, os.O_RDWR)
    target = logsetup.log_file_stream()
    os.dup2(null_fd, 0)
    os.dup2(target if target is not None else null_fd, 1)
    os.dup2(target if target is not None else null_fd, 2)
    os.close(null_fd)


class ReadyPipe:
    """The daemon's end of the launcher's pipe: one report line, then closed."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def report(self, text: str) -> None:
        """Send ``text`` to the launcher and close the pipe; later reports are ignored."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.write(self._fd, (text.replace("\n", " ") + "\n").encode("utf-8"))
        os.close(self._fd)
        self._fd = None


# --- the running daemon ------------------------------------------------------------------------------


class Daemon:
    """Runs the plan's jobs until a signal or the guard file's removal says stop."""

    def __init__(
        self,
        settings: Settings,
        plan: Plan,
        pid_file: PidFile,
        planner: Callable[[Settings], Plan] = build_plan,
        hard_exit: Callable[[int], None] = os._exit,
    ) -> None:
        self.settings = settings
        self.plan = plan
        self._planner = planner
        self._hard_exit = hard_exit
        self.pid_file = pid_file
        self._scheduler: BackgroundScheduler | None = None
        self._started: list[PlannedJob] = []
        self._runners: list[TickRunner] = []
        self._stop_signal: int | None = None
        #: SIGTERM/SIGINT received so far; a second one stops without waiting for running ticks.
        self._stop_requests = 0
        self._reload_requested = False
        #: Ticks still running when the daemon stopped without waiting for them.
        self.abandoned: list[str] = []

    def serve(self, ready: ReadyPipe | None) -> int:
        """Start the jobs, run the main loop, stop everything; returns the exit code."""
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        old_wakeup = signal.set_wakeup_fd(wake_write)
        handled = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
        old_handlers = {signum: signal.signal(signum, self._on_signal) for signum in handled}
        try:
            try:
                self._start_jobs(self.plan)
            except Exception as exc:
                log.error("Starting the jobs failed: %s", exc, exc_info=not isinstance(exc, ConfigError))
                if ready:
                    ready.report(f"starting the jobs failed: {exc}")
                return EXIT_SOFTWARE
            log.info(
                "pyrotorque started as process #%d with %d job(s), rTorrent at %s",
                os.getpid(),
                len(self._started),
                self.plan.url,
            )
            if ready:
                ready.report(f"ready {os.getpid()}")
            wait_for_ticks = self._main_loop(wake_read)
            self._stop_jobs(grace=None if wait_for_ticks else GUARD_STOP_GRACE)
            return 0
        finally:
            self._stop_jobs()
            self.pid_file.release()
            signal.set_wakeup_fd(old_wakeup)
            for signum, handler in old_handlers.items():
                signal.signal(signum, handler)
            os.close(wake_read)
            os.close(wake_write)
            log.info("pyrotorque process #%d stopped", os.getpid())
            if self.abandoned:
                # The worker threads cannot be interrupted, and a normal exit would join them.
                logging.shutdown()
                self._hard_exit(0)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only flags: the main loop, woken by the wakeup fd, does the work.
        if signum == signal.SIGHUP:
            self._reload_requested = True
        else:
            self._stop_signal = signum
            self._stop_requests += 1

    def _main_loop(self, wake_read: int) -> bool:
        """Serve until told to stop; True to wait for running ticks (a signal), False if the guard went."""
        guard = self.settings.guard_path
        while True:
            with contextlib.suppress(InterruptedError):
                readable, _, _ = select.select([wake_read], [], [], GUARD_CHECK_INTERVAL)
                if readable:
                    os.read(wake_read, 512)
            if self._stop_signal is not None:
                log.info("Termination request received (%s)", signal.Signals(self._stop_signal).name)
                return True
            if self._reload_requested:
                self._reload_requested = False
                self._reload()
            if guard is not None and not guard.exists():
                # The guard file is the way to stop a daemon whatever it does: do not wait for a long tick.
                log.warning("Guard file %s disappeared, stopping", guard)
                return False

    def _reload(self) -> None:
        log.info("SIGHUP received, reloading the configuration")
        try:
            new_plan = self._planner(self.settings)
        except ConfigError as exc:
            log.error("Reload failed, keeping the running configuration: %s", exc)
            return
        old_plan = self.plan
        self._stop_jobs()
        try:
            self._start_jobs(new_plan)
        except Exception as exc:
            # A job of the new configuration could not start (a port in use, a path gone): go back to
            # fresh instances of the jobs that ran before, rather than ending the daemon.
            log.error("Starting the reloaded jobs failed, going back to the running configuration: %s", exc)
            self._stop_jobs()
            self.plan = old_plan.rebuilt()
            self._start_jobs(self.plan)
            return
        self.plan = new_plan
        log.info("Configuration reloaded: %d job(s), rTorrent at %s", len(self._started), new_plan.url)

    def _start_jobs(self, plan: Plan) -> None:
        # The worker threads, misfire grace, coalescing and max_instances come from apscheduler.* keys;
        # the package default is one worker, so ticks run one after the other as in the original.
        scheduler = BackgroundScheduler(**plan.scheduler_options)
        for planned in plan.jobs:
            planned.job.start()
            self._started.append(planned)
            runner = TickRunner(planned.name, planned.job.run, planned.job.log, rerun=plan.waker)
            self._runners.append(runner)
            plan.waker.runners[planned.name] = runner
            scheduler.add_job(runner, trigger=planned.trigger, id=planned.name, name=planned.name)
        scheduler.start()
        self._scheduler = scheduler
        plan.waker.scheduler = scheduler
        for job in scheduler.get_jobs():
            log.info(
                "Job %s scheduled: %s (next run at %s)", job.id, _schedule_of(plan, job.id), job.next_run_time
            )

    def _stop_jobs(self, grace: float | None = None) -> None:
        """Stop the scheduler and the jobs; wait for running ticks, or only ``grace`` seconds.

        Without a grace period the wait still ends when a second SIGTERM/SIGINT arrives, so a user
        whose Ctrl-C waits on a slow tick can press it again to leave at once.
        """
        if self._scheduler is not None:
            self.plan.waker.scheduler = None
            with contextlib.suppress(Exception):
                self._scheduler.shutdown(wait=False)  # the runners below do the waiting
            self._scheduler = None
        deadline = None if grace is None else time.monotonic() + grace
        requests_before = self._stop_requests
        for runner in self._runners:
            told = False
            while not runner.wait_idle(_wait_slice(deadline)):
                out_of_time = deadline is not None and time.monotonic() >= deadline
                if out_of_time or self._stop_requests > max(requests_before, 1):
                    log.warning("Job %s: not waiting for its running tick", runner.job_name)
                    self.abandoned.append(runner.job_name)
                    break
                if not told and grace is None:
                    told = True
                    log.info(
                        "Waiting for the running tick of job %s (signal again to stop at once)",
                        runner.job_name,
                    )
        self._runners = []
        for planned in reversed(self._started):
            try:
                planned.job.stop()
            except Exception:
                log.exception("Stopping job %s failed", planned.name)
        self._started = []


def _wait_slice(deadline: float | None) -> float:
    """How long to wait for a tick before looking at the clock and the signals again."""
    if deadline is None:
        return 0.2
    return max(0.0, min(0.2, deadline - time.monotonic()))


def _schedule_of(plan: Plan, name: str) -> str:
    """The configured schedule string of one job."""
    return next((job.schedule for job in plan.jobs if job.name == name), "?")
