"""The daemon's own figures (ticks, items started, files loaded, ...) for the exporter to serve.

A leaf module: the daemon feeds the tick figures (``DaemonFigures`` is a tick observer of
``jobs/runner.py``), the jobs feed their counters through ``JobContext.figures``, and the exporter
reads a snapshot on each scrape. Nothing here talks to rTorrent, so the figures are served while
rTorrent is down too. The names are fixed here (``FIGURES``), so they stay stable for dashboards and
alerts; docs/exporter.md lists them.

A gauge that is state of a running job (files pending, inotify watches) is a *probe*: a function the
job registers in ``start()`` and removes in ``stop()``, called at scrape time, so it cannot go stale.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from pyrotorque.tick_outcomes import OK

FigureKind = Literal["counter", "gauge"]
#: Label values in the order of the figure's ``labels``.
LabelValues = tuple[str, ...]


@dataclass(frozen=True)
class Figure:
    """One metric: its full name, kind, help text and label names."""

    name: str
    kind: FigureKind
    help: str
    labels: tuple[str, ...] = ("job",)


JOB_RUNS = Figure("pyrotorque_job_runs_total", "counter", "Ticks of each job that ended")
JOB_FAILURES = Figure(
    "pyrotorque_job_failures_total", "counter", "Ticks of each job that failed (unreachable, fault, error)"
)
JOB_LAST_DURATION = Figure(
    "pyrotorque_job_last_duration_seconds", "gauge", "How long the last tick of each job took"
)
JOB_LAST_END = Figure(
    "pyrotorque_job_last_end_timestamp_seconds", "gauge", "When the last tick of each job ended (epoch)"
)
JOB_LAST_SUCCESS = Figure(
    "pyrotorque_job_last_success_timestamp_seconds",
    "gauge",
    "When the last tick of each job that ended well ended (epoch)",
)
JOB_RUNNING = Figure("pyrotorque_job_running", "gauge", "1 while a tick of the job runs")
QUEUE_STARTED = Figure("pyrotorque_queue_items_started_total", "counter", "Items a queue job started")
TREEWATCH_LOADED = Figure(
    "pyrotorque_treewatch_files_loaded_total", "counter", "Metafiles a tree watch loaded into rTorrent"
)
TREEWATCH_REJECTED = Figure(
    "pyrotorque_treewatch_files_rejected_total",
    "counter",
    "Metafiles a tree watch did not load, by reason (invalid, too_big, not_loaded)",
    ("job", "reason"),
)
TREEWATCH_PENDING = Figure(
    "pyrotorque_treewatch_files_pending", "gauge", "Metafiles waiting to be loaded (rTorrent away)"
)
TREEWATCH_WATCHES = Figure(
    "pyrotorque_treewatch_inotify_watches", "gauge", "Directories a tree watch watches with inotify"
)
RULE_ITEMS = Figure(
    "pyrotorque_rule_items_total", "counter", "Items a rule job acted on, by action", ("job", "action")
)
RULE_ITEM_FAILURES = Figure(
    "pyrotorque_rule_item_failures_total",
    "counter",
    "Items a rule job could not act on, by action",
    ("job", "action"),
)

#: Every figure, in the order they are served.
FIGURES = (
    JOB_RUNS,
    JOB_FAILURES,
    JOB_LAST_DURATION,
    JOB_LAST_END,
    JOB_LAST_SUCCESS,
    JOB_RUNNING,
    QUEUE_STARTED,
    TREEWATCH_LOADED,
    TREEWATCH_REJECTED,
    TREEWATCH_PENDING,
    TREEWATCH_WATCHES,
    RULE_ITEMS,
    RULE_ITEM_FAILURES,
)

Snapshot = dict[Figure, dict[LabelValues, float]]


class DaemonFigures:
    """Thread-safe values of the figures; a tick observer (``tick_started``/``tick_ended``) too."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """No I/O; ``clock`` gives the epoch end times, ``monotonic`` the durations."""
        self._clock, self._monotonic = clock, monotonic
        self._lock = threading.Lock()
        self._values: Snapshot = {figure: {} for figure in FIGURES}
        self._probes: dict[tuple[Figure, LabelValues], Callable[[], float]] = {}
        self._started: dict[str, float] = {}

    def add(self, figure: Figure, labels: LabelValues, amount: float = 1.0) -> None:
        """Count ``amount`` more for a counter (a series appears on its first count)."""
        with self._lock:
            series = self._values[figure]
            series[labels] = series.get(labels, 0.0) + amount

    def probe(self, figure: Figure, labels: LabelValues, read: Callable[[], float] | None) -> None:
        """Read a gauge from ``read`` at scrape time; None removes the probe (the job stopped)."""
        with self._lock:
            if read is None:
                self._probes.pop((figure, labels), None)
            else:
                self._probes[(figure, labels)] = read

    def snapshot(self) -> Snapshot:
        """A copy of every value, with the probes read now (a failing probe is left out)."""
        with self._lock:
            values = {figure: dict(series) for figure, series in self._values.items()}
            probes = list(self._probes.items())
        for (figure, labels), read in probes:
            try:
                values[figure][labels] = float(read())
            except Exception:  # a broken probe must not break the scrape
                continue
        return values

    def keep_jobs(self, names: Iterable[str]) -> None:
        """Forget the tick gauges of jobs no longer configured (after a reload); counters stay."""
        wanted = set(names)
        with self._lock:
            for figure in (JOB_LAST_DURATION, JOB_LAST_END, JOB_LAST_SUCCESS, JOB_RUNNING):
                series = self._values[figure]
                for labels in [labels for labels in series if labels[0] not in wanted]:
                    del series[labels]

    def tick_started(self, name: str) -> None:
        """A tick of ``name`` began (TickObserver)."""
        with self._lock:
            self._started[name] = self._monotonic()
            self._values[JOB_RUNNING][(name,)] = 1.0

    def tick_ended(self, name: str, outcome: str, error: str | None = None) -> None:
        """A tick of ``name`` ended with ``outcome`` (TickObserver)."""
        with self._lock:
            now, started = self._clock(), self._started.pop(name, None)
            values = self._values
            key = (name,)
            values[JOB_RUNS][key] = values[JOB_RUNS].get(key, 0.0) + 1
            # A failures series from the first tick on, so increase() sees the first failure.
            values[JOB_FAILURES][key] = values[JOB_FAILURES].get(key, 0.0) + (outcome != OK)
            if outcome == OK:
                values[JOB_LAST_SUCCESS][key] = now
            if started is not None:
                values[JOB_LAST_DURATION][key] = max(0.0, self._monotonic() - started)
            values[JOB_LAST_END][key] = now
            values[JOB_RUNNING][key] = 0.0


class TickListener(Protocol):
    """What ``FanOut`` passes ticks on to (the shape of jobs/runner.py's TickObserver)."""

    def tick_started(self, name: str) -> None: ...

    def tick_ended(self, name: str, outcome: str, error: str | None = None) -> None: ...


class FanOut:
    """Tells several tick observers (the status board and the figures) of each tick."""

    def __init__(self, *observers: TickListener | None) -> None:
        self._observers = [observer for observer in observers if observer is not None]

    def tick_started(self, name: str) -> None:
        """Pass on to every observer."""
        for observer in self._observers:
            observer.tick_started(name)

    def tick_ended(self, name: str, outcome: str, error: str | None = None) -> None:
        """Pass on to every observer."""
        for observer in self._observers:
            observer.tick_ended(name, outcome, error)


#: The daemon process's figures: the daemon and its jobs share them, so they survive a reload.
PROCESS_FIGURES = DaemonFigures()
