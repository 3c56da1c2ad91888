"""The inotify side of the tree watch: one daemon thread that watches every directory of the trees.

It reports three things to its owner (``WatchEvents``): a file with a name the owner wants (its
metafiles) that was closed after writing or moved in, a directory that appeared (created or moved
in; it is watched from then on and its contents must be looked at, since files may have arrived
before the watch existed), and a lost overview (queue overflow, a failed watch) that needs a full
rescan. Between events it calls ``idle()`` when the owner's ``next_wakeup()`` is due, which is how
pending loads are retried.
``stop()`` and ``wake()`` (the owner has new pending work) interrupt the blocking wait through a pipe,
and the wait never lasts more than ``MAX_WAIT`` anyway. The wait itself is a real ``select``; only its
timeout comes from the job's clock (``next_wakeup()`` is on ``clock.monotonic``).

Two faults are repaired while the thread runs (``repairs``): a root removed or moved away is watched
again once it is back, and folders that hit the inotify watch limit are tried again now and then.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from inotify_simple import INotify, flags

from pyrotorque.clock import SYSTEM_CLOCK, Clock
from pyrotorque.jobs.treewatch.repairs import WatchRepairs
from pyrotorque.jobs.treewatch.timing import DEFAULT_TIMING

_FILE_EVENTS = flags.CLOSE_WRITE | flags.MOVED_TO
_DIR_EVENTS = flags.CREATE | flags.MOVED_FROM | flags.DELETE_SELF | flags.MOVE_SELF
WATCH_MASK = _FILE_EVENTS | _DIR_EVENTS | flags.ONLYDIR | flags.DONT_FOLLOW
_JOIN_TIMEOUT = 5.0
#: The longest wait without a look at the owner's ``next_wakeup()`` (work added by another thread).
MAX_WAIT = 2.0


class WatchEvents(Protocol):
    """What the watcher calls on its owner, always from the watcher thread."""

    def files_changed(self, changes: list[tuple[Path, Path]]) -> None:
        """Files (path, root) with a wanted name were closed after writing or moved into the tree: all
        that one read of the inotify queue reported, in order, so that a burst is loaded as one batch."""

    def directory_added(self, path: Path, root: Path, *, moved_in: bool = False) -> None:
        """A directory was created or moved in (``moved_in``: renamed into the tree, its files complete
        as a renamed file is); it is watched now, look at what is inside."""

    def rescan(self) -> None:
        """Events may have been lost: look at the whole tree."""

    def next_wakeup(self) -> float | None:
        """Time on the watcher's ``clock.monotonic()`` of the next ``idle()`` call wanted, or None."""

    def idle(self) -> None:
        """Called when ``next_wakeup()`` is due (retry pending work)."""


class TreeWatcher(WatchRepairs):
    """Watches directory trees with inotify in one daemon thread; start() and stop() are idempotent."""

    def __init__(
        self,
        roots: tuple[Path, ...],
        owner: WatchEvents,
        log: logging.Logger,
        *,
        clock: Clock = SYSTEM_CLOCK,
        trace: bool = False,
        root_poll: float = DEFAULT_TIMING.root_poll,
        limit_retry: float = DEFAULT_TIMING.watch_retry,
        burst_gap: float = DEFAULT_TIMING.burst_gap,
        burst_max: float = DEFAULT_TIMING.burst_max,
        wanted: Callable[[str], bool] = lambda name: True,
    ) -> None:
        self.roots = roots
        #: Which file names are reported (the owner's metafile names): the others never start a burst.
        self.wanted = wanted
        self.burst_gap = burst_gap
        self.burst_max = burst_max
        self.root_poll = root_poll
        self.limit_retry = limit_retry
        self.owner = owner
        self.log = log
        self.clock = clock
        self.trace = trace
        self._inotify: INotify | None = None
        self._wake_read = self._wake_write = -1
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._paths: dict[int, tuple[Path, Path]] = {}  # watch descriptor -> (directory, root)
        self._by_path: dict[Path, int] = {}
        self._lost_roots: set[Path] = set()
        self._next_root_poll = 0.0
        self._over_limit: dict[Path, Path] = {}  # directory not watched (watch limit) -> its root
        self._next_limit_retry = 0.0
        self._limit_warned = False

    @property
    def watched(self) -> int:
        """How many directories are watched right now."""
        return len(self._paths)

    @property
    def alive(self) -> bool:
        """True while the watcher thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Open inotify and start the thread, which watches the trees and calls ``rescan()`` first."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._inotify = INotify()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self._thread = threading.Thread(target=self._run, name="pyrotorque-treewatch", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Make the thread look at ``next_wakeup()`` again now (another thread added pending work)."""
        if self._thread is not None and self._wake_write >= 0:
            with contextlib.suppress(OSError):  # a full pipe wakes it just as well
                os.write(self._wake_write, b"w")

    def stop(self) -> None:
        """Wake and join the thread, close inotify; safe to call more than once."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        os.write(self._wake_write, b"x")
        thread.join(_JOIN_TIMEOUT)
        if thread.is_alive():
            self.log.warning("Tree watch thread did not stop within %.0f s", _JOIN_TIMEOUT)
            return  # it is a daemon thread; leave its descriptors to it rather than close them under it
        self._close()

    def _close(self) -> None:
        if self._inotify is not None:
            self._inotify.close()
            self._inotify = None
        for fd in (self._wake_read, self._wake_write):
            if fd >= 0:
                os.close(fd)
        self._wake_read = self._wake_write = -1
        self._paths.clear()
        self._by_path.clear()
        self._lost_roots.clear()
        self._over_limit.clear()

    # -- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            for root in self.roots:
                self._watch_tree(root, root)
                if root not in self._by_path and root not in self._over_limit:
                    self._root_lost(root, "is missing")
            self.log.debug(
                "Watching %d directories below %s", len(self._paths), ", ".join(map(str, self.roots))
            )
            self._call(self.owner.rescan)
            while not self._stopping.is_set():
                self._wait_and_dispatch()
        except Exception:  # the thread must never die silently
            self.log.exception("Tree watch thread failed; the hourly scan still loads new metafiles")

    def _wait_and_dispatch(self) -> None:
        assert self._inotify is not None
        wakeup = self.owner.next_wakeup()
        due = [when for when in (wakeup, self._repair_at()) if when is not None]
        timeout = MAX_WAIT if not due else min(MAX_WAIT, max(0.0, min(due) - self.clock.monotonic()))
        ready, _, _ = select.select([self._inotify.fileno(), self._wake_read], [], [], timeout)
        if self._stopping.is_set():
            return
        if self._wake_read in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_read, 512)
        if self._inotify.fileno() in ready:
            changed: dict[Path, Path] = {}  # a file written and then renamed in counts once
            for event in self._inotify.read(timeout=0):
                self._dispatch(event.wd, event.mask, event.name, changed)
            if len(changed) > 1:
                self._gather_burst(changed)
            if changed:
                self._call(self.owner.files_changed, list(changed.items()))
        self._repair()
        wakeup = self.owner.next_wakeup()
        if wakeup is not None and self.clock.monotonic() >= wakeup:
            self._call(self.owner.idle)

    def _gather_burst(self, changed: dict[Path, Path]) -> None:
        """More than one file at once is likely the start of a burst (a sync tool or an indexer client
        writing many): keep reading while the next event follows within ``burst_gap``, for at most
        ``burst_max``, so that the burst is loaded as a few large batches instead of many small ones
        that each wait for rTorrent in turn. A lone file never waits here."""
        assert self._inotify is not None
        started = self.clock.monotonic()
        deadline = started + self.burst_max
        gap_ms = max(1, round(self.burst_gap * 1000))
        while not self._stopping.is_set() and self.clock.monotonic() < deadline:
            events = self._inotify.read(timeout=gap_ms)
            if not events:
                break
            for event in events:
                self._dispatch(event.wd, event.mask, event.name, changed)
        self.log.debug(
            "Gathered %d files that arrived together (%.0f ms)",
            len(changed),
            (self.clock.monotonic() - started) * 1000,
        )

    def _call(self, callback: object, *args: object, **options: object) -> None:
        """Run an owner callback; its failure is logged, the thread goes on."""
        try:
            callback(*args, **options)  # type: ignore[operator]
        except Exception:
            self.log.exception("Tree watch: handling an event failed")

    def _dispatch(self, wd: int, mask: int, name: str, changed: dict[Path, Path]) -> None:
        if self.trace:
            names = "|".join(flag.name or "?" for flag in flags.from_mask(mask))
            self.log.debug("inotify event %s on %r in watch %d", names, name, wd)
        if mask & flags.Q_OVERFLOW:
            self.log.warning("inotify event queue overflowed; rescanning the watch tree")
            self._call(self.owner.rescan)
            return
        if mask & flags.IGNORED:
            self._forget_wd(wd)
            return
        where = self._paths.get(wd)
        if where is None:
            return  # a watch we dropped already
        directory, root = where
        if mask & (flags.DELETE_SELF | flags.MOVE_SELF):
            # A folder below the root went: its parent's event handles it (IGNORED follows). The root
            # itself going ends every watch of its tree: say so and watch it again when it is back.
            if directory == root:
                self._root_lost(root, "was removed" if mask & flags.DELETE_SELF else "was moved away")
            return
        path = directory / name
        if mask & flags.ISDIR:
            if mask & (flags.CREATE | flags.MOVED_TO):
                self._watch_tree(path, root)
                self._call(self.owner.directory_added, path, root, moved_in=bool(mask & flags.MOVED_TO))
            elif mask & flags.MOVED_FROM:
                self._unwatch_tree(path)
        elif mask & _FILE_EVENTS and self.wanted(name):
            # A metafile written under a temporary name and renamed (browsers, rsync, sync tools) comes
            # with that name's close in the same read; counted, it would make a lone file a "burst".
            changed[path] = root

    # -- watches ------------------------------------------------------------------------------

    def _watch_tree(self, top: Path, root: Path) -> None:
        """Watch ``top`` and every directory below it (symlinks not followed)."""
        stack = [top]
        while stack:
            directory = stack.pop()
            if not self._add_watch(directory, root):
                continue
            try:
                with os.scandir(directory) as entries:
                    stack.extend(Path(entry.path) for entry in entries if entry.is_dir(follow_symlinks=False))
            except OSError as exc:
                self.log.warning(
                    "Cannot list %r (%s); its subdirectories are not watched", str(directory), exc
                )

    def _add_watch(self, directory: Path, root: Path) -> bool:
        assert self._inotify is not None
        try:
            wd = self._inotify.add_watch(directory, WATCH_MASK)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                self._watch_limit_hit(directory, root)
            elif exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                self.log.warning("Cannot watch %r (%s)", str(directory), exc.strerror or exc)
            return False
        self._paths[wd] = (directory, root)
        self._by_path[directory] = wd
        return True

    def _unwatch_tree(self, top: Path) -> None:
        """Drop the watches of a directory moved away (if it was moved within the tree, it is re-added)."""
        assert self._inotify is not None
        for directory, wd in list(self._by_path.items()):
            if directory == top or top in directory.parents:
                self._forget_wd(wd)
                with contextlib.suppress(OSError):  # already gone with its directory
                    self._inotify.rm_watch(wd)

    def _forget_wd(self, wd: int) -> None:
        where = self._paths.pop(wd, None)
        if where is not None and self._by_path.get(where[0]) == wd:
            del self._by_path[where[0]]
