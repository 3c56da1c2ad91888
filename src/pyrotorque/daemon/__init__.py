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

The names are imported on first use (PEP 562): ``--status``, ``--stop`` and ``--cron`` while a daemon
runs need only control.py and settings.py, not APScheduler, the jobs and the configuration reader.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not typing's: the control commands import this package, and typing costs
if TYPE_CHECKING:
    from typing import Any

    from pyrotorque.config.settings import DEFAULT_RPC_TIMEOUT, RPC_TIMEOUT_KEY
    from pyrotorque.daemon.control import STOP_TIMEOUT, StopResult, check_may_start, start, status, stop
    from pyrotorque.daemon.detach import READY_TIMEOUT, ReadyPipe, detach
    from pyrotorque.daemon.outcome import StartOutcome, StartResult
    from pyrotorque.daemon.plan import (
        Connection,
        Instance,
        Plan,
        PlannedJob,
        Waker,
        build_plan,
        load_and_connect,
        named_instance,
    )
    from pyrotorque.daemon.serve import GUARD_CHECK_INTERVAL, GUARD_STOP_GRACE, Daemon
    from pyrotorque.daemon.settings import GUARD_FILE_NAME, LOG_DIR_NAME, PID_FILE_NAME, Settings
    from pyrotorque.errors import GuardFileMissing

#: Where each name comes from: a module of this package, or a full module name.
_SOURCES = {
    "DEFAULT_RPC_TIMEOUT": "pyrotorque.config.settings",
    "RPC_TIMEOUT_KEY": "pyrotorque.config.settings",
    "GuardFileMissing": "pyrotorque.errors",
    **dict.fromkeys(("STOP_TIMEOUT", "StopResult", "check_may_start", "start", "status", "stop"), "control"),
    **dict.fromkeys(("READY_TIMEOUT", "ReadyPipe", "detach"), "detach"),
    **dict.fromkeys(("StartOutcome", "StartResult"), "outcome"),
    **dict.fromkeys(
        (
            "Connection",
            "Instance",
            "Plan",
            "PlannedJob",
            "Waker",
            "build_plan",
            "load_and_connect",
            "named_instance",
        ),
        "plan",
    ),
    **dict.fromkeys(("GUARD_CHECK_INTERVAL", "GUARD_STOP_GRACE", "Daemon"), "serve"),
    **dict.fromkeys(("GUARD_FILE_NAME", "LOG_DIR_NAME", "PID_FILE_NAME", "Settings"), "settings"),
}

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
    "Instance",
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
    "named_instance",
    "start",
    "status",
    "stop",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562) and keep the name here."""
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(source if "." in source else f"{__name__}.{source}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
