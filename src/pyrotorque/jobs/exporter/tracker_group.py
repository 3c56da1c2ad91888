"""The exporter's tracker group: per tracker alias, items, items with a message or a tracker error,
and the bytes the items moved (tracker_traffic.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from pyrotorque.conditions.fields import TRACKER_COMMANDS, FieldContext, lookup_field
from pyrotorque.jobs.exporter.families import ITEM_VIEW, number
from pyrotorque.jobs.exporter.tracker_traffic import TrafficTotals
from pyrotorque.rtorrent.client import RtorrentClient, ServerInfo

#: How rTorrent's own messages about a failed announce begin (``Tracker: [Failure reason ...]``,
#: ``Tracker: [Timeout was reached]``, ``Tried all trackers.``); other messages (storage errors, a bad
#: hash check) are no tracker error.
TRACKER_ERROR_PREFIXES = ("Tracker:", "Tried all trackers")


class TrackerGroup:
    """Per tracker alias: items, items with a message, items with a tracker error, bytes up and down;
    from one d.multicall2."""

    name = "tracker"

    #: The first enabled tracker's URL comes from a nested t.multicall (vanilla rTorrent has no
    #: d.tracker_domain); works on 0.9.8 and 0.16 alike.
    COMMANDS = (
        "d.hash=",
        "d.message=",
        "d.up.total=",
        "d.down.total=",
        "t.multicall=," + ",".join(TRACKER_COMMANDS),
    )

    def __init__(self, prefix: str, aliases: Mapping[str, Sequence[str]]) -> None:
        self.prefix = prefix
        self.context = FieldContext(aliases=aliases)
        self.alias_field = lookup_field("alias")  # the condition language's own alias mapping
        self.traffic = TrafficTotals()

    def collect(self, client: RtorrentClient, info: ServerInfo) -> list[Metric]:
        """Count items, items with a message and with a tracker error per alias; add up their bytes."""
        items, with_message, with_error = self._count(client.d_multicall(ITEM_VIEW, self.COMMANDS))
        prefix = self.prefix
        gauges = [
            (GaugeMetricFamily(prefix + "tracker_items", "Items per tracker alias", labels=["alias"]), items),
            (
                GaugeMetricFamily(
                    prefix + "tracker_message_items",
                    "Items with a tracker message (d.message) per tracker alias",
                    labels=["alias"],
                ),
                with_message,
            ),
            (
                GaugeMetricFamily(
                    prefix + "tracker_error_items",
                    "Items whose message is a failed announce (Tracker: ..., Tried all trackers) per alias",
                    labels=["alias"],
                ),
                with_error,
            ),
        ]
        for family, counts in gauges:
            for alias in sorted(items):
                family.add_metric([alias], counts[alias])
        return [family for family, _ in gauges] + self._traffic_families()

    def _count(self, rows: list[list[Any]]) -> tuple[Counter[str], Counter[str], Counter[str]]:
        """Items, items with a message and items with a tracker error per alias; feeds the traffic."""
        items: Counter[str] = Counter()
        with_message: Counter[str] = Counter()
        with_error: Counter[str] = Counter()
        traffic: list[tuple[str, str, float, float]] = []
        convert, context = self.alias_field.convert, self.context
        for info_hash, message, up, down, trackers in rows:
            alias = str(convert(context, trackers))
            items[alias] += 1
            if message:
                with_message[alias] += 1
                with_error[alias] += str(message).startswith(TRACKER_ERROR_PREFIXES)
            traffic.append((str(info_hash), alias, number(up) or 0.0, number(down) or 0.0))
        self.traffic.update(traffic)
        return items, with_message, with_error

    def _traffic_families(self) -> list[Metric]:
        up = CounterMetricFamily(
            self.prefix + "tracker_uploaded_bytes",
            "Bytes the items of each tracker alias uploaded (d.up.total; erased items stay counted)",
            labels=["alias"],
        )
        down = CounterMetricFamily(
            self.prefix + "tracker_downloaded_bytes",
            "Bytes the items of each tracker alias downloaded (d.down.total; erased items stay counted)",
            labels=["alias"],
        )
        for alias in sorted(self.traffic.up):
            up.add_metric([alias], self.traffic.up[alias])
            down.add_metric([alias], self.traffic.down[alias])
        return [up, down]
