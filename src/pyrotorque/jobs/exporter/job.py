"""RtorrentExporter (``job.exporter``): rTorrent metrics for Prometheus on ``http://ADDR:PORT/metrics``.

``start()`` opens an HTTP server in a daemon thread, serving a registry of our own (so nothing of the
client library's process/python metrics leaks in, and two exporter jobs never clash). Every value is
asked from rTorrent when a scrape arrives, with the daemon client's RPC timeout; there is no state
between scrapes that could go stale, so items that left rTorrent simply vanish from the next scrape.
When rTorrent does not answer, the scrape still answers 200 with ``up 0`` and the scrape duration.

``run()`` (the schedule tick) talks to nobody: it logs one DEBUG line with the scrape counts. The
server info the groups depend on is re-detected by the client itself after a lost connection.
The metric groups live in :mod:`pyrotorque.jobs.exporter.metrics`; docs/exporter.md lists the metrics.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, start_http_server

from pyrotorque.config.options import option
from pyrotorque.errors import ConditionError, ConfigError
from pyrotorque.jobs.base import Job, JobContext
from pyrotorque.jobs.exporter.metrics import GROUP_NAMES, RtorrentCollector, build_groups, item_fields

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

_METRIC_PREFIX = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def _check_groups(names: tuple[str, ...]) -> str | None:
    unknown = [name for name in names if name not in GROUP_NAMES]
    if unknown:
        return f"unknown metric group {', '.join(map(repr, unknown))}; known groups: {', '.join(GROUP_NAMES)}"
    return None


def _check_prefix(prefix: str) -> str | None:
    if prefix and not _METRIC_PREFIX.fullmatch(prefix):
        return f"{prefix!r} is not a valid start of a Prometheus metric name ([A-Za-z_:][A-Za-z0-9_:]*)"
    return None


def _check_item_entries(specs: tuple[str, ...]) -> str | None:
    try:
        fields = item_fields(specs)
    except ConditionError as exc:
        return str(exc)
    names = [field.name for field in fields]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        return f"entries that give the same name twice: {', '.join(twice)}"
    return None


@dataclass(frozen=True)
class ExporterOptions:
    """The ``job.exporter.*`` keys; the defaults match the package's torque.ini."""

    addr: str = option("127.0.0.1", help="address to listen on (loopback by default)")
    port: int = option(8000, minimum=0, maximum=65535, help="TCP port; 0 picks a free one")
    jobs: tuple[str, ...] = option(
        ("system",), check=_check_groups, help="metric groups: system, tracker, item"
    )
    prefix: str = option("rtorrent_", check=_check_prefix, help="prefix of every metric name")
    item_stats: tuple[str, ...] = option(
        ("down.total", "up.total"), check=_check_item_entries, help="d.* values exported per item"
    )
    item_labels: tuple[str, ...] = option(
        ("hash", "name"), check=_check_item_entries, help="d.* values that label the item metrics"
    )


class RtorrentExporter(Job):
    """Serves rTorrent's metrics to Prometheus, collected when a scrape arrives."""

    Options = ExporterOptions
    options: ExporterOptions

    def __init__(self, context: JobContext, options: ExporterOptions) -> None:
        super().__init__(context, options)
        self.registry: CollectorRegistry | None = None
        self.collector: RtorrentCollector | None = None
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int | None:
        """The port the server listens on while started (useful with ``port = 0``), else None."""
        return self._server.server_port if self._server is not None else None

    def start(self) -> None:
        """Listen on addr:port; ConfigError naming them (and the port setting) when that fails."""
        if self._server is not None:
            return
        options = self.options
        groups = build_groups(
            options.jobs,
            options.prefix,
            aliases=self.context.settings.announce_aliases,
            item_stats=options.item_stats,
            item_labels=options.item_labels,
            log=self.log,
        )
        collector = RtorrentCollector(self.context.client, options.prefix, groups, self.log)
        # A registry of our own: no process_*/python_* metrics, no clash with a second exporter job.
        registry = CollectorRegistry(auto_describe=False)
        registry.register(collector)
        try:
            server, thread = start_http_server(options.port, addr=options.addr, registry=registry)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            key = f"job.{self.context.name}.port"
            setting = self.context.config.setting("torque", key)
            raise ConfigError(
                f"cannot listen on {options.addr}:{options.port}: {reason}",
                key=key,
                path=setting.path if setting is not None else None,
                line=setting.line if setting is not None else None,
            ) from exc
        self.registry, self.collector = registry, collector
        self._server, self._thread = server, thread
        self.log.info(
            "Serving metrics (%s) on http://%s:%d/metrics",
            ", ".join(group.name for group in groups) or "up only",
            options.addr,
            server.server_port,
        )

    def run(self) -> None:
        """No RPC: log how many scrapes were served and how many found rTorrent down."""
        collector = self.collector
        if collector is not None:
            self.log.debug(
                "%d scrape(s) served, %d without rTorrent, the last took %.3f s",
                collector.scrapes,
                collector.failed_scrapes,
                collector.last_duration,
            )

    def stop(self) -> None:
        """Shut the server down and free the port; safe to call more than once."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self.log.info("Metrics server on %s:%d stopped", self.options.addr, server.server_port)
