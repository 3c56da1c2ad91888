"""The daemon's bounded stop: waiting for running ticks, cutting their rTorrent calls, the hard end.

A stop is bounded (docs/cli.md, "Signals"): a stop signal lets running ticks finish for
``STOP_CALL_GRACE`` seconds, then cuts their rTorrent calls (a frozen rTorrent would hold them for
``rpc_timeout``), waits until ``STOP_TICK_GRACE`` for them, and abandons what still runs; whatever
happens, the process ends ``STOP_BOUND`` seconds after the request. The guard file's removal cuts the
calls at once and waits ``GUARD_STOP_GRACE`` at most.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from pyrotorque.daemon.plan import Plan, PlannedJob
from pyrotorque.jobs.runner import TickRunner
from pyrotorque.pidfile import PidFile

#: The package's logger, so log lines say ``[pyrotorque.daemon]`` whichever module writes them.
log = logging.getLogger("pyrotorque.daemon")

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


class Stopping:
    """The stop half of ``Daemon``: its state is set up by ``Daemon.__init__``."""

    plan: Plan
    pid_file: PidFile
    stop_bound: float
    abandoned: list[str]
    _hard_exit: Callable[[int], None]
    _scheduler: BackgroundScheduler | None
    _started: list[PlannedJob]
    _runners: list[TickRunner]
    _stop_requests: int
    _calls_cut: bool

    def _stop_orderly(self, by_signal: bool) -> None:
        """The stop the main loop asked for: bounded, and shorter when the guard file went."""
        self._arm_stop_bound()
        if by_signal:
            self._stop_jobs(grace=STOP_TICK_GRACE, cut_calls_after=STOP_CALL_GRACE)
        else:
            self._stop_jobs(grace=GUARD_STOP_GRACE, cut_calls_after=0.0)

    def _say_stopped(self) -> None:
        """The last line of a stop; the hard end when ticks were abandoned."""
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
        cut = [client.abort_calls(_CUT_REASON) for client in self.plan.clients.values()]
        if any(cut) and not self._calls_cut:
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
