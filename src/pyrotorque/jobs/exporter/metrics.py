"""The Prometheus exporter's collector, which runs the metric groups on every scrape.

Each group asks rTorrent for everything it needs in one request (the system group needs a second one
only when the view list changed) and turns the answers into metric families. Nothing is cached
between scrapes except what cannot go stale in a harmful way: the view names (re-read every scrape)
and which configured item commands this rTorrent offers (re-checked whenever the client detects the
server afresh). Untrusted strings (item names, tracker URLs, view names) only become label values.

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
from pyrotorque.jobs.exporter.families import ITEM_VIEW, GroupLog, MetricKind
from pyrotorque.jobs.exporter.item_group import ItemField, ItemGroup, item_command, item_fields, label_name
from pyrotorque.jobs.exporter.system_group import SYSTEM_METRICS, SystemGroup, SystemMetric
from pyrotorque.jobs.exporter.tracker_group import TrackerGroup
from pyrotorque.rtorrent.client import RtorrentClient

#: The metric groups a ``jobs`` setting may name, in the order they are collected.
GROUP_NAMES = ("system", "tracker", "item")

MetricGroup = SystemGroup | TrackerGroup | ItemGroup


class RtorrentCollector:
    """A prometheus_client collector: asks rTorrent when a scrape arrives, never between scrapes."""

    def __init__(
        self,
        client: RtorrentClient,
        prefix: str,
        groups: Sequence[MetricGroup],
        log: logging.Logger,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.groups = list(groups)
        self.log = log
        self.clock = clock
        # Scrapes run one at a time, so several scrapers (or a retrying one) never stack up requests.
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
        """All metric families of one scrape; only ``up`` and the duration when rTorrent did not answer."""
        families, duration = self._scrape()
        up = GaugeMetricFamily(self.prefix + "up", "1 if rTorrent answered this scrape, else 0")
        up.add_metric([], 0 if families is None else 1)
        yield up
        took = GaugeMetricFamily(
            self.prefix + "scrape_duration_seconds", "Time spent asking rTorrent during this scrape"
        )
        took.add_metric([], duration)
        yield took
        yield from families or ()

    def _scrape(self) -> tuple[list[Metric] | None, float]:
        """Run the groups, one scrape at a time: (their families or None when rTorrent is away, seconds)."""
        with self._lock:
            started = self.clock()
            try:
                families = self._collect_groups()
            except RtorrentError as exc:
                families = None
                self._went_down(exc)
            except Exception:
                self.log.exception("Collecting metrics failed")
                raise
            duration = self.clock() - started
            self.scrapes += 1
            self.last_duration = duration
            if families is None:
                self.failed_scrapes += 1
            else:
                self._came_back()
        return families, duration

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

    def _went_down(self, exc: RtorrentError) -> None:
        text = str(exc)
        if self._down_since_error is None:
            self.log.warning("Scrape: rTorrent did not answer (%s); exporting up=0", text)
        self._down_since_error = text

    def _came_back(self) -> None:
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
