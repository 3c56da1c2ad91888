"""A pid file guarded by an ``flock`` lock: the lock, not the pid, says whether a daemon runs.

The lock is taken with ``fcntl.flock`` because such a lock belongs to the open file description:
a launcher can take it before forking and the detached daemon keeps holding it through the
inherited descriptor after the launcher exits. A crashed daemon's lock vanishes with its process,
so a pid file left behind is recognised as stale and simply reused.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time

from pyrotorque.errors import DaemonError

TYPE_CHECKING = False  # not typing's, nor a dataclass below: --status and --cron import this module
if TYPE_CHECKING:
    from pathlib import Path


class AlreadyRunning(DaemonError):
    """Another process holds the pid file's lock."""


class PidStatus:
    """What a pid file says: whether its lock is held, and the pid written in it (0 if none).

    A plain class, not a dataclass: ``dataclasses`` imports ``inspect``, a fifth of what a control
    command may cost.
    """

    __slots__ = ("exists", "pid", "running")

    def __init__(self, *, running: bool, pid: int, exists: bool) -> None:
        self.running = running
        self.pid = pid
        self.exists = exists

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PidStatus):
            return NotImplemented
        return (self.running, self.pid, self.exists) == (other.running, other.pid, other.exists)

    def __hash__(self) -> int:
        return hash((self.running, self.pid, self.exists))

    def __repr__(self) -> str:
        return f"PidStatus(running={self.running!r}, pid={self.pid!r}, exists={self.exists!r})"


def _parse_pid(text: str) -> int:
    """The pid in a pid file's text, 0 when it holds none."""
    text = text.strip()
    return int(text) if text.isdigit() else 0


#: How long a reader waits for a starting daemon to write its pid (it does so right after forking).
_STARTING_WAIT = 2.0


def _pid_of_holder(fd: int) -> int:
    """The pid in a locked pid file; an empty file means a daemon is detaching, so wait for it briefly."""
    deadline = time.monotonic() + _STARTING_WAIT
    while True:
        pid = _parse_pid(os.pread(fd, 64, 0).decode("ascii", "replace"))
        if pid or time.monotonic() > deadline:
            return pid
        time.sleep(0.01)


def probe(path: Path | str) -> PidStatus:
    """Check the pid file without disturbing a daemon that holds it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return PidStatus(running=False, pid=0, exists=False)
    except OSError as exc:
        raise DaemonError(f"cannot read pid file {path}: {exc.strerror}") from exc
    try:
        pid = _parse_pid(os.read(fd, 64).decode("ascii", "replace"))
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EACCES):
                return PidStatus(running=True, pid=pid or _pid_of_holder(fd), exists=True)
            raise DaemonError(f"cannot lock pid file {path}: {exc.strerror}") from exc
        return PidStatus(running=False, pid=pid, exists=True)
    finally:
        os.close(fd)


class PidFile:
    """The daemon's own pid file: ``acquire()`` locks and writes it, ``release()`` removes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self, *, write: bool = True) -> None:
        """Lock the pid file and write our pid; DaemonError if another daemon holds it.

        With ``write=False`` the file is only emptied: a launcher that is about to fork leaves the pid
        to the daemon (``write_pid``), so nobody ever reads a pid that is not the daemon's.
        """
        if self._fd is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DaemonError(f"cannot create pid file {self.path}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            held = exc.errno in (errno.EWOULDBLOCK, errno.EACCES)
            pid = _pid_of_holder(fd) if held else 0
            os.close(fd)
            if held:
                raise AlreadyRunning(f"pyrotorque is already running as process #{pid}") from exc
            raise DaemonError(f"cannot lock pid file {self.path}: {exc.strerror}") from exc
        if not self._still_linked(fd):
            # A daemon that was exiting removed the file between our open() and flock(): start over.
            os.close(fd)
            self.acquire(write=write)
            return
        self._fd = fd
        if write:
            self.write_pid()
        else:
            os.ftruncate(fd, 0)  # a stale daemon's pid must not be read as ours meanwhile

    def _still_linked(self, fd: int) -> bool:
        """True if ``fd`` is still the file at our path."""
        try:
            return os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False

    def write_pid(self, pid: int | None = None) -> None:
        """(Re)write the pid; the detached daemon calls this with its own pid after forking."""
        if self._fd is None:
            raise DaemonError(f"pid file {self.path} is not locked by this process")
        data = f"{pid if pid is not None else os.getpid()}\n".encode("ascii")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)
        os.fsync(self._fd)

    def close(self) -> None:
        """Let go of our descriptor but keep the file: a forked daemon still holds the lock."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def release(self) -> None:
        """Remove the pid file and drop the lock; safe to call more than once."""
        if self._fd is None:
            return
        # Unlink before unlocking, so no other process can lock the old file's inode in between
        # and then believe it owns the path.
        # Not contextlib.suppress: contextlib (and collections) would cost the control commands.
        try:  # noqa: SIM105
            self.path.unlink()
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None
