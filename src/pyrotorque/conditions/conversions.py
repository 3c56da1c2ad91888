"""How the condition fields' values are computed from rTorrent's answers: pure conversions of
``d.*`` results and of file and tracker lists, some with a :class:`FieldContext` (aliases, clock)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from pyrotorque.conditions import traits


@dataclass(frozen=True)
class FieldContext:
    """What some conversions need besides rTorrent's answers: tracker aliases and the clock."""

    aliases: Mapping[str, Sequence[str]] = field(default_factory=dict)
    now: float = field(default_factory=time.time)


def text(value: Any) -> str:
    """A result as text; None reads as ""."""
    return "" if value is None else str(value)


def integer(value: Any) -> int:
    """A result as an int; empty or garbage reads as 0."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def boolean(value: Any) -> bool:
    """A result as a truth value (through :func:`integer`)."""
    return bool(integer(value))


# The basic conversions, for code that specializes on them (pyrotorque.conditions.term_code).
to_text: Final = text
to_int: Final = integer
to_bool: Final = boolean


def epoch(value: Any) -> int:
    """A ``d.custom`` timestamp ("" when unset) as an int; garbage reads as 0."""
    try:
        return int(float(value)) if value not in (None, "") else 0
    except (TypeError, ValueError, OverflowError):
        return 0


_ACTIVATION_RE: Final = re.compile(r"([RP])(\d+)")


def _activations(value: Any) -> list[tuple[str, int]]:
    """``R<epoch>`` (resumed) / ``P<epoch>`` (paused) events in the order they were logged."""
    return [(kind, int(stamp)) for kind, stamp in _ACTIVATION_RE.findall(text(value))]


def _running_intervals(events: list[tuple[str, int]], now: float) -> list[tuple[float, float]]:
    """Closed intervals from each resume to the next pause (or now, if still running).

    Two resumes in a row mean rTorrent went away while the item ran (no pause was logged): the
    time in between is unknown, so the interval restarts at the second resume.
    """
    intervals: list[tuple[float, float]] = []
    began: float | None = None
    for kind, stamp in events:
        if kind == "R":
            began = stamp
        elif began is not None:
            intervals.append((began, max(began, stamp)))
            began = None
    if began is not None:
        intervals.append((began, max(began, now)))
    return intervals


def leechtime(context: FieldContext, activations: Any, completed: Any, started: Any) -> int | None:
    """Seconds spent running before completion; None when nothing tells."""
    events = _activations(activations)
    done_at = epoch(completed)
    if not events:
        first = epoch(started)
        return done_at - first if done_at and first and done_at >= first else None
    limit = done_at or context.now
    return int(
        sum(max(0.0, min(end, limit) - begin) for begin, end in _running_intervals(events, context.now))
    )


def seedtime(context: FieldContext, activations: Any, completed: Any) -> int | None:
    """Seconds spent running since completion; None for an incomplete item or no events."""
    done_at = epoch(completed)
    events = _activations(activations)
    if not done_at or not events:
        return None
    return int(
        sum(max(0.0, end - max(begin, done_at)) for begin, end in _running_intervals(events, context.now))
    )


def stopped(activations: Any) -> int:
    """The time of the last pause event, else 0."""
    pauses = [stamp for kind, stamp in _activations(activations) if kind == "P"]
    return pauses[-1] if pauses else 0


def data_path(base_path: Any, directory: Any, name: Any, is_multi_file: Any) -> str:
    """The path of the data: d.base_path, else built from the directory (and name for a single file)."""
    if base_path:
        return str(base_path)
    if boolean(is_multi_file):
        return text(directory)
    return os.path.join(text(directory), text(name)) if directory else ""


def is_ghost(base_path: Any, directory: Any, name: Any, is_multi_file: Any) -> bool | None:
    """True if the data path does not exist on this machine; None (not a ghost) without a path.

    A broken symlink counts as a ghost: its data is gone.
    """
    path = data_path(base_path, directory, name, is_multi_file)
    return not os.path.exists(path) if path else None


def percent_done(completed_chunks: Any, size_chunks: Any) -> float:
    """Completed chunks as a percentage."""
    total = integer(size_chunks)
    return 100.0 * integer(completed_chunks) / total if total else 0.0


def words(value: Any) -> frozenset[str]:
    """The lower-cased words of a text."""
    return frozenset(text(value).lower().split())


def views(value: Any) -> frozenset[str]:
    """The lower-cased names of the views an item is in."""
    # Unlike the original, view names are lower-cased too, so "views=MyView" can match.
    if isinstance(value, list | tuple):
        return frozenset(text(view).lower() for view in value)
    return words(value)


def file_paths(files: Any) -> tuple[str, ...]:
    """The paths of a file list."""
    return tuple(text(entry[0]) for entry in files)


def first_tracker(trackers: Any) -> str:
    """The URL of the first enabled tracker, else of the first one, else ""."""
    for entry in trackers:
        if boolean(entry[1]):
            return text(entry[0])
    return text(trackers[0][0]) if trackers else ""


def announce_alias(url: str, aliases: Mapping[str, Sequence[str]]) -> str:
    """The ``[ANNOUNCE]`` alias of a tracker URL, else the last two labels of its host name."""
    if not url:
        return ""
    for alias, urls in aliases.items():
        if url in urls:
            return alias
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return ""
    prefix = f"{parts.scheme}://{parts.netloc}/"
    for alias, urls in aliases.items():
        if any(candidate.startswith(prefix) for candidate in urls):
            return alias
    if re.fullmatch(r"[\d.]+|.*:.*", host):
        return host  # an IP address has no domain to shorten
    return ".".join(host.split(".")[-2:])


def tracker_alias(context: FieldContext, trackers: Any) -> str:
    """The alias of the first enabled tracker (see :func:`announce_alias`)."""
    return announce_alias(first_tracker(trackers), context.aliases)


def kinds_of(percent: int) -> Callable[[Any], frozenset[str]]:
    """A conversion to the file extensions holding at least ``percent`` of the size."""

    def kinds(files: Any) -> frozenset[str]:
        return traits.kinds_at_least(traits.histogram_of(files), percent)

    return kinds


def traits_of(name: Any, files: Any) -> frozenset[str]:
    """Content class and main extension (see traits.detect_traits)."""
    return frozenset(traits.detect_traits(text(name), traits.histogram_of(files)))


def custom(key: str) -> str:
    """The command reading ``d.custom=KEY``."""
    return f"d.custom={key}"
