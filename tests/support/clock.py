"""A fake clock for jobs (``JobContext.clock``): time stands still until a test moves it."""

from __future__ import annotations

import threading

#: 2027-01-15: far from any real file time a test might leave behind by accident.
DEFAULT_START = 1_800_000_000.0
_NS = 1_000_000_000


class FakeClock:
    """A ``pyrotorque.clock.Clock`` whose time moves only by ``advance()`` and ``sleep()``.

    Wall and monotonic time move together; they are kept in whole nanoseconds, so ``time_ns()`` can
    be compared exactly with the ``st_mtime_ns`` of files a test stamps with ``time()``. Safe to use
    from a job's worker thread too. ``sleeps`` records every ``sleep()``, for tests of waiting loops.
    """

    def __init__(self, start: float = DEFAULT_START, *, monotonic_start: float = 1000.0) -> None:
        self._wall_ns = round(start * _NS)
        self._monotonic_ns = round(monotonic_start * _NS)
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        """Wall time, as ``time()``."""
        return self.time()

    def time(self) -> float:
        """The fake wall time in seconds."""
        return self._wall_ns / _NS

    def time_ns(self) -> int:
        """The fake wall time in nanoseconds."""
        return self._wall_ns

    def monotonic(self) -> float:
        """The fake monotonic time in seconds."""
        return self._monotonic_ns / _NS

    def advance(self, seconds: float) -> None:
        """Move both times on by ``seconds``."""
        step = round(seconds * _NS)
        with self._lock:
            self._wall_ns += step
            self._monotonic_ns += step

    def sleep(self, seconds: float) -> None:
        """Return at once, with the time moved on by ``seconds``."""
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))
