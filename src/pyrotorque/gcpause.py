"""Hold off Python's cyclic garbage collector while a burst of acyclic objects is built.

A big rTorrent answer (and the items made from it) allocates tens of thousands of lists, tuples
and small objects in a burst; every 700 allocations start a collection, and in a process that
already holds many objects (a daemon keeping earlier answers) the older generations get walked
again and again: that doubled the time of a 10,000-row decode. Those values hold no reference
cycles, so there is nothing for the collector to find in them. Pausing is thread-safe: the first
thread to enter switches the collector off (if it was on at all), the last to leave switches it
back on.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

#: Below this many bytes of answer (or a comparable number of rows), too few objects are built for
#: the collector to matter.
PAUSE_COLLECTOR_FROM = 256 * 1024


class CollectorPause:
    """A reference-counted switch for the garbage collector."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._was_enabled = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Run the body with the collector off."""
        with self._lock:
            if self._holders == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0 and self._was_enabled:
                    gc.enable()


_PROCESS_PAUSE = CollectorPause()


def collector_paused() -> AbstractContextManager[None]:
    """The process-wide pause: ``with collector_paused(): build_many_objects()``."""
    return _PROCESS_PAUSE.paused()
