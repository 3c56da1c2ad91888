"""The queue's brakes: free space on an item's file system (``min_free``) and download traffic.

Both read the items counted as downloading, fetched with the few extra fields they need; the queue
fetches them only after it found a free slot, so a full queue's tick costs what it cost before.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from pyrotorque.conditions import Item
from pyrotorque.sizes import human_size, size_bytes

#: The extra fields the brakes read from downloading items and from candidates.
SPACE_FIELDS: Final = ("directory", "d_left_bytes")
TRAFFIC_FIELDS: Final = ("down",)
#: A skipped item is logged again only when its own size changes or its room moves by this much:
#: free space and the reserved bytes move with every chunk written, so exact figures would log each tick.
RELOG_SLACK: Final = 64 << 20


def parse_size(text: str) -> int:
    """``10G``, ``500m``, ``1.5t``, ``4096`` (bytes) to a byte count; ValueError otherwise."""
    value = size_bytes(text.strip())
    if value is None or not math.isfinite(value):
        raise ValueError(f"expected a size (a number, then k m g or t), got {text!r}")
    return int(value)


def size_problem(text: str) -> str | None:
    """Why ``text`` is not a size, or None."""
    try:
        parse_size(text)
    except ValueError as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class Disk:
    """The file system a directory is on: its device and the bytes an unprivileged writer may use."""

    device: int
    free: int


def disk_of(path: str) -> Disk | None:
    """The file system of ``path`` or of its nearest existing parent; None for a relative or unusable path.

    An item's directory often does not exist before its first start (a multi-file item's own folder).
    """
    if not os.path.isabs(path):
        return None
    current = os.path.normpath(path)
    while True:
        try:
            device = os.stat(current).st_dev
            vfs = os.statvfs(current)
        except (FileNotFoundError, NotADirectoryError):
            parent = os.path.dirname(current)
            if parent == current:
                return None
            current = parent
            continue
        except OSError:
            return None
        return Disk(device, vfs.f_bavail * vfs.f_frsize)


def remaining(item: Item) -> int:
    """The bytes ``item`` still has to download."""
    return max(0, int(item["d_left_bytes"] or 0))


def traffic(downloading: Sequence[Item]) -> int:
    """The download rate of ``downloading`` together, in bytes per second."""
    return sum(int(item["down"] or 0) for item in downloading)


class SpaceCheck:
    """Picks the candidates that fit on their file system, with ``min_free`` to spare.

    Each candidate needs its remaining bytes; the remaining bytes of the items downloading on the same
    file system, and of the candidates already picked this tick, are reserved first.
    """

    def __init__(
        self, min_free: int, log: logging.Logger, host_path: Callable[[str], str] = lambda path: path
    ) -> None:
        self.min_free = min_free
        self.log = log
        #: rTorrent's path -> the path on this host (identity unless rTorrent runs in a chroot).
        self.host_path = host_path
        #: A host path -> its file system (replaceable, so unit tests can set the figures).
        self.disk_of: Callable[[str], Disk | None] = disk_of
        #: hash -> (needed, room) as last logged, so a skipped item is logged once, not every tick.
        self._logged: dict[str, tuple[int, int | None]] = {}

    def select(self, candidates: Sequence[Item], downloading: Sequence[Item], count: int) -> list[Item]:
        """Up to ``count`` of ``candidates``, in their order, that fit."""
        disks: dict[str, Disk | None] = {}

        def disk(item: Item) -> Disk | None:
            directory = str(item["directory"] or "")
            if directory not in disks:
                disks[directory] = self.disk_of(self.host_path(directory)) if directory else None
            return disks[directory]

        reserved: dict[int, int] = {}
        for item in downloading:
            if (where := disk(item)) is not None:
                reserved[where.device] = reserved.get(where.device, 0) + remaining(item)
        chosen: list[Item] = []
        for item in candidates:
            if len(chosen) >= count:
                break
            where, needed = disk(item), remaining(item)
            held = reserved.get(where.device, 0) if where is not None else 0
            if where is not None and where.free - held - needed >= self.min_free:
                chosen.append(item)
                reserved[where.device] = held + needed
                self._logged.pop(item.hash, None)
            else:
                self._skipped(item, where, needed, held)
        current = {item.hash for item in candidates}
        for info_hash in [key for key in self._logged if key not in current]:
            del self._logged[info_hash]  # started by hand, erased, or no longer startable
        return chosen

    def _skipped(self, item: Item, where: Disk | None, needed: int, held: int) -> None:
        """Log a skipped candidate at INFO once, then at DEBUG until its figures really change."""
        room = where.free - held if where is not None else None
        before = self._logged.get(item.hash)
        again = (
            before is not None
            and before[0] == needed
            and (
                room == before[1]
                or (room is not None and before[1] is not None and abs(room - before[1]) < RELOG_SLACK)
            )
        )
        level = logging.DEBUG if again else logging.INFO
        if not again:
            self._logged[item.hash] = (needed, room)
        directory = item["directory"]
        if where is None:
            self.log.log(
                level, "Not starting %r #%s: no file system found for %r", item.name, item.hash, directory
            )
            return
        self.log.log(
            level,
            "Not starting %r #%s: needs %s, %s free in %r, %s reserved for items downloading there, "
            "min_free %s",
            item.name,
            item.hash,
            human_size(needed),
            human_size(where.free),
            directory,
            human_size(held),
            human_size(self.min_free),
        )
