"""Logging for the command line and the daemon: the console, and ``log/torque.log`` for the daemon."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-8s %(message)s [%(name)s]"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
LOG_FILE_NAME = "torque.log"

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
        # WatchedFileHandler reopens the file when logrotate moves it away.
        watched = logging.handlers.WatchedFileHandler(log_file, mode="a", encoding="utf-8")
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
    for handler in logging.getLogger().handlers:
        if handler.get_name() == _FILE and isinstance(handler, logging.FileHandler) and handler.stream:
            return handler.stream.fileno()
    return None


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
