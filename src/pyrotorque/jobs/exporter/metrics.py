"""The Prometheus exporter's collector, which runs the metric groups on every scrape.

Each group asks rTorrent for everything it needs in one request (the system group needs a second one
only when the view list changed) and turns the answers into metric families. Scrapes at the same
time share one collection, and its result serves scrapes for ``scrape_cache`` seconds (flight.py).
Beyond that nothing is kept between scrapes except what cannot go stale in a harmful way: the view
names (re-read every scrape) and which configured item commands this rTorrent offers (re-checked
whenever the client detects the server afresh). Untrusted strings (item names, tracker URLs, view
names) only become label values.

The groups live in system_group, tracker_group and item_group (their shared parts in families);
their public names are re-exported here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from prometheus_client.core import GaugeMetricFamily, Metric

from pyrotorque.errors import FaultError, RtorrentError
from pyrotorque.jobs.exporter.daemon_group import DaemonGroup
from pyrotorque.jobs.exporter.families import ITEM_VIEW, GroupLog, MetricKind
from pyrotorque.jobs.exporter.flight import SingleFlight
from pyrotorque.jobs.exporter.item_group import ItemField, ItemGroup, item_command, item_fields, label_name
from pyrotorque.jobs.exporter.system_group import SYSTEM_METRICS, SystemGroup, SystemMetric
from pyrotorque.jobs.exporter.tracker_group import TrackerGroup
from pyrotorque.rtorrent.client import RtorrentClient

#: The metric groups a ``jobs`` setting may name, in the order they are collected.
GROUP_NAMES = ("system", "tracker", "item")

MetricGroup = SystemGroup | TrackerGroup | ItemGroup


class RtorrentCollector:
    """A prometheus_client collector: asks rTorrent when a scrape arrives, never between scrapes.

    Collections run in a worker thread of a :class:`SingleFlight`: scrapes at the same time share
    one, a result younger than ``cache_for`` seconds is reused, and a scrape waits at most
    ``scrape_timeout`` seconds, then answers ``up 0`` while the collection runs on.
    """

    def __init__(
        self,
        client: RtorrentClient,
        prefix: str,
        groups: Sequence[MetricGroup],
        log: logging.Logger,
        clock: Callable[[], float] = time.perf_counter,
        *,
        scrape_timeout: float = 5.0,
        cache_for: float = 0.0,
        daemon: DaemonGroup | None = None,
    ) -> None:
        self.client = client
        #: pyrotorque's own figures, served on every scrape (no RPC), rTorrent up or not.
        self.daemon = daemon
        self.prefix = prefix
        self.groups = list(groups)
        self.log = log
        self.clock = clock
        self.scrape_timeout = scrape_timeout
        self.flight: SingleFlight[list[Metric] | None] = SingleFlight(
            self._collect_once, clock, cache_for=cache_for, name="exporter-collect"
        )
        # The worker and timed-out scrapes both report rTorrent's state; one lock keeps the log lines right.
        self._lock = threading.Lock()
        self._down_since_error: str | None = None
        self._fault_messages: set[str] = set()
        self.scrapes = 0
        self.failed_scrapes = 0
        self.last_duration = 0.0

    def describe(self) -> list[Metric]:
        """Nothing to describe up front: registration must not talk to rTorrent."""
        return []

    def collect(self) -> Iterator[Metric]:
        """All metric families of one scrape, waiting for rTorrent at most ``scrape_timeout``."""
        yield from self.scrape(self.scrape_timeout)

    def scrape(self, timeout: float) -> list[Metric]:
        """``up``, the duration, the daemon's figures and the groups' families; without the groups when
        rTorrent did not answer."""
        started = self.clock()
        outcome = self.flight.get(timeout)
        if outcome is None:
            families, duration = None, self.clock() - started
            self._went_down(f"no answer within the scrape timeout of {timeout:g} s")
        else:
            families, duration = outcome.result(), outcome.duration
        with self._lock:
            self.scrapes += 1
            self.last_duration = duration
            self.failed_scrapes += families is None
        up = GaugeMetricFamily(self.prefix + "up", "1 if rTorrent answered this scrape, else 0")
        up.add_metric([], 0 if families is None else 1)
        took = GaugeMetricFamily(
            self.prefix + "scrape_duration_seconds", "Time spent asking rTorrent during this scrape"
        )
        took.add_metric([], duration)
        own = self.daemon.collect() if self.daemon is not None else []
        return [up, took, *own, *(families or ())]

    def _collect_once(self) -> list[Metric] | None:
        """One collection (in the flight's worker): the groups' families, or None when rTorrent is away."""
        try:
            families = self._collect_groups()
        except RtorrentError as exc:
            self._went_down(str(exc))
            return None
        except Exception:
            self.log.exception("Collecting metrics failed")
            raise
        self._came_back()
        return families

    def _collect_groups(self) -> list[Metric]:
        info = self.client.server_info()
        families: list[Metric] = []
        for group in self.groups:
            try:
                families += group.collect(self.client, info)
            except FaultError as exc:
                # rTorrent answered but refused: leave this group out, keep the others and up=1.
                message = f"{group.name}: {exc}"
                if message not in self._fault_messages:
                    self._fault_messages.add(message)
                    self.log.warning("Metric group %s left out of the scrape: %s", group.name, exc)
        return families

    def _went_down(self, text: str) -> None:
        with self._lock:
            if self._down_since_error is None:
                self.log.warning("Scrape: rTorrent did not answer (%s); exporting up=0", text)
            self._down_since_error = text

    def _came_back(self) -> None:
        with self._lock:
            if self._down_since_error is not None:
                self.log.info("Scrape: rTorrent answers again")
                self._down_since_error = None


def build_groups(
    names: Iterable[str],
    prefix: str,
    *,
    aliases: Mapping[str, Sequence[str]],
    item_stats: Sequence[str],
    item_labels: Sequence[str],
    log: GroupLog,
) -> list[MetricGroup]:
    """The groups named in ``jobs``, in their canonical order; ConditionError for a bad item entry."""
    wanted = set(names)
    groups: list[MetricGroup] = []
    if "system" in wanted:
        groups.append(SystemGroup(prefix))
    if "tracker" in wanted:
        groups.append(TrackerGroup(prefix, aliases))
    if "item" in wanted:
        groups.append(ItemGroup(prefix, item_stats, item_labels, log))
    return groups


__all__ = [
    "GROUP_NAMES",
    "ITEM_VIEW",
    "SYSTEM_METRICS",
    "DaemonGroup",
    "GroupLog",
    "ItemField",
    "ItemGroup",
    "MetricGroup",
    "MetricKind",
    "RtorrentCollector",
    "SystemGroup",
    "SystemMetric",
    "TrackerGroup",
    "build_groups",
    "item_command",
    "item_fields",
    "label_name",
]
