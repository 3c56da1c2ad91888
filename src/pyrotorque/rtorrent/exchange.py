"""What every transport's exchange shares: its one deadline and the set of exchanges in flight.

``InFlight`` lets ``abort(reason)`` cut the exchanges running now from another thread (their sockets
are shut down, which wakes a thread blocked in ``recv``) and refuse new ones.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable

from pyrotorque.errors import RtorrentTimeout, TransportError


class InFlight:
    """The connections of the exchanges running now, so ``abort()`` can cut them from another thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: dict[int, Callable[[], socket.socket | None]] = {}
        self.aborted: str | None = None

    def __len__(self) -> int:
        """How many exchanges are running now."""
        with self._lock:
            return len(self._sockets)

    def begin(self, timeout: float, url: str) -> Deadline:
        """The deadline of a new exchange; refused (``TransportError``) after ``abort()``."""
        if self.aborted is not None:
            raise self.refused(url)
        return Deadline(timeout, url)

    def add(self, key: int, sock: Callable[[], socket.socket | None], url: str) -> None:
        """Track the exchange ``key`` whose socket ``sock()`` returns; refused after ``abort()``."""
        with self._lock:
            if self.aborted is not None:
                raise self.refused(url)
            self._sockets[key] = sock

    def discard(self, key: int) -> None:
        """The exchange ``key`` is over."""
        with self._lock:
            self._sockets.pop(key, None)

    def abort(self, reason: str) -> None:
        """Shut down every socket in flight; refuse every later exchange."""
        with self._lock:
            self.aborted = reason
            sockets = [get() for get in self._sockets.values()]
        for sock in sockets:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def refused(self, url: str) -> TransportError:
        """The error of an exchange refused or cut by ``abort()``."""
        return TransportError(f"call cut short: {self.aborted}", url)


class Deadline:
    """The time left for one exchange."""

    def __init__(self, timeout: float, url: str) -> None:
        self.timeout = timeout
        self.url = url
        self.expires = time.monotonic() + timeout

    def remaining(self) -> float:
        """Seconds left; raises ``RtorrentTimeout`` once there are none."""
        left = self.expires - time.monotonic()
        if left <= 0:
            raise self.expired()
        return left

    def expired(self) -> RtorrentTimeout:
        """The exception for a missed deadline."""
        return RtorrentTimeout(f"no complete answer from rTorrent within {self.timeout:g}s", self.url)
