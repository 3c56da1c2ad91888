"""The exporter's tracker group: items and items with a tracker message per tracker alias."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from prometheus_client.core import GaugeMetricFamily, Metric

from pyrotorque.conditions.fields import TRACKER_COMMANDS, FieldContext, lookup_field
from pyrotorque.jobs.exporter.families import ITEM_VIEW
from pyrotorque.rtorrent.client import RtorrentClient, ServerInfo


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
