"""Process control: status, stop, and start (whether a start may go on, the pid lock, detaching, serving)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pyrotorque.daemon.detach import detach
from pyrotorque.daemon.outcome import StartResult
from pyrotorque.daemon.settings import Settings
from pyrotorque.errors import GuardFileMissing
from pyrotorque.pidfile import AlreadyRunning, PidFile, PidStatus, probe

if TYPE_CHECKING:
    from pyrotorque.daemon.plan import Plan

#: The package's logger, so log lines say ``[pyrotorque.daemon]`` whichever module writes them.
log = logging.getLogger("pyrotorque.daemon")

#: How long ``--stop`` waits for the daemon to go away.
STOP_TIMEOUT = 10.0


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


def start(settings: Settings, plan: Plan) -> StartResult:
    """Start the daemon from a validated plan; how it ended, in the launcher and in the daemon.

    A refusal raises (AlreadyRunning, GuardFileMissing, or the pid file's DaemonError).
    """
    from pyrotorque.daemon.serve import Daemon  # the scheduler: not for --status, --stop or --cron

    check_may_start(settings)
    pid_file = PidFile(settings.pid_path)
    pid_file.acquire(write=settings.foreground)  # a detaching daemon writes its own pid after forking
    daemon = Daemon(settings, plan, pid_file)
    if settings.foreground:
        return daemon.serve(ready=None)
    ready = detach(pid_file)
    if isinstance(ready, StartResult):
        return ready  # the launcher: what the detached daemon reported
    return daemon.serve(ready=ready)
