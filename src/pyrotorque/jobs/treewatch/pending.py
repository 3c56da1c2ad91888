"""Metafiles waiting for another try: rTorrent was away, or the file was still being written.

``PendingFiles`` keeps them with the root they were found under and says when the watcher thread
should try them again: ``retry_first`` seconds after a file became pending, then twice as long after
each failure, up to ``retry_max``, while rTorrent stays away; back to ``retry_first`` once a load
works. It also owns the rTorrent-away story in the log: one WARNING when loading stops working, DEBUG
lines while it stays so, one INFO line when it works again.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from pathlib import Path

from pyrotorque.clock import Clock
from pyrotorque.errors import RtorrentError
from pyrotorque.jobs.treewatch.scanner import Candidate, FileStamp
from pyrotorque.jobs.treewatch.timing import DEFAULT_TIMING


class PendingFiles:
    """Pending metafiles by path, and the retry backoff while rTorrent is away."""

    def __init__(
        self,
        clock: Clock,
        log: logging.Logger,
        *,
        first: float = DEFAULT_TIMING.retry_first,
        maximum: float = DEFAULT_TIMING.retry_max,
    ) -> None:
        self.clock = clock
        self.log = log
        self.first = first
        self.maximum = maximum
        self._files: dict[Path, Path] = {}  # path -> its root
        self._retry_at: float | None = None
        self._delay = first
        self.rtorrent_away = False

    def __len__(self) -> int:
        return len(self._files)

    def __contains__(self, path: object) -> bool:
        return path in self._files

    @property
    def retry_at(self) -> float | None:
        """Monotonic time of the next retry, or None when nothing is pending."""
        return self._retry_at if self._files else None

    def add(self, candidate: Candidate) -> None:
        """Keep ``candidate`` for a later try; the first pending file sets the retry time."""
        self._files[candidate.path] = candidate.root
        if self._retry_at is None:
            self._retry_at = self.clock.monotonic() + self._delay

    def discard(self, path: Path) -> None:
        """``path`` is settled (or gone): no retry for it."""
        self._files.pop(path, None)

    def candidates(self, exclude: Collection[Path] = ()) -> list[Candidate]:
        """The pending files that still exist, with fresh stamps; vanished ones are dropped."""
        candidates = []
        for path, root in list(self._files.items()):
            if path in exclude:
                continue
            try:
                stat = path.stat()
            except OSError:
                self.log.debug("Pending metafile %r is gone", str(path))
                del self._files[path]
                continue
            candidates.append(Candidate(path, root, FileStamp.of(stat)))
        return candidates

    def rtorrent_failed(self, exc: RtorrentError) -> None:
        """Loading failed with ``exc``: say so (a WARNING only the first time) and back off."""
        if not self.rtorrent_away:
            self.rtorrent_away = True
            self.log.warning(
                "Cannot load metafiles now (%s); %d file(s) stay pending and are retried", exc, len(self)
            )
        else:
            self.log.debug("Still cannot load %d pending metafile(s): %s", len(self), exc)
        self._delay = min(self._delay * 2, self.maximum)
        self._retry_at = self.clock.monotonic() + self._delay

    def rtorrent_worked(self) -> None:
        """Loading works (again): say so after an outage; retry what is left soon."""
        if self.rtorrent_away:
            self.rtorrent_away = False
            self.log.info("Loading metafiles works again")
        self._delay = self.first
        self._retry_at = self.clock.monotonic() + self.first if self._files else None
