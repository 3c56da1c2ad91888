"""Moving an item's data into another directory without losing it: pure file-system logic.

Two steps, so the caller can switch rTorrent to the new place between them:

1. :func:`place` puts the data at ``DIR/NAME``. On the same file system that is one rename. Across
   file systems the data is copied into ``DIR/.NAME.pyrotorque-partial`` (fsynced, modes and mtimes
   kept), the copy is compared with the source (and with the item's file list), then renamed to
   ``DIR/NAME``, atomically on the target's file system. The source is only read.
2. :func:`remove_source` removes the source of a copy, once rTorrent uses the new place.

A crash at any point leaves the source complete: before the final rename the target name does not
exist (a later :func:`place` removes our partial copy and starts over); after it, the target is a
verified copy, which a later :func:`place` recognises and accepts.
"""

from __future__ import annotations

import enum
import errno
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pyrotorque.errors import DataError
from pyrotorque.jobs.rules.data_tree import (
    Entry,
    copy_tree,
    differences,
    file_list_problems,
    remove_tree,
    snapshot,
    sync_directory,
)

PARTIAL_SUFFIX: Final = ".pyrotorque-partial"


class How(enum.Enum):
    """How the data came to be at the target."""

    IN_PLACE = "already in the directory"
    RENAMED = "renamed"
    COPIED = "copied"
    FOUND_COPY = "a complete copy was already there"
    FOUND_MOVED = "already moved there, the source is gone"


@dataclass(frozen=True)
class Placement:
    """Where the data was, where it is now, and whether the source still has to go."""

    source: Path
    target: Path
    how: How

    @property
    def source_left(self) -> bool:
        """True if the source still exists and :func:`remove_source` has to remove it."""
        return self.how in (How.COPIED, How.FOUND_COPY)


def partial_path(directory: Path, name: str) -> Path:
    """The temporary name of a copy in progress: hidden, and clearly ours."""
    return directory / f".{name}{PARTIAL_SUFFIX}"


def ensure_directory(directory: Path) -> bool:
    """Create the target directory (and its parents) if missing; True if it was created."""
    if os.path.isdir(directory):
        return False
    try:
        os.makedirs(directory)
    except OSError as exc:
        raise DataError(f"cannot create {directory}: {_reason(exc)}") from exc
    return True


def place(source: Path, directory: Path, files: Mapping[str, int] | None = None) -> Placement:
    """Put the data at ``source`` (a file or a directory) into ``directory`` as ``directory/NAME``.

    ``files`` is the item's file list to check the copy against: paths relative to the data
    directory for a multi-file item, or one entry for a single file (its key is not compared).
    DataError names the path for anything that cannot be done safely; the source is then untouched.
    """
    source = Path(os.path.abspath(source))
    directory = Path(os.path.abspath(directory))
    target = directory / source.name
    expected = _expected(source, files)
    _check_directory(source, directory)
    if not _lexists(source):
        return _already_moved(source, target, expected)
    if os.path.islink(source):
        raise DataError(f"{source} is a symlink: refusing to move it (move what it points to)")
    if os.path.samefile(source.parent, directory):
        return Placement(source, source, How.IN_PLACE)
    if _lexists(target):
        return _existing_target(source, target, expected)
    if os.lstat(source).st_dev == os.stat(directory).st_dev and _renamed(source, target):
        return Placement(source, target, How.RENAMED)
    _copy(source, target, expected)
    return Placement(source, target, How.COPIED)


def remove_source(placement: Placement) -> None:
    """Remove the source of a copy (the caller has switched rTorrent to the target first)."""
    if not placement.source_left:
        return
    if not _lexists(placement.target):
        raise DataError(f"{placement.target} is gone: keeping the source {placement.source}")
    try:
        remove_tree(placement.source)
    except OSError as exc:
        raise DataError(f"cannot remove {_where(exc, placement.source)}: {_reason(exc)}") from exc


def _expected(source: Path, files: Mapping[str, int] | None) -> dict[str, int] | None:
    if files is None:
        return None
    if len(files) == 1 and not os.path.isdir(source):
        return {"": next(iter(files.values()))}
    return dict(files)


def _check_directory(source: Path, directory: Path) -> None:
    if not os.path.isdir(directory):
        raise DataError(f"{directory} is not a directory")
    real_source, real_directory = os.path.realpath(source), os.path.realpath(directory)
    if os.path.commonpath([real_source, real_directory]) == real_source:
        raise DataError(f"{directory} is inside the data {source}: cannot move it into itself")


def _already_moved(source: Path, target: Path, expected: dict[str, int] | None) -> Placement:
    """The source is gone: accept a target the item's file list vouches for (a rename done before a crash)."""
    vouched = bool(expected) and _lexists(target) and not os.path.islink(target)
    if vouched and not file_list_problems(_snapshot(target), expected or {}):
        return Placement(source, target, How.FOUND_MOVED)
    raise DataError(f"{source} does not exist")


def _existing_target(source: Path, target: Path, expected: dict[str, int] | None) -> Placement:
    """A target of that name exists: a complete copy of the source (a crash after placing it) or not ours."""
    source_tree, target_tree = _snapshot(source), _snapshot(target)
    if differences(source_tree, target_tree):
        raise DataError(f"{target} already exists and is not a copy of {source}: not replacing it")
    problems = file_list_problems(target_tree, expected or {})
    if problems:
        raise DataError(f"{target} already exists, but {problems[0]}")
    return Placement(source, target, How.FOUND_COPY)


def _renamed(source: Path, target: Path) -> bool:
    """Rename on one file system; False if it turns out to be two (a bind mount: EXDEV)."""
    try:
        os.rename(source, target)
    except OSError as exc:
        if exc.errno == errno.EXDEV:
            return False
        raise DataError(f"cannot rename {source} to {target}: {_reason(exc)}") from exc
    sync_directory(target.parent)
    sync_directory(source.parent)
    return True


def _copy(source: Path, target: Path, expected: dict[str, int] | None) -> None:
    """Copy into the partial name, verify, then rename it to the target; on failure remove the partial."""
    partial = partial_path(target.parent, target.name)
    try:
        if _lexists(partial):
            remove_tree(partial)  # a killed run's leftover: it was never complete, start over
        copy_tree(source, partial)
        _verify(source, partial, expected)
        os.rename(partial, target)
        sync_directory(target.parent)
    except (OSError, DataError) as exc:
        kept = _discard(partial)
        if isinstance(exc, DataError):
            raise DataError(f"{exc}{kept}") from exc
        where = _where(exc, source)
        raise DataError(f"cannot copy {source} to {target}: {where}: {_reason(exc)}{kept}") from exc


def _verify(source: Path, partial: Path, expected: dict[str, int] | None) -> None:
    source_tree, copy_tree_ = snapshot(source), snapshot(partial)
    changed = differences(source_tree, copy_tree_)
    if changed:
        raise DataError(f"the copy of {source} differs at {changed[0] or '.'}: not using it")
    problems = file_list_problems(copy_tree_, expected or {})
    if problems:
        raise DataError(f"the copy of {source} does not match the item: {problems[0]}")


def _discard(partial: Path) -> str:
    """Remove a partial copy; the text to add to the error if that failed too."""
    try:
        if _lexists(partial):
            remove_tree(partial)
    except OSError as exc:
        return f" (and the partial copy {partial} could not be removed: {_reason(exc)})"
    return ""


def _snapshot(path: Path) -> dict[str, Entry]:
    try:
        return snapshot(path)
    except OSError as exc:
        raise DataError(f"cannot read {_where(exc, path)}: {_reason(exc)}") from exc


def _lexists(path: Path) -> bool:
    return os.path.lexists(path)


def _where(exc: OSError, default: Path) -> str:
    return str(exc.filename) if exc.filename else str(default)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
