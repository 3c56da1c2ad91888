"""The running daemon: signals, the main loop, reload, starting and stopping the jobs.

The scheduler runs the ticks in worker threads; the main thread only waits for signals (handlers set
flags and wake it through a pipe) and checks the guard file twice a second.

A stop is bounded (docs/cli.md, "Signals"): a stop signal lets running ticks finish for
``STOP_CALL_GRACE`` seconds, then cuts their rTorrent calls (a frozen rTorrent would hold them for
``rpc_timeout``), waits until ``STOP_TICK_GRACE`` for them, and abandons what still runs; whatever
happens, the process ends ``STOP_BOUND`` seconds after the request. The guard file's removal cuts the
calls at once and waits ``GUARD_STOP_GRACE`` at most.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import select
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from pyrotorque.daemon.detach import ReadyPipe
from pyrotorque.daemon.outcome import StartOutcome, StartResult
from pyrotorque.daemon.plan import Plan, PlannedJob, Settings, build_plan
from pyrotorque.errors import ConfigError
from pyrotorque.jobs.runner import TickRunner
from pyrotorque.pidfile import PidFile

#: The package's logger, so log lines say ``[pyrotorque.daemon]`` whichever module writes them.
log = logging.getLogger("pyrotorque.daemon")

#: How often the main loop checks the guard file, in seconds.
GUARD_CHECK_INTERVAL = 0.5
#: After the guard file vanished, how long a running tick may still finish before it is abandoned.
GUARD_STOP_GRACE = 0.4
#: After a stop signal, how long running ticks may go on before their rTorrent calls are cut.
STOP_CALL_GRACE = 2.0
#: After a stop signal, how long running ticks may take in all before they are abandoned.
STOP_TICK_GRACE = 5.0
#: The process ends at the latest this long after a stop request, whatever still runs; ``--stop``
#: waits longer than this (control.STOP_TIMEOUT).
STOP_BOUND = 8.0
#: Why a cut rTorrent call failed, as the tick's error says.
_CUT_REASON = "the daemon is stopping"


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
        self._calls_cut = False
        #: Seconds from a stop request to the hard end of the process (tests make it short).
        self.stop_bound = STOP_BOUND
        #: Ticks still running when the daemon stopped without waiting for them.
        self.abandoned: list[str] = []

    def serve(self, ready: ReadyPipe | None) -> StartResult:
        """Start the jobs, run the main loop, stop everything; STOPPED, or JOBS_FAILED with the reason."""
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
                    ready.failed(str(exc))
                return StartResult(StartOutcome.JOBS_FAILED, message=str(exc))
            log.info(
                "pyrotorque started as process #%d with %d job(s), rTorrent at %s",
                os.getpid(),
                len(self._started),
                self.plan.shown_url,
            )
            if ready:
                ready.ready()
            by_signal = self._main_loop(wake_read)
            self._arm_stop_bound()
            if by_signal:
                self._stop_jobs(grace=STOP_TICK_GRACE, cut_calls_after=STOP_CALL_GRACE)
            else:
                self._stop_jobs(grace=GUARD_STOP_GRACE, cut_calls_after=0.0)
            return StartResult(StartOutcome.STOPPED)
        finally:
            self._stop_jobs(grace=STOP_TICK_GRACE)
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
            # The bound stays armed until the process ends: a thread that blocks the interpreter's exit
            # must not keep it alive either (the timer thread is a daemon thread and dies with it).

    def _arm_stop_bound(self) -> None:
        """End the process ``stop_bound`` seconds from now if the orderly stop has not ended it."""
        timer = threading.Timer(self.stop_bound, self._out_of_time)
        timer.daemon = True
        timer.name = "pyrotorque-stop-bound"
        timer.start()

    def _out_of_time(self) -> None:
        # Something blocks the stop beyond its bound (a job's stop(), a call that ignores the cut):
        # leave now, as --stop promises. The pid file goes; its lock ends with the process. The last
        # line is written by a thread of its own: a log handler may be stuck with the rest.
        with contextlib.suppress(Exception):
            self.pid_file.release()
        farewell = threading.Thread(target=_say_out_of_time, name="pyrotorque-farewell", daemon=True)
        farewell.start()
        farewell.join(1.0)
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

    def _start_jobs(self, plan: Plan, *, leave_out_failed: bool = False) -> None:
        """Start the plan's jobs and their scheduler; a job that fails to start raises, or is logged and
        left out with ``leave_out_failed`` (going back after a failed reload must not end the daemon)."""
        # The worker threads, misfire grace, coalescing and max_instances come from apscheduler.* keys;
        # the package default is one worker, so ticks run one after the other as in the original.
        scheduler = BackgroundScheduler(**plan.scheduler_options())
        for planned in plan.jobs:
            try:
                planned.job.start()
            except Exception as exc:
                if not leave_out_failed:
                    raise
                log.error("Job %s cannot start again, left out: %s", planned.name, exc, exc_info=True)
                continue
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

    def _stop_jobs(self, grace: float | None = None, *, cut_calls_after: float | None = None) -> None:
        """Stop the scheduler and the jobs; wait for running ticks, or only ``grace`` seconds.

        With ``cut_calls_after``, the rTorrent calls still in flight that many seconds from now are cut
        (they fail at once, and so does every later call of the client: the daemon is going away),
        whichever thread waits in them: a tick, or a job's own thread such as the inotify watcher.
        The wait also ends when a second SIGTERM/SIGINT arrives, so a user whose Ctrl-C waits on a
        slow tick can press it again to leave at once.
        """
        cutter = None
        if cut_calls_after is not None:
            cutter = threading.Timer(cut_calls_after, self._cut_calls)
            cutter.daemon = True
            cutter.start()
        try:
            self._stop_scheduler_and_jobs(grace)
        finally:
            if cutter is not None:
                cutter.cancel()

    def _stop_scheduler_and_jobs(self, grace: float | None) -> None:
        if self._scheduler is not None:
            self.plan.waker.scheduler = None
            with contextlib.suppress(Exception):
                self._scheduler.shutdown(wait=False)  # the runners below do the waiting
            self._scheduler = None
        deadline = None if grace is None else time.monotonic() + grace
        requests_before = self._stop_requests
        for runner in self._runners:
            runner.stopping = True
        for runner in self._runners:
            told = False
            while not runner.wait_idle(_wait_slice(deadline)):
                out_of_time = deadline is not None and time.monotonic() >= deadline
                if out_of_time or self._stop_requests > max(requests_before, 1):
                    log.warning("Job %s: not waiting for its running tick", runner.job_name)
                    self.abandoned.append(runner.job_name)
                    break
                if not told and (deadline is None or deadline - time.monotonic() > 1.0):
                    told = True
                    limit = "" if deadline is None else f" (at most {deadline - time.monotonic():.0f} s)"
                    log.info(
                        "Waiting for the running tick of job %s%s; signal again to stop at once",
                        runner.job_name,
                        limit,
                    )
        self._runners = []
        for planned in reversed(self._started):
            try:
                planned.job.stop()
            except Exception:
                log.exception("Stopping job %s failed", planned.name)
        self._started = []

    def _cut_calls(self) -> None:
        """Cut the rTorrent calls in flight; later calls fail at once (from a timer thread)."""
        if self.plan.client.abort_calls(_CUT_REASON) and not self._calls_cut:
            self._calls_cut = True
            log.info("Cutting the rTorrent calls still running: the daemon is stopping")


def _say_out_of_time() -> None:
    """The last log line of a stop that ran out of time."""
    with contextlib.suppress(Exception):
        log.error("Stopping took longer than %.0f s; ending process #%d now", STOP_BOUND, os.getpid())
        for handler in logging.getLogger().handlers:
            handler.flush()


def _wait_slice(deadline: float | None) -> float:
    """How long to wait for a tick before looking at the clock and the signals again."""
    if deadline is None:
        return 0.2
    return max(0.0, min(0.2, deadline - time.monotonic()))


def _schedule_of(plan: Plan, name: str) -> str:
    """The configured schedule string of one job."""
    return next((job.schedule for job in plan.jobs if job.name == name), "?")
