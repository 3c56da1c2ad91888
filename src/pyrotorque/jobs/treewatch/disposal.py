"""What becomes of a metafile once its item is in rTorrent: ``loaded = keep | delete | move:DIR``.

Only a file whose item rTorrent showed (loaded now, or loaded already: a duplicate) is deleted or
moved; never one that failed. ``move:DIR`` keeps the file's path below its watch root, creating
folders, and never overwrites: a file of the same name and bytes there already means the move is done
(the copy in the tree is removed), different bytes get the first free name ``stem-2.torrent``, ...

The item may be tied to the file (``d.tied_to_file``). rTorrent itself ignores a tie to a missing
file (measured on 0.9.8 and 0.16), but a ``schedule = …, ((remove_untied))`` in rtorrent.rc erases
such items, and ``d.delete_tied`` and the default erase handler act on the tied path. So when the
item is tied to this file, it is untied (``d.tied_to_file.set=""``) before the file goes, and for a
move tied to the new path afterwards: at no moment does the tie point at a missing file.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pyrotorque.errors import RtorrentError
from pyrotorque.rtorrent.client import RtorrentClient

_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK})


@dataclass(frozen=True)
class LoadedPolicy:
    """A parsed ``loaded`` setting: keep (``target`` None, not ``delete``), delete, or move to ``target``."""

    delete: bool = False
    target: Path | None = None

    @property
    def keeps(self) -> bool:
        """True for ``keep``: the file stays (the default)."""
        return not self.delete and self.target is None


def parse_loaded(text: str) -> LoadedPolicy:
    """``keep``, ``delete`` or ``move:DIR`` (DIR absolute, ``~`` expanded); ValueError otherwise."""
    value = text.strip()
    if value.lower() in ("", "keep"):
        return LoadedPolicy()
    if value.lower() == "delete":
        return LoadedPolicy(delete=True)
    if value[:5].lower() == "move:":
        target = os.path.expanduser(value[5:].strip())
        if not target or not os.path.isabs(target):
            raise ValueError(f"move:DIR needs an absolute DIR (or ~/...), not {value[5:].strip()!r}")
        return LoadedPolicy(target=Path(os.path.normpath(target)))
    raise ValueError(f"{text!r} is not keep, delete or move:DIR")


def loaded_problem(text: str) -> str | None:
    """Option check of ``loaded``."""
    try:
        parse_loaded(text)
    except ValueError as exc:
        return str(exc)
    return None


class Disposal:
    """Deletes or moves loaded metafiles for one tree watch job, keeping the item's tie sound."""

    def __init__(
        self, policy: LoadedPolicy, client: RtorrentClient, log: logging.Logger, *, dry_run: bool
    ) -> None:
        self.policy = policy
        self.client = client
        self.log = log
        self.dry_run = dry_run

    def destination(self, path: Path, root: Path) -> Path | None:
        """Where ``move:`` puts ``path`` (its path below ``root`` kept), None for ``delete``."""
        if self.policy.target is None:
            return None
        try:
            relative = path.relative_to(root)
        except ValueError:
            relative = Path(path.name)
        return self.policy.target / relative

    def dispose(self, path: Path, root: Path, info_hash: str) -> bool:
        """Delete or move ``path`` (its item is in rTorrent); True when the file left the tree."""
        if self.policy.keeps:
            return False
        moved_to = self.destination(path, root)
        what = f"delete {str(path)!r}" if moved_to is None else f"move {str(path)!r} to {str(moved_to)!r}"
        if self.dry_run:
            self.log.info("WOULD %s (its item is loaded)", what)
            return False
        try:
            tied = str(self.client.call("d.tied_to_file", info_hash)) == str(path)
            if tied:
                self.client.call("d.tied_to_file.set", info_hash, "")
        except RtorrentError as exc:
            self.log.warning("Did not %s: rTorrent did not answer (%s)", what, exc)
            return False
        try:
            new_path = self._move(path, moved_to) if moved_to is not None else self._delete(path)
            gone = True  # new_path None: deleted, the item stays untied
        except OSError as exc:
            self.log.warning("Could not %s (%s); it stays in the watch tree", what, exc.strerror or exc)
            new_path, gone = path, False
        if tied and new_path is not None:
            self._tie(info_hash, new_path)
        return gone

    def _delete(self, path: Path) -> Path | None:
        """Delete ``path``; None, as nothing is left to tie the item to."""
        path.unlink()
        self.log.info("Deleted %r (its item is loaded)", str(path))
        return None

    def _move(self, path: Path, target: Path) -> Path:
        """Move ``path`` to ``target`` (or a free name next to it) without overwriting; the new path."""
        target.parent.mkdir(parents=True, exist_ok=True)
        data = path.read_bytes()
        candidate, number = target, 1
        while True:
            try:
                _place(path, candidate)
                break
            except FileExistsError:
                with contextlib.suppress(OSError):
                    if candidate.read_bytes() == data:
                        path.unlink()
                        self.log.info("Removed %r: the same file is in %r already", str(path), str(candidate))
                        return candidate
                number += 1
                candidate = target.with_name(f"{target.stem}-{number}{target.suffix}")
        self.log.info("Moved %r to %r (its item is loaded)", str(path), str(candidate))
        return candidate

    def _tie(self, info_hash: str, path: Path) -> None:
        try:
            self.client.call("d.tied_to_file.set", info_hash, str(path))
        except RtorrentError as exc:
            self.log.warning("Item #%s is left untied (was tied to its metafile): %s", info_hash, exc)


def _place(source: Path, target: Path) -> None:
    """Move without overwriting (FileExistsError): a hard link, or a copy across file systems."""
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno == errno.EXDEV:
            _copy_exclusive(source, target)
        elif exc.errno in _NO_HARD_LINKS:  # e.g. FAT or some FUSE file systems: a plain rename
            if target.exists():
                raise FileExistsError(errno.EEXIST, "exists", str(target)) from None
            os.rename(source, target)
            return
        else:
            raise
    source.unlink()


def _copy_exclusive(source: Path, target: Path) -> None:
    """Copy into a temporary file next to ``target``, synced, then link it in place (no overwrite)."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".pyrotorque-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out)
            out.flush()
            os.fsync(out.fileno())
        shutil.copystat(source, temporary)
        os.link(temporary, target)
    finally:
        os.unlink(temporary)
