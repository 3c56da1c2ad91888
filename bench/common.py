"""Shared set-up for the benchmarks: sandboxes with items loaded, timing, table printing."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sandbox.rtorrent import RtorrentSandbox, scgi_request

T = TypeVar("T")

DEFAULT_ITEMS = 10_000
DEFAULT_REPEAT = 7

# 20 commonly fetched fields; the same on 0.9.8 and 0.16.
FIELDS_20 = (
    "d.hash=",
    "d.name=",
    "d.state=",
    "d.complete=",
    "d.is_active=",
    "d.is_open=",
    "d.priority=",
    "d.message=",
    "d.size_bytes=",
    "d.completed_bytes=",
    "d.up.total=",
    "d.down.total=",
    "d.ratio=",
    "d.custom1=",
    "d.directory=",
    "d.creation_date=",
    "d.custom=tm_loaded",
    "d.tied_to_file=",
    "d.is_multi_file=",
    "d.left_bytes=",
)


@dataclass
class BenchContext:
    """One running sandbox with its items; handed to every benchmark."""

    line: str
    sandbox: RtorrentSandbox
    items: int
    repeat: int

    @property
    def url(self) -> str:
        """The sandbox's SCGI URL, for ``RtorrentClient``."""
        return self.sandbox.url

    @property
    def socket_path(self) -> Path:
        """The sandbox's SCGI socket on this host."""
        return self.sandbox.socket_path


@dataclass(frozen=True)
class Timing:
    """Wall-clock samples of one measurement, in seconds."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        """Median of the samples."""
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        """Fastest sample."""
        return min(self.samples)

    @property
    def high(self) -> float:
        """Slowest sample."""
        return max(self.samples)


def time_call(function: Callable[[], T], repeat: int = DEFAULT_REPEAT, warmup: int = 1) -> tuple[Timing, T]:
    """Run ``function`` ``warmup`` + ``repeat`` times; the timing of the latter and the last result."""
    result = function()
    for _ in range(warmup - 1):
        result = function()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - started)
    return Timing(tuple(samples)), result


def time_interleaved(
    functions: Mapping[str, Callable[[], Any]], repeat: int = DEFAULT_REPEAT, warmup: int = 1
) -> tuple[dict[str, Timing], dict[str, Any]]:
    """Time several functions round-robin (one call of each per round), so that load from other
    processes hits all of them alike; returns the timings and the last result of each."""
    results = {name: function() for name, function in functions.items() for _ in range(warmup)}
    samples: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeat):
        for name, function in functions.items():
            started = time.perf_counter()
            results[name] = function()
            samples[name].append(time.perf_counter() - started)
    return {name: Timing(tuple(values)) for name, values in samples.items()}, results


def scgi_exchange(
    socket_path: Path, body: bytes, content_type: str = "text/xml", timeout: float = 300
) -> bytes:
    """Send one SCGI request and read the whole answer; the body without headers (the RPC floor)."""
    return scgi_request(socket_path, body, content_type=content_type, timeout=timeout)


@contextmanager
def loaded_sandbox(
    line: str, items: int = DEFAULT_ITEMS, repeat: int = DEFAULT_REPEAT
) -> Iterator[BenchContext]:
    """Start a private sandbox of ``line``, load ``items`` stopped items, and stop it afterwards."""
    with (
        tempfile.TemporaryDirectory(prefix="pyrotorque-bench-") as root,
        RtorrentSandbox(Path(root), line) as sandbox,
    ):
        started = time.perf_counter()
        sandbox.load_items(items, prefix="bench", seed=1)
        elapsed = time.perf_counter() - started
        print(f"rTorrent {sandbox.version} ({line}): loaded {items:,} items in {elapsed:.1f} s")
        yield BenchContext(line=line, sandbox=sandbox, items=items, repeat=repeat)


def milliseconds(seconds: float) -> str:
    """Seconds as a right-aligned millisecond figure."""
    return f"{seconds * 1000:9.1f}"


def print_table(title: str, rows: Sequence[tuple[str, Timing]], notes: Sequence[str] = ()) -> None:
    """Print measurements as median / min / max in milliseconds."""
    width = max(len(label) for label, _ in rows)
    print(f"\n{title}")
    print(f"  {'':{width}}  {'median ms':>9}  {'min ms':>9}  {'max ms':>9}")
    for label, timing in rows:
        figures = "  ".join(milliseconds(value) for value in (timing.median, timing.low, timing.high))
        print(f"  {label:{width}}  {figures}")
    for note in notes:
        print(f"  {note}")


def ratio_line(name: str, numerator: Timing, denominator: Timing, target: float | None = None) -> str:
    """``name = x.xx`` of the medians, with the target when there is one."""
    value = numerator.median / denominator.median
    goal = (
        f"  (target <= {target:g}: {'met' if value <= target else 'NOT met'})" if target is not None else ""
    )
    return f"{name} = {value:.2f}{goal}"


def same_rows(first: Any, second: Any) -> bool:
    """Whether two decoded answers are equal, types included."""
    if type(first) is not type(second):
        return False
    if isinstance(first, list):
        return len(first) == len(second) and all(same_rows(a, b) for a, b in zip(first, second, strict=True))
    return bool(first == second)
