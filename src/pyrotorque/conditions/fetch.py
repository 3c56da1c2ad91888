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
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from typing import Any, Protocol, runtime_checkable

from pyrotorque.conditions.compiler import Columns, CompiledQuery, is_cacheable_file_field
from pyrotorque.conditions.fields import (
    FILE_COMMANDS,
    FILES,
    TRACKER_COMMANDS,
    TRACKERS,
    FieldContext,
    FieldDef,
    lookup_field,
    to_bool,
)
from pyrotorque.conditions.items import Item, RowLayout
from pyrotorque.conditions.parser import Matcher, parse_condition
from pyrotorque.conditions.pushdown import PushedFilter, push_down
from pyrotorque.conditions.sort import SortField, parse_sort_fields
from pyrotorque.conditions.traits import FileList, extension_of
from pyrotorque.errors import FaultError, HashNotFound, ProtocolError
from pyrotorque.gcpause import collector_paused

__all__ = ["FilteringItemClient", "Item", "ItemClient", "ItemQuery", "match_items"]

LOG = logging.getLogger(__name__)
_SOURCES = (FILES, TRACKERS)
_SOURCE_CALLS = {FILES: FILE_COMMANDS, TRACKERS: TRACKER_COMMANDS}


class ItemClient(Protocol):
    """The part of :class:`pyrotorque.rtorrent.client.RtorrentClient` that fetching uses."""

    def d_multicall(self, view: str, commands: Sequence[str]) -> list[list[Any]]:
        """One ``d.multicall2`` over ``view``."""

    def multicall(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """One ``system.multicall``; failed entries come back as ``FaultError`` instances."""


class ServerMethods(Protocol):
    """What the client knows about the server: which methods it lists."""

    def has(self, method: str) -> bool:
        """Whether rTorrent lists ``method``."""


@runtime_checkable
class FilteringItemClient(ItemClient, Protocol):
    """A client that can also send ``d.multicall.filtered`` (``RtorrentClient`` is one).

    Clients with only the :class:`ItemClient` methods are served with ``d.multicall2``.
    """

    def call(self, method: str, *params: Any) -> Any:
        """Call one command with exactly ``params``."""

    def server_info(self) -> ServerMethods:
        """The connected server's method list (detected once per connection)."""


#: Filter in rTorrent only while the filter is expected to drop at least this share of the view's rows:
#: each filter term costs rTorrent about 0.5-2 us per item, which a filter dropping little never repays
#: (measured: 20-35% slower than d.multicall2 when nothing is dropped).
PUSHDOWN_MIN_DROP = 0.25
#: From this many rows on, matching runs with the garbage collector paused (see pyrotorque.gcpause).
PAUSE_COLLECTOR_ROWS = 2000
#: How many rows of an unfiltered fetch are used to estimate what the filter would drop.
PUSHDOWN_SAMPLE = 512


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
        self._condition_sources = _sources(condition_fields)
        self._output_sources = _sources(output_fields)
        self._file_cache: dict[str, tuple[Any, ...]] = {}
        names = [*output_fields[:2], *condition_fields, *output_fields[2:]]
        if FILES in self._condition_sources | self._output_sources:
            # A single file's list is [(d.name, d.size_bytes)]: no f.multicall needed for it.
            names += ["is_multi_file", "size"]
        self.commands = _commands(names)
        self._program = self._compile(condition, condition_fields)
        # What rTorrent may filter on by itself (None: nothing, or pushdown switched off).
        self.pushed: PushedFilter | None = (
            push_down(condition.root) if pushdown and condition is not None else None
        )
        self._pushed_commands = self.pushed.commands() if self.pushed is not None else frozenset()
        # Per view: how many rows the last unfiltered fetch saw, and whether to filter next time.
        # The first fetch filters; a filtered fetch whose size cannot be judged is followed by an
        # unfiltered one that measures the view and estimates what the filter drops.
        self._view_rows: dict[str, int] = {}
        self._filter_next: dict[str, bool] = {}
        self._fields = tuple(command if "=" in command else f"{command}=" for command in self.commands)

    def _compile(self, condition: Matcher | None, condition_fields: Sequence[str]) -> CompiledQuery:
        """The matcher and sort keys over this query's columns; file fields worth caching get slots."""
        index = {command: position for position, command in enumerate(self.commands)}
        self._hot_fields = tuple(
            lookup_field(name) for name in condition_fields if is_cacheable_file_field(lookup_field(name))
        )
        self._hot_values = tuple(_file_value(field, index) for field in self._hot_fields)
        columns = Columns(
            index,
            {field.name: slot for slot, field in enumerate(self._hot_fields, 1)},
            index.get("d.is_multi_file"),
        )
        return CompiledQuery(condition.root if condition is not None else None, self.sort_fields, columns)

    def fetch(self, client: ItemClient, view: str = "main", now: float | None = None) -> list[Item]:
        """The matching items of ``view``, sorted: one (filtered) d.multicall, maybe one system.multicall."""
        context = FieldContext(self.aliases, time.time() if now is None else now)
        rows, filtered = self._rows(client, view)
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
        self._plan_next_fetch(view, rows, filtered, layout, context.now)
        program = self._program.bind(context.now, context, layout.getter)
        derive = self._deriver(files)
        candidates, unknown = program.select(rows, files, derive)
        calls = self._list_calls(candidates, unknown, files, derive)
        gone = self._fetch_lists(client, calls, files, trackers) if calls else set()
        rejected = gone
        if unknown:
            rejected = rejected | program.final([row for row in unknown if id(row) not in gone], files)
        kept = [row for row in candidates if id(row) not in rejected] if rejected else candidates
        self._forget_erased(rows)
        for key, reverse in program.passes:
            kept.sort(key=key, reverse=reverse)
        LOG.debug("Fetched %d item(s) from view %r, %d matched", len(rows), view, len(kept))
        return [Item(row, layout) for row in kept]

    def _rows(self, client: ItemClient, view: str) -> tuple[list[list[Any]], bool]:
        """The view's rows, filtered by rTorrent where that pays (one call either way); and if filtered."""
        pushed = self.pushed
        if pushed is None or not self._filter_next.get(view, True) or not self._can_filter(client):
            return client.d_multicall(view, list(self.commands)), False
        assert isinstance(client, FilteringItemClient)
        LOG.debug(
            "d.multicall.filtered on view %r, filter %s (pushed: %s)",
            view,
            pushed.expression,
            " ".join(pushed.terms),
        )
        rows = client.call("d.multicall.filtered", "", view, pushed.expression, *self._fields)
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ProtocolError(f"d.multicall.filtered on view {view!r} did not answer a list of rows")
        return rows, True

    def _plan_next_fetch(
        self, view: str, rows: list[list[Any]], filtered: bool, layout: RowLayout, now: float
    ) -> None:
        """Decide from this fetch whether the next one of ``view`` should let rTorrent filter."""
        pushed = self.pushed
        if pushed is None:
            return
        if filtered:
            total = self._view_rows.get(view)
            # Keep filtering while it still drops enough of the last measured view; else measure again.
            self._filter_next[view] = total is not None and len(rows) <= (1 - PUSHDOWN_MIN_DROP) * total
            return
        self._view_rows[view] = len(rows)
        dropped = _estimated_drop(pushed, rows, layout, now)
        self._filter_next[view] = dropped >= PUSHDOWN_MIN_DROP
        LOG.debug("Filter %s would drop about %.0f%% of view %r", pushed.expression, 100 * dropped, view)

    def _can_filter(self, client: ItemClient) -> bool:
        """Whether the server lists d.multicall.filtered and every command the filter calls.

        rTorrent treats an unknown command in a filter as false (no fault: every row would be
        dropped silently), so the method list is checked first.
        """
        if not isinstance(client, FilteringItemClient):
            return False
        info = client.server_info()
        return info.has("d.multicall.filtered") and all(info.has(name) for name in self._pushed_commands)

    def _list_calls(
        self,
        candidates: list[list[Any]],
        unknown: list[list[Any]],
        files: dict[str, tuple[Any, ...]],
        derive: Callable[[list[Any]], tuple[Any, ...]],
    ) -> list[tuple[list[Any], str]]:
        """The lists to ask rTorrent for: the undecided items' and, if needed, the survivors'."""
        undecided = {id(row) for row in unknown}
        both = self._condition_sources | self._output_sources
        rows = candidates if self._output_sources else unknown
        multi = self.commands.index("d.is_multi_file") if FILES in both else -1
        calls: list[tuple[list[Any], str]] = []
        for row in rows:
            sources = both if id(row) in undecided else self._output_sources
            for source in _SOURCES:
                if source not in sources:
                    continue
                if source == FILES:
                    if row[0] in files:
                        continue
                    if not to_bool(row[multi]):
                        derive(row)
                        continue
                calls.append((row, source))
        return calls

    def _deriver(self, files: dict[str, tuple[Any, ...]]) -> Callable[[list[Any]], tuple[Any, ...]]:
        """Make the file entry of a single-file item from its row (its only file is its name)."""
        name = self.commands.index("d.name")
        size = self.commands.index("d.size_bytes") if "d.size_bytes" in self.commands else -1

        def derive(row: list[Any]) -> tuple[Any, ...]:
            listed = FileList([[row[name], row[size]]])
            # One file holds 100 % of the size (or of the count, if the size is 0).
            listed.histogram = {extension_of(str(row[name])): 100}
            entry = self._entry(row, listed)
            files[row[0]] = entry
            if not _is_meta_download(row):
                self._file_cache[row[0]] = entry
            return entry

        return derive

    def _entry(self, row: list[Any], listed: FileList) -> tuple[Any, ...]:
        """A file entry: the list, then the values of the condition's file fields (see Columns)."""
        return (listed, *[value(row, listed) for value in self._hot_values])

    def _forget_erased(self, rows: list[list[Any]]) -> None:
        """Keep cached file lists only for items that still exist, so the cache cannot grow forever.

        With a pushed filter, items rTorrent left out are forgotten too (they are not candidates now).
        """
        if not self._file_cache:
            return
        present = {row[0] for row in rows}
        if len(present) < len(self._file_cache) or not present.issuperset(self._file_cache):
            for info_hash in [key for key in self._file_cache if key not in present]:
                del self._file_cache[info_hash]

    def _fetch_lists(
        self,
        client: ItemClient,
        calls: list[tuple[list[Any], str]],
        files: dict[str, tuple[Any, ...]],
        trackers: dict[str, Any],
    ) -> set[int]:
        """Fill in file / tracker lists; return the ids of rows whose item is gone meanwhile."""
        requests = [(source, [row[0], "", *_SOURCE_CALLS[source]]) for row, source in calls]
        results = client.multicall(requests)  # the client splits it below rTorrent's request cap
        gone: set[int] = set()
        for (row, source), result in zip(calls, results, strict=True):
            if isinstance(result, HashNotFound):
                gone.add(id(row))  # erased between the two calls
                continue
            if isinstance(result, FaultError):
                raise result
            if source == TRACKERS:
                trackers[row[0]] = result
                continue
            listed = FileList(list(entry) for entry in result)
            entry = files[row[0]] = self._entry(row, listed)
            if listed and not _is_meta_download(row):
                # A metafile's file list never changes for its info hash (a magnet link's list
                # before its metadata arrives is not cached), so later fetches reuse it.
                self._file_cache[row[0]] = entry
        return gone


def _estimated_drop(pushed: PushedFilter, rows: list[list[Any]], layout: RowLayout, now: float) -> float:
    """The share of ``rows`` the pushed terms reject, from an evenly spread sample of them."""
    if not rows:
        return 0.0
    step = max(1, len(rows) // PUSHDOWN_SAMPLE)
    sample = rows[::step]
    evaluators = [node.bind(lambda name: (layout.getter(name), False), now)[0] for node in pushed.nodes]
    rejected = sum(1 for row in sample if not all(evaluate(row) for evaluate in evaluators))
    return rejected / len(sample)


def _file_value(field: FieldDef, index: Mapping[str, int]) -> Callable[[list[Any], FileList], Any]:
    """Compute a cacheable file field from a row and its file list."""
    convert = field.convert
    if field.commands == (FILES,):
        return lambda row, listed: convert(listed)
    columns = tuple(None if command == FILES else index[command] for command in field.commands)
    return lambda row, listed: convert(*(listed if column is None else row[column] for column in columns))


def _is_meta_download(row: list[Any]) -> bool:
    """True for the stand-in of a magnet link still fetching its metadata (named HASH.meta).

    Its single file is not the item's payload; the real file list comes with the metadata.
    """
    return str(row[1]).lower() == f"{row[0]}.meta".lower()


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
