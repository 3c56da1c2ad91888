"""Run a program from an argv list, never through a shell: bounded in time and in output.

What the rule jobs (``exec=``, the ``Command`` job) share. A program gets no stdin (``/dev/null``), the
daemon's environment plus the variables given, its own session (so the whole process group can be
killed when the timeout passes, children included), and its stdout and stderr read through one
``select`` loop that keeps only the last ``OUTPUT_TAIL`` bytes of each: a program writing gigabytes
cannot grow the daemon's memory, and no thread is left behind.

Everything that can go wrong with one program (not found, not executable, a bad working directory,
a non-zero exit, the timeout) is a ``ProgramResult`` with a ``reason``, never an exception: a rule job
goes on with its next item. The wait is real time (``selectors`` and ``Popen.wait`` cannot follow a
fake clock); the clock only measures how long a program ran, for the log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pyrotorque.clock import SYSTEM_CLOCK, Clock

#: Bytes kept of a program's stdout and of its stderr: the last ones, where the error usually is.
OUTPUT_TAIL = 4096
#: Characters of stderr a warning quotes (the result keeps ``OUTPUT_TAIL`` bytes).
LOGGED_TAIL = 1024
#: After the group was killed, how long its pipes may take to close and its leader to be reaped.
KILL_GRACE = 5.0
_CHUNK = 65536


@dataclass(frozen=True)
class ProgramResult:
    """How one program run ended.

    ``status`` is the exit status (negative: killed by that signal), None when the program did not
    start or did not end; ``reason`` is None on success, else why not, as one line for a log.
    """

    argv: tuple[str, ...]
    status: int | None
    stdout: bytes = b""
    stderr: bytes = b""
    timed_out: bool = False
    reason: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the program ran and exited with status 0."""
        return self.reason is None

    def stderr_tail(self, limit: int = LOGGED_TAIL) -> str:
        """The end of stderr as text, on one line (newlines shown as ``\\n``), for a log."""
        return _one_line(self.stderr, limit)

    def stdout_tail(self, limit: int = LOGGED_TAIL) -> str:
        """The end of stdout as text, on one line, for a log."""
        return _one_line(self.stdout, limit)


def _one_line(data: bytes, limit: int) -> str:
    text = data.decode("utf-8", errors="replace").strip()
    return text[-limit:].replace("\r", "\\r").replace("\n", "\\n")


class _Tail:
    """The last ``size`` bytes written to it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data = bytearray()

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > self.size:
            del self.data[: len(self.data) - self.size]


class ProgramRunner:
    """Runs programs for one job; ``stop()`` kills the one still running and refuses new ones.

    A job calls ``stop()`` from its own ``stop()``: the daemon's bounded stop must not leave a
    program behind that runs on in its own session after the daemon is gone.
    """

    def __init__(self, log: logging.Logger, clock: Clock = SYSTEM_CLOCK, *, tail: int = OUTPUT_TAIL) -> None:
        self.log = log
        self.clock = clock
        self.tail = tail
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._stopped = False

    def stop(self) -> None:
        """Kill the process groups of the programs still running; later runs fail at once."""
        with self._lock:
            self._stopped = True
            running = list(self._running)
        for process in running:
            _kill_group(process)

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        timeout: float = 60.0,
        failure_level: int = logging.WARNING,
    ) -> ProgramResult:
        """Run ``argv`` (no shell) for at most ``timeout`` seconds; failures are logged and returned."""
        result = self._run(tuple(argv), env, cwd, timeout)
        if result.ok:
            self.log.debug("%s: exit status 0 after %.1f s", _program(result.argv), result.seconds)
        else:
            self.log.log(
                failure_level,
                "Program %s: %s; stderr: %s",
                _program(result.argv),
                result.reason,
                result.stderr_tail() or "(empty)",
            )
        return result

    def _run(
        self, argv: tuple[str, ...], env: Mapping[str, str] | None, cwd: str | None, timeout: float
    ) -> ProgramResult:
        self.log.debug("Running %r%s", list(argv), f" in {cwd}" if cwd else "")
        if not argv or not argv[0]:
            return ProgramResult(argv, None, reason="no program given")
        started = self.clock.monotonic()
        try:
            process = self._start(argv, env, cwd)
        except OSError as exc:
            return ProgramResult(argv, None, reason=_start_problem(exc, argv[0], cwd))
        except ValueError as exc:  # a NUL byte in an argument or a variable
            return ProgramResult(argv, None, reason=f"cannot be started: {exc}")
        try:
            stdout, stderr, timed_out = self._collect(process, timeout)
        finally:
            with self._lock:
                self._running.discard(process)
        seconds = self.clock.monotonic() - started
        status = process.returncode
        return ProgramResult(
            argv, status, stdout, stderr, timed_out, _end_problem(status, timed_out, timeout), seconds
        )

    def _start(
        self, argv: tuple[str, ...], env: Mapping[str, str] | None, cwd: str | None
    ) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._stopped:
                raise OSError(0, "the job is stopping")
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**os.environ, **(env or {})},
                cwd=cwd or None,
                start_new_session=True,  # its own process group, killed as a whole on timeout
                close_fds=True,
            )
            self._running.add(process)
        return process

    def _collect(self, process: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, bytes, bool]:
        """Read both pipes until they close and the program ends, or kill the group at the timeout."""
        assert process.stdout is not None and process.stderr is not None
        out, err = _Tail(self.tail), _Tail(self.tail)
        tails = {process.stdout.fileno(): out, process.stderr.fileno(): err}
        # Real time on purpose: a child process does not follow a job's (possibly fake) clock.
        deadline = _now() + timeout
        timed_out = not _drain(tails, deadline)
        if not timed_out:
            try:
                process.wait(max(0.0, deadline - _now()))
            except subprocess.TimeoutExpired:
                timed_out = True
        if timed_out:
            _kill_group(process)
            _drain(tails, _now() + KILL_GRACE)
            try:
                process.wait(KILL_GRACE)
            except subprocess.TimeoutExpired:
                self.log.warning("Program %r does not end after SIGKILL", process.args)
        process.stdout.close()
        process.stderr.close()
        return bytes(out.data), bytes(err.data), timed_out


def _drain(tails: Mapping[int, _Tail], deadline: float) -> bool:
    """Read the pipes (by fd) until all are closed (True) or the deadline passes (False)."""
    with selectors.DefaultSelector() as selector:
        for fd in tails:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - _now()
            if remaining <= 0:
                return False
            for key, _events in selector.select(remaining):
                chunk = os.read(key.fd, _CHUNK)
                if chunk:
                    tails[key.fd].add(chunk)
                else:
                    selector.unregister(key.fd)
    return True


def _now() -> float:
    """Real monotonic time: only the deadline of a real child process uses it (module docstring)."""
    return time.monotonic()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the program's process group (its session: the program and what it started)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(process.pid, signal.SIGKILL)


def _program(argv: tuple[str, ...]) -> str:
    return repr(argv[0]) if argv else "(none)"


def _start_problem(exc: OSError, program: str, cwd: str | None) -> str:
    """Why a program could not start, as one line."""
    if exc.errno == 0:
        return str(exc.strerror)
    where = exc.filename if exc.filename is not None else program
    if cwd and where == cwd:
        return f"cannot change into the working directory {cwd!r}: {exc.strerror}"
    if isinstance(exc, FileNotFoundError):
        return f"program not found: {program!r}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {program!r}"
    return f"cannot be started: {exc.strerror or exc} ({program!r})"


def _end_problem(status: int | None, timed_out: bool, timeout: float) -> str | None:
    """Why a program that started did not succeed, or None."""
    if timed_out:
        return f"killed after the timeout of {timeout:g} s"
    if status == 0:
        return None
    if status is None:
        return "did not end"
    if status < 0:
        try:
            return f"killed by signal {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"
