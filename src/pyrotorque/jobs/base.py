"""The job interface: what the daemon gives a job and what it expects back."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pyrotorque.clock import SYSTEM_CLOCK, Clock, as_clock
from pyrotorque.config.settings import GlobalSettings
from pyrotorque.figures import DaemonFigures

if TYPE_CHECKING:
    from pyrotorque.config import Config
    from pyrotorque.rtorrent.client import RtorrentClient


@dataclass(frozen=True)
class NoOptions:
    """Options of a job that takes no job-specific keys."""


#: The kind of the queue jobs: a tree watch wakes them after loading an item for the queue to start.
KIND_QUEUE = "queue"


#: The default of ``JobContext.settings``: "read them from ``config``" (compared by identity).
_FROM_CONFIG = GlobalSettings()


def _no_wake(name: str) -> None:
    """Default for ``JobContext.wake`` and ``wake_kind`` outside a daemon: nothing to wake."""


@dataclass
class JobContext:
    """Everything a job may use; handed to its constructor, which must do no I/O with it.

    ``clock`` is one object for all of a job's time (``pyrotorque.clock``): ``clock.monotonic()`` for
    delays, ``clock.sleep()``, ``clock.time_ns()``; calling it, ``clock()``, is wall time, which is what
    the field was before (a plain ``() -> float``), so jobs that call ``context.clock()`` are unchanged.
    A plain function given as ``clock`` still works: it is wrapped (``WallClock``) for wall time, with
    the system's monotonic time and sleep. One field rather than a second one for the new uses, so a
    test's fake clock drives everything a job does with time and no two clocks can disagree.

    ``settings`` holds ``[GLOBAL]``, ``[ANNOUNCE]`` and the daemon-wide ``[TORQUE]`` values, typed; the
    daemon builds them once and gives every job the same object. A context made without them reads
    them from ``config`` (when there is one).
    """

    name: str
    client: RtorrentClient
    config: Config
    dry_run: bool = False
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("pyrotorque.job"))
    clock: Clock = SYSTEM_CLOCK
    #: Ask for one job's tick now, by job name.
    wake: Callable[[str], None] = _no_wake
    #: Ask for a tick now of every running job of a kind (``Job.kind``) that shares this job's rTorrent.
    wake_kind: Callable[[str], None] = _no_wake
    settings: GlobalSettings = _FROM_CONFIG
    #: Where the job counts what it did (items started, files loaded) for the exporter (figures.py).
    figures: DaemonFigures = field(default_factory=DaemonFigures)
    #: The name of the connection ``client`` talks to (``job.NAME.connection``; ``[CONNECTIONS]``).
    connection: str = "default"
    #: Every configured connection's client by name, this job's own included (jobs that act across
    #: instances, like ``transfer=``, use them); empty outside a daemon means "only ``client``".
    clients: Mapping[str, RtorrentClient] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Callers of earlier releases pass a wall-time function; typed as Clock for new code.
        self.clock = as_clock(self.clock)
        if self.settings is _FROM_CONFIG and self.config is not None:
            self.settings = GlobalSettings.from_config(self.config)


class Job(ABC):
    """A scheduled job: ``start()`` once, ``run()`` on every tick, ``stop()`` once (idempotent)."""

    #: The frozen dataclass of this job's specific ``job.NAME.*`` keys; unknown keys are config errors.
    Options: ClassVar[type[Any]] = NoOptions
    #: What kind of work the job does, so others can wake it without knowing its name or module
    #: (``JobContext.wake_kind``); ``KIND_QUEUE`` for queues, empty for a job nobody wakes.
    kind: ClassVar[str] = ""

    def __init__(self, context: JobContext, options: Any) -> None:
        self.context = context
        self.options = options
        self.log = context.log

    def start(self) -> None:  # noqa: B027 - optional hook
        """Open long-lived workers (threads, servers); no-op by default."""

    @abstractmethod
    def run(self) -> None:
        """Do one scheduled tick; RtorrentError may escape and is handled by the daemon."""

    def stop(self) -> None:  # noqa: B027 - optional hook
        """Close what ``start()`` opened; must be safe to call more than once."""
