"""Loads of the last few seconds, checked again once rTorrent has had time to save them.

rTorrent 0.16 writes a new item's session files in the background, a moment after ``load.raw``
returns. Killed in that moment, it starts again without the item, although we saw it loaded and
recorded the metafile as handled (measured: 1 to 3 of 500 items lost by a SIGKILL in a burst).
So every load is kept here for ``hold`` seconds with the client's failure count at that time. When
the hold is over, a load after which no request to rTorrent failed is simply forgotten, at no cost;
if a request did fail since (rTorrent went away or froze), one ``d.multicall2`` tells which of those
items rTorrent no longer has, and the job loads them again. An item the user erased within the hold
is loaded again only if rTorrent also failed a request meanwhile, which is rare and says so in the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyrotorque.clock import Clock


@dataclass(frozen=True)
class RecentLoad:
    """One load: the file, its root, the item's hash, the client's failure count and when (monotonic)."""

    path: Path
    root: Path
    info_hash: str
    failures: int
    loaded_at: float


class RecentLoads:
    """Recent loads in the order they happened."""

    def __init__(self, clock: Clock, hold: float) -> None:
        self.clock = clock
        self.hold = hold
        self._loads: list[RecentLoad] = []
        self._check_at: float | None = None

    def __len__(self) -> int:
        return len(self._loads)

    def add(self, path: Path, root: Path, info_hash: str, failures: int) -> None:
        """Keep one load until its hold is over."""
        now = self.clock.monotonic()
        self._loads.append(RecentLoad(path, root, info_hash, failures, now))
        if self._check_at is None:
            self._check_at = now + self.hold

    @property
    def check_at(self) -> float | None:
        """Monotonic time when the oldest load's hold is over (or a postponed check), None if none."""
        return self._check_at if self._loads else None

    def take_due(self) -> list[RecentLoad]:
        """The loads whose hold is over, removed from here; the next check follows the oldest left."""
        now = self.clock.monotonic()
        if self._check_at is None or now < self._check_at:
            return []
        due = [load for load in self._loads if now - load.loaded_at >= self.hold]
        self._loads = self._loads[len(due) :]
        self._check_at = self._loads[0].loaded_at + self.hold if self._loads else None
        return due

    def put_back(self, loads: list[RecentLoad], retry_in: float) -> None:
        """Loads that could not be checked (rTorrent still away): check them again ``retry_in`` later."""
        self._loads = [*loads, *self._loads]
        self._check_at = self.clock.monotonic() + retry_in
