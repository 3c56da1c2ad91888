"""What a running daemon tells ``--status``: a small JSON file next to the pid file, replaced atomically.

The daemon writes it when its jobs start, when a tick begins and when it ends, and removes it when it
stops. ``--status`` only reads it, so it answers at once whatever rTorrent does (down, frozen) and
needs no socket, no configuration and no RPC. A file whose ``pid`` is not the running daemon's is
stale and ignored. The format is documented in docs/cli.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from pyrotorque.daemon.status_file import FORMAT, STATUS_FILE_NAME
from pyrotorque.tick_outcomes import ERROR, OK, UNREACHABLE


def status_path(pid_path: Path) -> Path:
    """Where the daemon whose pid file is ``pid_path`` keeps its status."""
    return pid_path.with_name(STATUS_FILE_NAME)


@dataclass
class JobStatus:
    """One job as ``--status`` shows it; times are epoch seconds, None for "not yet"."""

    name: str
    handler: str
    schedule: str
    next_run: float | None = None
    running_since: float | None = None
    last_start: float | None = None
    last_end: float | None = None
    last_outcome: str | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    runs: int = 0
    failures: int = 0
    #: The ``[CONNECTIONS]`` name of the job's rTorrent.
    connection: str = "default"


@dataclass
class ConnectionStatus:
    """One rTorrent the daemon serves, as its jobs' ticks last found it."""

    name: str
    url: str
    reachable: bool | None = None
    reachable_since: float | None = None


@dataclass
class DaemonStatus:
    """The whole file."""

    pid: int
    started: float
    url: str
    version: str
    #: None until a tick told: True after a tick reached rTorrent, False after one found it unreachable.
    reachable: bool | None = None
    #: When ``reachable`` last changed (epoch seconds).
    reachable_since: float | None = None
    jobs: list[JobStatus] = field(default_factory=list)
    format: int = FORMAT
    #: Every connection, ``default`` first; ``url`` and ``reachable`` above repeat the default's.
    connections: list[ConnectionStatus] = field(default_factory=list)


class StatusBoard:
    """The daemon's side: keeps the status in memory and writes it after every change."""

    def __init__(
        self,
        path: Path,
        status: DaemonStatus,
        *,
        clock: Callable[[], float],
        next_run: Callable[[str], datetime | None] = lambda name: None,
    ) -> None:
        """No I/O: the file is first written by ``set_jobs``."""
        self.path = path
        self.status = status
        self._clock = clock
        self._next_run = next_run
        self._lock = threading.Lock()
        self._jobs: dict[str, JobStatus] = {}

    def set_jobs(
        self,
        jobs: Iterable[tuple[str, str, str]],
        next_run: Callable[[str], datetime | None],
        connections: Mapping[str, str] | None = None,
        urls: Mapping[str, str] | None = None,
    ) -> None:
        """The jobs now running, as (name, handler, schedule); a reload replaces them.

        ``connections`` maps a job's name to its connection's (``default`` when missing); ``urls`` maps
        each connection's name to its shown URL.
        """
        by_job = connections or {}
        with self._lock:
            self._next_run = next_run
            self._jobs = {
                name: JobStatus(name, handler, schedule, connection=by_job.get(name, "default"))
                for name, handler, schedule in jobs
            }
            self.status.jobs = list(self._jobs.values())
            self._set_connections(urls or {"default": self.status.url})
            self._refresh_next_runs()
            self._write()

    def tick_started(self, name: str) -> None:
        """A tick of ``name`` began."""
        with self._lock:
            job = self._jobs.get(name)
            if job is None:
                return
            job.running_since = job.last_start = self._clock()
            self._write()

    def tick_ended(self, name: str, outcome: str, error: str | None = None) -> None:
        """A tick of ``name`` ended with ``outcome`` (OK, UNREACHABLE, FAULT or ERROR)."""
        with self._lock:
            job = self._jobs.get(name)
            if job is None:
                return
            now = self._clock()
            job.running_since, job.last_end, job.last_outcome = None, now, outcome
            job.runs += 1
            if outcome != OK:
                job.failures += 1
                job.last_error, job.last_error_at = (error or outcome)[:500], now
            if outcome != ERROR:  # a bug in a job says nothing about the connection
                self._reachable(job.connection, outcome != UNREACHABLE, now)
            self._refresh_next_runs()
            self._write()

    def remove(self) -> None:
        """The daemon stops: no status any more."""
        with self._lock, contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _set_connections(self, urls: Mapping[str, str]) -> None:
        known = {one.name: one for one in self.status.connections}
        self.status.connections = [
            known.get(name) or ConnectionStatus(name, url) for name, url in urls.items()
        ]
        for one in self.status.connections:
            one.url = urls[one.name]

    def _reachable(self, connection: str, reachable: bool, now: float) -> None:
        for one in self.status.connections:
            if one.name == connection and one.reachable != reachable:
                one.reachable, one.reachable_since = reachable, now
        if connection == "default" and self.status.reachable != reachable:
            self.status.reachable, self.status.reachable_since = reachable, now

    def _refresh_next_runs(self) -> None:
        for job in self._jobs.values():
            when = self._next_run(job.name)
            job.next_run = when.timestamp() if when is not None else None

    def _write(self) -> None:
        """Replace the file atomically (a reader sees the old or the new one); never fails the daemon."""
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        try:
            temporary.write_text(json.dumps(asdict(self.status), indent=1), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError:
            # A full disk must not stop the jobs; --status then shows older figures.
            with contextlib.suppress(OSError):
                temporary.unlink()
