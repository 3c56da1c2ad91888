"""The item fields usable in conditions and sort orders, and the rTorrent commands each one needs.

A field is data: its name, its value kind, the commands whose results it is computed from
(``d.*`` commands for ``d.multicall2``, or the :data:`FILES` / :data:`TRACKERS` lists), and a
pure conversion from those results (in conversions). Reading a field never writes anything into
rTorrent. This module is the table of fields and the lookup of the generated ones.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pyrotorque.conditions.conversions import (
    FieldContext,
    announce_alias,
    boolean,
    custom,
    data_path,
    epoch,
    file_paths,
    first_tracker,
    integer,
    is_ghost,
    kinds_of,
    leechtime,
    percent_done,
    seedtime,
    stopped,
    text,
    to_bool,
    to_int,
    to_text,
    tracker_alias,
    traits_of,
    views,
    words,
)
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
    "to_bool",
    "to_int",
    "to_text",
]

# Pseudo-commands: per-item lists fetched with f.multicall / t.multicall in one system.multicall.
FILES: Final = "f.multicall"
TRACKERS: Final = "t.multicall"
FILE_COMMANDS: Final = ("f.path=", "f.size_bytes=")
TRACKER_COMMANDS: Final = ("t.url=", "t.is_enabled=")


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


# --- the table ------------------------------------------------------------------------------------


def _f(
    name: str, kind: ValueKind, commands: tuple[str, ...], convert: Callable[..., Any], help: str, **kw: bool
) -> FieldDef:
    return FieldDef(name, kind, commands, convert, help, **kw)


_STATIC: Final = (
    _f("hash", "pattern", ("d.hash",), text, "info hash (upper-case hex)"),
    _f("name", "pattern", ("d.name",), text, "item name (the default field)"),
    _f(
        "alias",
        "pattern",
        (TRACKERS,),
        tracker_alias,
        "tracker alias from [ANNOUNCE], else the tracker's domain",
        contextual=True,
    ),
    _f("tracker", "pattern", (TRACKERS,), first_tracker, "URL of the first enabled tracker"),
    _f("size", "bytes", ("d.size_bytes",), integer, "total size in bytes"),
    _f("prio", "number", ("d.priority",), integer, "priority: 0 off, 1 low, 2 normal, 3 high"),
    _f("message", "pattern", ("d.message",), text, "tracker message"),
    _f("is_ignored", "bool", ("d.ignore_commands",), boolean, "ignores commands (ratio handling etc.)"),
    _f("is_open", "bool", ("d.is_open",), boolean, "is open"),
    _f("is_active", "bool", ("d.is_active",), boolean, "is active (started and not paused)"),
    _f("is_started", "bool", ("d.state",), boolean, "started (also while paused or hash-checking)"),
    _f("is_hashing", "bool", ("d.hashing",), boolean, "a hash check runs or is queued"),
    _f("is_complete", "bool", ("d.complete",), boolean, "all data is downloaded"),
    _f("is_private", "bool", ("d.is_private",), boolean, "private flag of the metafile"),
    _f("is_multi_file", "bool", ("d.is_multi_file",), boolean, "has a directory of files"),
    _f(
        "path",
        "pattern",
        ("d.base_path", "d.directory", "d.name", "d.is_multi_file"),
        data_path,
        "path of the data (file or directory)",
    ),
    _f(
        "is_ghost",
        "bool",
        ("d.base_path", "d.directory", "d.name", "d.is_multi_file"),
        is_ghost,
        "the data path does not exist (checked on the daemon's machine)",
    ),
    _f("directory", "pattern", ("d.directory",), text, "data directory"),
    _f(
        "metafile",
        "pattern",
        ("d.tied_to_file",),
        lambda v: os.path.expanduser(text(v)),
        "path of the tied metafile",
    ),
    _f("done", "number", ("d.completed_chunks", "d.size_chunks"), percent_done, "percent done"),
    _f("ratio", "number", ("d.ratio",), lambda v: integer(v) / 1000.0, "upload ratio"),
    _f("up", "bytes", ("d.up.rate",), integer, "upload rate (bytes/s)"),
    _f("down", "bytes", ("d.down.rate",), integer, "download rate (bytes/s)"),
    _f("uploaded", "bytes", ("d.up.total",), integer, "bytes uploaded"),
    _f(
        "xfer",
        "bytes",
        ("d.up.rate", "d.down.rate"),
        lambda up, down: integer(up) + integer(down),
        "upload plus download rate (bytes/s)",
    ),
    _f("throttle", "pattern", ("d.throttle_name",), lambda v: text(v) or "NONE", "throttle group"),
    _f("loaded", "time_notnull", (custom("tm_loaded"),), epoch, "time loaded into the client"),
    _f("started", "time_notnull", (custom("tm_started"),), epoch, "time of the first start"),
    _f("completed", "time_notnull", (custom("tm_completed"),), epoch, "time the download finished"),
    _f("stopped", "time_notnull", (custom("activations"),), stopped, "time of the last stop"),
    _f(
        "leechtime",
        "duration",
        (custom("activations"), custom("tm_completed"), custom("tm_started")),
        leechtime,
        "time spent downloading",
        contextual=True,
    ),
    _f(
        "seedtime",
        "duration",
        (custom("activations"), custom("tm_completed")),
        seedtime,
        "time spent seeding",
        contextual=True,
    ),
    _f("active", "time", (custom("tm_last_active"),), epoch, "last time a peer was connected"),
    _f("last_xfer", "time", (custom("tm_last_xfer"),), epoch, "last time data was transferred"),
    _f("label", "pattern", ("d.custom1",), text, "label (d.custom1, as pyrosimple and ruTorrent use it)"),
    _f("tagged", "tags", (custom("tags"),), words, "tags (words in d.custom=tags)"),
    _f("views", "tags", ("d.views",), views, "views the item is in"),
    _f("kind", "tags", (FILES,), kinds_of(0), "file extensions of the item"),
    _f("traits", "tags", ("d.name", FILES), traits_of, "content class and main extension, e.g. audio flac"),
    _f("files", "files", (FILES,), file_paths, "file paths (matches if any path matches)"),
    _f("fno", "number", ("d.size_files",), integer, "number of files"),
    *(_f(f"custom_{n}", "pattern", (f"d.custom{n}",), text, f"d.custom{n}") for n in range(1, 6)),
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
            name, "tags", (FILES,), kinds_of(percent), f"extensions with at least {percent}% of the size"
        )
    found = _CUSTOM_RE.fullmatch(name)
    if found:
        key = found.group(1)
        return FieldDef(name, "pattern", (custom(key),), text, f"d.custom={key}")
    found = _METHOD_RE.fullmatch(name)
    if found:
        method = "d." + found.group(1)
        if _MUTATING.search(found.group(1)):
            raise ConditionError(f"Field {name!r} would call {method}, which changes the item")
        return FieldDef(name, "magic", (method,), lambda value: value, f"the result of {method}")
    raise ConditionError(f"Unknown field {name!r}")
