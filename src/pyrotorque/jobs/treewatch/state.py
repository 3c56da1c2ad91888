"""The tree watch's memory across restarts: which metafile versions it handled, in one small JSON file.

Without it, a restarted daemon cannot tell a metafile whose item the user erased on purpose from one
that arrived while the daemon was down, and would load the erased item again (and download its data
again). The file lives in ``<config dir>/run/treewatch-<job>.state`` and holds the roots that have had
their first scan and, per metafile path, the stamp (size, mtime_ns, inode), the outcome and the info
hash. Paths are stored as JSON strings of ``os.fsdecode`` names: characters that are not valid UTF-8
survive as ``\\udcXX`` escapes (surrogateescape), newlines as ``\\n``, so every name round-trips.

Writes go to a temporary file in the same directory that then replaces the old one (``os.replace``),
so a crash leaves either the old or the new state, never half of one. Each save writes the same
state twice, to ``….state.bak`` first and then to ``….state``: damage to one file from outside (a
bad disk block, an editor, a file truncated by hand) leaves the other, current copy to read.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyrotorque.errors import PyrotorqueError
from pyrotorque.jobs.treewatch.scanner import FileStamp, Outcome, Seen

STATE_FORMAT = "pyrotorque-treewatch-state"
STATE_VERSION = 1
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


class StateError(PyrotorqueError):
    """The state file exists but cannot be used (unreadable, not our format, damaged).

    Internal to the tree watch, which catches it and starts as if there were no state.
    """


@dataclass
class WatchState:
    """What a tree watch remembers: the roots scanned once already, and the handled file versions."""

    roots: set[Path] = field(default_factory=set)
    files: dict[Path, Seen] = field(default_factory=dict)


def state_path(config_dir: Path, job_name: str) -> Path:
    """``<config dir>/run/treewatch-<job>.state``; odd characters of the job name become ``_``."""
    return config_dir / "run" / f"treewatch-{_UNSAFE_NAME_CHARS.sub('_', job_name)}.state"


def encode_state(state: WatchState) -> bytes:
    """The JSON document of ``state`` (ASCII only: odd names are escaped, never lost)."""
    files = {
        str(path): [
            seen.stamp.size,
            seen.stamp.mtime_ns,
            seen.stamp.inode,
            seen.outcome.value,
            seen.info_hash,
        ]
        for path, seen in state.files.items()
    }
    document = {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "roots": sorted(str(root) for root in state.roots),
        "files": files,
    }
    return json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def decode_state(data: bytes) -> WatchState:
    """Parse a state document; anything unexpected raises StateError (the whole file is then ignored)."""
    try:
        document = json.loads(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise StateError(f"not valid JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != STATE_FORMAT:
        raise StateError("not a tree watch state file")
    if document.get("version") != STATE_VERSION:
        raise StateError(f"unknown version {document.get('version')!r}")
    roots, files = document.get("roots"), document.get("files")
    if not isinstance(roots, list) or not all(isinstance(root, str) for root in roots):
        raise StateError("'roots' is not a list of paths")
    if not isinstance(files, dict):
        raise StateError("'files' is not an object")
    return WatchState(
        {Path(root) for root in roots}, {Path(name): _seen(name, row) for name, row in files.items()}
    )


def _seen(name: str, row: Any) -> Seen:
    if not (
        isinstance(row, list)
        and len(row) == 5
        and all(type(value) is int and value >= 0 for value in row[:3])
        and isinstance(row[3], str)
        and isinstance(row[4], str)
    ):
        raise StateError(f"bad entry for {name!r}")
    try:
        outcome = Outcome(row[3])
    except ValueError:
        raise StateError(f"unknown outcome {row[3]!r} for {name!r}") from None
    return Seen(FileStamp(row[0], row[1], row[2]), outcome, row[4])


def backup_path(path: Path) -> Path:
    """Where the second copy of the state file at ``path`` lives."""
    return path.with_name(path.name + ".bak")


def read_state(path: Path) -> WatchState | None:
    """The saved state, or None when there is none; StateError when it cannot be used."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read it ({exc.strerror or exc})") from None
    return decode_state(data)


def write_state(path: Path, state: WatchState) -> int:
    """Replace the state file and its backup copy, each atomically; returns the size of one.

    The backup goes first: if the main file cannot be replaced (it became a directory, say), the
    current state is still on disk and the OSError tells the caller that the save did not work.
    """
    data = encode_state(state)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Only the main file is synced: after a power cut it is complete (the old or the new state),
    # and the copy matters only when the main file is damaged from outside, so it need not wait.
    _replace_atomically(backup_path(path), data, sync=False)
    _replace_atomically(path, data, sync=True)
    return len(data)


def _replace_atomically(path: Path, data: bytes, *, sync: bool) -> None:
    """Write ``data`` to a temporary file beside ``path`` (synced if ``sync``) and rename it over ``path``."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            if sync:
                os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
