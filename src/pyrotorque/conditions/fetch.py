"""Fetch the items of a view that match a condition, in few round trips, filtered and sorted.

1. One ``d.multicall2`` over the view with exactly the ``d.*`` commands the condition, the sort
   order and the requested fields need.
2. The condition is evaluated with three values: items that are already ``False`` are dropped;
   items whose outcome depends on file or tracker lists are "unknown".
3. One ``system.multicall`` (per 2,000 entries) of ``f.multicall`` / ``t.multicall`` entries,
   only for the unknown items (and the survivors, if the sort or the requested fields need them).
   File lists are immutable per info hash, so a query remembers them between its fetches and
   asks only for new items' files; tracker lists can change and are always fetched.
4. The unknown items are evaluated again, then everything is sorted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from pyrotorque.conditions.fields import (
    FILE_COMMANDS,
    FILES,
    TRACKER_COMMANDS,
    TRACKERS,
    FieldContext,
    FieldDef,
    lookup_field,
)
from pyrotorque.conditions.nodes import UNKNOWN, Getter
from pyrotorque.conditions.parser import Matcher, parse_condition
from pyrotorque.conditions.sort import SortField, parse_sort_fields, sort_rows
from pyrotorque.conditions.traits import FileList
from pyrotorque.errors import ConditionError, FaultError, HashNotFound

__all__ = ["Item", "ItemClient", "ItemQuery", "match_items"]

LOG = logging.getLogger(__name__)
_SOURCES = (FILES, TRACKERS)
# Entries per system.multicall: about 0.5 MiB of XML, far below rTorrent 0.9.8's 2 MiB SCGI limit.
MULTICALL_BATCH = 2000
_SOURCE_CALLS = {FILES: FILE_COMMANDS, TRACKERS: TRACKER_COMMANDS}


class ItemClient(Protocol):
    """The part of :class:`pyrotorque.rtorrent.client.RtorrentClient` that fetching uses."""

    def d_multicall(self, view: str, commands: Sequence[str]) -> list[list[Any]]:
        """One ``d.multicall2`` over ``view``."""

    def multicall(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """One ``system.multicall``; failed entries come back as ``FaultError`` instances."""


class _Layout:
    """Where each command's result sits in a fetched row, and getters for fields."""

    def __init__(self, commands: Sequence[str], context: FieldContext) -> None:
        self.commands = tuple(commands)
        self.index = {command: position for position, command in enumerate(self.commands)}
        # The file and tracker lists live in two extra columns, UNKNOWN until fetched.
        for offset, source in enumerate(_SOURCES):
            self.index[source] = len(self.commands) + offset
        self.context = context
        self._getters: dict[str, Getter] = {}

    def getter(self, name: str) -> Getter:
        """A function reading field ``name`` from a row (UNKNOWN while its lists are missing)."""
        cached = self._getters.get(name)
        if cached is None:
            cached = self._getters[name] = self._build(lookup_field(name))
        return cached

    def _build(self, field: FieldDef) -> Getter:
        try:
            positions = tuple(self.index[command] for command in field.commands)
        except KeyError as exc:
            raise KeyError(f"field {field.name!r} was not fetched") from exc
        convert = field.convert
        if field.contextual:
            context = self.context
            base: Callable[..., Any] = lambda *raw: convert(context, *raw)  # noqa: E731
        else:
            base = convert
        if len(positions) == 1:
            (position,) = positions
            plain: Getter = lambda row: base(row[position])  # noqa: E731
        else:
            plain = lambda row: base(*(row[position] for position in positions))  # noqa: E731
        if not field.deferred:
            return plain
        deferred_positions = tuple(self.index[source] for source in _SOURCES if source in field.commands)

        def deferred(row: Any) -> Any:
            if any(row[position] is UNKNOWN for position in deferred_positions):
                return UNKNOWN
            return plain(row)

        return deferred


class Item:
    """One fetched item: ``item.hash``, ``item.name``, ``item.prio``, ``item["kind_25"]`` …"""

    __slots__ = ("_layout", "_row")

    def __init__(self, row: list[Any], layout: _Layout) -> None:
        self._row = row
        self._layout = layout

    @property
    def hash(self) -> str:
        """The info hash."""
        return str(self._row[0])

    @property
    def name(self) -> str:
        """The item's name."""
        return str(self._row[1])

    def __getitem__(self, name: str) -> Any:
        value = self._layout.getter(name)(self._row)
        if value is UNKNOWN:
            raise KeyError(f"field {name!r} was not fetched")
        return value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except (KeyError, ConditionError) as exc:
            raise AttributeError(f"{name}: {exc}") from None

    def get(self, name: str, default: Any = None) -> Any:
        """A field's value, or ``default`` if it was not fetched."""
        try:
            return self[name]
        except KeyError:
            return default

    def __repr__(self) -> str:
        return f"Item({self.hash}, {self.name!r})"


class ItemQuery:
    """What to fetch: a condition, a sort order and extra fields; :meth:`fetch` runs it."""

    def __init__(
        self,
        condition: Matcher | str | None = None,
        sort_fields: Sequence[SortField] | str = (),
        aliases: Mapping[str, Sequence[str]] | None = None,
        fields: Iterable[str] = (),
        *,
        default_field: str = "name",
        batch_size: int = MULTICALL_BATCH,
    ) -> None:
        if isinstance(condition, str):
            condition = parse_condition(condition, default_field)
        self.condition = condition
        self.sort_fields = (
            parse_sort_fields(sort_fields) if isinstance(sort_fields, str) else tuple(sort_fields)
        )
        self.aliases: Mapping[str, Sequence[str]] = dict(aliases or {})
        self.extra_fields = tuple(fields)
        for name in self.extra_fields:
            lookup_field(name)
        condition_fields = sorted(condition.field_names()) if condition is not None else []
        output_fields = ["hash", "name", *(sort.name for sort in self.sort_fields), *self.extra_fields]
        self._condition_sources = _sources(condition_fields)
        self._output_sources = _sources(output_fields)
        self.batch_size = max(1, batch_size)
        self._file_cache: dict[str, list[list[Any]]] = {}
        self.commands = _commands([*output_fields[:2], *condition_fields, *output_fields[2:]])

    def fetch(self, client: ItemClient, view: str = "main", now: float | None = None) -> list[Item]:
        """The matching items of ``view``, sorted: one ``d.multicall2``, at most one ``system.multicall``."""
        context = FieldContext(self.aliases, time.time() if now is None else now)
        layout = _Layout(self.commands, context)
        padding = [UNKNOWN] * len(_SOURCES)
        rows = [[*row, *padding] for row in client.d_multicall(view, list(self.commands))]
        states = self._evaluate(rows, layout, context.now)
        wanted = [
            (row, self._condition_sources | self._output_sources if state is None else self._output_sources)
            for row, state in zip(rows, states, strict=True)
            if state is not False
        ]
        calls = [
            (row, source)
            for row, sources in wanted
            for source in _SOURCES
            if source in sources and not self._from_cache(row, source, layout)
        ]
        if calls or None in states:
            gone = self._fetch_lists(client, calls, layout) if calls else set()
            wanted = [pair for pair in wanted if id(pair[0]) not in gone]
            final = self._evaluate([row for row, _ in wanted], layout, context.now)
            kept = [row for (row, _), state in zip(wanted, final, strict=True) if state is True]
        else:
            kept = [row for row, _ in wanted]
        # Keep cached file lists only for items that still exist, so the cache cannot grow forever.
        present = {row[0] for row in rows}
        for info_hash in [key for key in self._file_cache if key not in present]:
            del self._file_cache[info_hash]
        if self.sort_fields:
            orders = [(layout.getter(sort.name), sort.descending) for sort in self.sort_fields]
            sort_rows(kept, orders, [lookup_field(sort.name).kind for sort in self.sort_fields])
        LOG.debug("Fetched %d item(s) from view %r, %d matched", len(rows), view, len(kept))
        return [Item(row, layout) for row in kept]

    def _evaluate(self, rows: list[list[Any]], layout: _Layout, now: float) -> list[bool | None]:
        if self.condition is None:
            return [True] * len(rows)
        evaluate, _ = self.condition.evaluator(
            lambda name: (layout.getter(name), lookup_field(name).deferred), now
        )
        return [evaluate(row) for row in rows]

    def _from_cache(self, row: list[Any], source: str, layout: _Layout) -> bool:
        """Fill in a file list remembered from an earlier fetch; True if there was one."""
        if source != FILES:
            return False
        cached = self._file_cache.get(row[0])
        if cached is None:
            return False
        row[layout.index[FILES]] = cached
        return True

    def _fetch_lists(
        self, client: ItemClient, calls: list[tuple[list[Any], str]], layout: _Layout
    ) -> set[int]:
        """Fill in file / tracker lists; return the ids of rows whose item is gone meanwhile."""
        requests = [(source, [row[0], "", *_SOURCE_CALLS[source]]) for row, source in calls]
        results: list[Any] = []
        # rTorrent 0.9.8 drops SCGI requests above 2 MiB (about 9,000 such entries), so very
        # large batches are split; up to batch_size items this is one system.multicall.
        for start in range(0, len(requests), self.batch_size):
            results.extend(client.multicall(requests[start : start + self.batch_size]))
        gone: set[int] = set()
        for (row, source), result in zip(calls, results, strict=True):
            if isinstance(result, HashNotFound):
                gone.add(id(row))  # erased between the two calls
                continue
            if isinstance(result, FaultError):
                raise result
            entries = FileList(list(entry) for entry in result) if source == FILES else result
            row[layout.index[source]] = entries
            if source == FILES and entries:
                # A metafile's file list never changes for its info hash (a magnet link's empty
                # list before its metadata arrives is not cached), so later fetches reuse it.
                self._file_cache[row[0]] = entries
        return gone


def _sources(field_names: Iterable[str]) -> frozenset[str]:
    return frozenset(
        source for name in field_names for source in lookup_field(name).commands if source in _SOURCES
    )


def _commands(field_names: Iterable[str]) -> tuple[str, ...]:
    """The deduplicated ``d.*`` commands for the fields, in first-use order."""
    seen: dict[str, None] = {}
    for name in field_names:
        for command in lookup_field(name).commands:
            if command not in _SOURCES:
                seen.setdefault(command, None)
    return tuple(seen)


def match_items(
    client: ItemClient,
    condition: Matcher | str,
    view: str = "main",
    sort: str = "",
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> list[Item]:
    """The items of ``view`` matching ``condition``, sorted by ``sort`` (for ``pyrotorque --match``)."""
    return ItemQuery(condition, sort, aliases).fetch(client, view)
