"""The daemon's life: validate everything, detach, lock the pid file, run the jobs, reload, stop.

Order of a start (``start``):

1. ``build_plan`` (plan.py): load the configuration, read its ``GlobalSettings`` once, resolve the
   rTorrent URL, parse every schedule and build every active job (handler import, typed options,
   conditions). Any error ends the start here, in the terminal.
2. ``check_may_start`` (control.py): refuse to start when a daemon already holds the pid file, or when
   the guard file is missing.
3. Lock the pid file (``fcntl.flock``), then ``detach`` (detach.py) with a double fork unless ``--fg``.
   The launcher waits on a pipe until the daemon has started its jobs, so its exit code says whether
   the start worked.
4. ``Daemon.serve`` (serve.py): the scheduler runs the ticks in worker threads; the main thread only
   waits for signals and checks the guard file; SIGHUP reloads.

Nothing here exits or writes to the terminal: ``start`` returns a ``StartResult`` (outcome.py) or raises
one of the ``pyrotorque.errors``, and the command line picks the exit code and the message.
"""

from __future__ import annotations

from pyrotorque.config.settings import DEFAULT_RPC_TIMEOUT, RPC_TIMEOUT_KEY
from pyrotorque.daemon.control import (
    STOP_TIMEOUT,
    StopResult,
    check_may_start,
    start,
    status,
    stop,
)
from pyrotorque.daemon.detach import READY_TIMEOUT, ReadyPipe, detach
from pyrotorque.daemon.outcome import StartOutcome, StartResult
from pyrotorque.daemon.plan import (
    GUARD_FILE_NAME,
    LOG_DIR_NAME,
    PID_FILE_NAME,
    Connection,
    Plan,
    PlannedJob,
    Settings,
    Waker,
    build_plan,
    load_and_connect,
)
from pyrotorque.daemon.serve import GUARD_CHECK_INTERVAL, GUARD_STOP_GRACE, Daemon
from pyrotorque.errors import GuardFileMissing

__all__ = [
    "DEFAULT_RPC_TIMEOUT",
    "GUARD_CHECK_INTERVAL",
    "GUARD_FILE_NAME",
    "GUARD_STOP_GRACE",
    "LOG_DIR_NAME",
    "PID_FILE_NAME",
    "READY_TIMEOUT",
    "RPC_TIMEOUT_KEY",
    "STOP_TIMEOUT",
    "Connection",
    "Daemon",
    "GuardFileMissing",
    "Plan",
    "PlannedJob",
    "ReadyPipe",
    "Settings",
    "StartOutcome",
    "StartResult",
    "StopResult",
    "Waker",
    "build_plan",
    "check_may_start",
    "detach",
    "load_and_connect",
    "start",
    "status",
    "stop",
]
