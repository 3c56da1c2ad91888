"""The exporter's daemon group: pyrotorque's own figures, served on every scrape, rTorrent up or not.

The tick and job figures come from the daemon's registry (pyrotorque/figures.py); the connection's
come from the client's request statistics (rtorrent/stats.py). Neither asks rTorrent anything, so a
scrape that finds rTorrent down or frozen still has them. Their names start with ``pyrotorque_``
whatever the exporter's ``prefix`` (that prefix names rTorrent's metrics).
"""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily

from pyrotorque.figures import FIGURES, DaemonFigures
from pyrotorque.rtorrent.stats import ClientStats


class DaemonGroup:
    """Metric families of the daemon's figures and of the connection to rTorrent."""

    name = "daemon"

    def __init__(self, figures: DaemonFigures, stats: ClientStats) -> None:
        self.figures = figures
        self.stats = stats

    def collect(self) -> list[Metric]:
        """Every figure with at least one series, then the connection's counters."""
        families: list[Metric] = []
        snapshot = self.figures.snapshot()
        for figure in FIGURES:
            series = snapshot[figure]
            if not series:
                continue
            # prometheus_client adds ``_total`` to a counter's samples itself.
            name = figure.name.removesuffix("_total")
            kind = CounterMetricFamily if figure.kind == "counter" else GaugeMetricFamily
            metric = kind(name, figure.help, labels=list(figure.labels))
            for labels in sorted(series):
                metric.add_metric(list(labels), series[labels])
            families.append(metric)
        return families + self._connection()

    def _connection(self) -> list[Metric]:
        now = self.stats.snapshot()
        requests = CounterMetricFamily(
            "pyrotorque_rtorrent_requests", "Requests sent to rTorrent, answered or not", value=now.requests
        )
        errors = CounterMetricFamily(
            "pyrotorque_rtorrent_request_errors",
            "Requests to rTorrent that got no usable answer (connection failure, timeout)",
            value=now.failures,
        )
        latency = SummaryMetricFamily(
            "pyrotorque_rtorrent_request_duration_seconds",
            "Time from sending a request to rTorrent to its answer (answered requests)",
            count_value=now.requests - now.failures,
            sum_value=now.total_latency,
        )
        sent = CounterMetricFamily(
            "pyrotorque_rtorrent_sent_bytes", "Request bytes sent to rTorrent", value=now.bytes_out
        )
        received = CounterMetricFamily(
            "pyrotorque_rtorrent_received_bytes", "Response bytes received from rTorrent", value=now.bytes_in
        )
        return [requests, errors, latency, sent, received]
