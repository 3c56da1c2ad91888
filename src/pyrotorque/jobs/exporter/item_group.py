"""The exporter's item group: each item's configured stats, labelled with its configured labels."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from prometheus_client.core import Metric

from pyrotorque.conditions.fields import lookup_field
from pyrotorque.jobs.exporter.families import ITEM_VIEW, GroupLog, MetricKind
from pyrotorque.jobs.exporter.item_table import ItemFamily, ItemTable
from pyrotorque.rtorrent.client import RtorrentClient, ServerInfo

_LABEL_JUNK = re.compile(r"[^A-Za-z0-9_]")


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
        table = ItemTable([field.name for field in self._labels], client.d_multicall(ITEM_VIEW, commands))
        families: list[Metric] = []
        for column, field in enumerate(self._stats, start=table.width):
            # Commands ending in ".total" (d.up.total, d.down.total, d.skip.total) only grow while loaded.
            kind: MetricKind = "counter" if field.method.endswith(".total") else "gauge"
            name = f"{self.prefix}item_{field.name}"
            families.append(ItemFamily(name, f"{field.command} per item", kind, table, column))
        return families
