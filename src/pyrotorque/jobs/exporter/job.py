"""RtorrentExporter (``job.exporter``): rTorrent metrics for Prometheus on ``http(s)://ADDR:PORT/metrics``.

``start()`` opens an HTTP server (http_server.py: bounded requests, read deadlines, optional TLS and
basic auth) in a daemon thread, serving a registry of our own (so nothing of the client library's
process/python metrics leaks in, and two exporter jobs never clash). Values are asked from rTorrent
when a scrape arrives; scrapes at the same time share one collection, which runs in a worker thread,
and a scrape waits for it at most ``scrape_timeout``: past that it answers 200 with ``up 0``
(metrics.py, flight.py). Items that left rTorrent vanish from the next collection.

``run()`` (the schedule tick) talks to nobody: it logs one DEBUG line with the scrape counts. The
server info the groups depend on is re-detected by the client itself after a lost connection.
The metric groups live in :mod:`pyrotorque.jobs.exporter.metrics`; docs/exporter.md lists the metrics.
"""

from __future__ import annotations

import ssl
import threading
from functools import partial
from pathlib import Path

from prometheus_client import CollectorRegistry

from pyrotorque.errors import ConfigError
from pyrotorque.jobs.base import Job, JobContext
from pyrotorque.jobs.exporter.auth import BasicAuth
from pyrotorque.jobs.exporter.exposition import render
from pyrotorque.jobs.exporter.http_server import MetricsServer, ServerLimits, serve_in_thread
from pyrotorque.jobs.exporter.metrics import DaemonGroup, RtorrentCollector, build_groups
from pyrotorque.jobs.exporter.options import ExporterOptions

__all__ = ["ExporterOptions", "RtorrentExporter"]


class RtorrentExporter(Job):
    """Serves rTorrent's metrics to Prometheus, collected when a scrape arrives."""

    Options = ExporterOptions
    options: ExporterOptions

    def __init__(self, context: JobContext, options: ExporterOptions) -> None:
        super().__init__(context, options)
        self.registry: CollectorRegistry | None = None
        self.collector: RtorrentCollector | None = None
        self._server: MetricsServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def server(self) -> MetricsServer | None:
        """The HTTP server while started (its ``active`` requests, for tests and diagnostics), else None."""
        return self._server

    @property
    def port(self) -> int | None:
        """The port the server listens on while started (useful with ``port = 0``), else None."""
        return self._server.server_port if self._server is not None else None

    def start(self) -> None:
        """Listen on addr:port; ConfigError naming the key when the port, a TLS file or the hash fails."""
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
        collector = RtorrentCollector(
            self.context.client,
            options.prefix,
            groups,
            self.log,
            self.context.clock.monotonic,
            scrape_timeout=options.scrape_timeout,
            cache_for=options.scrape_cache,
            daemon=DaemonGroup(self.context.figures, self.context.client.stats)
            if options.daemon_metrics
            else None,
        )
        # A registry of our own: no process_*/python_* metrics, no clash with a second exporter job.
        registry = CollectorRegistry(auto_describe=False)
        registry.register(collector)

        tls = self._tls_context()
        auth = BasicAuth(options.auth_user, options.auth_password_hash) if options.auth_user else None
        limits = ServerLimits(max_connections=options.max_connections, read_timeout=options.read_timeout)
        try:
            server = MetricsServer(
                (options.addr, options.port),
                partial(render, registry),
                self.log,
                limits=limits,
                tls=tls,
                auth=auth,
            )
        except OSError as exc:
            reason = exc.strerror or str(exc)
            message = f"cannot listen on {options.addr}:{options.port}: {reason}"
            raise self._config_error("port", message) from exc
        self.registry, self.collector = registry, collector
        self._server, self._thread = server, serve_in_thread(server, f"exporter-{self.context.name}")
        self.log.info(
            "Serving metrics (%s) on %s://%s:%d/metrics%s",
            ", ".join(group.name for group in groups) or "up only",
            "https" if tls is not None else "http",
            options.addr,
            server.server_port,
            " (basic auth)" if auth is not None else "",
        )

    def _tls_context(self) -> ssl.SSLContext | None:
        """The server side TLS context for tls_cert/tls_key (read now), or None without tls_cert."""
        cert, key = self.options.tls_cert.strip(), self.options.tls_key.strip()
        if not cert:
            return None
        base = self.context.config.config_dir
        cert_path = base / Path(cert).expanduser()  # an absolute path stays as it is
        key_path = base / Path(key).expanduser() if key else None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(cert_path, key_path)
        except (OSError, ssl.SSLError) as exc:
            which = "tls_cert" if key_path is None else "tls_cert/tls_key"
            reason = getattr(exc, "strerror", None) or str(exc)
            files = ", ".join(str(path) for path in (cert_path, key_path) if path is not None)
            raise self._config_error("tls_cert", f"cannot use {which} ({files}): {reason}") from exc
        return context

    def _config_error(self, param: str, message: str) -> ConfigError:
        key = f"job.{self.context.name}.{param}"
        setting = self.context.config.setting("torque", key)
        return ConfigError(
            message,
            key=key,
            path=setting.path if setting is not None else None,
            line=setting.line if setting is not None else None,
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
