"""The metric groups of the Prometheus exporter and the collector that runs them on every scrape.

Each group asks rTorrent for everything it needs in one request (the system group needs a second one
only when the view list changed) and turns the answers into metric families. Nothing is cached
between scrapes except what cannot go stale in a harmful way: the view names (re-read every scrape)
and which configured item commands this rTorrent offers (re-checked whenever the client detects the
server afresh). Untrusted strings (item names, tracker URLs, view names) only become label values.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from pyrotorque.conditions.fields import TRACKER_COMMANDS, FieldContext, lookup_field
from pyrotorque.errors import FaultError, RtorrentError
from pyrotorque.rtorrent.client import RtorrentClient, ServerInfo

#: The metric groups a ``jobs`` setting may name, in the order they are collected.
GROUP_NAMES = ("system", "tracker", "item")

#: The view every per-item group reads.
ITEM_VIEW = "main"

MetricKind = Literal["gauge", "counter"]

_LABEL_JUNK = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class SystemMetric:
    """One global value: its metric name (after the prefix), type, and the commands that may supply it."""

    name: str
    kind: MetricKind
    methods: tuple[str, ...]  # the first one the server lists is used (names differ between lines)
    help: str

    def method_on(self, info: ServerInfo) -> str | None:
        """The command to call on this server, or None when it offers none of them."""
        return next((method for method in self.methods if info.has(method)), None)


def _gauge(name: str, help: str, *methods: str) -> SystemMetric:
    return SystemMetric(name, "gauge", methods, help)


def _counter(name: str, help: str, *methods: str) -> SystemMetric:
    return SystemMetric(name, "counter", methods, help)


#: The system group; keep docs/exporter.md in step. Counters reset when rTorrent restarts, which
#: Prometheus' rate() and increase() handle.
SYSTEM_METRICS: tuple[SystemMetric, ...] = (
    _counter(
        "downloaded_bytes_total", "Bytes downloaded since rTorrent started", "throttle.global_down.total"
    ),
    _counter("uploaded_bytes_total", "Bytes uploaded since rTorrent started", "throttle.global_up.total"),
    _gauge("download_rate_bytes_per_second", "Current download rate", "throttle.global_down.rate"),
    _gauge("upload_rate_bytes_per_second", "Current upload rate", "throttle.global_up.rate"),
    _gauge(
        "download_rate_limit_bytes_per_second",
        "Global download rate limit (0 = unlimited)",
        "throttle.global_down.max_rate",
    ),
    _gauge(
        "upload_rate_limit_bytes_per_second",
        "Global upload rate limit (0 = unlimited)",
        "throttle.global_up.max_rate",
    ),
    _gauge("unchoked_downloads", "Peers we download from right now", "throttle.unchoked_downloads"),
    _gauge("unchoked_uploads", "Peers we upload to right now", "throttle.unchoked_uploads"),
    _gauge(
        "unchoked_downloads_limit",
        "Global limit of unchoked downloads (0 = none)",
        "throttle.max_downloads.global",
    ),
    _gauge(
        "unchoked_uploads_limit", "Global limit of unchoked uploads (0 = none)", "throttle.max_uploads.global"
    ),
    _gauge("active_items_size_bytes", "Total size of the active items", "pieces.stats.total_size"),
    _gauge("memory_used_bytes", "Memory used for pieces", "pieces.memory.current"),
    _gauge("memory_limit_bytes", "Memory limit for pieces", "pieces.memory.max"),
    _gauge("memory_blocks", "Memory blocks allocated for pieces", "pieces.memory.block_count"),
    _gauge("memory_sync_queue_bytes", "Memory of pieces waiting to be written", "pieces.memory.sync_queue"),
    _gauge("sync_queue_pieces", "Pieces waiting to be written to disk", "pieces.sync.queue_size"),
    _gauge("hash_queue_items", "Items waiting for a hash check", "pieces.hash.queue_size"),
    _counter("preloaded_pieces_total", "Pieces preloaded before sending", "pieces.stats_preloaded"),
    _counter("not_preloaded_pieces_total", "Pieces sent without preloading", "pieces.stats_not_preloaded"),
    _gauge("preload_type", "Preload setting (0 off, 1 madvise, 2 direct paging)", "pieces.preload.type"),
    _gauge("preload_min_size_bytes", "Preload setting: minimum piece size", "pieces.preload.min_size"),
    _gauge("preload_min_rate_bytes_per_second", "Preload setting: minimum rate", "pieces.preload.min_rate"),
    _gauge("open_sockets", "Open network sockets", "network.open_sockets"),
    _gauge("open_sockets_limit", "Limit of open network sockets", "network.max_open_sockets"),
    _gauge("open_files", "Open files (rTorrent 0.16 and later)", "network.open_files"),
    _gauge("open_files_limit", "Limit of open files", "network.max_open_files"),
    _gauge("http_connections", "Open HTTP connections (tracker announces)", "network.http.current_open"),
    _gauge(
        "http_connections_limit",
        "Limit of open HTTP connections",
        "network.http.max_open",  # 0.9.8
        "network.http.max_total_connections",  # 0.16
    ),
    _counter("files_opened_total", "Files opened", "system.files.opened_counter"),
    _counter("files_closed_total", "Files closed", "system.files.closed_counter"),
    _counter("files_failed_total", "Files that failed to open", "system.files.failed_counter"),
    _gauge(
        "start_time_seconds",
        "When rTorrent started (epoch seconds; needs pyrotorque's torque.rc or a system.startup_time)",
        "pyrotorque.startup_time",
        "system.startup_time",
        "startup_time",
    ),
)


class GroupLog(Protocol):
    """The logging calls the groups use (a ``logging.Logger`` fits)."""

    def warning(self, msg: str, *args: Any) -> None:
        """Log a warning."""


def _number(value: Any) -> float | None:
    """A numeric answer as a float; None for anything else (rTorrent answers ints, customs answer text)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _family(kind: MetricKind, name: str, help: str, labels: Sequence[str] = ()) -> GaugeMetricFamily | Any:
    if kind == "counter":
        return CounterMetricFamily(name, help, labels=labels)
    return GaugeMetricFamily(name, help, labels=labels)


def _required(value: Any) -> Any:
    if isinstance(value, FaultError):
        raise value
    return value


class SystemGroup:
    """Global rates, totals, limits, memory, sockets and files; rTorrent's versions; view sizes."""

    name = "system"

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        # The views of the previous scrape: their sizes ride along in the same multicall.
        self._views: list[str] = []

    def collect(self, client: RtorrentClient, info: ServerInfo) -> list[Metric]:
        """One system.multicall (a second one only for views that appeared since the last scrape)."""
        offered = [(metric, method) for metric in SYSTEM_METRICS if (method := metric.method_on(info))]
        known_views = list(self._views)
        calls: list[tuple[str, Sequence[Any]]] = [(method, ("",)) for _metric, method in offered]
        calls.append(("view.list", ("",)))
        calls += [("view.size", ("", view)) for view in known_views]
        answers = client.multicall(calls)

        families: list[Metric] = []
        for (metric, _method), answer in zip(offered, answers, strict=False):
            value = _number(answer)
            if value is None or (metric.name == "start_time_seconds" and not value):
                continue  # a fault, or an unset startup stamp: leave the series out rather than lie
            family = _family(metric.kind, self.prefix + metric.name, metric.help)
            family.add_metric([], value)
            families.append(family)

        info_family = GaugeMetricFamily(
            self.prefix + "info",
            "rTorrent and libtorrent versions",
            labels=["client_version", "library_version"],
        )
        info_family.add_metric([info.client_version_text, info.library_version], 1)
        families.append(info_family)

        views = [str(view) for view in _required(answers[len(offered)])]
        sizes = dict(zip(known_views, answers[len(offered) + 1 :], strict=True))
        new_views = [view for view in views if view not in sizes]
        if new_views:
            sizes.update(
                zip(new_views, client.multicall([("view.size", ("", v)) for v in new_views]), strict=True)
            )
        self._views = views

        view_family = GaugeMetricFamily(self.prefix + "view_size", "Items in each view", labels=["view"])
        for view in views:
            size = _number(sizes.get(view))
            if size is not None:  # a view removed between view.list and view.size answers a fault
                view_family.add_metric([view], size)
        families.append(view_family)
        return families


class TrackerGroup:
    """Items per tracker alias, and items with a tracker message per alias, from one d.multicall2."""

    name = "tracker"

    #: The first enabled tracker's URL comes from a nested t.multicall (vanilla rTorrent has no
    #: d.tracker_domain); works on 0.9.8 and 0.16 alike.
    COMMANDS = ("d.message=", "t.multicall=," + ",".join(TRACKER_COMMANDS))

    def __init__(self, prefix: str, aliases: Mapping[str, Sequence[str]]) -> None:
        self.prefix = prefix
        self.context = FieldContext(aliases=aliases)
        self.alias_field = lookup_field("alias")  # the condition language's own alias mapping

    def collect(self, client: RtorrentClient, info: ServerInfo) -> list[Metric]:
        """Count items and items with a message per alias."""
        rows = client.d_multicall(ITEM_VIEW, self.COMMANDS)
        items: Counter[str] = Counter()
        with_message: Counter[str] = Counter()
        convert, context = self.alias_field.convert, self.context
        for message, trackers in rows:
            alias = str(convert(context, trackers))
            items[alias] += 1
            if message:
                with_message[alias] += 1
        items_family = GaugeMetricFamily(
            self.prefix + "tracker_items", "Items per tracker alias", labels=["alias"]
        )
        message_family = GaugeMetricFamily(
            self.prefix + "tracker_message_items",
            "Items with a tracker message (d.message) per tracker alias",
            labels=["alias"],
        )
        for alias in sorted(items):
            items_family.add_metric([alias], items[alias])
            message_family.add_metric([alias], with_message[alias])
        return [items_family, message_family]


@dataclass(frozen=True)
class ItemField:
    """One configured item stat or label: the setting's text, its d.* command, its metric or label name."""

    spec: str
    command: str
    name: str

    @property
    def method(self) -> str:
        """The command's method name as system.listMethods lists it."""
        return self.command.partition("=")[0]


def item_command(spec: str) -> str:
    """The ``d.*`` command of an ``item_stats``/``item_labels`` entry; ConditionError when unknown or unsafe.

    Accepted: a ``d.*`` method name with or without ``d.`` (``down.total``, ``d.name``), or ``custom=KEY``.
    Commands that change an item are refused, as in the condition language's ``d_METHOD`` fields.
    """
    name = spec.strip().removeprefix("d.")
    if name.startswith("custom="):
        field = lookup_field("custom_" + name.partition("=")[2])
    else:
        field = lookup_field("d_" + name)
    return field.commands[0]


def label_name(spec: str) -> str:
    """A label or metric name part for an entry: ``d.custom=tm_loaded`` -> ``custom_tm_loaded``."""
    return _LABEL_JUNK.sub("_", spec.strip().removeprefix("d.").replace("=", "_"))


def item_fields(specs: Iterable[str]) -> list[ItemField]:
    """The fields of configured entries (each checked with :func:`item_command`)."""
    return [ItemField(spec, item_command(spec), label_name(spec)) for spec in specs]


class ItemGroup:
    """Each item's ``item_stats``, labelled with its ``item_labels``, from one d.multicall2."""

    name = "item"

    def __init__(self, prefix: str, stats: Sequence[str], labels: Sequence[str], log: GroupLog) -> None:
        self.prefix = prefix
        self.stats = item_fields(stats)
        self.labels = item_fields(labels)
        self.log = log
        self._checked_for: ServerInfo | None = None
        self._stats: list[ItemField] = []
        self._labels: list[ItemField] = []

    def _check(self, info: ServerInfo) -> None:
        """Keep the fields this rTorrent offers; warn once per detected server about the rest."""
        if self._checked_for is info:
            return
        for kind, fields in (("item_stats", self.stats), ("item_labels", self.labels)):
            unknown = [field.spec for field in fields if not info.has(field.method)]
            if unknown:
                self.log.warning(
                    "%s: rTorrent %s has no command for %s; left out of the item metrics",
                    kind,
                    info.client_version_text,
                    ", ".join(repr(spec) for spec in unknown),
                )
        self._stats = [field for field in self.stats if info.has(field.method)]
        self._labels = [field for field in self.labels if info.has(field.method)]
        self._checked_for = info

    def collect(self, client: RtorrentClient, info: ServerInfo) -> list[Metric]:
        """One row per item; a value that is not a number leaves out that one sample."""
        self._check(info)
        if not self._stats:
            return []
        commands = [field.command for field in (*self._labels, *self._stats)]
        rows = client.d_multicall(ITEM_VIEW, commands)
        label_names = [field.name for field in self._labels]
        families = []
        width = len(self._labels)
        for column, field in enumerate(self._stats, start=width):
            # Commands ending in ".total" (d.up.total, d.down.total, d.skip.total) only grow while loaded.
            kind: MetricKind = "counter" if field.method.endswith(".total") else "gauge"
            family = _family(
                kind, f"{self.prefix}item_{field.name}", f"{field.command} per item", label_names
            )
            for row in rows:
                value = _number(row[column])
                if value is not None:
                    family.add_metric(["" if cell is None else str(cell) for cell in row[:width]], value)
            families.append(family)
        return families


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

        up = GaugeMetricFamily(self.prefix + "up", "1 if rTorrent answered this scrape, else 0")
        up.add_metric([], 0 if families is None else 1)
        yield up
        took = GaugeMetricFamily(
            self.prefix + "scrape_duration_seconds", "Time spent asking rTorrent during this scrape"
        )
        took.add_metric([], duration)
        yield took
        yield from families or ()

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
