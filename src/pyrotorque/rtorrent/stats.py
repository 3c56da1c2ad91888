"""Counters for the client's traffic with rTorrent (shared by threads, kept under a lock)."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class StatsSnapshot:
    """A consistent copy of the counters at one moment."""

    requests: int = 0
    failures: int = 0
    bytes_out: int = 0
    bytes_in: int = 0
    largest_request: int = 0
    largest_response: int = 0
    total_latency: float = 0.0  # seconds, over the requests that got an answer

    @property
    def mean_latency(self) -> float:
        """Mean seconds per answered request (0.0 before the first one)."""
        answered = self.requests - self.failures
        return self.total_latency / answered if answered > 0 else 0.0


class ClientStats:
    """Request count, bytes each way, the largest request and response, and latency."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current = StatsSnapshot()

    def record(self, sent: int, received: int, latency: float) -> None:
        """Count one answered request."""
        with self._lock:
            now = self._current
            self._current = StatsSnapshot(
                requests=now.requests + 1,
                failures=now.failures,
                bytes_out=now.bytes_out + sent,
                bytes_in=now.bytes_in + received,
                largest_request=max(now.largest_request, sent),
                largest_response=max(now.largest_response, received),
                total_latency=now.total_latency + latency,
            )

    def record_failure(self, sent: int) -> None:
        """Count one request that got no usable answer (transport failure or timeout)."""
        with self._lock:
            now = self._current
            self._current = StatsSnapshot(
                requests=now.requests + 1,
                failures=now.failures + 1,
                bytes_out=now.bytes_out + sent,
                bytes_in=now.bytes_in,
                largest_request=max(now.largest_request, sent),
                largest_response=now.largest_response,
                total_latency=now.total_latency,
            )

    def snapshot(self) -> StatsSnapshot:
        """The counters as they are now (a frozen copy)."""
        with self._lock:
            return self._current

    @property
    def requests(self) -> int:
        """Requests sent so far, answered or not."""
        return self.snapshot().requests

    @property
    def bytes_out(self) -> int:
        """Request bytes sent (bodies, without SCGI/HTTP headers)."""
        return self.snapshot().bytes_out

    @property
    def bytes_in(self) -> int:
        """Response body bytes received."""
        return self.snapshot().bytes_in

    @property
    def largest_request(self) -> int:
        """The largest request body so far."""
        return self.snapshot().largest_request

    @property
    def largest_response(self) -> int:
        """The largest response body so far."""
        return self.snapshot().largest_response

    @property
    def mean_latency(self) -> float:
        """Mean seconds per answered request."""
        return self.snapshot().mean_latency

    def format(self) -> str:
        """One line for the stats job: ``12 requests (1 failed), 3.2 KiB out, ...``."""
        now = self.snapshot()
        failed = f" ({now.failures} failed)" if now.failures else ""
        return (
            f"{now.requests} requests{failed}, {_size(now.bytes_out)} out, {_size(now.bytes_in)} in, "
            f"largest {_size(now.largest_request)} out / {_size(now.largest_response)} in, "
            f"mean latency {now.mean_latency * 1000:.1f} ms"
        )

    def __str__(self) -> str:
        return self.format()


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count / (1024 * 1024):.1f} MiB"
