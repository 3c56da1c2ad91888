"""``--status`` as text: the daemon's uptime, its rTorrent and whether it answers, and a table of jobs."""

from __future__ import annotations

import time

from pyrotorque.durations import format_duration
from pyrotorque.tick_outcomes import OK

TYPE_CHECKING = False  # not typing's: --status's quick answer imports this module, and typing costs
if TYPE_CHECKING:
    # Or their attribute views from status_file.read_status_view: only attributes are read here.
    from pyrotorque.daemon.status_board import ConnectionStatus, DaemonStatus, JobStatus


def _when(epoch: float | None, now: float) -> str:
    """A local time, with the date when it is not today; "-" for none (time's, not datetime's: the
    quick ``--status`` would import datetime for it alone)."""
    if epoch is None:
        return "-"
    moment, today = time.localtime(epoch), time.localtime(now)
    same_day = moment[:3] == today[:3]
    return time.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S", moment)


def _ago(epoch: float, now: float) -> str:
    return format_duration(max(0.0, now - epoch), max_units=2)


def _last_run(job: JobStatus, now: float) -> str:
    if job.running_since is not None:
        return f"running for {_ago(job.running_since, now)}"
    if job.last_end is None or job.last_start is None:
        return "not yet"
    took = job.last_end - job.last_start
    return f"{_when(job.last_end, now)} ({took:.2f} s) {job.last_outcome or '?'}"


def _connection(one: DaemonStatus | ConnectionStatus, now: float, name: str = "") -> str:
    if one.reachable is None:
        state = "not asked yet"
    else:
        word = "reachable" if one.reachable else "NOT reachable"
        since = one.reachable_since
        state = f"{word} for {_ago(since, now)}" if since is not None else word
    return f"rTorrent {name}at {one.url}: {state}"


def _connections(status: DaemonStatus, now: float) -> list[str]:
    """One line for a single rTorrent (as before several could be served), else one per connection."""
    if len(status.connections) <= 1:
        return [_connection(status, now)]
    return [_connection(one, now, f"{one.name!r} ") for one in status.connections]


def _job_rows(status: DaemonStatus, now: float) -> list[tuple[str, ...]]:
    several = len(status.connections) > 1
    head = ("job", "schedule", "last run", "next run", "runs/failed")
    rows: list[tuple[str, ...]] = [(*head, "connection") if several else head]
    for job in status.jobs:
        counts = f"{job.runs}/{job.failures}"
        row = (job.name, job.schedule, _last_run(job, now), _when(job.next_run, now), counts)
        rows.append((*row, job.connection) if several else row)
    return rows


def status_lines(status: DaemonStatus, now: float) -> list[str]:
    """The lines after "pyrotorque is running as process #PID"."""
    lines = [
        f"version {status.version}, up {_ago(status.started, now)} (since {_when(status.started, now)})",
        *_connections(status, now),
    ]
    if not status.jobs:
        return [*lines, "no active jobs"]
    rows = _job_rows(status, now)
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    for job in status.jobs:
        if job.last_error and job.last_error_at is not None:
            fresh = "" if job.last_outcome != OK else ", since then ok"
            lines.append(
                f"last error of {job.name} at {_when(job.last_error_at, now)}{fresh}: {job.last_error}"
            )
    return lines
