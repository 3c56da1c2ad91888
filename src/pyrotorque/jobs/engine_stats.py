"""EngineStats (``job.connstats``): one INFO line per tick about rTorrent and our connection to it.

Uptime comes from rTorrent itself, so it is right after rTorrent restarts under a running daemon:
``pyrotorque.startup_time`` is a constant our ``torque.rc`` include sets when rTorrent reads its
configuration. Without that include, the session lock file's modification time is used when the
session directory is visible on this host (rTorrent writes the lock at start); otherwise the uptime is
reported as unknown. Everything is fetched with one ``system.multicall`` per tick.
"""

from __future__ import annotations

import os
from typing import Any

from pyrotorque.durations import format_duration
from pyrotorque.errors import FaultError
from pyrotorque.jobs.base import Job, NoOptions

STARTUP_TIME_METHOD = "pyrotorque.startup_time"


def _startup_time(startup_stamp: Any, session_path: Any) -> float | None:
    """rTorrent's start time: our rc's stamp, else the session lock file's mtime, else None."""
    if not isinstance(startup_stamp, FaultError) and str(startup_stamp).isdigit() and int(startup_stamp):
        return float(startup_stamp)
    if isinstance(session_path, str) and session_path:
        try:
            return os.stat(os.path.join(os.path.expanduser(session_path), "rtorrent.lock")).st_mtime
        except OSError:
            return None
    return None


def _required(value: Any) -> Any:
    """A multicall result that must not have failed: re-raise its fault."""
    if isinstance(value, FaultError):
        raise value
    return value


class EngineStats(Job):
    """Logs rTorrent's session name, uptime, item count and the client's request statistics."""

    Options = NoOptions

    def run(self) -> None:
        """Fetch everything in one multicall and log one line."""
        name, now, startup_stamp, session_path, items = self.context.client.multicall(
            [
                ("session.name", ("",)),
                ("system.time", ("",)),
                (STARTUP_TIME_METHOD, ("",)),
                ("session.path", ("",)),
                ("view.size", ("", "main")),
            ]
        )
        startup = _startup_time(startup_stamp, session_path)
        now_seconds = float(_required(now))
        uptime = "unknown"
        if startup is not None:
            # A start stamp ahead of rTorrent's clock (clock skew) shows as 0s, not as a countdown.
            uptime = format_duration(max(0, int(now_seconds - startup)), weeks=True, max_units=2)
        # One stats job per connection; each line names its connection unless it is the only default one.
        connection = self.context.connection
        on = "" if connection == "default" else f" (connection {connection})"
        self.log.info(
            "Stats for %s%s - up %s, %s items, %s",
            _required(name),
            on,
            uptime,
            _required(items),
            self.context.client.stats,
        )
