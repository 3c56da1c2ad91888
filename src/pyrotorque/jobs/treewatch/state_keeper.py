"""What a tree watch job remembers while it runs, and when that is written to its state file.

``StateKeeper`` owns the per-file outcomes (``SeenFiles``) and the roots that had their first scan,
reads them once from the state file (``state``) before the first file is looked at, and writes them
back: at once after a scan and at stop, but at most every ``save_interval`` seconds while inotify
events come in (the first change at once, the rest batched), and every ``save_retry`` seconds after a
failed write. It also applies the two rules of a whole-tree listing of a root: the first-start rule
(metafiles already there are recorded, not loaded) and forgetting files that are gone.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pyrotorque.clock import Clock
from pyrotorque.jobs.treewatch.scanner import Candidate, Outcome, SeenFiles
from pyrotorque.jobs.treewatch.state import StateError, WatchState, backup_path, read_state, write_state
from pyrotorque.jobs.treewatch.timing import DEFAULT_TIMING

#: How far before the job's start a file's mtime still counts as written after it. File systems stamp
#: new files from the kernel's coarse clock, which lags the fine clock by up to a tick (4 ms at
#: HZ=250, 10 ms at HZ=100): a file written just after the start can look older than the start, and
#: would be recorded, not loaded. Loading one that landed in the last 20 ms before the start is the
#: safe side of that edge.
STAMP_SLACK_NS = 20_000_000


class StateKeeper:
    """The job's memory of handled files and first-scanned roots, saved with debouncing."""

    def __init__(
        self,
        path: Path,
        roots: tuple[Path, ...],
        *,
        job_name: str,
        clock: Clock,
        log: logging.Logger,
        dry_run: bool = False,
        first_start_loads: bool = False,
        save_interval: float = DEFAULT_TIMING.save_interval,
        save_retry: float = DEFAULT_TIMING.save_retry,
    ) -> None:
        self.path = path
        self.roots = roots
        self.job_name = job_name
        self.clock = clock
        self.log = log
        self.dry_run = dry_run
        #: ``first_start = load``: a root's first scan records nothing, so its files are loaded as new.
        self.first_start_loads = first_start_loads
        self.save_interval = save_interval
        self.save_retry = save_retry
        self.seen = SeenFiles()
        self.loaded = False
        self._known_roots: set[Path] = set()  # roots whose first scan is done
        self._root_changes = 0
        self._saved_changes = -1  # seen.changes + _root_changes when last saved or loaded
        self._last_save = float("-inf")
        self._save_at: float | None = None
        self._save_failed = False
        self._first_start_ns: int | None = None  # files changed after this are new, even on a first scan

    # -- reading and the rules of a root's listing -----------------------------------------------------

    def mark_start(self) -> int:
        """The job starts: files changed from now on are new even to a root's first scan; returns when.

        "Now" is ``STAMP_SLACK_NS`` early, for the file systems' coarse timestamps.
        """
        if self._first_start_ns is None:
            self._first_start_ns = self.clock.time_ns() - STAMP_SLACK_NS
        return self._first_start_ns

    def load(self) -> None:
        """Read the saved state once, before the first file is looked at; unusable means missing."""
        if self.loaded:
            return
        self.loaded = True
        state = self._read_either_copy()
        if state is None:
            return
        self._known_roots = state.roots & set(self.roots)
        # Files of roots no longer configured are dropped; a root added again gets its first scan again.
        self.seen.replace_all(
            {
                path: seen
                for path, seen in state.files.items()
                if any(root in path.parents for root in self._known_roots)
            }
        )
        self._saved_changes = self._changes()
        self.log.debug("Read the state of %d metafile(s) from %r", len(self.seen), str(self.path))

    def _read_either_copy(self) -> WatchState | None:
        """The state file, else its backup copy (both hold the last save); None when neither is usable."""
        try:
            state = read_state(self.path)
        except StateError as exc:
            problem = f"{exc}"
        else:
            if state is not None or not backup_path(self.path).exists():
                return state
            problem = "missing"
        backup = backup_path(self.path)
        try:
            state = read_state(backup)
        except StateError as exc:
            state, backup_problem = None, f"{exc}"
        else:
            backup_problem = "missing"
        if state is not None:
            self.log.warning(
                "Ignoring the tree watch state file %r (%s); using its copy %r, written by the same saves",
                str(self.path),
                problem,
                str(backup),
            )
            return state
        self.log.warning(
            "Ignoring the tree watch state file %r (%s) and its copy %r (%s). Treating both as missing:"
            " metafiles already in the tree are recorded, not loaded",
            str(self.path),
            problem,
            str(backup),
            backup_problem,
        )
        return None

    def reconcile_root(self, root: Path, found: list[Candidate], *, clean: bool) -> None:
        """Whole-tree listing of one root: the first-scan rule, and forgetting files that are gone."""
        if root not in self._known_roots:
            self._record_preexisting(root, found, clean=clean)
        elif clean and found:
            # An empty or unlistable root may be an unmounted share: forgetting its files would make
            # them all new (and loaded again) when it comes back, so only a root with files is pruned.
            self.seen.keep_only((candidate.path for candidate in found), below=(root,))

    def _record_preexisting(self, root: Path, found: list[Candidate], *, clean: bool) -> None:
        """First scan of a root: record what is there already, without loading; later files are new.

        With ``first_start = load`` nothing is recorded: the files are new, and loaded unless loaded.
        """
        first_start_ns = self.mark_start()
        recorded = 0
        for candidate in () if self.first_start_loads else found:
            if self.seen.settled(candidate.path, candidate.stamp) is not None:
                continue
            if candidate.stamp.mtime_ns < first_start_ns:
                self.seen.record(candidate.path, candidate.stamp, Outcome.PREEXISTING)
                recorded += 1
        if clean:  # a root that could not be listed completely gets its first scan again next time
            self._known_roots.add(root)
            self._root_changes += 1
        if self.first_start_loads:
            self.log.info(
                "first start of tree watch %r: %d metafile(s) already there are loaded unless rTorrent"
                " has them (first_start = load; below %s)",
                self.job_name,
                len(found),
                root,
            )
            return
        self.log.info(
            "first start of tree watch %r: %d existing metafile(s) recorded, not loaded;"
            " touch a file to load it, or run pyrotorque --load-pending %s (below %s)",
            self.job_name,
            recorded,
            self.job_name,
            root,
        )

    # -- writing -----------------------------------------------------------------------------------------

    @property
    def save_at(self) -> float | None:
        """Monotonic time of a save that waits for the watcher thread, or None."""
        return self._save_at

    def _changes(self) -> int:
        return self.seen.changes + self._root_changes

    def save_soon(self) -> None:
        """Save now if the last save is a while ago, else let the watcher thread save a bit later."""
        if self.dry_run or self._changes() == self._saved_changes or self._save_at is not None:
            return
        if self.clock.monotonic() - self._last_save >= self.save_interval:
            self.save()
        else:
            self._save_at = self._last_save + self.save_interval

    def save_if_due(self) -> None:
        """The watcher thread's wakeup: save when the batched save is due, else as ``save_soon()``."""
        if self._save_at is not None and self.clock.monotonic() >= self._save_at:
            self.save()
        else:
            self.save_soon()

    def save(self) -> None:
        """Write the state file if anything changed (never in a dry run); a failure is a WARNING."""
        if self.dry_run or self._changes() == self._saved_changes:
            self._save_at = None
            return
        changes = self._changes()
        started = self.clock.monotonic()
        try:
            size = write_state(self.path, WatchState(set(self._known_roots), self.seen.snapshot()))
        except OSError as exc:
            if not self._save_failed:
                self.log.warning(
                    "Cannot save the tree watch state to %r (%s); retrying. Until it works, a restart may"
                    " load again items you erased",
                    str(self.path),
                    exc.strerror or exc,
                )
            self._save_failed = True
            self._save_at = self.clock.monotonic() + self.save_retry
            return
        if self._save_failed:
            self.log.info("Saved the tree watch state to %r again", str(self.path))
            self._save_failed = False
        self._saved_changes = changes
        self._last_save = self.clock.monotonic()
        self._save_at = None
        self.log.debug(
            "Saved the state of %d metafile(s) to %r (%d bytes, %.0f ms)",
            len(self.seen),
            str(self.path),
            size,
            (self._last_save - started) * 1000,
        )
