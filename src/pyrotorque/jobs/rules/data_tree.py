"""What an item's data is made of on disk, and copying it faithfully to another file system.

A tree is described by relative paths ("" is the data path itself) mapped to what is there: a file
with its size and mtime (rTorrent's resume data compares the mtime, in seconds), a symlink with its
target text, or a directory. Nothing here follows a symlink.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pyrotorque.errors import DataError

COPY_CHUNK: Final = 1 << 20


@dataclass(frozen=True)
class Entry:
    """One path of a tree: kind "file" (size, mtime), "link" (target) or "dir"."""

    kind: str
    size: int = 0
    mtime: int = 0
    target: str = ""


def entry_of(info: os.stat_result, path: Path) -> Entry:
    """The entry for a path from its lstat; DataError for what data never is (a fifo, a device)."""
    if stat.S_ISLNK(info.st_mode):
        return Entry("link", target=os.readlink(path))
    if stat.S_ISREG(info.st_mode):
        return Entry("file", size=info.st_size, mtime=info.st_mtime_ns // 1_000_000_000)
    if stat.S_ISDIR(info.st_mode):
        return Entry("dir")
    raise DataError(f"{path}: not a file, directory or symlink")


def snapshot(path: Path) -> dict[str, Entry]:
    """Every path under ``path`` (itself included, as "") with its entry; OSError if unreadable."""
    tree: dict[str, Entry] = {}
    pending = [("", path)]
    while pending:
        relative, current = pending.pop()
        entry = entry_of(os.lstat(current), current)
        tree[relative] = entry
        if entry.kind == "dir":
            with os.scandir(current) as entries:
                for child in entries:
                    pending.append((os.path.join(relative, child.name), Path(child.path)))
    return tree


def differences(source: Mapping[str, Entry], copy: Mapping[str, Entry]) -> list[str]:
    """The relative paths where two trees differ (missing on either side, or another entry)."""
    return sorted(name for name in source.keys() | copy.keys() if source.get(name) != copy.get(name))


def file_list_problems(tree: Mapping[str, Entry], files: Mapping[str, int]) -> list[str]:
    """How ``tree`` disagrees with an item's file list (relative path -> size; "" for a single file)."""
    problems = []
    for name, size in sorted(files.items()):
        entry = tree.get(name)
        if entry is None or entry.kind != "file":
            problems.append(f"{name or '.'} is missing")
        elif entry.size != size:
            problems.append(f"{name or '.'} has {entry.size} bytes, the item's file list says {size}")
    return problems


def copy_tree(source: Path, target: Path) -> None:
    """Copy ``source`` to the new path ``target``: contents fsynced, modes, owners and times kept.

    Symlinks are copied as links. Directories get their times last, after their contents.
    """
    info = os.lstat(source)
    kind = entry_of(info, source).kind
    if kind == "link":
        os.symlink(os.readlink(source), target)
    elif kind == "file":
        _copy_file(source, target)
    else:
        os.mkdir(target, 0o700)
        with os.scandir(source) as entries:
            names = sorted(entry.name for entry in entries)
        for name in names:
            copy_tree(source / name, target / name)
        sync_directory(target)
    _copy_metadata(info, target)


def _copy_file(source: Path, target: Path) -> None:
    with open(source, "rb") as reader, open(target, "xb") as writer:
        try:
            shutil.copyfileobj(reader, writer, COPY_CHUNK)
            writer.flush()
            os.fsync(writer.fileno())
        except OSError as exc:
            exc.filename = exc.filename or str(target)  # a failed write (ENOSPC) names no file
            raise


def _copy_metadata(info: os.stat_result, target: Path) -> None:
    is_link = stat.S_ISLNK(info.st_mode)
    # Another owner is only possible as root; as the data's own user this is a no-op or EPERM.
    with contextlib.suppress(PermissionError):
        os.chown(target, info.st_uid, info.st_gid, follow_symlinks=False)
    if not is_link:
        os.chmod(target, stat.S_IMODE(info.st_mode))
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns), follow_symlinks=False)


def sync_directory(path: Path) -> None:
    """fsync a directory, so the names created or renamed in it survive a crash of the machine."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_tree(path: Path) -> None:
    """Remove a file, a symlink (not what it points to) or a directory tree; OSError on failure."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)
