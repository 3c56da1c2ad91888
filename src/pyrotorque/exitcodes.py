"""Exit codes of the ``pyrotorque`` command (the table in docs/cli.md); sysexits values where one fits."""

from __future__ import annotations

EXIT_OK = 0
EXIT_NO_MATCH = 1
EXIT_USAGE = 2
EXIT_NOT_RUNNING = 3  # --status, as LSB init scripts say "program is not running"
EXIT_UNAVAILABLE = 69  # rTorrent cannot be reached (--check, --run-once, --match)
EXIT_SOFTWARE = 70  # a bug: an unexpected exception; the daemon failed while starting its jobs
EXIT_IOERR = 74  # pid file or run/log directory trouble
EXIT_TEMPFAIL = 75  # start refused (guard file missing, already running); --stop could not stop it
EXIT_CONFIG = 78  # bad configuration: the message names key, file and line
