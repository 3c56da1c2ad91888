"""Walking the watch tree and remembering what became of each metafile, so a rescan is cheap.

A file is identified by its path and stamped with its size and modification time (nanoseconds) and
inode: while the stamp is unchanged, the recorded outcome (loaded, already loaded, invalid, ...) stands
and the file is neither read nor parsed again. Any change makes the file new again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from pyrotorque.jobs.treewatch.plan import is_metafile_name


@dataclass(frozen=True)
class FileStamp:
    """What we compare to see whether a file changed: size, modification time and inode."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, stat: os.stat_result) -> FileStamp:
        """The stamp of a ``stat`` result."""
        return cls(stat.st_size, stat.st_mtime_ns, stat.st_ino)


class Outcome(Enum):
    """What happened to a metafile; each is final until the file changes."""

    LOADED = "loaded"
    ALREADY_LOADED = "already loaded"
    INVALID = "invalid"
    NOT_LOADED = "not loaded by rTorrent"
    TOO_BIG = "too big to send"
    DRY_RUN = "dry run"
    #: Already in the tree when the job first scanned it: recorded without loading (see StateKeeper).
    PREEXISTING = "present at first start"


@dataclass(frozen=True)
class Seen:
    """One remembered file: its stamp when the outcome was recorded, the outcome, the info hash if known."""

    stamp: FileStamp
    outcome: Outcome
    info_hash: str = ""


class SeenFiles:
    """Outcomes of metafiles by path, valid while the file's stamp stays the same."""

    def __init__(self) -> None:
        self._seen: dict[Path, Seen] = {}
        #: Grows with every change, so the owner knows when its saved copy is stale.
        self.changes = 0

    def __len__(self) -> int:
        return len(self._seen)

    def snapshot(self) -> dict[Path, Seen]:
        """A copy of every record, for saving."""
        return dict(self._seen)

    def replace_all(self, records: dict[Path, Seen]) -> None:
        """Take over saved records (at start)."""
        self._seen = dict(records)
        self.changes += 1

    def settled(self, path: Path, stamp: FileStamp) -> Seen | None:
        """The recorded outcome if the file is unchanged since, else None."""
        seen = self._seen.get(path)
        return seen if seen is not None and seen.stamp == stamp else None

    def record(self, path: Path, stamp: FileStamp, outcome: Outcome, info_hash: str = "") -> None:
        """Remember the outcome for this version of the file."""
        seen = Seen(stamp, outcome, info_hash)
        if self._seen.get(path) != seen:
            self._seen[path] = seen
            self.changes += 1

    def forget(self, path: Path) -> None:
        """Drop what we know about ``path``."""
        if self._seen.pop(path, None) is not None:
            self.changes += 1

    def forget_outcomes(self, outcomes: Iterable[Outcome]) -> int:
        """Forget every file recorded with one of ``outcomes`` (it becomes new); returns how many."""
        wanted = set(outcomes)
        gone = [path for path, seen in self._seen.items() if seen.outcome in wanted]
        for path in gone:
            del self._seen[path]
        if gone:
            self.changes += 1
        return len(gone)

    def keep_only(self, present: Iterable[Path], below: Iterable[Path] | None = None) -> int:
        """Forget files that no longer exist (only those below ``below``, if given); returns how many."""
        keep = set(present)
        tops = None if below is None else tuple(below)
        gone = [
            path
            for path in self._seen
            if path not in keep and (tops is None or any(top in path.parents for top in tops))
        ]
        for path in gone:
            del self._seen[path]
        if gone:
            self.changes += 1
        return len(gone)


@dataclass(frozen=True)
class Candidate:
    """A metafile found in the tree: its path, the root it was found under, and its stamp."""

    path: Path
    root: Path
    stamp: FileStamp


def walk_metafiles(
    root: Path,
    on_error: Callable[[OSError], None] | None = None,
    top: Path | None = None,
    *,
    include_empty: bool = False,
) -> Iterator[Candidate]:
    """Every metafile below ``top`` (default ``root``), empty ones only with ``include_empty``.

    Directory symlinks are not followed.
    """
    stack = [top or root]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as entries:
                found = list(entries)
        except OSError as exc:
            if on_error is not None:
                on_error(exc)
            continue
        for entry in found:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif is_metafile_name(entry.name) and entry.is_file():
                    stat = entry.stat()
                    if stat.st_size > 0 or include_empty:
                        yield Candidate(Path(entry.path), root, FileStamp.of(stat))
            except OSError as exc:  # vanished while we looked, or unreadable
                if on_error is not None:
                    on_error(exc)
