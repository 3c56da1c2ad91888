"""Detaching: the double fork, the readiness pipe from the daemon to its launcher, stdio redirection.

The daemon writes one line to the pipe: ``ready PID`` once its jobs run, or ``failed MESSAGE``; the
launcher turns it into a ``StartResult`` (nothing is written to the terminal here).
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import time

from pyrotorque import logsetup
from pyrotorque.daemon.outcome import StartOutcome, StartResult
from pyrotorque.pidfile import PidFile

#: How long the launcher waits for the detached daemon to report that its jobs started.
READY_TIMEOUT = 30.0
_READY = "ready"
_FAILED = "failed"


def detach(pid_file: PidFile) -> StartResult | ReadyPipe:
    """Double fork; returns the daemon's report in the launcher and a ReadyPipe in the daemon."""
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
        return launch_result(report)
    # The first child: a new session without a controlling terminal, then let go of it.
    os.close(read_fd)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    os.chdir("/")
    _redirect_stdio()
    pid_file.write_pid()
    return ReadyPipe(write_fd)


def launch_result(report: str) -> StartResult:
    """The launcher's view of what the daemon wrote to the pipe ("" when it wrote nothing)."""
    word, _, rest = report.partition(" ")
    if word == _READY:
        pid, _, warning = rest.partition(" ")
        return StartResult(StartOutcome.DAEMON_READY, message=warning, pid=int(pid) if pid.isdigit() else 0)
    if not report:
        return StartResult(StartOutcome.DAEMON_LOST)
    return StartResult(StartOutcome.DAEMON_FAILED, message=rest if word == _FAILED else report)


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
    os.dup2(null_fd, 0)
    os.close(null_fd)
    logsetup.send_stdio_to_log()  # they follow the log file when it is rotated or re-created


class ReadyPipe:
    """The daemon's end of the launcher's pipe: one report line, then closed."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def ready(self, warning: str = "") -> None:
        """Tell the launcher that the jobs run; ``warning`` lists the jobs left out (they could not start)."""
        self._report(f"{_READY} {os.getpid()} {warning}".rstrip())

    def failed(self, message: str) -> None:
        """Tell the launcher why the jobs could not start."""
        self._report(f"{_FAILED} {message}")

    def _report(self, text: str) -> None:
        """Send ``text`` to the launcher and close the pipe; later reports are ignored."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.write(self._fd, (text.replace("\n", " ") + "\n").encode("utf-8"))
        os.close(self._fd)
        self._fd = None
