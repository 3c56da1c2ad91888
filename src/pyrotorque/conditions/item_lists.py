"""The file and tracker lists of a query's undecided items (and of its survivors, when the sort
order or the requested fields need them), in one ``system.multicall``.

File lists never change for an info hash, so they are cached between a query's fetches (except a
magnet link's stand-in list); tracker lists can change and are asked for every time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pyrotorque.conditions.fields import FILE_COMMANDS, FILES, TRACKER_COMMANDS, TRACKERS, FieldDef, to_bool
from pyrotorque.conditions.item_client import ItemClient
from pyrotorque.conditions.traits import FileList, extension_of
from pyrotorque.errors import FaultError, HashNotFound

_SOURCES = (FILES, TRACKERS)
_SOURCE_CALLS = {FILES: FILE_COMMANDS, TRACKERS: TRACKER_COMMANDS}

FileValue = Callable[[list[Any], FileList], Any]


class ItemLists:
    """Which lists to ask for, asking, and the file entries (the list, then cached field values)."""

    def __init__(
        self,
        commands: Sequence[str],
        hot_values: Sequence[FileValue],
        condition_sources: frozenset[str],
        output_sources: frozenset[str],
        file_cache: dict[str, tuple[Any, ...]],
    ) -> None:
        self._commands = tuple(commands)
        self._hot_values = tuple(hot_values)
        self._condition_sources = condition_sources
        self._output_sources = output_sources
        self._file_cache = file_cache  # the query's: file entries by info hash, kept between fetches

    def calls(
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
        multi = self._commands.index("d.is_multi_file") if FILES in both else -1
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

    def deriver(self, files: dict[str, tuple[Any, ...]]) -> Callable[[list[Any]], tuple[Any, ...]]:
        """Make the file entry of a single-file item from its row (its only file is its name)."""
        name = self._commands.index("d.name")
        size = self._commands.index("d.size_bytes") if "d.size_bytes" in self._commands else -1

        def derive(row: list[Any]) -> tuple[Any, ...]:
            listed = FileList([[row[name], row[size]]])
            # One file holds 100 % of the size (or of the count, if the size is 0).
            listed.histogram = {extension_of(str(row[name])): 100}
            entry = self.entry(row, listed)
            files[row[0]] = entry
            if not _is_meta_download(row):
                self._file_cache[row[0]] = entry
            return entry

        return derive

    def entry(self, row: list[Any], listed: FileList) -> tuple[Any, ...]:
        """A file entry: the list, then the values of the condition's file fields (see Columns)."""
        return (listed, *[value(row, listed) for value in self._hot_values])

    def forget_erased(self, rows: list[list[Any]]) -> None:
        """Keep cached file lists only for items that still exist, so the cache cannot grow forever.

        With a pushed filter, items rTorrent left out are forgotten too (they are not candidates now).
        """
        if not self._file_cache:
            return
        present = {row[0] for row in rows}
        if len(present) < len(self._file_cache) or not present.issuperset(self._file_cache):
            for info_hash in [key for key in self._file_cache if key not in present]:
                del self._file_cache[info_hash]

    def fetch(
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
            entry = files[row[0]] = self.entry(row, listed)
            if listed and not _is_meta_download(row):
                # A metafile's file list never changes for its info hash (a magnet link's list
                # before its metadata arrives is not cached), so later fetches reuse it.
                self._file_cache[row[0]] = entry
        return gone


def file_value(field: FieldDef, index: Mapping[str, int]) -> FileValue:
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
