"""The item fields usable in conditions and sort orders, and the rTorrent commands each one needs.

A field is data: its name, its value kind, the commands whose results it is computed from
(``d.*`` commands for ``d.multicall2``, or the :data:`FILES` / :data:`TRACKERS` lists), and a
pure conversion from those results. Reading a field never writes anything into rTorrent.
"""

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from pyrotorque.conditions import traits
from pyrotorque.conditions.values import ValueKind
from pyrotorque.errors import ConditionError

__all__ = [
    "FIELDS",
    "FILES",
    "TRACKERS",
    "FieldContext",
    "FieldDef",
    "announce_alias",
    "lookup_field",
]

# Pseudo-commands: per-item lists fetched with f.multicall / t.multicall in one system.multicall.
FILES: Final = "f.multicall"
TRACKERS: Final = "t.multicall"
FILE_COMMANDS: Final = ("f.path=", "f.size_bytes=")
TRACKER_COMMANDS: Final = ("t.url=", "t.is_enabled=")


@dataclass(frozen=True)
class FieldContext:
    """What some conversions need besides rTorrent's answers: tracker aliases and the clock."""

    aliases: Mapping[str, Sequence[str]] = field(default_factory=dict)
    now: float = field(default_factory=time.time)


@dataclass(frozen=True)
class FieldDef:
    """One field: its name, value kind, the commands it needs and how to convert their results."""

    name: str
    kind: ValueKind
    commands: tuple[str, ...]
    convert: Callable[..., Any]
    help: str
    contextual: bool = False  # convert() gets the FieldContext as its first argument

    @property
    def deferred(self) -> bool:
        """True if the field needs per-item file or tracker lists (fetched in a second step)."""
        return FILES in self.commands or TRACKERS in self.commands


# --- conversions ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _bool(value: Any) -> bool:
    return bool(_int(value))


# The basic conversions, for code that specializes on them (pyrotorque.conditions.compiler).
to_text: Final = _text
to_int: Final = _int
to_bool: Final = _bool


def _epoch(value: Any) -> int:
    """A ``d.custom`` timestamp ("" when unset) as an int; garbage reads as 0."""
    try:
        return int(float(value)) if value not in (None, "") else 0
    except (TypeError, ValueError, OverflowError):
        return 0


_ACTIVATION_RE: Final = re.compile(r"([RP])(\d+)")


def _activations(value: Any) -> list[tuple[str, int]]:
    """``R<epoch>`` (resumed) / ``P<epoch>`` (paused) events in the order they were logged."""
    return [(kind, int(stamp)) for kind, stamp in _ACTIVATION_RE.findall(_text(value))]


def _running_intervals(events: list[tuple[str, int]], now: float) -> list[tuple[float, float]]:
    """Intervals from each resume to the next pause (or now, if still running)."""
    intervals: list[tuple[float, float]] = []
    began: float | None = None
    for kind, stamp in events:
        if kind == "R":
            if began is None:
                began = stamp
        elif began is not None:
            intervals.append((began, max(began, stamp)))
            began = None
    if began is not None:
        intervals.append((began, max(began, now)))
    return intervals


def _leechtime(context: FieldContext, activations: Any, completed: Any, started: Any) -> int | None:
    events = _activations(activations)
    done_at = _epoch(completed)
    if not events:
        first = _epoch(started)
        return done_at - first if done_at and first and done_at >= first else None
    limit = done_at or context.now
    return int(
        sum(max(0.0, min(end, limit) - begin) for begin, end in _running_intervals(events, context.now))
    )


def _seedtime(context: FieldContext, activations: Any, completed: Any) -> int | None:
    done_at = _epoch(completed)
    events = _activations(activations)
    if not done_at or not events:
        return None
    return int(
        sum(max(0.0, end - max(begin, done_at)) for begin, end in _running_intervals(events, context.now))
    )


def _stopped(activations: Any) -> int:
    pauses = [stamp for kind, stamp in _activations(activations) if kind == "P"]
    return pauses[-1] if pauses else 0


def _path(base_path: Any, directory: Any, name: Any, is_multi_file: Any) -> str:
    if base_path:
        return str(base_path)
    if _bool(is_multi_file):
        return _text(directory)
    return os.path.join(_text(directory), _text(name)) if directory else ""


def _done(completed_chunks: Any, size_chunks: Any) -> float:
    total = _int(size_chunks)
    return 100.0 * _int(completed_chunks) / total if total else 0.0


def _words(value: Any) -> frozenset[str]:
    return frozenset(_text(value).lower().split())


def _views(value: Any) -> frozenset[str]:
    # Unlike the original, view names are lower-cased too, so "views=MyView" can match.
    if isinstance(value, list | tuple):
        return frozenset(_text(view).lower() for view in value)
    return _words(value)


def _file_paths(files: Any) -> tuple[str, ...]:
    return tuple(_text(entry[0]) for entry in files)


def _first_tracker(trackers: Any) -> str:
    for entry in trackers:
        if _bool(entry[1]):
            return _text(entry[0])
    return _text(trackers[0][0]) if trackers else ""


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


def _alias(context: FieldContext, trackers: Any) -> str:
    return announce_alias(_first_tracker(trackers), context.aliases)


def _kind(percent: int) -> Callable[[Any], frozenset[str]]:
    def kinds(files: Any) -> frozenset[str]:
        return traits.kinds_at_least(traits.histogram_of(files), percent)

    return kinds


def _traits(name: Any, files: Any) -> frozenset[str]:
    return frozenset(traits.detect_traits(_text(name), traits.histogram_of(files)))


def _custom(key: str) -> str:
    return f"d.custom={key}"


# --- the table ------------------------------------------------------------------------------------


def _f(
    name: str, kind: ValueKind, commands: tuple[str, ...], convert: Callable[..., Any], help: str, **kw: bool
) -> FieldDef:
    return FieldDef(name, kind, commands, convert, help, **kw)


_STATIC: Final = (
    _f("hash", "pattern", ("d.hash",), _text, "info hash (upper-case hex)"),
    _f("name", "pattern", ("d.name",), _text, "item name (the default field)"),
    _f(
        "alias",
        "pattern",
        (TRACKERS,),
        _alias,
        "tracker alias from [ANNOUNCE], else the tracker's domain",
        contextual=True,
    ),
    _f("tracker", "pattern", (TRACKERS,), _first_tracker, "URL of the first enabled tracker"),
    _f("size", "bytes", ("d.size_bytes",), _int, "total size in bytes"),
    _f("prio", "number", ("d.priority",), _int, "priority: 0 off, 1 low, 2 normal, 3 high"),
    _f("message", "pattern", ("d.message",), _text, "tracker message"),
    _f("is_ignored", "bool", ("d.ignore_commands",), _bool, "ignores commands (ratio handling etc.)"),
    _f("is_open", "bool", ("d.is_open",), _bool, "is open"),
    _f("is_active", "bool", ("d.is_active",), _bool, "is active (started and not paused)"),
    _f("is_started", "bool", ("d.state",), _bool, "started (also while paused or hash-checking)"),
    _f("is_hashing", "bool", ("d.hashing",), _bool, "a hash check runs or is queued"),
    _f("is_complete", "bool", ("d.complete",), _bool, "all data is downloaded"),
    _f("is_private", "bool", ("d.is_private",), _bool, "private flag of the metafile"),
    _f("is_multi_file", "bool", ("d.is_multi_file",), _bool, "has a directory of files"),
    _f(
        "path",
        "pattern",
        ("d.base_path", "d.directory", "d.name", "d.is_multi_file"),
        _path,
        "path of the data (file or directory)",
    ),
    _f("directory", "pattern", ("d.directory",), _text, "data directory"),
    _f(
        "metafile",
        "pattern",
        ("d.tied_to_file",),
        lambda v: os.path.expanduser(_text(v)),
        "path of the tied metafile",
    ),
    _f("done", "number", ("d.completed_chunks", "d.size_chunks"), _done, "percent done"),
    _f("ratio", "number", ("d.ratio",), lambda v: _int(v) / 1000.0, "upload ratio"),
    _f("up", "bytes", ("d.up.rate",), _int, "upload rate (bytes/s)"),
    _f("down", "bytes", ("d.down.rate",), _int, "download rate (bytes/s)"),
    _f("uploaded", "bytes", ("d.up.total",), _int, "bytes uploaded"),
    _f(
        "xfer",
        "bytes",
        ("d.up.rate", "d.down.rate"),
        lambda up, down: _int(up) + _int(down),
        "upload plus download rate (bytes/s)",
    ),
    _f("throttle", "pattern", ("d.throttle_name",), lambda v: _text(v) or "NONE", "throttle group"),
    _f("loaded", "time_notnull", (_custom("tm_loaded"),), _epoch, "time loaded into the client"),
    _f("started", "time_notnull", (_custom("tm_started"),), _epoch, "time of the first start"),
    _f("completed", "time_notnull", (_custom("tm_completed"),), _epoch, "time the download finished"),
    _f("stopped", "time_notnull", (_custom("activations"),), _stopped, "time of the last stop"),
    _f(
        "leechtime",
        "duration",
        (_custom("activations"), _custom("tm_completed"), _custom("tm_started")),
        _leechtime,
        "time spent downloading",
        contextual=True,
    ),
    _f(
        "seedtime",
        "duration",
        (_custom("activations"), _custom("tm_completed")),
        _seedtime,
        "time spent seeding",
        contextual=True,
    ),
    _f("active", "time", (_custom("tm_last_active"),), _epoch, "last time a peer was connected"),
    _f("last_xfer", "time", (_custom("tm_last_xfer"),), _epoch, "last time data was transferred"),
    _f("tagged", "tags", (_custom("tags"),), _words, "tags (words in d.custom=tags)"),
    _f("views", "tags", ("d.views",), _views, "views the item is in"),
    _f("kind", "tags", (FILES,), _kind(0), "file extensions of the item"),
    _f("traits", "tags", ("d.name", FILES), _traits, "content class and main extension, e.g. audio flac"),
    _f("files", "files", (FILES,), _file_paths, "file paths (matches if any path matches)"),
    _f("fno", "number", ("d.size_files",), _int, "number of files"),
    *(_f(f"custom_{n}", "pattern", (f"d.custom{n}",), _text, f"d.custom{n}") for n in range(1, 6)),
)
FIELDS: Final[Mapping[str, FieldDef]] = {definition.name: definition for definition in _STATIC}

_KIND_RE: Final = re.compile(r"kind_(\d+)")
_CUSTOM_RE: Final = re.compile(r"custom_([A-Za-z0-9_.]+)")
_METHOD_RE: Final = re.compile(r"d_([a-z][a-z0-9_.]*)")
# d.* commands that change something; a d_METHOD field must never call one.
_MUTATING: Final = re.compile(
    r"(?:^|\.)(?:set|add|insert|remove|push_back|push_back_unique|enable|disable|redirect|erase|start|stop"
    r"|open|close|pause|resume|check_hash|save_resume|save_full_session|try_start|try_stop|try_close"
    r"|update_priorities|delete_link|create_link|delete_tied|tracker_announce|add_peer|directly|seeders"
    r"|clear|set_\w*|if_z)(?:\.|$)|multicall|\.set"
)


@functools.lru_cache(maxsize=512)
def lookup_field(name: str) -> FieldDef:
    """The field called ``name``, including ``kind_N``, ``custom_KEY`` and ``d_METHOD``."""
    static = FIELDS.get(name)
    if static is not None:
        return static
    found = _KIND_RE.fullmatch(name)
    if found:
        percent = int(found.group(1))
        if percent > 100:
            raise ConditionError(f"kind_N: N > 100 in {name!r}")
        return FieldDef(
            name, "tags", (FILES,), _kind(percent), f"extensions with at least {percent}% of the size"
        )
    found = _CUSTOM_RE.fullmatch(name)
    if found:
        key = found.group(1)
        return FieldDef(name, "pattern", (_custom(key),), _text, f"d.custom={key}")
    found = _METHOD_RE.fullmatch(name)
    if found:
        method = "d." + found.group(1)
        if _MUTATING.search(found.group(1)):
            raise ConditionError(f"Field {name!r} would call {method}, which changes the item")
        return FieldDef(name, "magic", (method,), lambda value: value, f"the result of {method}")
    raise ConditionError(f"Unknown field {name!r}")
