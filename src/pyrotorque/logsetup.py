"""Logging for the command line and the daemon: the console, and ``log/torque.log`` for the daemon.

The log file must never hurt the daemon. ``LogFileHandler`` follows logrotate as ``WatchedFileHandler``
does, but its reopening happens inside the handler's own error handling (the stdlib's reopens outside
it, so a deleted log folder or a full disk raised ``OSError`` into whatever thread was logging, and
killed the tree watch's inotify thread). A log folder that vanished is created again; while the file
cannot be written, lines are dropped, said once on stderr (when stderr is not the log itself), and
once in the log when it works again, with how many lines were lost. In the detached daemon stdout
and stderr follow the log file to its new incarnation, so a deleted log's space is not kept in use.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pyrotorque.paths import LOG_FILE_NAME as LOG_FILE_NAME

FORMAT = "%(asctime)s %(levelname)-8s %(message)s [%(name)s]"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

#: APScheduler loggers whose warnings repeat on every tick of a slow job (skipped or missed runs).
_SCHEDULER_LOGGERS = ("apscheduler.scheduler", "apscheduler.executors.default")

_CONSOLE = "pyrotorque-console"
_FILE = "pyrotorque-file"


def setup_logging(
    level: int, log_file: Path | None = None, *, console: bool = True, debug: bool = False
) -> None:
    """Configure the root logger: the console (stderr) and/or an appending, logrotate-safe file."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() in (_CONSOLE, _FILE):
            root.removeHandler(handler)
            handler.close()
    formatter = logging.Formatter(FORMAT, DATE_FORMAT)
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.set_name(_CONSOLE)
        stream.setFormatter(formatter)
        root.addHandler(stream)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        watched = LogFileHandler(log_file)
        watched.set_name(_FILE)
        watched.setFormatter(formatter)
        root.addHandler(watched)
    root.setLevel(level)
    # The scheduler's "Running job ..." lines would drown the jobs' own lines, except with --debug.
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if debug else logging.WARNING)
    # A job slower than its schedule makes APScheduler warn at every skipped run: keep one a minute.
    for name in _SCHEDULER_LOGGERS:
        scheduler_logger = logging.getLogger(name)
        if not any(isinstance(f, RepeatLimiter) for f in scheduler_logger.filters):
            scheduler_logger.addFilter(RepeatLimiter())
    # tzlocal explains at DEBUG how it found the time zone: noise even for -v.
    logging.getLogger("tzlocal").setLevel(logging.DEBUG if debug else logging.WARNING)


def drop_console() -> None:
    """Remove the console handler (after detaching, stderr is no terminal any more)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _CONSOLE:
            root.removeHandler(handler)
            handler.close()


def log_file_stream() -> int | None:
    """The file descriptor of the log file handler, to send stray stdout/stderr output there."""
    handler = _file_handler()
    if handler is not None and handler.stream:
        return handler.stream.fileno()
    return None


def send_stdio_to_log() -> None:
    """Point stdout and stderr at the log file (or /dev/null), and keep them on it after each reopen."""
    handler = _file_handler()
    if handler is not None:
        handler.follow_stdio = True
    _point_stdio(log_file_stream())


def _file_handler() -> LogFileHandler | None:
    for handler in logging.getLogger().handlers:
        if handler.get_name() == _FILE and isinstance(handler, LogFileHandler):
            return handler
    return None


def _point_stdio(fd: int | None) -> None:
    """dup2 ``fd`` (None: /dev/null) onto stdout and stderr; the old targets are let go."""
    with contextlib.suppress(OSError):
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    if fd is not None:
        for std in (1, 2):
            os.dup2(fd, std)
        return
    null_fd = os.open(os.devnull, os.O_WRONLY)
    try:
        for std in (1, 2):
            os.dup2(null_fd, std)
    finally:
        os.close(null_fd)


def _tell_stderr(text: str) -> None:
    with contextlib.suppress(Exception):
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


class LogFileHandler(logging.FileHandler):
    """The daemon's appending log file: follows logrotate; no failure of the file reaches a caller.

    What ``WatchedFileHandler`` would add is the device and inode of the open file, kept here; not
    derived from it because ``logging.handlers`` imports ``socket``, ``pickle`` and ``queue``, a
    third of a control command's cost when it takes the ordinary way (``--cron -v``, say).
    """

    def __init__(self, path: Path, *, notice: Callable[[str], None] = _tell_stderr) -> None:
        super().__init__(path, mode="a", encoding="utf-8")
        self.dev, self.ino = -1, -1
        self._statstream()
        #: True in the detached daemon, whose stdout and stderr are the log file (send_stdio_to_log).
        self.follow_stdio = False
        self._notice = notice
        self._failure: str | None = None  # why writing fails, while it does
        self._failing_since = 0.0
        self._lost = 0
        self._folder_recreated = False

    def emit(self, record: logging.LogRecord) -> None:
        """Write one record, reopening the file first if it was moved or deleted; never raises OSError."""
        try:
            text = self.format(record)
        except Exception:
            self.handleError(record)
            return
        try:
            self.reopenIfNeeded()
            if self._failure is not None or self._folder_recreated:
                self._write(self.format(self._recovery_record()))
                self._failure = None
                self._folder_recreated = False
                self._lost = 0
            self._write(text)
        except OSError as exc:
            self._failed(exc)

    def reopenIfNeeded(self) -> None:  # the stdlib's name
        """Open the file again when it is not the one at the path any more (or not open at all)."""
        try:
            found = os.stat(self.baseFilename)
        except OSError:
            found = None
        if (
            self.stream is not None
            and found is not None
            and (found.st_dev, found.st_ino) == (self.dev, self.ino)
        ):
            return
        old, self.stream = self.stream, None
        if old is not None:
            with contextlib.suppress(OSError):
                old.close()  # on a full disk the lines still buffered are lost with it
        folder = Path(self.baseFilename).parent
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            self._folder_recreated = True
        self.stream = self._open()
        self._statstream()
        if self.follow_stdio:
            _point_stdio(self.stream.fileno())

    def _statstream(self) -> None:
        """Remember which file is open, to notice when the path names another one (logrotate)."""
        if self.stream is not None:
            opened = os.fstat(self.stream.fileno())
            self.dev, self.ino = opened.st_dev, opened.st_ino

    def _write(self, text: str) -> None:
        assert self.stream is not None
        self.stream.write(text + self.terminator)
        self.stream.flush()

    def _failed(self, exc: OSError) -> None:
        self._lost += 1
        old, self.stream = self.stream, None  # reopened by the next record: no half-written buffer
        if old is not None:
            with contextlib.suppress(OSError):
                old.close()
        if self._failure is not None:
            return
        self._failure = exc.strerror or str(exc)
        self._failing_since = time.time()
        if self.follow_stdio:
            # stderr is the log file itself; a deleted one would also stay allocated through it.
            _point_stdio(None)
        else:
            self._notice(
                f"pyrotorque: cannot write the log file {self.baseFilename} ({self._failure}); "
                "its lines are dropped until it works again"
            )

    def _recovery_record(self) -> logging.LogRecord:
        """The one line that says what happened to the log while it could not be written."""
        args: tuple[object, ...]
        if self._failure is None:
            message = "The log folder %s had disappeared; created it again"
            args = (str(Path(self.baseFilename).parent),)
        else:
            since = time.strftime(DATE_FORMAT, time.localtime(self._failing_since))
            message = "The log file %s could not be written from %s on (%s); %d line(s) lost"
            args = (self.baseFilename, since, self._failure, self._lost)
        return logging.LogRecord("pyrotorque.log", logging.WARNING, __file__, 0, message, args, None)


class RepeatLimiter(logging.Filter):
    """Lets the same warning (message template and first argument) through at most once per interval."""

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._last: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        """True when the record may pass; repeats within the interval are dropped."""
        if record.levelno < logging.WARNING:
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        key = (str(record.msg), str(args[0]) if args else "")
        now = self.clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval:
                return False
            self._last[key] = now
        return True
