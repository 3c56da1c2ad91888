"""Logging for the command line and the daemon: the console, and ``log/torque.log`` for the daemon."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-8s %(message)s [%(name)s]"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
LOG_FILE_NAME = "torque.log"

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
