"""The control commands' quick answer: ``--version``, ``--status``, ``--stop`` and ``--cron`` while running.

Each is a fresh interpreter (the watchdog's ``--cron`` every few minutes for years), so its cost is
its imports, and ``argparse``, ``logging`` and ``pathlib`` together cost more than a bare Python start
(the target of bench/control.py is twice that). So ``cli.main`` asks here first: for the plain forms
of these commands (one of them, with ``--config-dir`` and ``--pid-file`` at most) this module reads
the pid file with ``os`` alone and answers as ``cli.main`` would, same output, same exit code. Any
other command line, and any case that needs more (a running daemon's status lines, stopping it,
starting one, an error to report) gets None, and ``cli.main`` does it all the ordinary way; what
was done here is read-only or what that way does first anyway, so doing it again changes nothing.
"""

from __future__ import annotations

import os
import sys

import pyrotorque
from pyrotorque import paths
from pyrotorque.cli_output import say
from pyrotorque.errors import PyrotorqueError
from pyrotorque.exitcodes import EXIT_NOT_RUNNING, EXIT_OK
from pyrotorque.pidfile import PidStatus, probe

TYPE_CHECKING = False  # not typing's: importing it would cost a tenth of the budget
if TYPE_CHECKING:
    from collections.abc import Sequence

#: The commands answered here (``-?`` is ``--status``), and the options taken with them.
_COMMANDS = {"--status": "status", "-?": "status", "--stop": "stop", "--cron": "cron"}
_OPTIONS = ("--config-dir", "--pid-file")


def version_line() -> str:
    """What ``--version`` prints."""
    where = os.path.dirname(pyrotorque.__file__)  # the package directory, as Path(...).parent has it
    python = ".".join(map(str, sys.version_info[:3]))
    return f"pyrotorque {pyrotorque.__version__} from {where} on Python {python}"


def restrict_umask() -> None:
    """Keep group and others from writing what we create (pid, log, state), whatever umask we got.

    cron and rTorrent's execute pass on their own umask, which may be 0; the pid file and the state
    decide what the daemon does, so nobody else may change them.
    """
    current = os.umask(0o022)
    os.umask(current | 0o022)


def _parse(argv: Sequence[str]) -> tuple[str, dict[str, str]] | None:
    """The command and its options, if ``argv`` is one of the plain forms argparse reads alike."""
    command: str | None = None
    options: dict[str, str] = {}
    rest = list(argv)
    while rest:
        word = rest.pop(0)
        if word in _COMMANDS and command is None:
            command = _COMMANDS[word]
            continue
        name, equals, value = word.partition("=")
        if name not in _OPTIONS or name in options:
            return None  # anything else, or an option twice: argparse decides
        if not equals:
            if not rest:
                return None
            value = rest.pop(0)
        # argparse reads a leading "-" as the next option; a trailing "/" or "~" are rare: not here.
        if not value or value.startswith(("-", "~")) or value.endswith("/"):
            return None
        options[name] = value
    return (command, options) if command is not None else None


def _open_log(config_dir: str | None) -> bool:
    """Open (and create) the log file as the ordinary ``--cron`` does first; False if that fails."""
    restrict_umask()
    name = paths.log_file_name(config_dir, os.environ)
    try:
        os.makedirs(os.path.dirname(name), exist_ok=True)
        os.close(os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666))
    except OSError:
        return False  # cli.main says why, and exits with its code
    return True


def quick_answer(argv: Sequence[str]) -> int | None:
    """The exit code of a control command answered here, or None: ``cli.main`` must do it."""
    if list(argv) == ["--version"]:
        say(version_line())
        return EXIT_OK
    parsed = _parse(argv)
    if parsed is None:
        return None
    command, options = parsed
    config_dir = options.get("--config-dir")
    if command == "cron" and not _open_log(config_dir):
        return None
    try:
        pid_file = paths.pid_file_name(config_dir, options.get("--pid-file"), os.environ)
        found = probe(pid_file)
    except (PyrotorqueError, RuntimeError):
        return None  # an unreadable pid file, or no home directory: cli.main reports it
    if command == "cron" and found.running:
        return EXIT_OK  # the watchdog's usual call: the daemon runs, nothing to do
    if command == "stop" and not found.running:
        say("pyrotorque was not running")
        return EXIT_OK
    if command == "status":
        return status_answer(pid_file, found)
    return None


def status_answer(pid_file: str, found: PidStatus) -> int:
    """Say what ``--status`` says for this pid file's state; its exit code."""
    if not found.running:
        stale = f" (stale pid file of process #{found.pid})" if found.exists else ""
        say(f"pyrotorque is not running{stale}")
        return EXIT_NOT_RUNNING
    for line in _running_status_lines(pid_file, found.pid):
        say(line)
    return EXIT_OK


def _running_status_lines(pid_file: str, pid: int) -> list[str]:
    """What ``--status`` says of the running daemon ``pid``: its published status, read without json's re
    (status_file.py), or that it has published none (yet, or not in the shape this version writes)."""
    import time

    from pyrotorque.daemon.status_file import read_status_view, status_file_name
    from pyrotorque.daemon.status_view import status_lines

    head = f"pyrotorque is running as process #{pid}"
    published = read_status_view(status_file_name(pid_file), pid)
    if published is not None:
        try:
            return [head, *status_lines(published, time.time())]  # type: ignore[arg-type]  # a view
        except (AttributeError, TypeError, ValueError, OverflowError, OSError):
            pass  # a field missing or of another type: not a file this version wrote
    return [head, "(it has not published its job status yet)"]
