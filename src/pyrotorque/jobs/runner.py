"""The wrapper around every scheduled tick: a failing tick is logged and the daemon goes on.

Policy for one job:

* ``TransportError`` / ``ProtocolError`` (the connection is gone): one WARNING when it is lost, a reminder
  at most once per ``reminder_interval`` while it stays lost, one INFO line when a tick succeeds again.
  No tracebacks: they say nothing a one-line message does not.
* ``FaultError`` (rTorrent answered, but refused a call) and ``RequestTooLarge`` (a call too big to
  send; the connection is fine): a WARNING line; the same message again within
  ``reminder_interval`` goes to DEBUG, so a job that fails every 5 s does not flood the log.
* Anything else is a bug: logged at ERROR with its traceback, every time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from pyrotorque.errors import FaultError, RequestTooLarge, RtorrentError
from pyrotorque.tick_outcomes import ERROR, FAULT, OK, UNREACHABLE

REMINDER_INTERVAL = 60.0


class TickObserver(Protocol):
    """Told when each tick begins and ends (the daemon's status board); must not raise."""

    def tick_started(self, name: str) -> None: ...

    def tick_ended(self, name: str, outcome: str, error: str | None = None) -> None: ...


class _NoObserver:
    def tick_started(self, name: str) -> None:
        pass

    def tick_ended(self, name: str, outcome: str, error: str | None = None) -> None:
        pass


class TickRunner:
    """Calls one job's tick and applies the error policy; one instance per job."""

    def __init__(
        self,
        job_name: str,
        tick: Callable[[], None],
        log: logging.Logger,
        *,
        clock: Callable[[], float] = time.monotonic,
        reminder_interval: float = REMINDER_INTERVAL,
        rerun: Callable[[str], None] | None = None,
        observer: TickObserver | None = None,
        connection: str = "default",
    ) -> None:
        self.job_name = job_name
        #: "rTorrent" or "rTorrent 'NAME'": which instance the outage lines are about.
        self._rtorrent = "rTorrent" if connection == "default" else f"rTorrent {connection!r}"
        #: Asks the scheduler for another tick now; used when a wake arrived during a tick.
        self._rerun = rerun
        self._observer: TickObserver = observer or _NoObserver()
        self._wake_pending = False
        self._tick = tick
        self._log = log
        self._clock = clock
        self._reminder_interval = reminder_interval
        self._lost_since: float | None = None
        self._last_reminder = 0.0
        self._last_fault: tuple[str, float] | None = None
        self._active_ticks = 0
        self._changed = threading.Condition()
        #: Set by the daemon when it stops: a call cut then is no lost connection.
        self.stopping = False

    @property
    def connection_lost(self) -> bool:
        """True while the last tick found rTorrent unreachable."""
        return self._lost_since is not None

    @property
    def running(self) -> bool:
        """True while a tick is in progress."""
        with self._changed:
            return self._active_ticks > 0

    def defer_wake(self) -> bool:
        """If a tick runs, remember to run again right after it and return True; else return False.

        Moving the next run to "now" while a tick runs would only make the scheduler skip that run
        (with a warning), and the news that caused the wake would wait for the next regular tick.
        """
        with self._changed:
            if self._active_ticks > 0:
                self._wake_pending = True
                return True
            return False

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until no tick runs; True if none runs any more."""
        with self._changed:
            return self._changed.wait_for(lambda: self._active_ticks == 0, timeout)

    def __call__(self) -> None:
        """Run one tick; never raises."""
        with self._changed:
            self._active_ticks += 1
        self._observer.tick_started(self.job_name)
        outcome, error = OK, None
        try:
            self._tick()
        except (FaultError, RequestTooLarge) as exc:
            outcome, error = FAULT, str(exc)
            self._fault(exc)
        except RtorrentError as exc:
            outcome, error = UNREACHABLE, str(exc)
            self._lost(exc)
        except Exception as exc:
            outcome, error = ERROR, f"{type(exc).__name__}: {exc}"
            self._log.exception("Job %s failed", self.job_name)
        else:
            self._back()
        finally:
            self._observer.tick_ended(self.job_name, outcome, error)
            with self._changed:
                self._active_ticks -= 1
                rerun = self._wake_pending and self._active_ticks == 0
                if rerun:
                    self._wake_pending = False
                self._changed.notify_all()
            if rerun and self._rerun is not None:
                self._rerun(self.job_name)

    def _lost(self, exc: RtorrentError) -> None:
        if self.stopping:
            self._log.info("Job %s: tick cut short while stopping: %s", self.job_name, exc)
            return
        now = self._clock()
        if self._lost_since is None:
            self._lost_since = self._last_reminder = now
            self._log.warning("Job %s: %s connection lost: %s", self.job_name, self._rtorrent, exc)
        elif now - self._last_reminder >= self._reminder_interval:
            self._last_reminder = now
            self._log.warning(
                "Job %s: %s still unreachable after %.0f s: %s",
                self.job_name,
                self._rtorrent,
                now - self._lost_since,
                exc,
            )
        else:
            self._log.debug("Job %s: %s still unreachable: %s", self.job_name, self._rtorrent, exc)

    def _back(self) -> None:
        if self._lost_since is not None:
            down_for = self._clock() - self._lost_since
            self._lost_since = None
            self._log.info(
                "Job %s: %s connection is back after %.0f s", self.job_name, self._rtorrent, down_for
            )

    def _fault(self, exc: RtorrentError) -> None:
        # rTorrent answered, so the connection itself works.
        self._back()
        now = self._clock()
        message = str(exc)
        last = self._last_fault
        if last and last[0] == message and now - last[1] < self._reminder_interval:
            self._log.debug("Job %s: %s", self.job_name, message)
            return
        self._last_fault = (message, now)
        self._log.warning("Job %s: %s", self.job_name, message)
