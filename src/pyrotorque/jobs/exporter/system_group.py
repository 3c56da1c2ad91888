"""The exporter's system group: global rates, totals, limits, memory, sockets and files (one table),
rTorrent's versions and the view sizes, from one system.multicall per scrape."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric

from pyrotorque.errors import FaultError
from pyrotorque.jobs.exporter.families import MetricKind
from pyrotorque.jobs.exporter.families import family as _family
from pyrotorque.jobs.exporter.families import number as _number
from pyrotorque.rtorrent.client import RtorrentClient, ServerInfo


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

        families = self._global_families(offered, answers)
        families.append(self._info_family(info))
        views = [str(view) for view in _required(answers[len(offered)])]
        sizes = dict(zip(known_views, answers[len(offered) + 1 :], strict=True))
        new_views = [view for view in views if view not in sizes]
        if new_views:
            sizes.update(
                zip(new_views, client.multicall([("view.size", ("", v)) for v in new_views]), strict=True)
            )
        self._views = views
        families.append(self._view_family(views, sizes))
        return families

    def _global_families(
        self, offered: Sequence[tuple[SystemMetric, str]], answers: Sequence[Any]
    ) -> list[Metric]:
        """One family per global value this rTorrent answered."""
        families: list[Metric] = []
        for (metric, _method), answer in zip(offered, answers, strict=False):
            value = _number(answer)
            if value is None or (metric.name == "start_time_seconds" and not value):
                continue  # a fault, or an unset startup stamp: leave the series out rather than lie
            family = _family(metric.kind, self.prefix + metric.name, metric.help)
            family.add_metric([], value)
            families.append(family)
        return families

    def _info_family(self, info: ServerInfo) -> Metric:
        info_family = GaugeMetricFamily(
            self.prefix + "info",
            "rTorrent and libtorrent versions",
            labels=["client_version", "library_version"],
        )
        info_family.add_metric([info.client_version_text, info.library_version], 1)
        return info_family

    def _view_family(self, views: Sequence[str], sizes: Mapping[str, Any]) -> Metric:
        view_family = GaugeMetricFamily(self.prefix + "view_size", "Items in each view", labels=["view"])
        for view in views:
            size = _number(sizes.get(view))
            if size is not None:  # a view removed between view.list and view.size answers a fault
                view_family.add_metric([view], size)
        return view_family
