"""Fetch the items of a view that match a condition, in few round trips, filtered and sorted.

1. One ``d.multicall2`` over the view with exactly the ``d.*`` commands the condition, the sort
   order and the requested fields need. Where the server has ``d.multicall.filtered``, the
   top-level conjuncts rTorrent can evaluate go along as its filter (see ``pushdown``), so fewer
   rows come back; the whole condition is still evaluated here.
2. The condition is evaluated with three values: items that are already ``False`` are dropped;
   items whose outcome depends on file or tracker lists are "unknown".
3. One ``system.multicall`` of ``f.multicall`` / ``t.multicall`` entries, only for the unknown
   items (and the survivors, if the sort or the requested fields need them); the client sends it
   as several requests when it would pass rTorrent's request cap.
   File lists are immutable per info hash, so a query remembers them between its fetches and
   asks only for new items' files; tracker lists can change and are always fetched.
4. The unknown items are evaluated again, then everything is sorted.

Step 1 lives in filtered_rows, step 3 in item_lists, the client protocols in item_client.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from typing import Any

from pyrotorque.conditions.compiler import Columns, CompiledQuery, is_cacheable_file_field
from pyrotorque.conditions.fields import FILES, TRACKERS, FieldContext, lookup_field
from pyrotorque.conditions.filtered_rows import PUSHDOWN_MIN_DROP, PUSHDOWN_SAMPLE, FilteredRows
from pyrotorque.conditions.item_client import FilteringItemClient, ItemClient, ServerMethods
from pyrotorque.conditions.item_lists import ItemLists, file_value
from pyrotorque.conditions.items import Item, RowLayout
from pyrotorque.conditions.parser import Matcher, parse_condition
from pyrotorque.conditions.pushdown import PushedFilter, push_down
from pyrotorque.conditions.sort import SortField, parse_sort_fields
from pyrotorque.gcpause import collector_paused

__all__ = [
    "PAUSE_COLLECTOR_ROWS",
    "PUSHDOWN_MIN_DROP",
    "PUSHDOWN_SAMPLE",
    "FilteringItemClient",
    "Item",
    "ItemClient",
    "ItemQuery",
    "ServerMethods",
    "match_items",
]

LOG = logging.getLogger(__name__)
_SOURCES = (FILES, TRACKERS)

#: From this many rows on, matching runs with the garbage collector paused (see pyrotorque.gcpause).
PAUSE_COLLECTOR_ROWS = 2000


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
        pushdown: bool = True,
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
        condition_sources, output_sources = _sources(condition_fields), _sources(output_fields)
        names = [*output_fields[:2], *condition_fields, *output_fields[2:]]
        if FILES in condition_sources | output_sources:
            # A single file's list is [(d.name, d.size_bytes)]: no f.multicall needed for it.
            names += ["is_multi_file", "size"]
        self.commands = _commands(names)
        self._program = self._compile(condition, condition_fields)
        self._file_cache: dict[str, tuple[Any, ...]] = {}
        self._lists = ItemLists(
            self.commands, self._hot_values, condition_sources, output_sources, self._file_cache
        )
        self.pushed: PushedFilter | None = (
            push_down(condition.root) if pushdown and condition is not None else None
        )
        self._rows = FilteredRows(self.commands, self.pushed)

    def _compile(self, condition: Matcher | None, condition_fields: Sequence[str]) -> CompiledQuery:
        """The matcher and sort keys over this query's columns; file fields worth caching get slots."""
        index = {command: position for position, command in enumerate(self.commands)}
        self._hot_fields = tuple(
            lookup_field(name) for name in condition_fields if is_cacheable_file_field(lookup_field(name))
        )
        self._hot_values = tuple(file_value(field, index) for field in self._hot_fields)
        columns = Columns(
            index,
            {field.name: slot for slot, field in enumerate(self._hot_fields, 1)},
            index.get("d.is_multi_file"),
        )
        return CompiledQuery(condition.root if condition is not None else None, self.sort_fields, columns)

    def fetch(self, client: ItemClient, view: str = "main", now: float | None = None) -> list[Item]:
        """The matching items of ``view``, sorted: one (filtered) d.multicall, maybe one system.multicall."""
        context = FieldContext(self.aliases, time.time() if now is None else now)
        rows, filtered = self._rows.rows(client, view)
        # Matching builds keys and items in a burst of acyclic objects: no collections meanwhile.
        with collector_paused() if len(rows) >= PAUSE_COLLECTOR_ROWS else nullcontext():
            return self._select(client, view, rows, filtered, context)

    def _select(
        self, client: ItemClient, view: str, rows: list[list[Any]], filtered: bool, context: FieldContext
    ) -> list[Item]:
        """Match, complete with file/tracker lists where needed, and sort the fetched rows."""
        files: dict[str, tuple[Any, ...]] = dict(self._file_cache)
        trackers: dict[str, Any] = {}
        layout = RowLayout(self.commands, context, files, trackers)
        self._rows.plan_next_fetch(view, rows, filtered, layout, context.now)
        program = self._program.bind(context.now, context, layout.getter)
        derive = self._lists.deriver(files)
        candidates, unknown = program.select(rows, files, derive)
        calls = self._lists.calls(candidates, unknown, files, derive)
        gone = self._lists.fetch(client, calls, files, trackers) if calls else set()
        rejected = gone
        if unknown:
            rejected = rejected | program.final([row for row in unknown if id(row) not in gone], files)
        kept = [row for row in candidates if id(row) not in rejected] if rejected else candidates
        self._lists.forget_erased(rows)
        for key, reverse in program.passes:
            kept.sort(key=key, reverse=reverse)
        LOG.debug("Fetched %d item(s) from view %r, %d matched", len(rows), view, len(kept))
        return [Item(row, layout) for row in kept]


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
