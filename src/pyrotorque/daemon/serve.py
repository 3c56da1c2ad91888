"""The running daemon: signals, the main loop, reload, starting the jobs.

The scheduler runs the ticks in worker threads; the main thread only waits for signals (handlers set
flags and wake it through a pipe) and checks the guard file twice a second. How a stop is bounded
(waiting for ticks, cutting their rTorrent calls, the hard end) is in ``stopping``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import select
import signal
import time
from collections.abc import Callable
from datetime import datetime
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from pyrotorque import __version__
from pyrotorque.config.connections import DEFAULT_CONNECTION
from pyrotorque.daemon.detach import ReadyPipe
from pyrotorque.daemon.outcome import StartOutcome, StartResult
from pyrotorque.daemon.plan import Plan, PlannedJob, Settings, build_plan
from pyrotorque.daemon.status_board import DaemonStatus, StatusBoard, status_path
from pyrotorque.daemon.stopping import (
    GUARD_STOP_GRACE,
    STOP_BOUND,
    STOP_CALL_GRACE,
    STOP_TICK_GRACE,
    Stopping,
)
from pyrotorque.errors import ConfigError
from pyrotorque.figures import PROCESS_FIGURES, FanOut
from pyrotorque.jobs.runner import TickRunner
from pyrotorque.pidfile import PidFile

__all__ = [
    "GUARD_CHECK_INTERVAL",
    "GUARD_STOP_GRACE",
    "STOP_BOUND",
    "STOP_CALL_GRACE",
    "STOP_TICK_GRACE",
    "Daemon",
]

#: The package's logger, so log lines say ``[pyrotorque.daemon]`` whichever module writes them.
log = logging.getLogger("pyrotorque.daemon")

#: How often the main loop checks the guard file, in seconds.
GUARD_CHECK_INTERVAL = 0.5


class Daemon(Stopping):
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
        self._calls_cut = False
        #: Seconds from a stop request to the hard end of the process (tests make it short).
        self.stop_bound = STOP_BOUND
        #: Ticks still running when the daemon stopped without waiting for them.
        self.abandoned: list[str] = []
        #: What ``--status`` reads; made when the jobs first start (no I/O here).
        self.board: StatusBoard | None = None

    def serve(self, ready: ReadyPipe | None) -> StartResult:
        """Start the jobs, run the main loop, stop everything; STOPPED, or JOBS_FAILED with the reason."""
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        old_wakeup = signal.set_wakeup_fd(wake_write)
        handled = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
        old_handlers = {signum: signal.signal(signum, self._on_signal) for signum in handled}
        try:
            failed = self._first_start(ready)
            if failed is not None:
                return failed
            self._stop_orderly(by_signal=self._main_loop(wake_read))
            return StartResult(StartOutcome.STOPPED)
        finally:
            self._stop_jobs(grace=STOP_TICK_GRACE)
            if self.board is not None:
                self.board.remove()
            self.pid_file.release()
            signal.set_wakeup_fd(old_wakeup)
            for signum, handler in old_handlers.items():
                signal.signal(signum, handler)
            os.close(wake_read)
            os.close(wake_write)
            self._say_stopped()

    def _first_start(self, ready: ReadyPipe | None) -> StartResult | None:
        """Start the plan's jobs and tell the parent. A job that cannot start (a port in use) is logged
        with its name and left out, and the others run; JOBS_FAILED when none of them could start."""
        self.board = StatusBoard(
            status_path(self.settings.pid_path),
            DaemonStatus(os.getpid(), time.time(), self.plan.shown_url, __version__),
            clock=time.time,
        )
        try:
            left_out = self._start_jobs(self.plan, leave_out_failed=True, again="")
            if left_out and len(left_out) == len(self.plan.jobs):
                raise _NoJobStarted("; ".join(left_out))
        except Exception as exc:
            log.error(
                "Starting the jobs failed: %s",
                exc,
                exc_info=not isinstance(exc, (ConfigError, _NoJobStarted)),
            )
            if ready:
                ready.failed(str(exc))
            return StartResult(StartOutcome.JOBS_FAILED, message=str(exc))
        log.info(
            "pyrotorque started as process #%d with %d job(s), rTorrent at %s",
            os.getpid(),
            len(self._started),
            self.plan.shown_url,
        )
        if ready:
            ready.ready(warning="; ".join(left_out))
        return None

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
        """Build and start the new configuration; whatever goes wrong, the daemon keeps running."""
        log.info("SIGHUP received, reloading the configuration")
        new_plan = self._new_plan()
        if new_plan is None:
            return
        old_plan = self.plan
        self._stop_jobs()
        try:
            self._start_jobs(new_plan)
        except Exception as exc:
            # A job of the new configuration could not start (a port in use, a path gone): go back to
            # fresh instances of the jobs that ran before, rather than ending the daemon.
            log.error(
                "Starting the reloaded jobs failed, going back to the running configuration: %s",
                exc,
                exc_info=not isinstance(exc, ConfigError),
            )
            self._stop_jobs()
            self._go_back(old_plan)
            return
        self.plan = new_plan
        log.info("Configuration reloaded: %d job(s), rTorrent at %s", len(self._started), new_plan.shown_url)

    def _new_plan(self) -> Plan | None:
        """The reloaded configuration's plan, or None (logged) when it cannot be built."""
        try:
            return self._planner(self.settings)
        except ConfigError as exc:
            log.error("Reload failed, keeping the running configuration: %s", exc)
        except Exception:
            # Not a configuration error we know of, so a bug: the traceback, and the daemon goes on.
            log.exception("Reload failed, keeping the running configuration")
        return None

    def _go_back(self, old_plan: Plan) -> None:
        """Run fresh instances of the jobs of ``old_plan``; one that cannot come back is left out (logged)."""
        jobs = []
        for planned in old_plan.jobs:
            try:
                jobs.append(dataclasses.replace(planned, job=planned.factory()))
            except Exception:
                log.exception("Job %s cannot be built again, left out", planned.name)
        self.plan = dataclasses.replace(old_plan, jobs=jobs)
        self._start_jobs(self.plan, leave_out_failed=True)

    def _start_jobs(self, plan: Plan, *, leave_out_failed: bool = False, again: str = " again") -> list[str]:
        """Start the plan's jobs and their scheduler; a job that fails to start raises, or is logged and
        left out with ``leave_out_failed`` (the first start, and going back after a failed reload: one
        job must not end the daemon). Returns what was left out, as "job NAME cannot start: REASON"."""
        left_out: list[str] = []
        # The worker threads, misfire grace, coalescing and max_instances come from apscheduler.* keys;
        # the package default is one worker, so ticks run one after the other as in the original.
        scheduler = BackgroundScheduler(**plan.scheduler_options())
        executors = _connection_executors(plan, scheduler)
        for planned in plan.jobs:
            try:
                planned.job.start()
            except Exception as exc:
                if not leave_out_failed:
                    raise
                log.error(
                    "Job %s cannot start%s, left out: %s",
                    planned.name,
                    again,
                    exc,
                    exc_info=not isinstance(exc, ConfigError),
                )
                left_out.append(f"job {planned.name} cannot start: {exc}")
                continue
            self._started.append(planned)
            # The status board (--status) and the figures the exporter serves both follow the ticks.
            observer = FanOut(self.board, PROCESS_FIGURES)
            runner = TickRunner(
                planned.name,
                planned.job.run,
                planned.job.log,
                rerun=plan.waker,
                observer=observer,
                connection=planned.connection,
            )
            self._runners.append(runner)
            plan.waker.runners[planned.name] = runner
            scheduler.add_job(
                runner,
                trigger=planned.trigger,
                id=planned.name,
                name=planned.name,
                executor=executors.get(planned.connection, "default"),
            )
        scheduler.start()
        self._scheduler = scheduler
        plan.waker.scheduler = scheduler
        PROCESS_FIGURES.keep_jobs(job.name for job in self._started)
        self._announce_jobs(plan, scheduler)
        return left_out

    def _announce_jobs(self, plan: Plan, scheduler: BackgroundScheduler) -> None:
        """Publish the started jobs for --status, and log each one's schedule and next run."""
        if self.board is not None:
            self.board.set_jobs(
                [(job.name, job.handler, job.schedule) for job in self._started],
                _next_runs(self._started),
                connections={job.name: job.connection for job in self._started},
                urls={name: instance.shown_url for name, instance in plan.connections.items()} or None,
            )
        for job in scheduler.get_jobs():
            log.info(
                "Job %s scheduled: %s (next run at %s)", job.id, _schedule_of(plan, job.id), job.next_run_time
            )


def _connection_executors(plan: Plan, scheduler: BackgroundScheduler) -> dict[str, str]:
    """One worker pool per connection in use, so a frozen rTorrent holds only its own jobs' ticks.

    The default connection's jobs run in APScheduler's ``default`` pool as before; each other connection
    gets a pool of the same size (``apscheduler.executors.default.max_workers``). Answers connection name
    -> executor alias.
    """
    used = {planned.connection for planned in plan.jobs} - {DEFAULT_CONNECTION}
    aliases: dict[str, str] = {}
    for name in sorted(used):
        aliases[name] = f"connection:{name}"
        scheduler.add_executor(ThreadPoolExecutor(plan.settings.scheduler.max_threads), alias=aliases[name])
    return aliases


class _NoJobStarted(Exception):
    """Every job of the first start failed in ``start()`` (each one logged); the text lists them."""


def _next_runs(jobs: list[PlannedJob]) -> Callable[[str], datetime | None]:
    """Each job's next regular run, from its trigger: no scheduler lock is taken in a tick's thread."""
    triggers = {job.name: job.trigger for job in jobs}

    def next_run(name: str) -> datetime | None:
        trigger = triggers.get(name)
        return trigger.get_next_fire_time(None, datetime.now().astimezone()) if trigger else None

    return next_run


def _schedule_of(plan: Plan, name: str) -> str:
    """The configured schedule string of one job."""
    return next((job.schedule for job in plan.jobs if job.name == name), "?")
