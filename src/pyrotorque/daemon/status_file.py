"""The status file's name and format, and how ``--status`` reads it.

A leaf (``json`` and ``os`` only), so that ``pyrotorque --status`` while a daemon runs need not import
what the daemon writes the file with (status_board.py: dataclasses, threading, pathlib). The reader
gives attribute views of the file's records, which is all status_view.py reads; a file of another
format or process is None, and one of another shape fails there (``cli_quick`` then says that the
daemon has published no status).
"""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

#: The status file's name, in the pid file's directory.
STATUS_FILE_NAME = "pyrotorque.status.json"
#: Bumped when a field changes meaning; ``--status`` refuses a format it does not know.
FORMAT = 1


def status_file_name(pid_file_name: str) -> str:
    """Where the daemon whose pid file is ``pid_file_name`` keeps its status."""
    return os.path.join(os.path.dirname(pid_file_name), STATUS_FILE_NAME)


def read_status_view(file_name: str, pid: int) -> SimpleNamespace | None:
    """The running daemon ``pid``'s status as attribute views, or None (no file, stale, another
    format, or not the shape this version writes)."""
    try:
        with open(file_name, encoding="utf-8") as handle:
            data = json.load(handle)
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("pid") != pid:
            return None
        jobs = [SimpleNamespace(**job) for job in data.get("jobs", [])]
        connections = [SimpleNamespace(**one) for one in data.get("connections", [])]
    except (OSError, ValueError, TypeError):
        return None
    return SimpleNamespace(**{**data, "jobs": jobs, "connections": connections})
