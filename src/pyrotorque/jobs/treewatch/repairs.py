"""The tree watch's two repairs, done by the watcher thread between events.

A root removed or moved away (``rm -rf ROOT; mkdir ROOT``) is logged and watched again, with a look at
its contents, once a directory exists at its path (polled every ``root_poll`` seconds). Folders that hit
the inotify watch limit are tried again every ``limit_retry`` seconds, so raising
``fs.inotify.max_user_watches`` helps without a restart.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from pyrotorque.clock import Clock

if TYPE_CHECKING:
    from pyrotorque.jobs.treewatch.watcher import WatchEvents

_WATCH_LIMIT = Path("/proc/sys/fs/inotify/max_user_watches")


class WatchRepairs:
    """The repair half of ``TreeWatcher``; its state is set up by ``TreeWatcher.__init__``."""

    owner: WatchEvents
    log: logging.Logger
    clock: Clock
    root_poll: float
    limit_retry: float
    _paths: dict[int, tuple[Path, Path]]
    _by_path: dict[Path, int]
    _lost_roots: set[Path]
    _next_root_poll: float
    _over_limit: dict[Path, Path]
    _next_limit_retry: float
    _limit_warned: bool

    # The watches themselves are TreeWatcher's.
    def _watch_tree(self, top: Path, root: Path) -> None:
        raise NotImplementedError

    def _unwatch_tree(self, top: Path) -> None:
        raise NotImplementedError

    def _call(self, callback: object, *args: object) -> None:
        raise NotImplementedError

    def _repair_at(self) -> float | None:
        """When (clock.monotonic) the next repair is due, or None when nothing needs one."""
        due = []
        if self._lost_roots:
            due.append(self._next_root_poll)
        if self._over_limit:
            due.append(self._next_limit_retry)
        return min(due) if due else None

    def _repair(self) -> None:
        now = self.clock.monotonic()
        if self._lost_roots and now >= self._next_root_poll:
            self._next_root_poll = now + self.root_poll
            for root in sorted(self._lost_roots):
                self._rearm_root(root)
        if self._over_limit and now >= self._next_limit_retry:
            self._next_limit_retry = now + self.limit_retry
            self._retry_over_limit()

    def _root_lost(self, root: Path, how: str) -> None:
        """The root itself went: drop its tree's watches and look for it again every self.root_poll s."""
        self._unwatch_tree(root)
        self._over_limit = {path: top for path, top in self._over_limit.items() if top != root}
        if root not in self._lost_roots:
            self.log.warning(
                "Watch root %r %s; new metafiles below it are found again once it exists", str(root), how
            )
            self._lost_roots.add(root)
            self._next_root_poll = self.clock.monotonic() + self.root_poll

    def _rearm_root(self, root: Path) -> None:
        if not root.is_dir():
            return
        self._lost_roots.discard(root)
        self._watch_tree(root, root)
        if root not in self._by_path and root not in self._over_limit:
            self._lost_roots.add(root)  # gone again already, or cannot be watched
            return
        self.log.info("Watch root %r exists again; watching it and loading what is in it", str(root))
        self._call(self.owner.directory_added, root, root)

    def _retry_over_limit(self) -> None:
        waiting, self._over_limit = self._over_limit, {}
        for directory, root in sorted(waiting.items()):
            if not directory.is_dir():
                continue
            self._watch_tree(directory, root)
            if directory in self._by_path:
                self._call(self.owner.directory_added, directory, root)
        if waiting and not self._over_limit:
            self._limit_warned = False
            self.log.info("inotify watches work again: all %d folder(s) are watched", len(self._paths))

    def _watch_limit_hit(self, directory: Path, root: Path) -> None:
        """Keep ``directory`` for a retry; the first time, say which limit and how to raise it."""
        if not self._over_limit:
            self._next_limit_retry = self.clock.monotonic() + self.limit_retry
        self._over_limit[directory] = root
        if self._limit_warned:
            return
        self._limit_warned = True
        try:
            limit = _WATCH_LIMIT.read_text().strip()
        except OSError:
            limit = "?"
        self.log.error(
            "inotify watch limit reached at %r (fs.inotify.max_user_watches = %s, for all processes of"
            " this user); raise it, e.g. `sysctl fs.inotify.max_user_watches=524288` (and in"
            " /etc/sysctl.d/ to keep it). Until then the scheduled scan finds new metafiles in the"
            " folders not watched; adding their watches is retried every %g s",
            str(directory),
            limit,
            self.limit_retry,
        )
