"""What a start reports to the command line, which alone turns it into an exit code and terminal text."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class StartOutcome(enum.Enum):
    """How a start ended, in the process that returns it (the daemon, or the launcher of a detached one)."""

    #: This process served its jobs until a signal or the guard file said stop.
    STOPPED = "stopped"
    #: This process could not start its jobs (logged, with the reason).
    JOBS_FAILED = "jobs failed"
    #: The launcher: the detached daemon reported that its jobs run.
    DAEMON_READY = "daemon ready"
    #: The launcher: the detached daemon reported that its jobs could not start.
    DAEMON_FAILED = "daemon failed"
    #: The launcher: the detached daemon went away (or kept silent) without a report.
    DAEMON_LOST = "daemon lost"


@dataclass(frozen=True)
class StartResult:
    """A ``StartOutcome`` and what goes with it."""

    outcome: StartOutcome
    #: JOBS_FAILED and DAEMON_FAILED: why the jobs could not start; DAEMON_READY: the jobs left out.
    message: str = ""
    #: DAEMON_READY: the detached daemon's process id.
    pid: int = 0
