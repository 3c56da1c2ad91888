"""Safe removal of one item's own data: a read-only plan, then a separate removal step.

The plan only reads the file system (lstat, realpath); :func:`remove_planned` is the one step
that changes it. The rules (docs/rules.md, "delete"):

- the data path is refused (:class:`DataError`) when empty, relative, ``/``, or equal to or above
  a guarded path (home directories, watch roots, ``directory.default``), also after resolving;
- only the files of the item's list under its data path are unlinked, never followed: a file
  that is a symlink is unlinked as a link, a path through a symlinked directory is skipped;
- a file another item also uses (same entry by normalized path or with its directory resolved,
  or the target another item's symlink resolves to) is kept;
- then the directories of the item's files that are left empty, deepest first, the data path
  last; never a mount point, never a directory another item's data lives in;
- a missing file is fine (already gone); a failed removal is reported, so the item is kept.

Removal walks from the data path's parent with ``O_NOFOLLOW``, so a directory swapped for a
symlink between plan and removal is not followed either.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field

from pyrotorque.errors import DataError
from pyrotorque.jobs.rules.data_guard import Guard, entry_ids, forms, within

_DIR_FLAGS = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_CLOEXEC


@dataclass(frozen=True)
class ItemData:
    """An item's data on this machine: its data path, its shape and its file list."""

    path: str  # a file (single-file item) or a directory (multi-file item), host path
    is_multi: bool
    files: tuple[str, ...] = ()  # relative to the data path, as f.path gives them


@dataclass(frozen=True)
class Kept:
    """A path left in place on purpose, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Failed:
    """A removal that failed: the path and the error."""

    path: str
    error: str


@dataclass(frozen=True)
class Step:
    """One directory entry to remove: reached from ``anchor`` through ``parts``, never following links."""

    anchor: str
    parts: tuple[str, ...]
    is_dir: bool

    @property
    def path(self) -> str:
        """The entry's full path."""
        return os.path.join(self.anchor, *self.parts)


@dataclass(frozen=True)
class DeletePlan:
    """What removing an item's data will do: the steps in order, and what stays."""

    data_path: str
    steps: tuple[Step, ...]  # files first, then directories deepest first
    kept: tuple[Kept, ...]


@dataclass
class DeleteResult:
    """What removing an item's data did."""

    data_path: str
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # files already gone: fine
    kept: list[Kept] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed: the item may be erased."""
        return not self.failed


@dataclass(frozen=True)
class _Used:
    """What other items use: file entries, whole trees (file list unknown), and every path."""

    files: frozenset[str]
    trees: tuple[str, ...]
    paths: tuple[str, ...]

    @classmethod
    def of(cls, others: Sequence[ItemData]) -> _Used:
        files: set[str] = set()
        trees: set[str] = set()
        for other in others:
            if not other.path.startswith("/"):
                continue
            entries = [other.path]
            if other.is_multi:
                entries = [os.path.join(other.path, rel) for rel in other.files]
                if not other.files:  # no file list: everything below its data path is its own
                    trees |= forms(other.path)
            for entry in entries:
                # Resolved fully as well: another item's symlink may point at one of our files.
                files |= entry_ids(entry) | {os.path.realpath(entry)}
        paths = files | trees | {f for o in others if o.path.startswith("/") for f in forms(o.path)}
        return cls(frozenset(files), tuple(sorted(trees)), tuple(sorted(paths)))

    def uses(self, ids: set[str]) -> bool:
        """Does another item use this entry?"""
        return bool(ids & self.files) or any(within(i, t) for i in ids for t in self.trees)

    def lives_below(self, ids: set[str]) -> bool:
        """Does another item's data lie at or below this entry?"""
        return any(within(p, i) for p in self.paths for i in ids)


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _split_rel(rel: str) -> tuple[str, ...] | None:
    """The components of a relative path that stays below its base, else None."""
    parts = tuple(rel.split("/"))
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return None
    return parts


def plan_delete(item: ItemData, others: Sequence[ItemData], guard: Guard) -> DeletePlan:
    """Plan removing ``item``'s own data; reads the file system, changes nothing."""
    data_path = guard.check(item.path)
    anchor = os.path.dirname(data_path)  # not the item's: may be reached through links
    used = _Used.of(others)
    st = _lstat(data_path)
    if st is None:
        return DeletePlan(data_path, (), ())  # all gone already
    if item.is_multi and stat.S_ISDIR(st.st_mode):
        return _plan_tree(data_path, anchor, item.files, used)
    if stat.S_ISDIR(st.st_mode):
        raise DataError(f"refusing to delete {data_path!r}: a single-file data path that is a directory")
    if item.is_multi and not stat.S_ISLNK(st.st_mode):
        raise DataError(f"refusing to delete {data_path!r}: a multi-file data path that is not a directory")
    return _plan_entry(data_path, anchor, used, is_link=stat.S_ISLNK(st.st_mode))


def _plan_entry(data_path: str, anchor: str, used: _Used, *, is_link: bool) -> DeletePlan:
    """Plan a data path that is one entry: a single file, or a link (never followed)."""
    ids = entry_ids(data_path)
    if used.uses(ids) or used.lives_below(ids):
        return DeletePlan(data_path, (), (Kept(data_path, "also used by another item"),))
    kept: tuple[Kept, ...] = ()
    if is_link:
        kept = (Kept(os.path.realpath(data_path), "the data path's symlink target: only the link goes"),)
    return DeletePlan(data_path, (Step(anchor, (os.path.basename(data_path),), False),), kept)


def _plan_tree(data_path: str, anchor: str, files: Sequence[str], used: _Used) -> DeletePlan:
    """Plan a multi-file item: its files, then the directories they leave empty."""
    base = os.path.basename(data_path)
    steps: list[Step] = []
    kept: list[Kept] = []
    dirs: set[tuple[str, ...]] = {()}
    for rel in dict.fromkeys(files):
        parts = _split_rel(rel)
        if parts is None:
            kept.append(Kept(os.path.join(data_path, rel), "not below the data path"))
            continue
        reason, depth = _file_reason(data_path, parts, used)
        dirs.update(parts[:i] for i in range(1, depth + 1))
        if reason:
            kept.append(Kept(os.path.join(data_path, *parts), reason))
        else:
            steps.append(Step(anchor, (base, *parts), False))
    for parts in sorted(dirs, key=lambda p: (-len(p), p)):
        path = os.path.join(data_path, *parts)
        reason = _dir_reason(path, used)
        if reason:
            kept.append(Kept(path, reason))
        else:
            steps.append(Step(anchor, (base, *parts), True))
    return DeletePlan(data_path, tuple(steps), tuple(kept))


def _file_reason(data_path: str, parts: tuple[str, ...], used: _Used) -> tuple[str, int]:
    """Why one listed file must stay ("" if it may go), and how many of its directories are real."""
    for depth in range(1, len(parts)):
        path = os.path.join(data_path, *parts[:depth])
        st = _lstat(path)
        if st is None:
            return "", depth - 1  # gone with its directory; removal reports it missing
        if stat.S_ISLNK(st.st_mode):
            return f"reached through the symlinked directory {path}", depth - 1
        if not stat.S_ISDIR(st.st_mode):
            return f"{path} is not a directory", depth - 1
    path = os.path.join(data_path, *parts)
    st = _lstat(path)
    if st is not None and stat.S_ISDIR(st.st_mode):
        return "a directory where the file list has a file", len(parts) - 1
    if used.uses(entry_ids(path)):
        return "also used by another item", len(parts) - 1
    return "", len(parts) - 1


def _dir_reason(path: str, used: _Used) -> str:
    """Why a directory of the item must stay even when empty ("" if it may go)."""
    st = _lstat(path)
    if st is None or not stat.S_ISDIR(st.st_mode):
        return "" if st is None else "not a directory"
    parent = _lstat(os.path.dirname(path))
    if parent is not None and parent.st_dev != st.st_dev:
        return "a mount point"
    if used.lives_below(entry_ids(path)):
        return "another item's data lies below it"
    return ""


def remove_planned(plan: DeletePlan) -> DeleteResult:
    """Carry out a plan: unlink its files, remove its directories that are empty."""
    result = DeleteResult(plan.data_path, kept=list(plan.kept))
    for step in plan.steps:
        _remove_step(step, result)
    return result


def delete_data(item: ItemData, others: Sequence[ItemData], guard: Guard) -> DeleteResult:
    """Plan and remove ``item``'s own data; :class:`DataError` when the data path is refused."""
    return remove_planned(plan_delete(item, others, guard))


def _remove_step(step: Step, result: DeleteResult) -> None:
    path = step.path
    try:
        fd = _open_parent(step)
    except FileNotFoundError:
        if not step.is_dir:
            result.missing.append(path)
        return
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # swapped for a symlink since the plan
            result.kept.append(Kept(path, "a directory on the way is no longer a plain directory"))
        else:
            result.failed.append(Failed(path, _describe(exc)))
        return
    try:
        if step.is_dir:
            os.rmdir(step.parts[-1], dir_fd=fd)
        else:
            os.unlink(step.parts[-1], dir_fd=fd)
        result.removed.append(path)
    except FileNotFoundError:
        if not step.is_dir:
            result.missing.append(path)
    except OSError as exc:
        if step.is_dir and exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            result.kept.append(Kept(path, "not empty"))
        else:
            result.failed.append(Failed(path, _describe(exc)))
    finally:
        os.close(fd)


def _open_parent(step: Step) -> int:
    """A descriptor of the entry's directory, opened component by component without following links."""
    fd = os.open(step.anchor, _DIR_FLAGS)
    for part in step.parts[:-1]:
        try:
            child = os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
        finally:
            os.close(fd)
        fd = child
    return fd


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc)
