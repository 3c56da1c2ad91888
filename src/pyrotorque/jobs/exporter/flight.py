"""One collection shared by every scrape that wants it (a single flight), bounded by each scrape's deadline.

A scrape asks :meth:`SingleFlight.get` with its own deadline. A result younger than ``cache_for``
is handed out at once. Otherwise, when no collection is running, one starts in a worker thread; when
one is running, the scrape waits for that one instead of starting another. A scrape whose deadline
passes gets ``None`` (and exports ``up 0``) while the collection runs on: it is abandoned, not
cancelled, and no second one starts beside it, so a frozen rTorrent costs one stuck worker thread,
never one per scrape. The RPC client's own timeout ends that worker eventually.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What one collection produced: its value (or the exception it raised) and how long it took."""

    value: T | None
    error: BaseException | None
    duration: float
    finished: float  # on the flight's clock

    def result(self) -> T:
        """The value, or the collection's exception raised again."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # None only when error is set


class _Flight(Generic[T]):
    """One running collection and the scrapes waiting for it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.outcome: Outcome[T] | None = None


class SingleFlight(Generic[T]):
    """At most one ``work()`` at a time; concurrent callers share its outcome (see the module doc)."""

    def __init__(
        self,
        work: Callable[[], T],
        clock: Callable[[], float],
        *,
        cache_for: float = 0.0,
        name: str = "collect",
    ) -> None:
        self.work = work
        self.clock = clock
        self.cache_for = cache_for
        self.name = name
        self._lock = threading.Lock()
        self._running: _Flight[T] | None = None
        self._last: Outcome[T] | None = None
        self.collections = 0  # collections started
        self.waiting = 0  # scrapes waiting for a running collection right now

    @property
    def busy(self) -> bool:
        """True while a collection runs (possibly one every scrape has given up on)."""
        return self._running is not None

    def get(self, timeout: float) -> Outcome[T] | None:
        """A fresh enough outcome, waiting at most ``timeout`` seconds for it; None when none came in time."""
        with self._lock:
            last = self._last
            if last is not None and self.clock() - last.finished < self.cache_for:
                return last
            flight = self._running
            if flight is None:
                flight = self._running = _Flight()
                self.collections += 1
                threading.Thread(target=self._fly, args=(flight,), name=self.name, daemon=True).start()
            self.waiting += 1
        try:
            flight.done.wait(timeout)
        finally:
            with self._lock:
                self.waiting -= 1
        return flight.outcome

    def _fly(self, flight: _Flight[T]) -> None:
        started = self.clock()
        value: T | None = None
        error: BaseException | None = None
        try:
            value = self.work()
        except Exception as exc:  # handed to every waiting scrape, which decides what it means
            error = exc
        finished = self.clock()
        outcome = Outcome(value, error, finished - started, finished)
        with self._lock:
            flight.outcome = outcome
            self._running = None
            self._last = outcome
        flight.done.set()
