"""``delete``: remove items from rTorrent together with their own data, and nothing else.

Per tick, for the chosen targets:

1. one ``d.multicall2`` over ``main`` (hash, directory, name, multi-file flag): every item's data
   path, computed from ``d.directory`` and ``d.name`` (``d.base_path`` is empty once closed);
2. the data paths are checked against the guarded paths before anything changes: a refused item is
   not even stopped;
3. one ``system.multicall`` of ``f.multicall`` for the targets and for the other items whose data
   path lies in or around a target's;
4. one multicall of ``d.stop`` + ``d.close`` for the targets (no open file while it goes);
5. each target's own files are removed (data_delete); a target whose removal fully succeeded no
   longer counts as another user of a shared file for the targets after it;
6. one multicall of ``d.erase`` for the targets whose removal fully succeeded; the others stay in
   rTorrent (stopped and closed) and the next tick tries again.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pyrotorque.conditions.conversions import boolean, text
from pyrotorque.conditions.fields import FILE_COMMANDS
from pyrotorque.errors import DataError, FaultError
from pyrotorque.jobs.rules.data_delete import DeleteResult, ItemData, plan_delete, remove_planned
from pyrotorque.jobs.rules.data_guard import Guard, forms, within
from pyrotorque.jobs.rules.protected import home_directories
from pyrotorque.jobs.rules.verbs import Target, Verb, VerbRun

_ROW_COMMANDS = ("d.hash", "d.directory", "d.name", "d.is_multi_file")


@dataclass(frozen=True)
class _Loaded:
    """One loaded item's data path on this machine."""

    hash: str
    path: str  # host path, "" when rTorrent has none
    is_multi: bool
    forms: frozenset[str]


def _loaded(row: list[Any], run: VerbRun) -> _Loaded:
    info_hash, directory, name, multi = row
    is_multi = boolean(multi)
    where = text(directory)
    rt_path = where if is_multi or not where else os.path.join(where, text(name))
    path = run.host_path(rt_path) if rt_path.startswith("/") else rt_path
    return _Loaded(text(info_hash).upper(), path, is_multi, frozenset(forms(path)) if path else frozenset())


def _overlaps(one: _Loaded, other: _Loaded) -> bool:
    """Does one item's data path lie in, at or around the other's (normalized or resolved)?"""
    return any(within(a, b) or within(b, a) for a in one.forms for b in other.forms)


class DeleteVerb(Verb):
    """Remove the item from rTorrent and its own files from the disk."""

    name: ClassVar[str] = "delete"
    doing: ClassVar[str] = "Deleting"
    touches_data: ClassVar[bool] = True

    def apply(self, targets: Sequence[Target], run: VerbRun) -> list[str | None]:
        return _DeleteTick(targets, run).apply()


class _DeleteTick:
    """One tick's deletes: what is loaded, the guard, the file lists, who is done."""

    def __init__(self, targets: Sequence[Target], run: VerbRun) -> None:
        self.targets = targets
        self.run = run
        self.guard = Guard.of(run.protected | home_directories())
        self.reasons: list[str | None] = [None] * len(targets)
        self.files: dict[str, tuple[str, ...] | None] = {}
        self.done: set[str] = set()  # deleted this tick: no longer another user of a shared file
        self.others: list[_Loaded] = []  # loaded items whose data path lies in or around a target's

    def apply(self) -> list[str | None]:
        rows = self.run.client.d_multicall("main", _ROW_COMMANDS)
        loaded = {item.hash: item for item in (_loaded(row, self.run) for row in rows)}
        chosen: dict[int, _Loaded] = {}
        for index, target in enumerate(self.targets):
            self.reasons[index] = self._check(loaded.get(target.item.hash.upper()))
            if self.reasons[index] is None:
                chosen[index] = loaded[target.item.hash.upper()]
        self.others = [
            other
            for other in loaded.values()
            if other.path and any(other.hash != t.hash and _overlaps(other, t) for t in chosen.values())
        ]
        self._read_file_lists([*chosen.values(), *self.others])
        self._stop_and_close(chosen)
        for index, item in chosen.items():
            self.reasons[index] = self._delete_one(self.targets[index], item)
            if self.reasons[index] is None:
                self.done.add(item.hash)
        self._erase([index for index in chosen if self.reasons[index] is None])
        return self.reasons

    def _check(self, item: _Loaded | None) -> str | None:
        """Why this target cannot be deleted, found before anything changes, or None."""
        if item is None:
            return "no longer loaded in rTorrent"
        try:
            self.guard.check(item.path)
        except DataError as exc:
            return str(exc)
        return None

    def _read_file_lists(self, items: Sequence[_Loaded]) -> None:
        """The file lists of the multi-file items, one multicall (None where rTorrent faulted)."""
        wanted = list({item.hash: item for item in items if item.is_multi})
        answers = self.run.client.multicall([("f.multicall", (h, "", *FILE_COMMANDS)) for h in wanted])
        for info_hash, answer in zip(wanted, answers, strict=True):
            listed = None if isinstance(answer, FaultError) else tuple(text(entry[0]) for entry in answer)
            self.files[info_hash] = listed

    def _stop_and_close(self, chosen: dict[int, _Loaded]) -> None:
        """Stop and close the targets (one multicall); one that fails keeps its data, and is dropped."""
        calls = [(method, (item.hash,)) for item in chosen.values() for method in ("d.stop", "d.close")]
        answers = self.run.client.multicall(calls)
        for position, index in enumerate(list(chosen)):
            faults = [a for a in answers[2 * position : 2 * position + 2] if isinstance(a, FaultError)]
            if faults:
                self.reasons[index] = f"could not stop and close it, its data stays: {faults[0]}"
                del chosen[index]

    def _delete_one(self, target: Target, item: _Loaded) -> str | None:
        """Remove one target's own files; None when the item may be erased."""
        own = self.files.get(item.hash, ()) if item.is_multi else ()
        if own is None:
            return "could not read its file list, its data stays"
        users = [
            # A file list rTorrent would not give (None) means: all of that item's tree is in use.
            ItemData(other.path, other.is_multi, (self.files.get(other.hash) or ()) if other.is_multi else ())
            for other in self.others
            if other.hash not in self.done and other.hash != item.hash and _overlaps(other, item)
        ]
        try:
            result = remove_planned(plan_delete(ItemData(item.path, item.is_multi, own), users, self.guard))
        except DataError as exc:
            return str(exc)
        return self._report(target, result)

    def _report(self, target: Target, result: DeleteResult) -> str | None:
        """Log what the removal did; the reason when something could not be removed."""
        log = self.run.log
        for kept in result.kept:
            log.info("Kept %s: %s", kept.path, kept.reason)
        for failed in result.failed:
            log.error("Could not remove %s: %s", failed.path, failed.error)
        log.info(
            "Removed %d path(s) of %r #%s (%d already gone, %d kept)",
            len(result.removed),
            target.item.name,
            target.item.hash,
            len(result.missing),
            len(result.kept),
        )
        if result.ok:
            return None
        first = result.failed[0]
        return (
            f"could not remove {len(result.failed)} path(s), first {first.path} ({first.error}); "
            "the item stays in rTorrent, stopped and closed"
        )

    def _erase(self, indexes: list[int]) -> None:
        """Erase the items whose data is gone (one multicall)."""
        hashes = [self.targets[index].item.hash for index in indexes]
        answers = self.run.client.multicall([("d.erase", (info_hash,)) for info_hash in hashes])
        for index, answer in zip(indexes, answers, strict=True):
            if isinstance(answer, FaultError):
                self.reasons[index] = f"its data is removed, but erasing failed: {answer}"
