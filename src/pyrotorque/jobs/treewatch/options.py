"""The ``job.NAME.*`` keys of a tree watch, and how its ``path`` setting becomes roots."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pyrotorque.config.options import option
from pyrotorque.jobs.treewatch.disposal import loaded_problem


def split_roots(text: str) -> tuple[Path, ...]:
    """The ``:``-separated roots of a ``path`` setting, absolute, ``~`` expanded, duplicates dropped."""
    roots: dict[Path, None] = {}
    for part in text.split(":"):
        if part.strip():
            expanded = os.path.expanduser(part.strip()).rstrip("/") or "/"
            roots[Path(os.path.abspath(expanded))] = None
    return tuple(roots)


def _roots_problem(text: str) -> str | None:
    """Option check of ``path``: every root must be a directory (an empty path is checked by the job)."""
    for root in split_roots(text):
        if not root.is_dir():
            return f"{str(root)!r} is not a directory"
    return None


@dataclass(frozen=True)
class TreeWatchOptions:
    """The ``job.NAME.*`` keys of a tree watch (package defaults in torque.ini)."""

    path: str = option("", check=_roots_problem, help="root folder(s) to watch, ':'-separated")
    load_mode: str = option("normal", help="'start' or 'started' loads items started")
    queued: bool = option(False, help="leave starting to the queue job")
    quiet: bool = option(False, help="do not announce loads in rTorrent's log")
    trace_inotify: bool = option(False, help="log every inotify event at DEBUG level")
    loaded: str = option("keep", check=loaded_problem, help="keep, delete or move:DIR a loaded metafile")
    first_start: str = option(
        "record", choices=("record", "load"), help="on a first start, record the files there or load them"
    )
    cmd: dict[str, str] = field(default_factory=dict)  # extra load commands, applied sorted by NAME
