"""Time for jobs: one injectable clock for wall time, monotonic time and sleeping.

Jobs get their clock from ``JobContext.clock`` and never call the ``time`` module themselves, so a
test drives time with a fake clock instead of patching module constants or sleeping. A clock is
callable and then returns wall time: ``context.clock()`` is what the context's ``clock`` field was
before it became an object (a plain ``() -> float``), so jobs that call it keep working unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Wall time, monotonic time and sleeping; calling the clock is ``time()``."""

    def __call__(self) -> float:
        """Wall time in seconds since the epoch (the same as ``time()``)."""

    def time(self) -> float:
        """Wall time in seconds since the epoch: for comparing with file times and for logs."""

    def time_ns(self) -> int:
        """Wall time in nanoseconds since the epoch: for comparing with ``st_mtime_ns`` exactly."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back: for delays, deadlines and durations."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a fake clock just moves on)."""


class SystemClock:
    """The real clock: the ``time`` module."""

    def __call__(self) -> float:
        """Wall time, as ``time.time()``."""
        return time.time()

    def time(self) -> float:
        """``time.time()``."""
        return time.time()

    def time_ns(self) -> int:
        """``time.time_ns()``."""
        return time.time_ns()

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """``time.sleep()``."""
        time.sleep(seconds)


class WallClock(SystemClock):
    """A plain wall-time function as a clock; monotonic time and sleeping stay the system's.

    What ``JobContext`` makes of a ``clock=`` that is only a function (the context's clock before
    it became an object), so a job that only calls ``context.clock()`` sees that function's time.
    """

    def __init__(self, wall: Callable[[], float]) -> None:
        self.wall = wall

    def __call__(self) -> float:
        """The wrapped function's time."""
        return self.wall()

    def time(self) -> float:
        """The wrapped function's time."""
        return self.wall()

    def time_ns(self) -> int:
        """The wrapped function's time, in nanoseconds."""
        return int(self.wall() * 1_000_000_000)


def as_clock(value: Clock | Callable[[], float]) -> Clock:
    """``value`` if it is a clock already, else the wall-time function wrapped as one (``WallClock``)."""
    return value if isinstance(value, Clock) else WallClock(value)


#: The clock of every job the daemon runs.
SYSTEM_CLOCK = SystemClock()
