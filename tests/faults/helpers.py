"""Shared pieces of the fault-injection tests: a daemon place with a tree watch, files, /proc probes."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

from sandbox.metafiles import Metafile, make_metafile
from sandbox.rtorrent import RtorrentSandbox

from tests.integration.test_daemon_cli import Daemonland

#: A tree watch whose scheduled scan never comes during a test: only inotify (and the start) loads.
NO_SCHEDULED_SCAN = "year=2099"


def watch_land(
    root: Path, sandbox: RtorrentSandbox, watch: Path, *, scan: str = NO_SCHEDULED_SCAN
) -> Daemonland:
    """A config dir for a background daemon: connstats every second and a tree watch on ``watch``."""
    land = Daemonland(root, sandbox.url)
    land.write(
        schedule="second=*",
        extra=(
            "job.treewatch.active = yes\n"
            f"job.treewatch.path = {watch}\n"
            f"job.treewatch.schedule = {scan}\n"
            "job.treewatch.load_mode = normal\n"
        ),
    )
    land.guard.touch()
    return land


def watch_dir(sandbox: RtorrentSandbox, name: str = "watch") -> Path:
    """A watch folder rTorrent can see too (0.16 runs in a chroot)."""
    path = sandbox.directory / name
    path.mkdir()
    return path


def drop(folder: Path, name: str, *, seed: int = 3) -> Metafile:
    """Write a metafile as a downloader does: a hidden partial file, renamed into place."""
    meta = make_metafile(name, size=64 << 10, seed=seed)
    partial = folder / f".{name}.part"
    partial.write_bytes(meta.data)
    partial.rename(folder / f"{name}.torrent")
    return meta


def fd_targets(pid: int) -> list[str]:
    """What the open file descriptors of ``pid`` point at (``socket:[…]``, paths, ``… (deleted)``)."""
    targets = []
    fd_dir = Path(f"/proc/{pid}/fd")
    for entry in fd_dir.iterdir():
        try:
            targets.append(os.readlink(entry))
        except OSError:
            continue  # closed meanwhile
    return targets


def open_sockets(pid: int) -> int:
    """How many sockets ``pid`` has open: with no exporter, each one is an rTorrent call in flight."""
    return sum(target.startswith("socket:") for target in fd_targets(pid))


def thread_count(pid: int) -> int:
    """The number of threads of ``pid``."""
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def mount_tmpfs(where: Path, options: str) -> None:
    """Mount a tmpfs on ``where`` (the tests run as root; CI=true must not skip them)."""
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], check=True)


def unmount(where: Path) -> None:
    """Undo ``mount_tmpfs`` (lazily, should a process still hold a file there)."""
    subprocess.run(["umount", "-l", str(where)], check=False)


def fill_up(folder: Path) -> Path:
    """Write a file in ``folder`` until its file system is full; returns the file."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
    finally:
        os.close(fd)
    return filler
