"""Bytes up and down per tracker alias as counters that only grow, from the items' own totals.

The sum of ``d.up.total`` over the items of an alias falls when an item is erased or moves to another
tracker, so it is no counter. Instead each collection adds what every item moved since the previous
one to its alias: an erased item's bytes stay counted, an item seen for the first time counts with
its whole total, and an item whose total went down (rTorrent restarted without its session figures)
counts from zero again. The per-item memory is pruned on every collection; the per-alias counters
live as long as the exporter (a daemon restart starts them again, which ``rate()`` handles).
"""

from __future__ import annotations

from collections.abc import Iterable


class TrafficTotals:
    """Per-alias byte counters fed with (hash, alias, up, down) rows; one collection at a time."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, float]] = {}
        self.up: dict[str, float] = {}
        self.down: dict[str, float] = {}

    def update(self, rows: Iterable[tuple[str, str, float, float]]) -> None:
        """Add each item's bytes since the last collection to its alias now; forget items gone."""
        seen: dict[str, tuple[float, float]] = {}
        for info_hash, alias, up, down in rows:
            last_up, last_down = self._items.get(info_hash, (0.0, 0.0))
            self.up[alias] = self.up.get(alias, 0.0) + _grown(last_up, up)
            self.down[alias] = self.down.get(alias, 0.0) + _grown(last_down, down)
            seen[info_hash] = (up, down)
        self._items = seen


def _grown(last: float, now: float) -> float:
    """What a total grew by; a total below its last value was reset, so all of it is new."""
    return now - last if now >= last else now
